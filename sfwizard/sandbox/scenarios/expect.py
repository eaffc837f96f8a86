"""A scenario's ``expect:`` block held against what ``sfwizard check --json`` printed for it.

Plain dictionaries on both sides (the block as the loader validated it, the run as JSON), so the test
suite and ``benchmarks/diagnosis_suite.py`` judge runs of any version the same way:

- ``fail``/``warn``/``pass``/``manual``/``skipped``: those checks end with exactly that status;
  ``not_failing``: those do not fail; ``reasons``: check → its reason code; ``evidence``: check →
  {key: value} (``"*"``: present and not empty); ``exit_code``: the command's.
- ``symptoms``: those troubleshooting rows fail; every other ``ts.*`` row must not (no false alarm).
- Every failing check must be listed in ``fail`` (or ``may_fail``: a failure accepted, not required — a
  platform-side result another change may turn into a question): an unlisted failure is a false alarm.

A wrong verdict is *missed* when the run does not say what the tenant has (an expected finding absent,
another reason, a pass where a skip or a question belongs), a *false alarm* when it names a problem the
tenant does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("fail", "warn", "pass", "manual", "skipped")
_SEVERITY = {"pass": 0, "skipped": 0, "manual": 0, "warn": 1, "fail": 2}


@dataclass
class Verdict:
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def named_right(self) -> bool:
        return not self.missed and not self.false_alarms

    def lines(self) -> list[str]:
        return [f"missed: {m}" for m in self.missed] + [f"false alarm: {f}" for f in self.false_alarms]


def evaluate(expect: dict[str, Any], doc: dict[str, Any]) -> Verdict:
    """Hold the run ``doc`` (``check --json``) against ``expect``."""
    v = Verdict()
    results = {r["id"]: r for r in doc.get("results", [])}

    def status(cid: str) -> str:
        return results[cid]["status"] if cid in results else "absent"

    for want in STATUSES:
        for cid in expect.get(want, []):
            got = status(cid)
            if got == want:
                continue
            note = f"{cid}: expected {want}, got {got} ({results.get(cid, {}).get('reason', '')})"
            if _SEVERITY.get(got, 0) > _SEVERITY[want]:
                v.false_alarms.append(note)
            else:
                v.missed.append(note)
    for cid in expect.get("not_failing", []):
        if status(cid) == "fail":
            v.false_alarms.append(f"{cid}: expected not to fail ({results[cid]['reason']})")
    for cid, reason in (expect.get("reasons") or {}).items():
        got = results.get(cid, {}).get("reason")
        if got != reason:
            (v.false_alarms if status(cid) in ("fail", "warn") and cid not in expect.get("fail", [])
             + expect.get("warn", []) else v.missed).append(f"{cid}: expected reason {reason}, got {got!r}")
    for cid, keys in (expect.get("evidence") or {}).items():
        evidence = results.get(cid, {}).get("evidence", {})
        for key, value in keys.items():
            got = evidence.get(key)
            ok = got not in (None, "", [], {}) if value == "*" else got == value
            if not ok:
                v.missed.append(f"{cid}: expected evidence {key}={value!r}, got {got!r}")
    symptoms = set(expect.get("symptoms", []))
    for cid in sorted(symptoms):
        if status(cid) != "fail":
            v.missed.append(f"{cid}: expected the symptom, got {status(cid)}")
    listed_fail = set(expect.get("fail", [])) | symptoms | set(expect.get("may_fail", []))
    named = {note.split(":", 1)[0] for note in v.false_alarms}
    for cid, r in results.items():
        if r["status"] == "fail" and cid not in listed_fail and cid not in named:
            v.false_alarms.append(f"{cid}: fails ({r['reason']}) but the tenant has no such problem")
    if "exit_code" in expect and doc.get("exit_code") != expect["exit_code"]:
        note = f"exit code {doc.get('exit_code')}, expected {expect['exit_code']}"
        (v.false_alarms if (doc.get("exit_code") or 0) == 1 and expect["exit_code"] == 0 else v.missed).append(note)
    return v
