"""A Statuspage v2 status page under ``/status``: status, summary, components, unresolved incidents."""

from __future__ import annotations

import html
from typing import Any

from sfwizard.sandbox.http import Request, Response, Route, html_response, json_response, route
from sfwizard.sandbox.platform import Incident, StatusPageState
from sfwizard.sandbox.store import SandboxState


def _iso(dt: Any) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _page(state: SandboxState, sp: StatusPageState) -> dict[str, Any]:
    return {"id": "sfwsandbox0001", "name": sp.name, "url": sp.url, "time_zone": "Etc/UTC",
            "updated_at": _iso(state.loaded_at)}


def _component(state: SandboxState, c: Any, position: int) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "status": c.status, "created_at": _iso(state.loaded_at),
            "updated_at": _iso(state.loaded_at), "position": position, "description": None, "showcase": True,
            "start_date": None, "group_id": None, "page_id": "sfwsandbox0001", "group": False,
            "only_show_if_degraded": False}


def _incident(state: SandboxState, sp: StatusPageState, inc: Incident) -> dict[str, Any]:
    comps = [_component(state, c, i) for i, c in enumerate(sp.components) if c.name in inc.components]
    updates = [{"id": f"{inc.id}u{i}", "status": u["status"], "body": u["body"], "incident_id": inc.id,
                "created_at": _iso(u["created_at"]), "updated_at": _iso(u["created_at"]),
                "display_at": _iso(u["created_at"]), "affected_components": None}
               for i, u in enumerate(sorted(inc.updates, key=lambda u: u["created_at"], reverse=True))]
    resolved = inc.status in ("resolved", "postmortem")
    return {"id": inc.id, "name": inc.name, "status": inc.status, "impact": inc.impact,
            "created_at": _iso(inc.created_at),
            "updated_at": updates[0]["updated_at"] if updates else _iso(inc.created_at), "monitoring_at": None,
            "resolved_at": updates[0]["created_at"] if resolved and updates else None,
            "shortlink": inc.shortlink, "started_at": _iso(inc.created_at), "page_id": "sfwsandbox0001",
            "incident_updates": updates, "components": comps}


def _status(sp: StatusPageState) -> dict[str, Any]:
    return {"indicator": sp.indicator, "description": sp.description}


def _sp(state: SandboxState) -> StatusPageState:
    return state.status_page or StatusPageState()


def status_json(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        sp = _sp(state)
        return json_response({"page": _page(state, sp), "status": _status(sp)})


def summary_json(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        sp = _sp(state)
        return json_response({
            "page": _page(state, sp),
            "components": [_component(state, c, i) for i, c in enumerate(sp.components)],
            "incidents": [_incident(state, sp, i) for i in sp.incidents if i.status not in ("resolved", "postmortem")],
            "scheduled_maintenances": [], "status": _status(sp)})


def components_json(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        sp = _sp(state)
        return json_response({"page": _page(state, sp),
                              "components": [_component(state, c, i) for i, c in enumerate(sp.components)]})


def incidents_json(state: SandboxState, req: Request, m: Any) -> Response:
    unresolved_only = m.group(1) == "/unresolved"
    with state.lock:
        sp = _sp(state)
        incs = [i for i in sp.incidents if not unresolved_only or i.status not in ("resolved", "postmortem")]
        return json_response({"page": _page(state, sp), "incidents": [_incident(state, sp, i) for i in incs]})


def status_html(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        sp = _sp(state)
        e = html.escape
        rows = "".join(f"<tr><td>{e(c.name)}</td><td class='{e(c.status)}'>{e(c.status.replace('_', ' '))}</td></tr>"
                       for c in sp.components)
        incs = "".join(
            f"<section><h3>{e(i.name)}</h3><p>{e(i.status)} · impact {e(i.impact)}</p>"
            + "".join(f"<p><b>{e(u['status'])}</b> — {e(u['body'])}</p>" for u in i.updates) + "</section>"
            for i in sp.incidents if i.status not in ("resolved", "postmortem"))
    return html_response(
        f"<!doctype html><meta charset=utf-8><title>{e(sp.name)} Status</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:720px;margin:2em auto}td{padding:.3em 1em}"
        ".operational{color:#2e7d32}.partial_outage,.major_outage{color:#c62828}"
        ".degraded_performance,.under_maintenance{color:#ef6c00}</style>"
        f"<h1>{e(sp.name)} status</h1><h2>{e(sp.description)}</h2>{incs}<table>{rows}</table>")


def routes() -> list[Route]:
    return [
        route("GET", r"/status/api/v2/status\.json", status_json),
        route("GET", r"/status/api/v2/summary\.json", summary_json),
        route("GET", r"/status/api/v2/components\.json", components_json),
        route("GET", r"/status/api/v2/incidents(/unresolved)?\.json", incidents_json),
        route("GET", r"/status/?", status_html),
    ]
