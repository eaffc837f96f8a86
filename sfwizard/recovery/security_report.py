"""The report's "Security review" section: what the org showed about the integration, for a security team.

``security_section(results, session)`` is Markdown lines (from "## Security review" on) and ``security_json`` the
same as one JSON-ready object (the ``security`` key of ``sfwizard review --json`` and of the report's JSON). Both
read the security step's results — CheckResult objects or the dicts a session keeps — and, when a session is
given, what the wizard recorded: the window and egress ranges set, tokens revoked (who, when, which), the
permission set written. Every value passes the redaction layer first; server text is escaped as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sfwizard.redact import Redactor, default

STEP = "security"
ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "manual": "🙋", "skipped": "⏭️"}
NETWORKS_SHOWN = 15
# The report's escaping rule (report.md): kept here too, so this module never imports the report it is part of.
_MD = re.compile(r"([\\`*_{}\[\]<>#|])")


def _md(text: Any) -> str:
    return _MD.sub(r"\\\1", " ".join(str(text).split()))


def _rows(results: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        d = r.to_dict() if hasattr(r, "to_dict") else r
        if isinstance(d, Mapping) and d.get("step") == STEP:
            out.append({"id": "", "title": "", "status": "", "reason": "", "summary": "", "evidence": {},
                        "cause": "", "resolution": "", **d})
    return out


def _fact(session: Any, name: str) -> Any:
    facts = getattr(session, "facts", None) or {}
    entry = facts.get(name)
    return entry.get("value") if isinstance(entry, Mapping) else None


def security_json(results: Iterable[Any], session: Any = None, redactor: Redactor | None = None) -> dict[str, Any]:
    """The review as data: its rows (id, status, reason, summary, evidence), the window, the egress ranges
    declared, what could not be read and why, the tokens revoked and the permission set written."""
    r = redactor or default()
    rows = r.obj(_rows(results))
    window = next((x["evidence"]["window"] for x in rows if isinstance(x["evidence"].get("window"), Mapping)), None)
    logins = next((x for x in rows if x["id"] == "sec.logins"), None)
    egress = None
    if logins is not None:
        ev = logins["evidence"]
        egress = {"ranges": ev.get("declared_ranges") or [], "source": ev.get("declared_source")}
    could_not = [{"check": x["id"], **x["evidence"]["could_not_read"]} for x in rows
                 if isinstance(x["evidence"].get("could_not_read"), Mapping)]
    return {
        "window": window,
        "egress": egress,
        "counts": {s: sum(1 for x in rows if x["status"] == s) for s in ICON},
        "rows": [{k: x[k] for k in ("id", "title", "status", "reason", "summary", "cause", "resolution", "evidence")}
                 for x in rows],
        "could_not_read": could_not,
        "revocations": r.obj(_fact(session, "security_revocations") or []),
        "permission_set": r.obj(_fact(session, "permission_set_written")),
    }


def security_section(results: Iterable[Any], session: Any = None, redactor: Redactor | None = None) -> list[str]:
    """The "Security review" section as Markdown lines (empty when the review did not run)."""
    doc = security_json(results, session, redactor)
    rows = {x["id"]: x for x in doc["rows"]}
    if not rows:
        return []
    lines = ["## Security review", "",
             "Beyond the runbook: what the org shows about the integration — its logins, tokens, reach and the "
             "policies of the vendor's app — worded as evidence, not as a finding about anyone.", ""]
    w = doc["window"]
    if w:
        lines.append(f"- Window: {_md(w.get('since'))} to {_md(w.get('until'))}"
                     + (f"; disconnected {_md(w['disconnect'])}" if w.get("disconnect") else "")
                     + (f"; incident window from {_md(w['incident_since'])}" if w.get("incident_since") else ""))
    eg = doc["egress"]
    if eg is not None:
        lines.append("- Vendor egress ranges declared: " + (
            f"{_md(', '.join(eg['ranges']))} (source: {_md(eg.get('source') or 'not given')})" if eg["ranges"]
            else "none (no public source lists them; the admin can declare them)"))
    lines += ["", "| | Check | Reason | What the org shows |", "|---|---|---|---|"]
    for x in doc["rows"]:
        lines.append(f"| {ICON.get(x['status'], '?')} | {_md(x['title'] or x['id'])} | `{_md(x['reason'] or '-')}` | "
                     f"{_md(x['summary'])} |")
    lines.append("")
    lines += _logins(rows.get("sec.logins"))
    lines += _tokens(rows.get("sec.tokens"), doc["revocations"])
    lines += _reach(rows.get("sec.reach"), doc["permission_set"])
    lines += _volume(rows.get("sec.api_volume"))
    lines += _audit(rows.get("sec.audit_trail"))
    if doc["could_not_read"]:
        lines += ["### What could not be read", ""]
        lines += [f"- {_md(c['check'])}: {_md(c.get('what'))} — needs {_md(c.get('needs'))}: {_md(c.get('why'))}"
                  for c in doc["could_not_read"]]
        lines.append("")
    return lines


def _logins(x: dict[str, Any] | None) -> list[str]:
    if x is None or not x["evidence"].get("networks"):
        return []
    ev = x["evidence"]
    out = ["### Logins of the integration user by source network", "",
           "| Network | Declared | Logins | Failed | First seen | Last seen | Where | Type | Application |",
           "|---|---|---|---|---|---|---|---|---|"]
    for n in ev["networks"][:NETWORKS_SHOWN]:
        declared = {True: "yes", False: "**no**", None: "not declared"}[n.get("declared")]
        where = ", ".join([*n.get("cities", [])[:2], *n.get("countries", [])[:2]]) or "not shown"
        out.append(f"| {_md(n['network'])} | {declared} | {n.get('successes', 0)} | {n.get('failures', 0)} | "
                   f"{_md(n.get('first_seen') or '-')} | {_md(n.get('last_seen') or '-')} | {_md(where)} | "
                   f"{_md(', '.join(n.get('login_types', [])) or '-')} | "
                   f"{_md(', '.join(n.get('applications', [])) or '-')} |")
    more = int(ev.get("networks_total") or 0) - min(len(ev["networks"]), NETWORKS_SHOWN)
    if more > 0:
        out.append(f"\n{more} more network(s) in the JSON.")
    if ev.get("ui_logins"):
        out.append("\nLogins to the Salesforce UI as the integration user (a person's, e.g. an Allow) are counted "
                   "apart from the vendor's API logins.")
    return [*out, ""]


def _tokens(x: dict[str, Any] | None, revocations: list[Any]) -> list[str]:
    out: list[str] = []
    if x is not None and x["evidence"].get("tokens"):
        ev = x["evidence"]
        out += [f"### OAuth tokens of {_md(', '.join(ev.get('apps') or []))}", "",
                "| User | App | Issued | Last used | Uses | The integration user |", "|---|---|---|---|---|---|"]
        for t in ev["tokens"]:
            out.append(f"| {_md(t.get('user') or t.get('user_id'))} | {_md(t.get('app'))} | "
                       f"{_md(t.get('created') or '-')} | {_md(t.get('last_used') or '-')} | "
                       f"{t.get('use_count') or 0} | {'yes' if t.get('integration_user') else 'no'} |")
        if ev.get("truncated"):
            out.append(f"\n{ev.get('total')} tokens in all; {ev.get('read')} read.")
        out.append("")
    if revocations:
        out += ["### Tokens revoked during this recovery", ""]
        for rec in revocations:
            if not isinstance(rec, Mapping):
                continue
            which = "; ".join(f"{_md(t.get('user'))} ({_md(t.get('app'))}, issued {_md(t.get('created') or '?')})"
                              for t in rec.get("tokens") or [] if isinstance(t, Mapping))
            out.append(f"- {_md(rec.get('at'))} by {_md(rec.get('who'))}: {which}")
        out.append("")
    return out


def _reach(x: dict[str, Any] | None, written: Any) -> list[str]:
    if x is None or x["status"] == "skipped":
        return []
    ev = x["evidence"]
    out = ["### The integration user's reach", "",
           f"- Profile: {_md(ev.get('profile') or '?')}; permission sets: "
           f"{_md(', '.join(ev.get('permission_sets') or []) or 'none')}",
           f"- Modify All Data: {_md(', '.join(ev.get('modify_all_data') or []) or 'no')}; View All Data: "
           f"{_md(', '.join(ev.get('view_all_data') or []) or 'no')}; API Only User: "
           f"{'yes' if ev.get('api_only') else 'no'}; profile login IP ranges: {ev.get('profile_ip_ranges', 0)}"]
    if ev.get("extra_objects"):
        out.append(f"- Objects no mapping uses: {_md(', '.join(ev['extra_objects']))}")
    if ev.get("extra_fields"):
        out.append(f"- Field permissions beyond the mapped fields: {ev['extra_fields']}")
    proposal = ev.get("proposal") or {}
    if proposal:
        objs = ", ".join(f"{o} ({'/'.join(r)})" for o, r in (proposal.get("objects") or {}).items())
        out.append(f"- Proposed least-privilege permission set {_md(proposal.get('name'))}: {_md(objs or 'no object')}"
                   f", {len(proposal.get('fields') or {})} field(s)")
    if written:
        out.append(f"- Written for deployment: {_md(written)}")
    return [*out, ""]


def _volume(x: dict[str, Any] | None) -> list[str]:
    if x is None or not x["evidence"].get("source"):
        return []
    ev = x["evidence"]
    out = [f"### API volume ({_md(ev['source'])}, {_md(ev.get('unit') or '')})", "",
           f"- Baseline: {ev.get('baseline_per_day') if ev.get('baseline_per_day') is not None else 'none'} a day "
           f"over {ev.get('baseline_days')} day(s)"]
    peak = ev.get("incident_peak")
    if peak:
        out.append(f"- Incident window peak: {peak.get('calls')} on {_md(peak.get('day'))} (shown, not judged)")
    if ev.get("after_disconnect"):
        out.append(f"- After the disconnect: {ev['after_disconnect']}")
    return [*out, ""]


def _audit(x: dict[str, Any] | None) -> list[str]:
    if x is None or not x["evidence"].get("touching"):
        return []
    out = ["### Setup changes touching the integration", "", "| When | By | Action | Change |", "|---|---|---|---|"]
    for t in x["evidence"]["touching"]:
        by = f"{t.get('by')} (you)" if t.get("yours") else t.get("by")
        out.append(f"| {_md(t.get('at'))} | {_md(by)} | {_md(t.get('action'))} | {_md(t.get('display'))} |")
    return [*out, ""]
