"""The Markdown report and the zip support bundle. Every byte passes the one redaction layer.

The report is written for the person who receives it (support, the customer's manager): a summary on top —
what was wrong at the start (the first result of each check this session ran: the "before" state), what was done
(the session's timeline), what is true now, what is left —, then what the platform's support asks for, filled
in, then the runbook's checklist with who proved or confirmed what, and the evidence in an appendix. Readable
in a terminal (``less``) and rendered (GitHub). It says "proven" only of an item its checks proved.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sfwizard.checks.base import STEPS
from sfwizard.fileio import write_atomic
from sfwizard.recovery.checklist import ItemOutcome, evaluate
from sfwizard.recovery.session import RecoverySession
from sfwizard.redact import Redactor, default

BUNDLE_FILE_BYTES = 8 * 1024 * 1024  # of each file the bundle carries: its last 8 MB
ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "manual": "🙋", "skipped": "⏭️"}
_MD = re.compile(r"([\\`*_{}\[\]<>#|])")
APPENDIX = "## Appendix"  # everything above it is the report; below it, the evidence
FENCE = "`" * 3


def md(text: Any) -> str:
    """Server-provided text as text: one line, control characters made inert, Markdown's special characters escaped."""
    from sfwizard.inert import inert

    return _MD.sub(r"\\\1", inert(" ".join(str(text).split()), keep_newlines=False))


def when(value: Any) -> str:
    """A time once, in one form everywhere: local with UTC beside it ("2026-11-20 10:04 EST (15:04 UTC)")."""
    from sfwizard.recovery.picture import local_and_utc

    if isinstance(value, datetime):
        return local_and_utc(value)
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return md(value) if value else "unknown"
    return local_and_utc(value)


def session_checklist(session: RecoverySession) -> list[ItemOutcome]:
    """The runbook's checklist as this session proves it (the same evaluation the wizard shows)."""
    from sfwizard.checks.base import CheckResult
    from sfwizard.profiles import load_profile

    results = {}
    for raw in session.results:
        if isinstance(raw, dict):
            try:
                r = CheckResult.from_dict(raw)
            except (KeyError, TypeError, ValueError):
                continue
            results[r.id] = r
    snap = None
    if session.snapshot_path:
        try:
            from sfwizard import snapshot

            snap = snapshot.load(session.snapshot_path)
        except Exception:  # noqa: BLE001 - a report still renders without it
            snap = None

    def condition(name: str) -> bool | None:
        if name == "security_review":  # the review ran in this session (its results are here)
            return any(r.step == "security" for r in results.values())
        if snap is None:
            return None
        if name == "knowledge":
            return bool(snap.knowledge.used)
        if name == "custom_objects":
            return bool(snap.custom_objects)
        return None

    try:
        profile = load_profile(session.profile)
    except Exception:  # noqa: BLE001 - an unknown profile in a hand-edited session: no checklist
        return []
    return evaluate(profile, results, confirmations=session.confirmations, facts=session.facts,
                    condition=condition)


MARK = {"pass": "x", "confirmed": "x", "n/a": "-", "fail": " ", "waiting": " "}
# What each platform's support asks for first: the PX runbook's "Before Contacting Support" (error messages,
# timestamp, Salesforce user, steps attempted); Skilljar's guide (past 21 days Support backfills: it needs the
# disconnect, the Last Sync Date, the org and the integration user).
SUPPORT = {
    "gainsight-px": ("Error messages", "Timestamp of the issue", "Salesforce user being used",
                     "Steps already attempted"),
    "skilljar": ("Disconnect date", "Last Sync Date", "Salesforce org", "Salesforce user being used",
                 "Steps already attempted"),
}
TIMELINE_MAX = 30


@dataclass
class _Facts:
    """What the report says, gathered once from the session (everything already through the redaction)."""

    first: dict[str, dict[str, Any]]  # check id → its first result in this session (the "before" state)
    first_at: dict[str, str]  # check id → when that first result was seen
    latest: dict[str, dict[str, Any]]  # check id → its latest result
    timeline: list[tuple[str, str]]  # (ISO time, what happened), in order


def _gather(session: RecoverySession, r: Redactor, names: dict[str, str] | None = None) -> _Facts:
    first: dict[str, dict[str, Any]] = {}
    first_at: dict[str, str] = {}
    for run in session.history():
        for res in run.get("results") or []:
            if isinstance(res, dict) and res.get("id") and res["id"] not in first:
                first[res["id"]] = res
                first_at[res["id"]] = str(run.get("at") or "")
    latest = {res["id"]: res for res in session.results if isinstance(res, dict) and res.get("id")}
    for cid, res in latest.items():  # a session whose history was cut: its latest is the earliest we know
        first.setdefault(cid, res)
    events: list[tuple[str, str]] = []
    # Redacted first: what follows reshapes the words (a key's "_" made a space), and a secret reshaped is
    # no longer found by the redaction.
    logged = r.obj((session.facts.get("events") or {}).get("value") or [])
    for e in logged if isinstance(logged, list) else []:
        if isinstance(e, dict) and e.get("kind") != "report":
            events.append((str(e.get("at") or ""), str(e.get("words") or e.get("kind") or "")))
    if not logged:  # an older session, or one the CLI ran: what its facts recorded
        words = {"signed_in": "sfwizard signed in as {}", "snapshot_saved": "mapping snapshot saved",
                 "sync_completed": "the sync completed", "sync_failed": "the sync failed"}
        for name, fmt in words.items():
            fact = session.facts.get(name)
            if isinstance(fact, dict):
                value = fact.get("value")
                events.append((str(fact.get("at") or ""), fmt.format(value if isinstance(value, str) else "")))
        if session.reauthorized_at:
            events.append((session.reauthorized_at, "re-authorization started (Authorize / Reconnect)"))
    for k in r.obj(session.skips):
        if isinstance(k, dict):
            events.append((str(k.get("at") or ""), f"step {k.get('step', '?')} skipped by {k.get('who', '?')}: "
                                                   f"{k.get('reason', '')}"))
    for c in r.obj(session.confirmations):
        if isinstance(c, dict):
            role = str(c.get("role", "")).replace("_", " ")
            item = str(c.get("item", ""))
            events.append((str(c.get("at") or ""), f"{c.get('who', '?')} ({role}) confirmed: "
                                                   f"{(names or {}).get(item) or _item_words(item)}"))
    events.sort(key=lambda e: e[0])
    return _Facts(r.obj(first), first_at, r.obj(latest), [(at, r.text(w)) for at, w in events])


def _item_words(key: str) -> str:
    return key.removeprefix("checklist:").replace("_", " ")


def _platform(res: dict[str, Any] | None) -> str:
    """The platform's own word on the integration, from token.platform_status's evidence."""
    ev = (res or {}).get("evidence") or {}
    if not ev.get("status"):
        return ""
    said = md(ev["status"])
    if ev.get("last_error"):
        said += f" — the platform's error: \"{md(ev['last_error'])}\""
    if ev.get("last_success"):
        said += f"; last successful sync {when(ev['last_success'])}"
    return said


def _sign_in_state(session: RecoverySession) -> str:
    """Whether the wizard's own sign-in outlives the recovery (``session.sign_in_state``)."""
    state = getattr(session, "sign_in_state", None)
    if not isinstance(state, dict) or not state:
        return "unknown (this session did not record whether it was kept or revoked)"
    if state.get("revoked_at"):
        return f"revoked at Salesforce {when(state['revoked_at'])}; no copy kept"
    if state.get("kept"):
        return f"kept ({md(state.get('store') or 'saved')}) — sign out on the Report step to revoke it"
    return "not kept (used for this session only)"


def render(session: RecoverySession, redactor: Redactor | None = None,
           checklist: list[ItemOutcome] | None = None, *, now: datetime | None = None) -> str:
    """The report: the summary first, then what support asks for, the checklist, and the appendix."""
    from sfwizard.profiles import load_profile

    r = redactor or default()
    written = now or datetime.now(timezone.utc)
    try:
        profile: Any = load_profile(session.profile)
        vendor = profile.vendor
    except Exception:  # noqa: BLE001 - an unknown profile in a hand-edited session still renders
        profile, vendor = None, session.profile
    # Redact before escaping: md() puts backslashes inside a secret (``_`` → ``\_``), and then neither
    # the exact match nor the token shapes would find it in the finished text.
    ident = r.obj(session.identity)
    items = checklist if checklist is not None else session_checklist(session)
    names = {i.key: i.item.item for i in items}  # what a confirmation's key stands for, in words
    for res in r.obj(session.results):
        if isinstance(res, dict) and res.get("id"):
            names.setdefault(str(res["id"]), str(res.get("title") or res["id"]))
    facts = _gather(session, r, names)
    items_d = [r.obj(i.to_dict()) for i in items]
    lines = [f"# {md(vendor)} ↔ Salesforce recovery report", ""]
    if session.demo_scenario:
        lines += [f"> **DEMO** — made against sfwizard's bundled sandbox (scenario {md(r.text(session.demo_scenario))})"
                  ", not a real org.", ""]
    org = (f"{md(ident.get('org_name', '?'))} ({md(ident.get('org_id', '?'))}, "
           f"{'SANDBOX' if ident.get('is_sandbox') else 'production'})") if ident.get("org_id") else "not signed in"
    lines += [f"- **Org:** {org}",
              f"- **Session:** {md(session.id)}, started {when(session.created_at)}",
              f"- **Written:** {when(written)}", ""]
    integration_user = _integration_user(facts)
    lines += _summary(session, profile, facts, items, items_d, ident, integration_user, r)
    lines += ["## Before contacting support", ""]
    lines += _support(session, facts, ident, integration_user)
    lines += ["", "## Final checklist"]
    if not items:
        lines += ["", "No checklist for this session."]
    group = None
    for it, d in zip(items, items_d, strict=True):
        if it.item.group != group:
            group = it.item.group
            lines += ["", f"**{md(group)}**", ""]
        lines.append(f"- [{MARK.get(it.mark.value, ' ')}] {md(d['item'])} — {_claim(it, d)}")
        lines += [f"  - caveat: {md(c)}" for c in d["caveats"][:2] if it.done]  # an open item's why says it
    security = _security(session, r)
    if security:  # beyond the runbooks: what a security team asks before the app is let back in
        lines += [""] + security
    lines += ["", "---", ""]
    lines += _appendix(session, facts, r)
    return r.text("\n".join(lines))


def _summary(session: RecoverySession, profile: Any, facts: _Facts, items: list[ItemOutcome],
             items_d: list[dict[str, Any]], ident: dict[str, Any], integration_user: str, r: Redactor) -> list[str]:
    lines = ["## Summary", "", "### What was wrong at the start", ""]
    platform_first = _platform(facts.first.get("token.platform_status"))
    if platform_first:
        seen = facts.first_at.get("token.platform_status") or session.created_at
        lines.append(f"- **Integration:** {platform_first} (seen {when(seen)})")
    disconnect = _disconnect(session, facts)
    if disconnect:
        lines.append(f"- **Disconnected:** {when(disconnect[0])} ({md(r.text(disconnect[1]))})")
    lines.append(f"- **People:** the wizard signed in as {md(ident.get('username', '?'))}"
                 + (f"; the integration runs as {md(integration_user)}" if integration_user else ""))
    wrong = [(cid, res) for cid, res in facts.first.items()
             if res.get("status") in ("fail", "warn") and not cid.startswith("ts.")]
    if wrong:
        lines.append(f"- **Found:** {len(wrong)} check(s) not passing when first run:")
        lines += [f"  - {md(res.get('title') or cid)}: {md(res.get('summary', ''))} (`{md(res.get('reason', ''))}`)"
                  for cid, res in wrong[:8]]
        if len(wrong) > 8:
            lines.append(f"  - … and {len(wrong) - 8} more (appendix A)")
    else:
        lines.append("- **Found:** nothing failing when the checks first ran")
    lines += ["", "### What was done", ""]
    timeline = facts.timeline
    if len(timeline) > TIMELINE_MAX:
        lines.append(f"- (the {len(timeline) - TIMELINE_MAX} earliest entries are in the support bundle)")
    lines += [f"- {when(at)} — {md(words)}" for at, words in timeline[-TIMELINE_MAX:]]
    if not timeline:
        lines.append("- Nothing was recorded beyond the check runs (appendix C).")
    lines += ["", "### What is true now", ""]
    platform_now = _platform(facts.latest.get("token.platform_status"))
    if platform_now:
        lines.append(f"- **Integration:** {platform_now}")
    done = sum(1 for i in items if i.done)
    proven = sum(1 for i in items if i.mark.value == "pass")
    confirmed = sum(1 for i in items if i.mark.value == "confirmed")
    na = done - proven - confirmed
    lines.append(f"- **Checklist:** {done} of {len(items)} items done — {proven} proven by checks, {confirmed} "
                 f"confirmed by people" + (f", {na} not applicable" if na else ""))
    counts: dict[str, int] = {}
    answered = {c.get("item") for c in r.obj(session.confirmations) if isinstance(c, dict)}
    for res in facts.latest.values():
        status = str(res.get("status"))
        status = "answered by people" if status == "manual" and res.get("id") in answered else status
        counts[status] = counts.get(status, 0) + 1
    lines.append("- **Checks (the latest run of each):** "
                 + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none ran"))
    lines.append(f"- **The wizard's Salesforce sign-in:** {_sign_in_state(session)}")
    lines += ["", "### What is left", ""]
    left = [d for d, i in zip(items_d, items, strict=True) if not i.done]
    failing = [res for cid, res in facts.latest.items() if res.get("status") == "fail" and not cid.startswith("ts.")]
    skips = [k for k in r.obj(session.skips) if isinstance(k, dict)]
    lines += [f"- {md(d['item'])} — {md(d['mark'])}: {md(d['why'])}" for d in left]
    named = " ".join(d["why"] for d in left)
    lines += [f"- {md(res.get('title'))}: {md(res.get('summary'))} — what to do: {md(res.get('resolution'))}"
              for res in failing if str(res.get("summary")) not in named][:6]
    lines += [f"- Step {md(k.get('step', '?'))} was skipped: {md(k.get('reason', ''))}" for k in skips]
    if not left and not failing and not skips:
        lines.append("- Nothing: every checklist item is proven or confirmed, and no check fails.")
    elif profile is not None:
        lines.append(f"- Support: {md(profile.support)}")
    return lines + [""]


def _disconnect(session: RecoverySession, facts: _Facts) -> tuple[str, str] | None:
    """(when, where that came from): entered or read off the dashboard, else the platform's last success
    before it went DOWN; None when neither is known."""
    if session.disconnected_at:
        return session.disconnected_at, str((session.facts.get("disconnect_source") or {}).get("value") or "entered")
    ev = (facts.first.get("token.platform_status") or {}).get("evidence") or {}
    if ev.get("status") and ev.get("status") != "UP" and ev.get("last_success"):
        return str(ev["last_success"]), "the platform's last successful sync before it went DOWN"
    return None


def _integration_user(facts: _Facts) -> str:
    for cid in ("token.fresh", "perm.api_enabled", "proactive.dedicated_user"):
        for source in (facts.latest, facts.first):
            ev = (source.get(cid) or {}).get("evidence") or {}
            name = ev.get("integration_user") or ev.get("user")
            if isinstance(name, str) and name:
                return name
    return ""


def _claim(it: ItemOutcome, d: dict[str, Any]) -> str:
    """What the checklist says of an item: "proven" only where checks proved it, "confirmed" with who and when."""
    who = d.get("confirmed_by") or {}
    if it.mark.value == "pass":
        return "proven by checks " + ", ".join(f"`{md(c)}`" for c in d["checks"])
    if it.mark.value == "confirmed":
        return (f"confirmed by {md(who.get('who', '?'))} ({md(str(who.get('role', '')).replace('_', ' '))}), "
                f"{when(who.get('at', ''))}")
    return f"{md(d['mark'])}: {md(d['why'])}"


def _support(session: RecoverySession, facts: _Facts, ident: dict[str, Any], integration_user: str) -> list[str]:
    asks = SUPPORT.get(session.profile, SUPPORT["gainsight-px"])
    errors: list[str] = []
    for res in list(facts.first.values()) + list(facts.latest.values()):
        ev = res.get("evidence") or {}
        for text in (ev.get("last_error"), ev.get("errorCode")):
            if text and md(text) not in errors:
                errors.append(md(text))
    failing = [res for res in facts.first.values()
               if res.get("status") == "fail" and not str(res.get("id")).startswith("ts.")]
    window = facts.latest.get("skilljar.backfill_window") or facts.first.get("skilljar.backfill_window") or {}
    wev = window.get("evidence") or {}
    first_run = min((at for at in facts.first_at.values() if at), default=session.created_at)
    disconnect = _disconnect(session, facts)
    out = []
    for ask in asks:
        if ask == "Error messages":
            value = "; ".join(f'"{e}"' for e in errors[:3]) or "none shown by the platform"
            if failing:
                value += f"; the first failing check said: {md(failing[0].get('summary', ''))}"
        elif ask == "Timestamp of the issue":
            value = (f"disconnected {when(disconnect[0])} ({md(disconnect[1])}); " if disconnect else "") + \
                f"first seen by sfwizard {when(first_run)}"
        elif ask == "Disconnect date":
            value = when(session.disconnected_at) if session.disconnected_at else "not entered"
        elif ask == "Last Sync Date":
            seen = wev.get("last_sync_date_seen_in_salesforce")
            value = f"{when(seen)} (the last write Salesforce shows)" if seen else "not seen in Salesforce"
        elif ask == "Salesforce org":
            value = f"{md(ident.get('org_name', '?'))} ({md(ident.get('org_id', '?'))})"
        elif ask == "Salesforce user being used":
            value = ((f"integration user {md(integration_user)}" if integration_user else "integration user not known")
                     + f"; the wizard signed in as {md(ident.get('username', '?'))}")
        else:
            n = len(facts.timeline)
            value = f"{n} action(s), under What was done" if n else "none recorded"
        out.append(f"- **{ask}:** {value}")
    if wev.get("deadline"):
        out.append(f"- **Backfill deadline:** {when(wev['deadline'])}")
    out.append("- **Attach:** this report and the support bundle written next to it (secrets redacted)")
    return out


def _appendix(session: RecoverySession, facts: _Facts, r: Redactor) -> list[str]:
    order = {step: n for n, (step, _) in enumerate(STEPS)}
    rows = sorted(facts.latest.values(), key=lambda res: (order.get(str(res.get("step")), 99), str(res.get("id"))))
    lines = [APPENDIX, "", "### A. Every check, its latest result", "", "| | Check | Step | Result |",
             "|---|---|---|---|"]
    for res in rows:
        lines.append(f"| {ICON.get(str(res.get('status')), '')} | {md(res.get('title') or res.get('id'))} | "
                     f"{md(res.get('step', ''))} | {md(res.get('summary', ''))} |")
    lines.append("")
    for res in rows:
        if res.get("status") in ("fail", "warn"):
            lines += [f"**{md(res.get('title', ''))}** — cause: {md(res.get('cause', ''))}; what to do: "
                      f"{md(res.get('resolution', ''))}", ""]
    lines += ["### B. Evidence", ""]
    for res in rows:
        if res.get("evidence"):
            lines += [f"<details><summary>Evidence: {md(res.get('id', ''))}</summary>", "", FENCE + "json",
                      json.dumps(res["evidence"], indent=1, default=str).replace(FENCE, "'''"), FENCE,
                      "</details>", ""]
    history = session.history()
    if history:
        lines += ["### C. Check runs", ""]
        for run in history[-40:]:
            counts: dict[str, int] = {}
            for res in run["results"]:
                status = str(res.get("status", "?")) if isinstance(res, dict) else "?"
                counts[status] = counts.get(status, 0) + 1
            said = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            lines.append(f"- {when(run.get('at', ''))}: {md(said)}")
        lines.append("")
    notes = [n for n in r.obj(session.notes) if n]
    if notes:
        lines += ["### D. Notes", ""] + [f"- {md(n)}" for n in notes] + [""]
    if session.snapshot_path:
        lines += [f"Mapping snapshot: {md(r.text(session.snapshot_path))}", ""]
    return lines


def _security(session: RecoverySession, r: Redactor) -> list[str]:
    """The Security review section (recovery/security_report.py), when the review ran in this session."""
    from sfwizard.checks.base import CheckResult
    from sfwizard.recovery.security_report import security_section

    results = []
    for raw in session.results:
        if isinstance(raw, dict) and raw.get("step") == "security":
            try:
                results.append(CheckResult.from_dict(raw))
            except (KeyError, TypeError, ValueError):
                continue
    return security_section(results, session, r) if results else []


def write_report(session: RecoverySession, out_dir: Path, checklist: list[ItemOutcome] | None = None) -> Path:
    path = out_dir / f"sfwizard-report-{session.id}.md"
    write_atomic(path, render(session, checklist=checklist).encode(), mode=0o600)
    return path


def write_bundle(session: RecoverySession, out_dir: Path, log_file: Path | None = None,
                 checklist: list[ItemOutcome] | None = None, extra: dict[str, Path] | None = None) -> Path:
    r = default()
    items = checklist if checklist is not None else session_checklist(session)
    members: dict[str, str] = {"report.md": render(session, r, checklist=items),
                               "checklist.json": json.dumps(r.obj([i.to_dict() for i in items]), indent=2,
                                                            default=str),
                               "checks.json": json.dumps(r.obj(session.results), indent=2, default=str),
                               "session.json": json.dumps(r.obj(session.to_dict()), indent=2, default=str)}
    for name, path in (("history.jsonl", session.dir / "history.jsonl"),
                       ("snapshot.yaml", Path(session.snapshot_path) if session.snapshot_path else None),
                       ("sfwizard.log", log_file), *(extra or {}).items()):
        text = _tail(path) if path is not None else None
        if text is not None:
            members[name] = text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, r.text(text))
    path = out_dir / f"sfwizard-bundle-{session.id}.zip"
    write_atomic(path, buf.getvalue(), mode=0o600)
    return path


def _tail(path: Path) -> str | None:
    """A file's text for the bundle (its last BUNDLE_FILE_BYTES), or None when it is not a readable file."""
    import os

    if not os.path.isfile(path):  # missing, a folder, or a FIFO that would block the open
        return None
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            cut = size > BUNDLE_FILE_BYTES
            if cut:
                fh.seek(size - BUNDLE_FILE_BYTES)
            data = fh.read(BUNDLE_FILE_BYTES)
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace")
    return f"[sfwizard: the first {size - BUNDLE_FILE_BYTES:,} bytes are left out]\n{text}" if cut else text
