"""A Statuspage v2 status page under ``/status``: status, summary, components, incidents, scheduled
maintenances, and an HTML page.

Shapes follow Statuspage's public v2 API: a ``page`` object on every answer, components with their
position (a group component lists its children's ids), incidents and maintenances with
``incident_updates`` newest first, times as ISO 8601 with milliseconds. A maintenance is not an incident:
it has its own endpoints (``scheduled-maintenances``, ``/upcoming``, ``/active``) and its window
(``scheduled_for`` → ``scheduled_until``).
"""

from __future__ import annotations

import hashlib
import html
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sfwizard.sandbox.http import Request, Response, Route, html_response, json_response, route
from sfwizard.sandbox.state import SandboxState
from sfwizard.sandbox.statuspage.state import Incident, Maintenance, StatusComponent, StatusPageState

CLOSED = ("resolved", "postmortem")
UPCOMING, ACTIVE = ("scheduled",), ("in_progress", "verifying")
_WORST = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")


_ZONE: ContextVar[str] = ContextVar("status_page_zone", default="Etc/UTC")


def _iso(dt: datetime | None) -> str | None:
    """A time as Statuspage writes it: in the page's time zone, with its offset (pages answer
    ``"time_zone": "America/Chicago"`` with times like ``"2019-02-21T08:31:24.239-06:00"``)."""
    if not dt:
        return None
    zone = _ZONE.get()
    if zone not in ("Etc/UTC", "UTC"):
        from zoneinfo import ZoneInfo

        dt = dt.astimezone(ZoneInfo(zone))
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _page_id(state: SandboxState) -> str:
    return hashlib.blake2b(f"status-{state.seed}".encode(), digest_size=6).hexdigest()


def _sp(state: SandboxState) -> StatusPageState:
    sp = state.status_page or StatusPageState()
    _ZONE.set(sp.time_zone)  # (each request is served in a thread of its own: its answer's times use the page's zone)
    return sp


def _updates(inc: Incident | Maintenance) -> list[dict[str, Any]]:
    return sorted(inc.updates, key=lambda u: u["created_at"], reverse=True)


def _page(state: SandboxState, sp: StatusPageState) -> dict[str, Any]:
    times = [state.loaded_at] + [u["created_at"] for i in [*sp.incidents, *sp.maintenances] for u in i.updates]
    return {"id": _page_id(state), "name": sp.name, "url": sp.url, "time_zone": sp.time_zone,
            "updated_at": _iso(max(times))}


def _component(state: SandboxState, sp: StatusPageState, c: StatusComponent, position: int,
               group_ids: dict[str, str]) -> dict[str, Any]:
    touched = [u["created_at"] for i in [*sp.incidents, *sp.maintenances] if c.name in i.components
               for u in i.updates]
    return {"id": c.id, "name": c.name, "status": c.status, "created_at": _iso(state.loaded_at),
            "updated_at": _iso(max([state.loaded_at, *touched])), "position": position, "description": None,
            "showcase": True, "start_date": None, "group_id": group_ids.get(c.group) if c.group else None,
            "page_id": _page_id(state), "group": False, "only_show_if_degraded": False}


def _components(state: SandboxState, sp: StatusPageState) -> list[dict[str, Any]]:
    """Every component in page order; a group (named by its children's ``group``) comes before them, its
    status the worst of theirs, its ``components`` their ids."""
    groups = list(dict.fromkeys(c.group for c in sp.components if c.group))
    group_ids = {g: hashlib.blake2b(f"group-{state.seed}-{g}".encode(), digest_size=6).hexdigest() for g in groups}
    out: list[dict[str, Any]] = []
    done: set[str] = set()
    for c in sp.components:
        if c.group and c.group not in done:
            done.add(c.group)
            children = [x for x in sp.components if x.group == c.group]
            worst = max((x.status for x in children), key=lambda st: _WORST.index(st) if st in _WORST else 0)
            out.append({"id": group_ids[c.group], "name": c.group, "status": worst,
                        "created_at": _iso(state.loaded_at), "updated_at": _iso(state.loaded_at),
                        "position": len(out) + 1, "description": None, "showcase": False, "start_date": None,
                        "group_id": None, "page_id": _page_id(state), "group": True,
                        "only_show_if_degraded": False, "components": [x.id for x in children]})
        out.append(_component(state, sp, c, len(out) + 1, group_ids))
    return out


def _updates_json(item: Incident | Maintenance) -> list[dict[str, Any]]:
    return [{"id": f"{item.id}{n:02d}", "status": u["status"], "body": u["body"], "incident_id": item.id,
             "created_at": _iso(u["created_at"]), "updated_at": _iso(u["created_at"]),
             "display_at": _iso(u["created_at"]), "affected_components": None,
             "deliver_notifications": True, "custom_tweet": None, "tweet_id": None}
            for n, u in enumerate(_updates(item))]


def _incident(state: SandboxState, sp: StatusPageState, inc: Incident) -> dict[str, Any]:
    comps = [c for c in _components(state, sp) if c["name"] in inc.components]
    ordered = _updates(inc)
    updates = _updates_json(inc)

    def first(status: str) -> str | None:
        return next((_iso(u["created_at"]) for u in reversed(ordered) if u["status"] == status), None)

    return {"id": inc.id, "name": inc.name, "status": inc.status, "created_at": _iso(inc.created_at),
            "updated_at": updates[0]["updated_at"] if updates else _iso(inc.created_at),
            "monitoring_at": first("monitoring"),
            "resolved_at": first("resolved") if inc.status in CLOSED else None,
            "impact": inc.impact, "shortlink": inc.shortlink, "started_at": _iso(inc.created_at),
            "page_id": _page_id(state), "incident_updates": updates, "components": comps}


def _maintenance(state: SandboxState, sp: StatusPageState, mnt: Maintenance) -> dict[str, Any]:
    comps = [c for c in _components(state, sp) if c["name"] in mnt.components]
    updates = _updates_json(mnt)
    created = min([u["created_at"] for u in mnt.updates] or [mnt.scheduled_for])
    return {"id": mnt.id, "name": mnt.name, "status": mnt.status, "created_at": _iso(created),
            "updated_at": updates[0]["updated_at"] if updates else _iso(created), "monitoring_at": None,
            "resolved_at": _iso(mnt.scheduled_until) if mnt.status == "completed" else None,
            "impact": mnt.impact, "shortlink": mnt.shortlink, "started_at": _iso(mnt.scheduled_for),
            "page_id": _page_id(state), "incident_updates": updates, "components": comps,
            "scheduled_for": _iso(mnt.scheduled_for), "scheduled_until": _iso(mnt.scheduled_until)}


def _maintenances(sp: StatusPageState, statuses: tuple[str, ...] | None) -> list[Maintenance]:
    chosen = [m for m in sp.maintenances if statuses is None or m.status in statuses]
    return sorted(chosen, key=lambda m: m.scheduled_for, reverse=statuses is None)


def _status(sp: StatusPageState) -> dict[str, Any]:
    return {"indicator": sp.indicator, "description": sp.description}


def _open(sp: StatusPageState) -> list[Incident]:
    return [i for i in _newest(sp) if i.status not in CLOSED]


def _newest(sp: StatusPageState) -> list[Incident]:
    return sorted(sp.incidents, key=lambda i: i.created_at, reverse=True)


def status_json(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        sp = _sp(state)
        return json_response({"page": _page(state, sp), "status": _status(sp)})


def summary_json(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        sp = _sp(state)
        return json_response({
            "page": _page(state, sp), "components": _components(state, sp),
            "incidents": [_incident(state, sp, i) for i in _open(sp)],
            "scheduled_maintenances": [_maintenance(state, sp, m) for m in _maintenances(sp, UPCOMING + ACTIVE)],
            "status": _status(sp)})


def components_json(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        sp = _sp(state)
        return json_response({"page": _page(state, sp), "components": _components(state, sp)})


def incidents_json(state: SandboxState, req: Request, m: Any) -> Response:
    """``incidents.json``: the 50 most recent of any status; ``incidents/unresolved.json``: the open ones."""
    with state.lock:
        sp = _sp(state)
        incs = _open(sp) if m.group(1) else _newest(sp)[:50]
        return json_response({"page": _page(state, sp), "incidents": [_incident(state, sp, i) for i in incs]})


def maintenances_json(state: SandboxState, req: Request, m: Any) -> Response:
    """``scheduled-maintenances.json``: the 50 most recent; ``/upcoming``: scheduled; ``/active``: in
    progress or verifying (soonest first)."""
    which = {None: None, "/upcoming": UPCOMING, "/active": ACTIVE}[m.group(1)]
    with state.lock:
        sp = _sp(state)
        chosen = _maintenances(sp, which)[:50]
        return json_response({"page": _page(state, sp),
                              "scheduled_maintenances": [_maintenance(state, sp, x) for x in chosen]})


def status_html(state: SandboxState, req: Request, m: Any) -> Response:
    e = html.escape
    with state.lock:
        sp = _sp(state)
        rows = "".join(f"<tr><td>{e(c.name)}</td><td class='{e(c.status)}'>"
                       f"{e(c.status.replace('_', ' '))}</td></tr>" for c in sp.components)
        incs = "".join(
            f"<section><h3>{e(i.name)}</h3><p class=muted>{e(i.impact)} impact · started "
            f"{e(_iso(i.created_at) or '')}</p>"
            + "".join(f"<p><b>{e(u['status'].title())}</b> — {e(u['body'])} "
                      f"<span class=muted>{e(_iso(u['created_at']) or '')}</span></p>" for u in _updates(i))
            + "</section>" for i in _open(sp))
        incs += "".join(
            f"<section class=maintenance><h3>{e(x.name)}</h3><p class=muted>maintenance ({e(x.status)}) · "
            f"{e(_iso(x.scheduled_for) or '')} → {e(_iso(x.scheduled_until) or '')}</p></section>"
            for x in _maintenances(sp, UPCOMING + ACTIVE))
    return html_response(
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{e(sp.name)} Status</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:720px;margin:2em auto;padding:0 1em}"
        "td{padding:.3em 1em}.operational{color:#2e7d32}.partial_outage,.major_outage{color:#c62828}"
        ".degraded_performance,.under_maintenance{color:#ef6c00}.muted{color:#667}"
        "section{border-left:4px solid #ef6c00;padding-left:1em}</style>"
        f"<h1>{e(sp.name)} status</h1><h2>{e(sp.description)}</h2>{incs}<table>{rows}</table>")


def routes() -> list[Route]:
    return [
        route("GET", r"/status/api/v2/status\.json", status_json),
        route("GET", r"/status/api/v2/summary\.json", summary_json),
        route("GET", r"/status/api/v2/components\.json", components_json),
        route("GET", r"/status/api/v2/incidents(/unresolved)?\.json", incidents_json),
        route("GET", r"/status/api/v2/scheduled-maintenances(/upcoming|/active)?\.json", maintenances_json),
        route("GET", r"/status/?", status_html),
    ]
