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
from sfwizard.redact import Redactor, default
from sfwizard.session import Session

ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "manual": "🙋", "skipped": "⏭️"}
_MD = re.compile(r"([\\`*_{}\[\]<>#|])")


def md(text: Any) -> str:
    """Server-provided text as text: Markdown's special characters escaped, one line."""
    return _MD.sub(r"\\\1", " ".join(str(text).split()))


def render(session: Session, redactor: Redactor | None = None) -> str:
    r = redactor or default()
    now = datetime.now(timezone.utc)
    # Redact before escaping: md() puts backslashes inside a secret (``_`` → ``\_``), and then neither
    # the exact match nor the token shapes would find it in the finished text.
    ident = r.obj(session.identity)
    results: list[dict[str, Any]] = r.obj(session.results)
    confirmations: list[dict[str, Any]] = r.obj(session.confirmations)
    lines = [f"# sfwizard recovery report — {md(r.text(session.profile))}", "",
             f"- Session: `{session.id}`, started {session.created_at}, updated {session.updated_at}",
             f"- Written: {now:%Y-%m-%d %H:%M} UTC ({now.astimezone():%Y-%m-%d %H:%M %Z} local)",
             f"- Salesforce org: {md(ident.get('org_name', '?'))} ({md(ident.get('org_id', '?'))}, "
             f"{'SANDBOX' if ident.get('is_sandbox') else 'production'})",
             f"- Salesforce user: {md(ident.get('username', '?'))}",
             f"- Snapshot: {md(r.text(session.snapshot_path or 'none taken'))}", ""]
    by_step: dict[str, list[dict[str, Any]]] = {}
    for res in results:
        by_step.setdefault(res.get("step", ""), []).append(res)
    lines += ["## Final checklist", ""]
    for res in results:
        tick = "x" if res["status"] == "pass" else " "
        lines.append(f"- [{tick}] {md(res['title'])} — {res['status']}")
    lines.append("")
    for step, title in STEPS:
        rows = by_step.get(step)
        if not rows:
            continue
        lines += [f"## {title}", "", "| | Check | Result |", "|---|---|---|"]
        for res in rows:
            lines.append(f"| {ICON.get(res['status'], '')} | {md(res['title'])} | {md(res['summary'])} |")
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
        lines += [f"- {md(c['item'])} — {md(c['who'])} ({md(c['role'])}), {c['at']}" for c in confirmations]
        lines.append("")
    history = session.history()
    if history:
        lines += ["## Steps tried (check runs)", ""]
        for run in history:
            counts: dict[str, int] = {}
            for res in run["results"]:
                counts[res["status"]] = counts.get(res["status"], 0) + 1
            lines.append(f"- {run['at']}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        lines.append("")
    return r.text("\n".join(lines))


def write_report(session: Session, out_dir: Path) -> Path:
    path = out_dir / f"sfwizard-report-{session.id}.md"
    write_atomic(path, render(session).encode())
    return path


def write_bundle(session: Session, out_dir: Path, log_file: Path | None = None) -> Path:
    r = default()
    members: dict[str, str] = {"report.md": render(session, r),
                               "checks.json": json.dumps(r.obj(session.results), indent=2, default=str),
                               "session.json": json.dumps(r.obj(session.to_dict()), indent=2, default=str)}
    history = session.dir / "history.jsonl"
    if history.exists():
        members["history.jsonl"] = history.read_text(encoding="utf-8")
    if session.snapshot_path and Path(session.snapshot_path).exists():
        members["snapshot.yaml"] = Path(session.snapshot_path).read_text(encoding="utf-8")
    if log_file and log_file.exists():
        members["sfwizard.log"] = log_file.read_text(encoding="utf-8", errors="replace")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, r.text(text))
    path = out_dir / f"sfwizard-bundle-{session.id}.zip"
    write_atomic(path, buf.getvalue(), mode=0o600)
    return path
