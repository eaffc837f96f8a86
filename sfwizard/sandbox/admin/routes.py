"""What people click in the vendors' web UIs: an admin page at ``/`` and controls under ``/__sandbox__/``.

Actions are POSTs (Authorize/Reconnect also answer GET, so a link works) and refuse with JSON
``{"error", "reason"}``; a form post from the page gets a 303 back to ``/`` with the outcome shown once.
PX Authorize and Skilljar Reconnect go through the real authorize → login → Allow pages with PKCE and
redeem the code with ``oauth.token_grant``, so the platform holds whoever approved, in whichever org.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from sfwizard.sandbox.admin.clicks import authorization_refused, connect, revoke
from sfwizard.sandbox.admin.fixes import routes as fixes_routes
from sfwizard.sandbox.admin.page import admin_page
from sfwizard.sandbox.admin.view import state_json
from sfwizard.sandbox.http import Request, Response, Route, html_response, json_response, redirect, route
from sfwizard.sandbox.integration import Refused, iso
from sfwizard.sandbox.px.state import px_state
from sfwizard.sandbox.px.sync import advance, job_json, set_knowledge, start_sync
from sfwizard.sandbox.salesforce import oauth
from sfwizard.sandbox.skilljar.backfill import run_backfill
from sfwizard.sandbox.skilljar.state import skilljar_state
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

def _page(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        s = state_json(state)
        ui = _ui(state)
        notice, ui.notice = ui.notice, None
    return html_response(admin_page(s, notice))


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
        *fixes_routes(),  # Salesforce Setup's fixes, the platform's remap, the status page's all-clear
    ]
