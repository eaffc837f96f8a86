"""What people click in the vendors' web UIs: an admin page at ``/`` and controls under ``/__sandbox__/``.

Actions are POSTs (Authorize/Reconnect also answer GET, so a link works) and refuse with JSON
``{"error", "reason"}``; a form post from the page gets a 303 back to ``/`` with the outcome shown once.
PX Authorize and Skilljar Reconnect go through the real authorize → login → Allow pages with PKCE and
redeem the code with ``oauth.token_grant``, so the platform holds whoever approved, in whichever org.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from sfwizard.sandbox.admin.view import state_json
from sfwizard.sandbox.http import Request, Response, Route, html_response, json_response, redirect, route
from sfwizard.sandbox.integration import (
    Refused,
    authorization_refused,
    connect,
    iso,
    px_state,
    revoke,
    skilljar_state,
)
from sfwizard.sandbox.px.sync import ACCESSIBILITY, advance, job_json, set_knowledge, start_sync
from sfwizard.sandbox.salesforce import oauth
from sfwizard.sandbox.skilljar.backfill import run_backfill
from sfwizard.sandbox.state import SandboxState

PENDING_TTL_S = 600  # an unfinished Authorize is forgotten after ten minutes, like a login transaction


@dataclass
class _Ui:
    """Per-sandbox page state: authorizations in flight and the last outcome to show."""

    # OAuth state → (kind, PKCE verifier, redirect_uri, monotonic time started)
    pending: dict[str, tuple[str, str, str, float]] = field(default_factory=dict)
    notice: tuple[str, str] | None = None  # (kind "ok"/"error", text)


_UI: weakref.WeakKeyDictionary[SandboxState, _Ui] = weakref.WeakKeyDictionary()


def _ui(state: SandboxState) -> _Ui:
    return _UI.setdefault(state, _Ui())


def _from_page(req: Request) -> bool:
    return req.method == "POST" and "text/html" in (req.header("accept") or "")


def _answer(state: SandboxState, req: Request, body: dict[str, Any], status: int = 200) -> Response:
    """JSON for programs; for a person's form post, back to the page with the outcome on it."""
    if _from_page(req):
        text = body.get("reason") or body.get("message") or "done"
        _ui(state).notice = ("error" if status >= 400 else "ok", str(text))
        return redirect("/", 303)
    return json_response(body, status)


def _refused(state: SandboxState, req: Request, r: Refused) -> Response:
    return _answer(state, req, {"error": r.error, "reason": r.reason}, r.status)


def _body(req: Request) -> dict[str, Any]:
    """A JSON body, or a form post's fields (repeated names become lists)."""
    if "json" in (req.header("content-type") or ""):
        data = req.json()
        if data is not None and not isinstance(data, dict):
            raise Refused(400, "bad_request", "the body is a JSON object")
        return data or {}
    form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    out: dict[str, Any] = {k: v for k, v in form.items() if k in ("categories", "accessibility")}
    if "knowledge_form" in form:  # an unticked checkbox sends nothing: the form says what it holds
        out["enabled"] = "on" in form.get("enabled", [])
        out.setdefault("categories", [])
        out.setdefault("accessibility", [])
    return out


# -- Authorize / Reconnect ------------------------------------------------------------------------------

def _authorize(state: SandboxState, req: Request, m: Any) -> Response:
    kind = m.group(1)
    with state.lock:
        try:
            target = px_state(state).integration if kind == "px" else skilljar_state(state)
        except Refused as r:
            return _refused(state, req, r)
        app = state.connected_apps[target.client_id]
        callback = f"{state.base_url}/__sandbox__/{kind}/oauth/callback"
        if callback not in app.redirect_uris:
            app.redirect_uris = (*app.redirect_uris, callback)
        ui = _ui(state)
        now = time.monotonic()
        ui.pending = {k: v for k, v in ui.pending.items() if now - v[3] < PENDING_TTL_S}
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        ui.pending[nonce] = (kind, verifier, callback, now)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    url = "/services/oauth2/authorize?" + urlencode({
        "response_type": "code", "client_id": app.client_id, "redirect_uri": callback, "state": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256", "scope": "api refresh_token id"})
    if req.method == "POST":  # a button on the page, or a program that wants the URL to open
        return Response(303, json.dumps({"authorize_url": state.base_url + url}).encode(),
                        headers=[("Location", url), ("Cache-Control", "no-store")])
    return redirect(url)


def _callback(state: SandboxState, req: Request, m: Any) -> Response:
    kind = m.group(1)
    with state.lock:
        ui = _ui(state)
        pending = ui.pending.pop(req.arg("state") or "", None)
        if pending is None or pending[0] != kind:
            return json_response({"error": "invalid_state",
                                  "reason": "unknown, expired or reused state: click Authorize again"}, 400)
        _, verifier, callback, _t = pending
        if req.arg("error"):
            reason = authorization_refused(state, kind, req.arg("error") or "",
                                           req.arg("error_description") or "")
            ui.notice = ("error", f"{_label(kind)} authorization refused: {reason}")
            return redirect("/")
        client_id = (px_state(state).integration if kind == "px" else skilljar_state(state)).client_id
        status, body = oauth.token_grant(state, {
            "grant_type": "authorization_code", "code": req.arg("code") or "", "client_id": client_id,
            "redirect_uri": callback, "code_verifier": verifier})
        if status != 200:
            reason = authorization_refused(state, kind, str(body.get("error")),
                                           str(body.get("error_description") or ""))
            ui.notice = ("error", f"{_label(kind)} authorization failed: {reason}")
            return redirect("/")
        org, user = connect(state, kind, body)
        ui.notice = ("ok", f"{_label(kind)} authorized against {org.name} ({org.id}) as {user['Username']}")
    return redirect("/")


def _label(kind: str) -> str:
    return "Gainsight PX" if kind == "px" else "Skilljar"


# -- actions ----------------------------------------------------------------------------------------------

def _sync_start(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        try:
            job = start_sync(state)
        except Refused as r:
            return _refused(state, req, r)
        body = job_json(job)
    return _answer(state, req, {**body, "message": "Synchronize started"}, 202)


def _sync_status(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        job = advance(state) if state.platform is not None else None
        return json_response(job_json(job) if job else {"state": "NONE"})


def _knowledge(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        try:
            result = set_knowledge(state, _body(req))
        except ValueError:
            return _refused(state, req, Refused(400, "bad_request", "the body is not valid JSON"))
        except Refused as r:
            return _refused(state, req, r)
    return _answer(state, req, {**result, "message": "Knowledge Center settings saved"})


def _knowledge_get(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        s = state_json(state)
    if "px" not in s:
        return json_response({"error": "not_configured", "reason": "this scenario has no Gainsight PX"}, 404)
    return json_response(s["px"]["knowledge"])


def _revoke(state: SandboxState, req: Request, m: Any) -> Response:
    kind = m.group(1)
    with state.lock:
        try:
            n = revoke(state, kind)
        except Refused as r:
            return _refused(state, req, r)
    status = "DOWN" if kind == "px" else "disconnected"
    message = f"security advisory simulated: {n} {_label(kind)} token(s) revoked"
    return _answer(state, req, {"revoked": n, "status": status, "message": message})


def _backfill(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        try:
            b = run_backfill(state)
        except Refused as r:
            return _refused(state, req, r)
    return _answer(state, req, {"records": b.records, "window_start": iso(b.window_start),
                                "window_end": iso(b.window_end),
                                "message": f"Backfill pushed {b.records} record(s) to Salesforce"})


def _backfill_get(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        s = state_json(state)
    if "skilljar" not in s:
        return json_response({"error": "not_configured", "reason": "this scenario has no Skilljar"}, 404)
    j = s["skilljar"]
    return json_response({k: j[k] for k in ("backfill_offered", "backfill_reason", "window_days",
                                            "disconnected_at", "last_sync_at", "backfills")})


def _state(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        return json_response(state_json(state))


# -- the page ---------------------------------------------------------------------------------------------

def e(value: Any) -> str:
    return "—" if value is None or value == "" else html.escape(str(value), quote=True)


def _button(action: str, label: str, *, kind: str = "") -> str:
    return (f'<form method="post" action="{e(action)}">'
            f'<button class="{kind}" type="submit">{e(label)}</button></form>')


def _orgs_card(s: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{e(o['name'])}</td><td><code>{e(o['id'])}</code></td><td>{e(o['instance'])}</td>"
                   f"<td>{'<b class=warn>Sandbox</b>' if o['is_sandbox'] else 'Production'}</td></tr>"
                   for o in s["orgs"])
    return ("<section><h2>Salesforce orgs</h2><table><tr><th>Name</th><th>Org Id</th><th>Instance</th>"
            f"<th>Type</th></tr>{rows}</table></section>")


def _px_card(p: dict[str, Any]) -> str:
    job = p["job"]
    if job:
        pct = round(job["progress"] * 100)
        run = (f'<progress id="sync-bar" data-state="{e(job["state"])}" max="100" value="{pct}"></progress> '
               f'<span id="sync-text">{e(job["state"])} {job["done"]}/{job["total"]}</span>'
               + (f' <span class="warn">{e(job["error"])}</span>' if job["error"] else ""))
    else:
        run = "<span class=muted>no manual sync yet</span>"
    authorized = "<b class=good>Authorized</b>" if p["authorized"] else "<b class=warn>Not authorized</b>"
    sandbox = " <b class=warn>(sandbox org)</b>" if p["org_is_sandbox"] else ""
    return (
        "<section><h2>Gainsight PX · Administration → Integrations · Salesforce</h2>"
        f"<p>Status: {authorized} <span class=muted>(monitoring: {e(p['status'])})</span></p>"
        f"<p>Salesforce org: {e(p['org_name'])} <code>{e(p['org_id'])}</code>{sandbox} · "
        f"user {e(p['username'])}</p>"
        f"<p>Last sync: {e(p['last_success'])} · records processed {e(p['records_processed'])}</p>"
        f"<p>Last error: <span class=warn>{e(p['last_error'])}</span></p>"
        f"<p>Synchronize: {run}</p><div class=actions>"
        + _button("/__sandbox__/px/authorize", "Authorize")
        + _button("/__sandbox__/px/sync", "Synchronize")
        + _button("/__sandbox__/px/revoke", "Simulate a security advisory", kind="danger")
        + "</div></section>")


def _knowledge_card(p: dict[str, Any]) -> str:
    k = p["knowledge"]
    cats = "".join(f'<label><input type="checkbox" name="categories" value="{e(c)}"'
                   f'{" checked" if c in k["categories"] else ""}> {e(c)}</label> '
                   for c in k["available_categories"]) or "<span class=muted>none in this org</span>"
    access = "".join(f'<label><input type="checkbox" name="accessibility" value="{a}"'
                     f'{" checked" if a in k["accessibility"] else ""}> {a}</label> ' for a in ACCESSIBILITY)
    return (
        "<section><h2>Knowledge Center · Salesforce Knowledge Base</h2>"
        f"<p>Integration: <b>{e(k['status'])}</b> <span class=muted>{e(k['last_error'])}</span></p>"
        '<form method="post" action="/__sandbox__/px/knowledge">'
        '<input type="hidden" name="knowledge_form" value="1">'
        f'<p><label><input type="checkbox" name="enabled"{" checked" if k["enabled"] else ""}> '
        "Salesforce Knowledge Base enabled</label></p>"
        f"<p>Categories: {cats}</p><p>Accessibility: {access}</p>"
        '<button type="submit">Save</button></form></section>')


def _skilljar_card(j: dict[str, Any]) -> str:
    alert = (f"<p class=alert>Your Salesforce integration is disconnected (since {e(j['disconnected_at'])}). "
             "Reconnect to resume syncing.</p>" if j["status"] == "disconnected" else "")
    if j["backfill_offered"]:
        backfill = (_button("/__sandbox__/skilljar/backfill", "Backfill")
                    + f" <span class=muted>pushes what changed from {e(j['last_sync_at'])} to now</span>")
    else:
        backfill = f"<p class=muted>Backfill not offered: {e(j['backfill_reason'])}</p>"
    done = "".join(f"<li>{e(b['window_start'])} → {e(b['window_end'])}: {e(b['records'])} record(s)</li>"
                   for b in j["backfills"])
    return (
        "<section><h2>Skilljar · Integrations · Salesforce</h2>" + alert
        + f"<p>Status: <b>{e(j['status'])}</b> · Salesforce user {e(j['username'])} in {e(j['org_name'])}</p>"
        + f"<p>Last Sync Date: {e(j['last_sync_at'])}</p><div class=actions>"
        + _button("/__sandbox__/skilljar/reconnect", "Reconnect") + backfill
        + _button("/__sandbox__/skilljar/revoke", "Simulate a security advisory", kind="danger") + "</div>"
        + (f"<ul>{done}</ul>" if done else "") + "</section>")


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#16325c}"
    "section{border:1px solid #d8dde6;border-radius:6px;padding:.4em 1em 1em;margin:1em 0}"
    "table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left}"
    ".actions{display:flex;gap:.6em;flex-wrap:wrap;align-items:center}form{display:inline}"
    "button{background:#0176d3;color:#fff;border:0;border-radius:4px;padding:.45em .9em;font-size:1em;"
    "cursor:pointer}button.danger{background:#ba0517}.warn{color:#ba0517}.good{color:#2e844a}"
    ".muted{color:#54698d}.alert{background:#fef1ee;border-left:4px solid #ba0517;padding:.5em}"
    ".notice{padding:.6em;border-radius:4px}.notice.ok{background:#ebf7e6}.notice.error{background:#fef1ee}"
    "progress{width:14em;vertical-align:middle}code{font-size:.9em}")

# Polls the job while it runs and reloads when it ends; textContent only, nothing parsed as HTML.
_POLL = (
    "<script>(function(){var b=document.getElementById('sync-bar');if(!b||b.dataset.state!=='RUNNING')return;"
    "function p(){fetch('/__sandbox__/px/sync').then(function(r){return r.json()}).then(function(j){"
    "b.value=Math.round(j.progress*100);document.getElementById('sync-text').textContent="
    "j.state+' '+j.done+'/'+j.total;if(j.state==='RUNNING')setTimeout(p,300);else location.reload()})}"
    "setTimeout(p,300)})()</script>")


def _page(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        s = state_json(state)
        ui = _ui(state)
        notice, ui.notice = ui.notice, None
    parts = [f"<h1>sfwizard sandbox</h1><p>Scenario <b>{e(s['scenario'])}</b> — {e(s['description'])}</p>"]
    if notice:
        parts.append(f'<p class="notice {notice[0]}">{e(notice[1])}</p>')
    parts.append(_orgs_card(s))
    if "px" in s:
        parts += [_px_card(s["px"]), _knowledge_card(s["px"])]
    if "skilljar" in s:
        parts.append(_skilljar_card(s["skilljar"]))
    parts.append("<p class=muted>Controls for programs: <code>GET /__sandbox__/state</code>; "
                 "POST <code>/__sandbox__/px/sync</code>, <code>/__sandbox__/px/knowledge</code>, "
                 "<code>/__sandbox__/skilljar/backfill</code>, "
                 "<code>/__sandbox__/{px,skilljar}/revoke</code>.</p>")
    return html_response(f"<!doctype html><html lang=en><meta charset=utf-8><title>sfwizard sandbox — "
                         f"{e(s['scenario'])}</title><style>{_STYLE}</style>" + "".join(parts) + _POLL)


def routes() -> list[Route]:
    return [
        route("GET", "/", _page),
        route("GET", r"/__sandbox__/state", _state),
        route("GET", r"/__sandbox__/(px|skilljar)/(?:authorize|reconnect)", _authorize),
        route("POST", r"/__sandbox__/(px|skilljar)/(?:authorize|reconnect)", _authorize),
        route("GET", r"/__sandbox__/(px|skilljar)/oauth/callback", _callback),
        route("POST", r"/__sandbox__/px/sync", _sync_start),
        route("GET", r"/__sandbox__/px/sync", _sync_status),
        route("POST", r"/__sandbox__/px/knowledge", _knowledge),
        route("GET", r"/__sandbox__/px/knowledge", _knowledge_get),
        route("POST", r"/__sandbox__/(px|skilljar)/revoke", _revoke),
        route("POST", r"/__sandbox__/skilljar/backfill", _backfill),
        route("GET", r"/__sandbox__/skilljar/backfill", _backfill_get),
    ]
