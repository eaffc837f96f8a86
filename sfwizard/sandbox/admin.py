"""What people click in the vendors' web UIs: an admin page at ``/`` and JSON controls under ``/__sandbox__/``.

PX Authorize and Skilljar Reconnect go through the real authorize → login → Allow pages and redeem
the code with ``oauth.token_grant``, so the integration ends up holding whichever org and user
approved — the wrong org can really happen. Synchronize runs for a few seconds, advanced lazily from
the clock on every read (no thread), and applies its effects when it completes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sfwizard.sandbox import oauth
from sfwizard.sandbox.http import Request, Response, Route, html_response, json_response, redirect, route
from sfwizard.sandbox.platform import Backfill, SyncJob
from sfwizard.sandbox.px import platform_value
from sfwizard.sandbox.store import Org, SandboxState
from sfwizard.sandbox.tokens import token_store

log = logging.getLogger("sfwizard.sandbox")

PUSH_LIMIT = 2000  # accounts with platform activity whose PX_ fields a sync writes (bounded for big tenants)
PREFIX = "PX_"


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat(timespec="seconds") if dt else None


def _answer(req: Request, body: dict[str, Any], status: int = 200) -> Response:
    """JSON for programs; back to the admin page for a person's form post."""
    if "text/html" in (req.header("accept") or "") and req.method == "POST":
        return redirect("/", 303)
    return json_response(body, status)


# -- authorize / reconnect ----------------------------------------------------------------------------

def _pending(state: SandboxState) -> dict[str, Any]:
    if not hasattr(state, "admin_pending"):
        state.admin_pending = {}  # type: ignore[attr-defined]
    return state.admin_pending  # type: ignore[attr-defined]


def _authorize(state: SandboxState, req: Request, m: Any) -> Response:
    kind = m.group(1)
    with state.lock:
        target = state.platform.integration if kind == "px" else state.skilljar
        if target is None:
            return json_response({"error": "not_configured", "reason": f"this scenario has no {kind} integration"},
                                 404)
        app = state.connected_apps[target.client_id]
        callback = f"{state.base_url}/__sandbox__/{kind}/oauth/callback"
        if callback not in app.redirect_uris:
            app.redirect_uris = (*app.redirect_uris, callback)
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        _pending(state)[nonce] = (kind, verifier, callback)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = urlencode({"response_type": "code", "client_id": app.client_id, "redirect_uri": callback,
                       "state": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
                       "scope": "api refresh_token id"})
    return redirect(f"/services/oauth2/authorize?{query}")


def _callback(state: SandboxState, req: Request, m: Any) -> Response:
    kind = m.group(1)
    with state.lock:
        pending = _pending(state).pop(req.arg("state") or "", None)
        if pending is None or pending[0] != kind:
            return json_response({"error": "invalid_state", "reason": "unknown or reused state"}, 400)
        _, verifier, callback = pending
        target = state.platform.integration if kind == "px" else state.skilljar
        if req.arg("error"):
            reason = f"{req.arg('error')}: {req.arg('error_description', '')}".strip(": ")
            if kind == "px":
                target.last_error = reason
            log.info("%s authorization refused: %s", kind, req.arg("error"))
            return redirect("/")
        status, body = oauth.token_grant(state, {
            "grant_type": "authorization_code", "code": req.arg("code") or "", "client_id": target.client_id,
            "redirect_uri": callback, "code_verifier": verifier})
        if status != 200:
            reason = f"{body.get('error')}: {body.get('error_description')}"
            if kind == "px":
                target.last_error = reason
            return json_response({"error": "authorization_failed", "reason": reason}, 400)
        grant = token_store(state).access[body["access_token"]].grant
        target.org_key, target.user_id = grant.org_key, grant.user_id
        if kind == "px":
            target.access_token, target.refresh_token = body["access_token"], body.get("refresh_token")
            target.status, target.authorized, target.last_error = "UP", True, None
        else:
            state.skilljar_tokens = (body["access_token"], body.get("refresh_token"))  # type: ignore[attr-defined]
            target.status = "connected"
        org = state.orgs[grant.org_key]
        log.info("%s authorized against %s (%s) as %s", kind, org.name, org.id, org.user(grant.user_id)["Username"])
    return redirect("/")


def _token_ok(state: SandboxState, token: str | None) -> tuple[Org, dict[str, Any]] | str:
    """The integration's own token, checked the way an API call would be; an error text otherwise."""
    tok = token_store(state).access.get(token or "")
    if tok is None or tok.revoked:
        return "INVALID_SESSION_ID: Session expired or invalid"
    org = state.orgs[tok.grant.org_key]
    user = org.user(tok.grant.user_id)
    if user is None or not user.get("IsActive"):
        return "INVALID_SESSION_ID: Session expired or invalid"
    if not org.access(user["Id"]).api_enabled:
        return "API_CURRENTLY_DISABLED: API is disabled for this User"
    return org, user


# -- synchronize -------------------------------------------------------------------------------------

def advance(state: SandboxState) -> SyncJob | None:
    """Move the running sync along by the clock; finish it when its time is up. Hold the lock."""
    px = state.platform
    job = px.integration.job if px else None
    if job is None or job.state != "RUNNING":
        return job
    elapsed = (state.now() - job.started_at).total_seconds()
    job.done = min(job.total, int(job.total * elapsed / job.duration_s)) if job.duration_s else job.total
    if elapsed >= job.duration_s:
        _finish_sync(state, job)
    return job


def _finish_sync(state: SandboxState, job: SyncJob) -> None:
    px = state.platform
    integ = px.integration
    now = state.now()
    job.finished_at, job.done = now, job.total
    checked = _token_ok(state, integ.access_token)
    if isinstance(checked, str):
        job.state, job.error = "FAILED", checked
        integ.status, integ.last_error = "DOWN", checked
        return
    org, user = checked
    px.synced.clear()  # the fetch and map caught PX up with Salesforce
    px.synced_at = now
    integ.records_processed += job.total
    error = _push(state, org, user, integ.mappings, now, job) if integ.push_enabled else None
    if error:
        job.state, job.error, integ.last_error = "FAILED", error, error
        return
    job.state = "COMPLETED"
    integ.last_success, integ.last_error, integ.status = now, None, "UP"


def _push(state: SandboxState, org: Org, user: dict[str, Any], mappings: list[Any], now: datetime,
          job: SyncJob) -> str | None:
    """Write PX values into Salesforce fields as the integration user; the first failure is the error."""
    access = org.access(user["Id"])
    pushes = [m for m in mappings if m.direction == "px_to_sf"]
    for m in pushes:
        sobject = org.sobject(m.sf_object)
        f = sobject.field(m.sf_field) if sobject else None
        if not m.sf_field.startswith(PREFIX):
            return f"Push failed: field {m.salesforce} is not a {PREFIX} field"
        if sobject is None or f is None:
            return f"Push failed: INVALID_FIELD: No such column '{m.sf_field}' on entity '{m.sf_object}'"
        if not access.object_perm(sobject, "edit"):
            return f"Push failed: INSUFFICIENT_ACCESS_OR_READONLY: no edit access on {m.sf_object}"
        if not access.field_perm(sobject, f, "edit"):
            return (f"Push failed: INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: {m.sf_field}."
                    " Please check the security settings of this field")
    by_object: dict[str, list[Any]] = {}
    for m in pushes:
        by_object.setdefault(m.sf_object, []).append(m)
    for obj, maps in by_object.items():
        table = org.table(obj)
        ids = []
        for row in table.scan():
            ids.append(row["Id"])
            if len(ids) >= PUSH_LIMIT:
                break
        for rid in ids:
            values: dict[str, Any] = {"LastModifiedById": user["Id"], "LastModifiedDate": now, "SystemModstamp": now}
            for m in maps:
                v = platform_value(m.px_attribute, rid, now)
                ftype = table.sobject.field(m.sf_field).type
                values[m.sf_field] = datetime.fromtimestamp(v / 1000, now.tzinfo) if ftype == "datetime" else v
            table.update(rid, values)
        job.pushed += len(ids)
    return None


def _sync_start(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        px = state.platform
        if px is None:
            return json_response({"error": "not_configured", "reason": "no Gainsight PX in this scenario"}, 404)
        integ = px.integration
        advance(state)
        if integ.job is not None and integ.job.state == "RUNNING":
            return json_response({"error": "conflict", "reason": "a sync is already running"}, 409)
        if not integ.authorized:
            return json_response({"error": "not_authorized", "reason": "authorize the Salesforce connection first"},
                                 409)
        org = state.orgs[integ.org_key]
        total = len(org.table("Account")) + len(org.table("Contact"))
        integ.job = SyncJob(started_at=state.now(), total=total, duration_s=integ.sync_duration_s)
        integ.history.append(integ.job)
        body = _job_json(integ.job)
    return _answer(req, body, 202)


def _sync_status(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        job = advance(state) if state.platform else None
        return json_response(_job_json(job) if job else {"state": "NONE"})


def _job_json(job: SyncJob) -> dict[str, Any]:
    return {"state": job.state, "done": job.done, "total": job.total,
            "progress": round(job.done / job.total, 3) if job.total else 1.0, "started_at": _iso(job.started_at),
            "finished_at": _iso(job.finished_at), "error": job.error, "pushed": job.pushed}


# -- knowledge, advisory --------------------------------------------------------------------------------

def _knowledge(state: SandboxState, req: Request, m: Any) -> Response:
    try:
        body = req.json() if "json" in (req.header("content-type") or "") else _form_lists(req)
    except ValueError:
        return json_response({"error": "bad_request", "reason": "the body is not JSON"}, 400)
    with state.lock:
        px = state.platform
        if px is None:
            return json_response({"error": "not_configured", "reason": "no Gainsight PX in this scenario"}, 404)
        org = state.orgs[px.integration.org_key]
        known = {f"{g['name']}.{c['name']}" for g in org.data_category_groups for c in g.get("categories", [])}
        cats = list(body.get("categories", px.knowledge.categories))
        unknown = [c for c in cats if c not in known]
        if unknown:
            return json_response({"error": "bad_request", "reason": f"unknown categories: {', '.join(unknown)}"}, 400)
        access = list(body.get("accessibility", px.knowledge.accessibility))
        bad = [a for a in access if a not in ("Public", "Customer", "Partner", "Internal")]
        if bad:
            return json_response({"error": "bad_request", "reason": f"unknown accessibility: {', '.join(bad)}"}, 400)
        enabled = body.get("enabled", px.knowledge.enabled)
        px.knowledge.enabled = enabled in (True, "true", "on", "1")
        px.knowledge.categories, px.knowledge.accessibility = cats, access
        result = {"enabled": px.knowledge.enabled, "categories": cats, "accessibility": access}
    return _answer(req, result)


def _form_lists(req: Request) -> dict[str, Any]:
    from urllib.parse import parse_qs

    form = parse_qs(req.body.decode(), keep_blank_values=True)
    out: dict[str, Any] = {"enabled": "on" in form.get("enabled", [])}
    if "categories" in form:
        out["categories"] = form["categories"]
    if "accessibility" in form:
        out["accessibility"] = form["accessibility"]
    return out


def _revoke(state: SandboxState, req: Request, m: Any) -> Response:
    """Simulate the security advisory: the integration's tokens die, the platform goes DOWN."""
    kind = m.group(1)
    with state.lock:
        target = state.platform.integration if kind == "px" and state.platform else state.skilljar
        if target is None:
            return json_response({"error": "not_configured", "reason": f"no {kind} integration"}, 404)
        org = state.orgs[target.org_key]
        n = token_store(state).revoke_grant(target.org_key, target.user_id or "", target.client_id)
        app_name = state.connected_apps[target.client_id].name
        for row in list(org.table("OauthToken").scan()):
            if row["UserId"] == target.user_id and row["AppName"] == app_name:
                org.table("OauthToken").delete(row["Id"])
        now = state.now()
        if kind == "px":
            target.status, target.authorized, target.disconnected_at = "DOWN", False, now
            target.last_error = "INVALID_SESSION_ID: Session expired or invalid"
            target.access_token = target.refresh_token = None
        else:
            target.status, target.disconnected_at = "disconnected", now
        log.info("advisory simulated: %d %s token(s) revoked", n, kind)
    return _answer(req, {"revoked": n, "status": "DOWN" if kind == "px" else "disconnected"})


# -- Skilljar backfill -------------------------------------------------------------------------------------

def backfill_offer(state: SandboxState) -> tuple[bool, str]:
    """Whether the Backfill button shows, and why not."""
    sj = state.skilljar
    if sj is None:
        return False, "no Skilljar integration in this scenario"
    if sj.disconnected_at is None:
        return False, "the integration has not been disconnected: nothing to catch up"
    if sj.backfill_used_for == sj.disconnected_at:
        return False, "this disconnect was already caught up (Backfill runs once per disconnect)"
    age = state.now() - sj.disconnected_at
    if age > timedelta(days=sj.window_days):
        return False, (f"the disconnect was {age.days} days ago, past the {sj.window_days}-day window: "
                       "contact Skilljar Support for a manual backfill")
    return True, ""


def _backfill(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        offered, reason = backfill_offer(state)
        if not offered:
            return _answer(req, {"error": "not_offered", "reason": reason}, 409)
        sj = state.skilljar
        tokens = getattr(state, "skilljar_tokens", (None, None))
        checked = _token_ok(state, tokens[0]) if sj.status == "connected" else "reconnect first"
        if isinstance(checked, str):
            return _answer(req, {"error": "not_connected",
                                 "reason": f"Reconnect before Backfill ({checked})"}, 409)
        org, user = checked
        now = state.now()
        start = sj.last_sync_at or sj.disconnected_at
        batch = [p for p in sj.pending if start <= p["updated_at"] <= now]
        for p in batch:
            _write_student(org, user["Id"], p, now)
        sj.pending = [p for p in sj.pending if p not in batch]
        sj.backfills.append(Backfill(started_at=now, window_start=start, window_end=now, records=len(batch)))
        sj.last_sync_at, sj.backfill_used_for = now, sj.disconnected_at
        result = {"records": len(batch), "window_start": _iso(start), "window_end": _iso(now)}
    return _answer(req, result, 200)


def _write_student(org: Org, user_id: str, p: dict[str, Any], now: datetime) -> None:
    stamp = {"OwnerId": user_id, "CreatedById": user_id, "LastModifiedById": user_id, "CreatedDate": now,
             "LastModifiedDate": now, "SystemModstamp": now}
    student = org.table("skilljar__Student__c").insert({
        "Name": f"{p['first_name']} {p['last_name']}", "skilljar__Email__c": p["email"],
        "skilljar__First_Name__c": p["first_name"], "skilljar__Last_Name__c": p["last_name"],
        "skilljar__Skilljar_Id__c": p["skilljar_id"], "skilljar__Last_Active_At__c": p["updated_at"], **stamp})
    course = next((c for c in org.table("skilljar__Published_Course__c").scan() if c["Name"] == p["course"]), None)
    org.table("skilljar__Course_Progress__c").insert({
        "Name": f"{p['first_name']} – {p['course']}", "skilljar__Student__c": student["Id"],
        "skilljar__Published_Course__c": course["Id"] if course else None,
        "skilljar__Enrolled_At__c": p["updated_at"], "skilljar__Progress_Percent__c": p["progress"],
        "skilljar__Status__c": "Completed" if p["progress"] >= 100 else "In Progress",
        "skilljar__Skilljar_Id__c": f"prog-{p['skilljar_id']}", **stamp})


# -- state and page ------------------------------------------------------------------------------------

def state_json(state: SandboxState) -> dict[str, Any]:
    """Everything the admin page shows, with no secret in it."""
    out: dict[str, Any] = {
        "scenario": state.scenario_name, "description": state.scenario_description, "profile": state.profile,
        "orgs": [{"key": o.key, "id": o.id, "name": o.name, "is_sandbox": o.is_sandbox,
                  "instance": o.instance_name} for o in state.orgs.values()]}
    if state.platform is not None:
        advance(state)
        px, i = state.platform, state.platform.integration
        org = state.orgs.get(i.org_key)
        user = org.user(i.user_id) if org and i.user_id else None
        out["px"] = {
            "status": i.status, "authorized": i.authorized, "org_id": org.id if org else None,
            "org_name": org.name if org else None, "org_is_sandbox": org.is_sandbox if org else None,
            "username": user["Username"] if user else None, "disconnected_at": _iso(i.disconnected_at),
            "last_success": _iso(i.last_success), "last_error": i.last_error,
            "records_processed": i.records_processed, "region": px.region,
            "matching": i.matching, "custom_objects": i.custom_objects,
            "mappings": [{"salesforce": m.salesforce, "platform": m.platform, "direction": m.direction}
                         for m in i.mappings],
            "push": {"enabled": i.push_enabled, "schedule_gmt": i.push_schedule_gmt},
            "schedule": {"fetch_gmt": i.fetch_gmt, "map_gmt": i.map_gmt, "push_gmt": i.push_schedule_gmt},
            "knowledge": {"enabled": px.knowledge.enabled, "categories": px.knowledge.categories,
                          "accessibility": px.knowledge.accessibility},
            "job": _job_json(i.job) if i.job else None,
            "stale_records": len(px.synced), "synced_at": _iso(px.synced_at)}
    if state.skilljar is not None:
        sj = state.skilljar
        org = state.orgs.get(sj.org_key)
        user = org.user(sj.user_id) if org and sj.user_id else None
        offered, reason = backfill_offer(state)
        out["skilljar"] = {
            "status": sj.status, "org_id": org.id if org else None, "username": user["Username"] if user else None,
            "disconnected_at": _iso(sj.disconnected_at), "last_sync_at": _iso(sj.last_sync_at),
            "window_days": sj.window_days, "backfill_offered": offered, "backfill_reason": reason,
            "pending": len(sj.pending),
            "backfills": [{"window_start": _iso(b.window_start), "window_end": _iso(b.window_end),
                           "records": b.records} for b in sj.backfills]}
    return out


def _state(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        return json_response(state_json(state))


def _page(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        s = state_json(state)
    e = html.escape
    cards = [f"<h1>sfwizard sandbox</h1><p class=muted>Scenario <b>{e(s['scenario'])}</b> — {e(s['description'])}</p>",
             "<section><h2>Salesforce orgs</h2><ul>" + "".join(
                 f"<li>{e(o['name'])} <code>{e(o['id'])}</code> {'<b class=warn>SANDBOX</b>' if o['is_sandbox'] else ''}"
                 "</li>" for o in s["orgs"]) + "</ul></section>"]
    if "px" in s:
        p = s["px"]
        job = p["job"]
        bar = (f"<progress max=1 value={job['progress']}></progress> {e(job['state'])} {job['done']}/{job['total']}"
               + (f" — {e(job['error'])}" if job["error"] else "")) if job else "never run"
        cards.append(
            "<section><h2>Gainsight PX · Data Integrations · Salesforce</h2>"
            f"<p>Status: <b>{'Authorized' if p['authorized'] else 'Not authorized'}</b> ({e(p['status'])})</p>"
            f"<p>Connected to: {e(str(p['org_name']))} <code>{e(str(p['org_id']))}</code> as {e(str(p['username']))}</p>"
            f"<p>Last sync: {e(str(p['last_success']))} · records processed {p['records_processed']}</p>"
            f"<p>Last error: {e(str(p['last_error'] or '—'))}</p><p>Synchronize: {bar}</p>"
            "<a class=button href='/__sandbox__/px/authorize'>Authorize</a> "
            "<form method=post action='/__sandbox__/px/sync'><button>Synchronize</button></form> "
            "<form method=post action='/__sandbox__/px/revoke'><button>Simulate security advisory</button></form>"
            "</section>"
            "<section><h2>Knowledge Center · Salesforce Knowledge Base</h2>"
            "<form method=post action='/__sandbox__/px/knowledge'>"
            f"<label><input type=checkbox name=enabled {'checked' if p['knowledge']['enabled'] else ''}> Enabled</label>"
            f"<p>Categories: {e(', '.join(p['knowledge']['categories']) or '—')}</p>"
            + "".join(f"<label><input type=checkbox name=accessibility value={a} "
                      f"{'checked' if a in p['knowledge']['accessibility'] else ''}> {a}</label> "
                      for a in ("Public", "Customer", "Partner", "Internal"))
            + "".join(f"<input type=hidden name=categories value='{e(c)}'>" for c in p["knowledge"]["categories"])
            + " <button>Save</button></form></section>")
    if "skilljar" in s:
        j = s["skilljar"]
        alert = (f"<p class=warn>Your Salesforce integration is disconnected (since {e(str(j['disconnected_at']))}).</p>"
                 if j["status"] == "disconnected" else "")
        backfill = ("<form method=post action='/__sandbox__/skilljar/backfill'><button>Backfill</button></form> "
                    f"<span class=muted>pushes {e(str(j['last_sync_at']))} → now</span>" if j["backfill_offered"]
                    else f"<p class=muted>Backfill not offered: {e(j['backfill_reason'])}</p>")
        cards.append(
            "<section><h2>Skilljar · Integrations · Salesforce</h2>" + alert +
            f"<p>Status: <b>{e(j['status'])}</b> · Last Sync Date {e(str(j['last_sync_at']))}</p>"
            "<a class=button href='/__sandbox__/skilljar/authorize'>Reconnect</a> " + backfill +
            "<form method=post action='/__sandbox__/skilljar/revoke'><button>Simulate disconnect</button></form>"
            "</section>")
    refresh = "<meta http-equiv=refresh content=1>" if s.get("px", {}).get("job", {}) and \
        s["px"]["job"]["state"] == "RUNNING" else ""
    return html_response(
        f"<!doctype html><meta charset=utf-8>{refresh}<title>sfwizard sandbox</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:820px;margin:2em auto;color:#16325c}"
        "section{border:1px solid #d8dde6;border-radius:6px;padding:1em;margin:1em 0}"
        "form{display:inline}.button,button{background:#0176d3;color:#fff;border:0;border-radius:4px;"
        "padding:.4em .9em;text-decoration:none;font-size:1em;cursor:pointer}.warn{color:#c23934}"
        ".muted{color:#54698d}code{font-size:.9em}</style>" + "".join(cards))


def routes() -> list[Route]:
    return [
        route("GET", "/", _page),
        route("GET", r"/__sandbox__/state", _state),
        route("GET", r"/__sandbox__/(px|skilljar)/authorize", _authorize),
        route("GET", r"/__sandbox__/(px|skilljar)/oauth/callback", _callback),
        route("POST", r"/__sandbox__/px/sync", _sync_start),
        route("GET", r"/__sandbox__/px/sync", _sync_status),
        route("POST", r"/__sandbox__/px/knowledge", _knowledge),
        route("POST", r"/__sandbox__/(px|skilljar)/revoke", _revoke),
        route("POST", r"/__sandbox__/skilljar/backfill", _backfill),
    ]
