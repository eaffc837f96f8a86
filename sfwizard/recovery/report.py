"""The Markdown report and the zip support bundle. Every byte passes the one redaction layer."""

from __future__ import annotations

import io
import json
import re
import zipfile
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


def md(text: Any) -> str:
    """Server-provided text as text: one line, control characters made inert, Markdown's special characters escaped."""
    from sfwizard.inert import inert

    return _MD.sub(r"\\\1", inert(" ".join(str(text).split()), keep_newlines=False))


def when(value: Any) -> str:
    """A timestamp in UTC and in the reader's local time (the runbooks' schedules are in GMT)."""
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return md(value)
    dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    return f"{dt.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC ({dt.astimezone():%Y-%m-%d %H:%M %Z} local)"


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
        if snap is None:
            return None
        return bool(snap.knowledge.used) if name == "knowledge" else bool(snap.custom_objects)

    try:
        profile = load_profile(session.profile)
    except Exception:  # noqa: BLE001 - an unknown profile in a hand-edited session: no checklist
        return []
    return evaluate(profile, results, confirmations=session.confirmations, facts=session.facts,
                    condition=condition)


MARK = {"pass": "x", "confirmed": "x", "n/a": "-", "fail": " ", "waiting": " "}


def render(session: RecoverySession, redactor: Redactor | None = None,
           checklist: list[ItemOutcome] | None = None) -> str:
    r = redactor or default()
    now = datetime.now(timezone.utc)
    # Redact before escaping: md() puts backslashes inside a secret (``_`` → ``\_``), and then neither
    # the exact match nor the token shapes would find it in the finished text.
    ident = r.obj(session.identity)
    results: list[dict[str, Any]] = r.obj(session.results)
    confirmations: list[dict[str, Any]] = r.obj(session.confirmations)
    lines = [f"# sfwizard recovery report — {md(r.text(session.profile))}", "",
             f"- RecoverySession: {md(session.id)}, started {when(session.created_at)}, "
             f"updated {when(session.updated_at)}",
             f"- Written: {when(now)}",
             f"- Salesforce org: {md(ident.get('org_name', '?'))} ({md(ident.get('org_id', '?'))}, "
             f"{'SANDBOX' if ident.get('is_sandbox') else 'production'})",
             f"- Salesforce user: {md(ident.get('username', '?'))}",
             f"- Snapshot: {md(r.text(session.snapshot_path or 'none taken'))}", ""]
    # Partial results (an older session, a hand-edited file) still render: missing fields read as empty.
    results = [{"id": "", "title": "", "status": "", "summary": "", "cause": "", "resolution": "",
                **res} for res in results if isinstance(res, dict)]
    by_step: dict[str, list[dict[str, Any]]] = {}
    for res in results:
        by_step.setdefault(res.get("step") or "", []).append(res)
    items = checklist if checklist is not None else session_checklist(session)
    lines += ["## Final checklist", ""]
    if not items:
        lines += ["No checklist for this session.", ""]
    group = None
    for it in items:
        if it.item.group != group:
            group = it.item.group
            lines += [f"**{md(group)}**", ""]
        d = r.obj(it.to_dict())
        lines.append(f"- [{MARK.get(it.mark.value, ' ')}] {md(d['item'])} — {md(it.mark.value)}: {md(d['why'])}")
        lines += [f"  - caveat: {md(c)}" for c in d["caveats"]]
    lines.append("")
    skips = [k for k in r.obj(session.skips) if isinstance(k, dict)]
    if skips:
        lines += ["## Steps skipped", ""]
        lines += [f"- {md(k.get('step', '?'))}: {md(k.get('reason', ''))} — {md(k.get('who', '?'))}, "
                  f"{when(k.get('at', ''))}" for k in skips]
        lines.append("")
    known = {step for step, _ in STEPS}
    sections = [(title, by_step.get(step, [])) for step, title in STEPS]
    sections.append(("Other checks", [res for step, rows in by_step.items() if step not in known for res in rows]))
    for title, rows in sections:
        if not rows:
            continue
        lines += [f"## {title}", "", "| | Check | Result |", "|---|---|---|"]
        for res in rows:
            lines.append(f"| {ICON.get(res['status'], '')} | {md(res['title'] or res['id'])} | {md(res['summary'])} |")
        lines.append("")
        for res in rows:
            if res["status"] in ("fail", "warn"):
                lines += [f"**{md(res['title'])}** — cause: {md(res['cause'])}; what to do: {md(res['resolution'])}",
                          ""]
        for res in rows:
            if res.get("evidence"):
                lines += [f"<details><summary>Evidence: {md(res['id'])}</summary>", "", "```json",
                          json.dumps(res["evidence"], indent=1, default=str).replace("```", "'''"), "```",
                          "</details>", ""]
    if confirmations:
        lines += ["## Confirmed by people", ""]
        lines += [f"- {md(c.get('item', ''))} — {md(c.get('who', '?'))} ({md(c.get('role', ''))}), "
                  f"{when(c.get('at', ''))}" for c in confirmations if isinstance(c, dict)]
        lines.append("")
    notes = [n for n in r.obj(session.notes) if n]
    if notes:
        lines += ["## Notes", ""] + [f"- {md(n)}" for n in notes] + [""]
    history = session.history()
    if history:
        lines += ["## Steps tried (check runs)", ""]
        for run in history:
            counts: dict[str, int] = {}
            for res in run["results"]:
                status = str(res.get("status", "?")) if isinstance(res, dict) else "?"
                counts[status] = counts.get(status, 0) + 1
            lines.append(f"- {when(run.get('at', ''))}: "
                         + md(", ".join(f"{n} {s}" for s, n in sorted(counts.items()))))
        lines.append("")
    return r.text("\n".join(lines))


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
