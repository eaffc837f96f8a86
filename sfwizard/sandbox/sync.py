"""What the platforms do when a person clicks: connect, Synchronize, the advisory, Knowledge, Backfill.

Plain functions over ``SandboxState``; callers hold ``state.lock``. A refusal raises ``Refused`` with
the HTTP status and a reason a person can act on; ``admin.py`` turns it into JSON or a page message.
A sync advances lazily from the clock on every read (``advance``) and a daemon timer finishes it on
time even when nobody is looking, so a client that only polls Salesforce still sees the pushes land.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from datetime import date, datetime, timedelta
from typing import Any

from sfwizard.sandbox.platform import Backfill, Mapping, PxIntegration, PxState, SkilljarState, SyncJob
from sfwizard.sandbox.store import Org, Record, SandboxState
from sfwizard.sandbox.tokens import token_store, touch_oauth_token

log = logging.getLogger("sfwizard.sandbox")

INVALID_SESSION = "INVALID_SESSION_ID: Session expired or invalid"
API_DISABLED = "API_CURRENTLY_DISABLED: API is disabled for this User"
PREFIX = "PX_"
PUSH_LIMIT = 2000  # accounts with platform activity a sync writes: bounded, so large tenants stay cheap
ACCESSIBILITY = ("Public", "Customer", "Partner", "Internal")


class Refused(Exception):
    """A click the platform would not accept, with the reason it shows."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.error, self.reason = status, error, reason


def px_state(state: SandboxState) -> PxState:
    if state.platform is None:
        raise Refused(404, "not_configured", "this scenario has no Gainsight PX integration")
    return state.platform


def skilljar_state(state: SandboxState) -> SkilljarState:
    if state.skilljar is None:
        raise Refused(404, "not_configured", "this scenario has no Skilljar integration")
    return state.skilljar


# -- PX's own data ----------------------------------------------------------------------------------

def _h(value: str, salt: str) -> int:
    return int.from_bytes(hashlib.blake2b((salt + value).encode(), digest_size=8).digest(), "big")


def platform_value(attribute: str, sfdc_id: str, ref: datetime) -> int:
    """A PX usage number for one record: stable per record, so the API and the pushes agree.

    Dates are epoch milliseconds (PX's wire form) within the 14 days before ``ref``.
    """
    name = attribute.lower()
    h = _h(sfdc_id, attribute)
    if "date" in name or "seen" in name or "login" in name:
        return int(ref.timestamp() * 1000) - (h % (14 * 86400)) * 1000
    if "score" in name:
        return 40 + h % 60
    return 1 + h % 250


def platform_clock(state: SandboxState) -> datetime:
    """The moment PX's usage numbers are computed from (fixed per run, so reads are repeatable)."""
    return state.loaded_at


def px_data_org(state: SandboxState) -> Org:
    """The org whose records PX holds: the one it last synced from."""
    px = px_state(state)
    key = px.data_org_key or px.integration.org_key
    return state.orgs.get(key) or state.default_org


# -- tokens ------------------------------------------------------------------------------------------

def token_identity(state: SandboxState, token: str | None) -> tuple[Org, Record] | str:
    """The org and user behind an integration's own token, checked as an API call would be."""
    tok = token_store(state).access.get(token or "")
    if tok is None or tok.revoked:
        return INVALID_SESSION
    org = state.orgs.get(tok.grant.org_key)
    user = org.user(tok.grant.user_id) if org else None
    if org is None or user is None or not user.get("IsActive"):
        return INVALID_SESSION
    if not org.access(user["Id"]).api_enabled:
        return API_DISABLED
    touch_oauth_token(state, org, tok.grant)
    return org, user


def connect(state: SandboxState, kind: str, token_body: dict[str, Any]) -> tuple[Org, Record]:
    """A successful Authorize/Reconnect: the platform now holds whoever approved, in whichever org."""
    grant = token_store(state).access[token_body["access_token"]].grant
    org = state.orgs[grant.org_key]
    user = org.user(grant.user_id)
    assert user is not None
    if kind == "px":
        px = px_state(state)
        integ = px.integration
        if px.data_org_key is None:
            px.data_org_key = integ.org_key  # PX's records stay where they were until the next sync
        integ.org_key, integ.user_id = grant.org_key, grant.user_id
        integ.access_token, integ.refresh_token = token_body["access_token"], token_body.get("refresh_token")
        integ.status, integ.authorized, integ.last_error = "UP", True, None
    else:
        sj = skilljar_state(state)
        sj.org_key, sj.user_id = grant.org_key, grant.user_id
        sj.access_token, sj.refresh_token = token_body["access_token"], token_body.get("refresh_token")
        sj.status = "connected"
    log.info("%s authorized against %s (%s) as %s", kind, org.name, org.id, user["Username"])
    return org, user


def authorization_refused(state: SandboxState, kind: str, error: str, description: str = "") -> str:
    """The person clicked Deny (or the login server refused): nothing changes but the last error."""
    reason = error if not description else f"{error}: {description}"
    if kind == "px":
        px_state(state).integration.last_error = reason
    log.info("%s authorization refused: %s", kind, error)
    return reason


def revoke(state: SandboxState, kind: str) -> int:
    """Simulate the security advisory: every token of the integration's app and user dies."""
    target: PxIntegration | SkilljarState = (px_state(state).integration if kind == "px"
                                             else skilljar_state(state))
    org = state.orgs[target.org_key]
    n = token_store(state).revoke_grant(target.org_key, target.user_id or "", target.client_id)
    app = state.connected_apps.get(target.client_id)
    table = org.table("OauthToken")
    for row in list(table.scan()):
        if app is not None and row["UserId"] == target.user_id and row["AppName"] == app.name:
            table.delete(row["Id"])  # Setup → OAuth Usage no longer lists the grant
    now = state.now()
    if isinstance(target, PxIntegration):
        target.status, target.authorized, target.disconnected_at = "DOWN", False, now
        target.last_error = INVALID_SESSION
    else:
        target.status, target.disconnected_at = "disconnected", now
    target.access_token = target.refresh_token = None
    log.info("advisory simulated: %d %s token(s) revoked", n, kind)
    return n


# -- Synchronize ----------------------------------------------------------------------------------------

def start_sync(state: SandboxState) -> SyncJob:
    px = px_state(state)
    integ = px.integration
    advance(state)
    if integ.job is not None and integ.job.state == "RUNNING":
        raise Refused(409, "conflict", "a sync is already running")
    if not integ.authorized:
        raise Refused(409, "not_authorized", "the Salesforce card shows Not authorized: Authorize first")
    org = state.orgs[integ.org_key]
    total = len(org.table("Account")) + len(org.table("Contact"))
    total += sum(len(org.table(o)) for o in integ.custom_objects if org.sobject(o) is not None)
    job = SyncJob(started_at=state.now(), total=total, duration_s=max(0.0, integ.sync_duration_s))
    integ.job = job
    integ.history.append(job)
    _finish_on_time(state, job)
    return job


def _finish_on_time(state: SandboxState, job: SyncJob) -> None:
    ref = weakref.ref(state)

    def tick() -> None:
        s = ref()
        if s is not None:
            with s.lock:
                advance(s)

    timer = threading.Timer(job.duration_s + 0.05, tick)
    timer.daemon = True
    timer.start()


def advance(state: SandboxState) -> SyncJob | None:
    """Move the running sync along by the clock; apply its effects when its time is up."""
    px = state.platform
    job = px.integration.job if px else None
    if job is None or job.state != "RUNNING":
        return job
    elapsed = (state.now() - job.started_at).total_seconds()
    if elapsed >= job.duration_s:
        _finish(state, px, job)
    else:
        job.done = min(job.total, int(job.total * elapsed / job.duration_s))
    return job


def _fail(job: SyncJob, integ: PxIntegration, error: str, *, down: bool) -> None:
    job.state, job.error, integ.last_error = "FAILED", error, error
    if down:
        integ.status = "DOWN"
    log.info("sync failed: %s", error)


def _finish(state: SandboxState, px: PxState, job: SyncJob) -> None:
    integ = px.integration
    now = state.now()
    job.finished_at, job.done = now, job.total
    checked = token_identity(state, integ.access_token)
    if isinstance(checked, str):
        _fail(job, integ, checked, down=True)
        return
    org, user = checked
    # Fetch and map: PX catches up with the org its token belongs to.
    px.synced.clear()
    px.synced_at, px.data_org_key = now, org.key
    error = _push(state, org, user, integ.mappings, job) if integ.push_enabled else None
    if error:
        _fail(job, integ, error, down=False)
        return
    job.state = "COMPLETED"
    integ.status, integ.last_success, integ.last_error = "UP", now, None
    integ.records_processed += job.total + job.pushed
    log.info("sync completed: %d records, %d pushed", job.total, job.pushed)


def _push_error(org: Org, user: Record, m: Mapping) -> str | None:
    """Why a push mapping cannot be written, in the words PX's last error would use."""
    if not m.sf_field.startswith(PREFIX):
        return f"Push failed: field {m.salesforce} is not a {PREFIX} field"
    sobject = org.sobject(m.sf_object)
    f = sobject.field(m.sf_field) if sobject else None
    if sobject is None or f is None:
        return f"Push failed: INVALID_FIELD: No such column '{m.sf_field}' on entity '{m.sf_object}'"
    access = org.access(user["Id"])
    if not access.object_perm(sobject, "edit"):
        return (f"Push failed: INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on {m.sf_object} "
                f"(field {m.salesforce})")
    if not access.field_perm(sobject, f, "edit"):
        return (f"Push failed: INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: "
                f"{m.sf_field}. Please check the security settings of this field and verify that it is "
                "read/write for your profile or permission set.")
    return None


def salesforce_value(ftype: str, v: int, tz: Any) -> Any:
    if ftype == "datetime":
        return datetime.fromtimestamp(v / 1000, tz)
    if ftype == "date":
        return datetime.fromtimestamp(v / 1000, tz).date()
    if ftype in ("double", "currency", "percent"):
        return float(v)
    if ftype in ("string", "textarea", "picklist"):
        return str(v)
    return v


def _push(state: SandboxState, org: Org, user: Record, mappings: list[Mapping], job: SyncJob) -> str | None:
    """Write PX values into Salesforce as the integration user; the first unwritable target is the error."""
    pushes = [m for m in mappings if m.direction == "px_to_sf"]
    for m in pushes:
        error = _push_error(org, user, m)
        if error:
            return error
    by_object: dict[str, list[Mapping]] = {}
    for m in pushes:
        by_object.setdefault(m.sf_object, []).append(m)
    now, ref = state.now(), platform_clock(state)
    for obj, maps in by_object.items():
        table = org.table(obj)
        ids: list[str] = []
        for row in table.scan():
            ids.append(row["Id"])
            if len(ids) >= PUSH_LIMIT:
                break
        for rid in ids:
            values: dict[str, Any] = {"LastModifiedById": user["Id"], "LastModifiedDate": now,
                                      "SystemModstamp": now}
            for m in maps:
                ftype = table.sobject.field(m.sf_field).type  # type: ignore[union-attr]
                values[m.sf_field] = salesforce_value(ftype, platform_value(m.px_attribute, rid, ref), now.tzinfo)
            table.update(rid, values)
        job.pushed += len(ids)
        org.api_used += -(-len(ids) // 200)  # sObject Collections calls of up to 200 records
    return None


def job_json(job: SyncJob) -> dict[str, Any]:
    return {"state": job.state, "done": job.done, "total": job.total,
            "progress": round(job.done / job.total, 3) if job.total else 1.0,
            "started_at": iso(job.started_at), "finished_at": iso(job.finished_at), "error": job.error,
            "pushed": job.pushed, "duration_s": job.duration_s}


# -- Knowledge Center -------------------------------------------------------------------------------------

def category_names(org: Org) -> list[str]:
    """``Group.Category`` for every data category of the org (nested ones too)."""
    out: list[str] = []
    for g in org.data_category_groups:
        stack = list(g.get("categories", []))
        while stack:
            c = stack.pop(0)
            out.append(f"{g['name']}.{c['name']}")
            stack.extend(c.get("childCategories") or c.get("categories") or [])
    return out


def set_knowledge(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    px = px_state(state)
    k = px.knowledge
    org = state.orgs[px.integration.org_key]
    known = {c.lower(): c for c in category_names(org)}
    known.update({f"{g['name']}.All".lower(): f"{g['name']}.All" for g in org.data_category_groups})
    cats = body.get("categories", k.categories)
    access = body.get("accessibility", k.accessibility)
    if not isinstance(cats, list) or not isinstance(access, list):
        raise Refused(400, "bad_request", "categories and accessibility are lists")
    unknown = [c for c in cats if str(c).lower() not in known]
    if unknown:
        raise Refused(400, "bad_request", f"unknown data categories in {org.name}: "
                      f"{', '.join(map(str, unknown))} (known: {', '.join(sorted(known.values()))})")
    bad = [a for a in access if a not in ACCESSIBILITY]
    if bad:
        raise Refused(400, "bad_request",
                      f"accessibility is one of {', '.join(ACCESSIBILITY)}, not {', '.join(bad)}")
    enabled = body.get("enabled", k.enabled)
    enabled = enabled is True or str(enabled).lower() in ("true", "on", "1")
    if enabled and not k.enabled and not px.integration.authorized:
        raise Refused(409, "not_authorized", "the Knowledge Center shares the Data Integration's Salesforce "
                      "token: authorize the Salesforce card first")
    k.enabled, k.categories, k.accessibility = enabled, [known[str(c).lower()] for c in cats], list(access)
    return {"enabled": k.enabled, "categories": k.categories, "accessibility": k.accessibility}


def knowledge_status(state: SandboxState) -> dict[str, Any]:
    """The Knowledge Center's row in PX's integration monitoring: it rides on the Data Integration's token."""
    px = px_state(state)
    integ = px.integration
    if not px.knowledge.enabled:
        status, error = "DOWN", "Salesforce Knowledge Base is disabled"
    elif not integ.authorized or integ.status != "UP":
        status, error = "DOWN", integ.last_error or INVALID_SESSION
    else:
        status, error = "UP", None
    return {"status": status, "last_error": error}


# -- Skilljar Backfill ------------------------------------------------------------------------------------

def backfill_offer(state: SandboxState) -> tuple[bool, str]:
    """Whether the Backfill button shows, and why not."""
    sj = state.skilljar
    if sj is None:
        return False, "no Skilljar integration in this scenario"
    if sj.disconnected_at is None:
        return False, "the integration has not been disconnected: there is nothing to catch up"
    if sj.backfill_used_for == sj.disconnected_at:
        return False, "this disconnect was already caught up (one Backfill per disconnect)"
    age = state.now() - sj.disconnected_at
    if age > timedelta(days=sj.window_days):
        return False, (f"the disconnect was {age.days} days ago, past the {sj.window_days}-day window: "
                       "contact Skilljar Support to request a manual backfill")
    return True, ""


def run_backfill(state: SandboxState) -> Backfill:
    """One catch-up: what was created or updated from the Last Sync Date to now, pushed as the connection."""
    sj = skilljar_state(state)
    offered, reason = backfill_offer(state)
    if not offered:
        raise Refused(409, "not_offered", reason)
    checked = (token_identity(state, sj.access_token) if sj.status == "connected"
               else "the integration is disconnected")
    if isinstance(checked, str):
        raise Refused(409, "not_connected",
                      f"click Reconnect and complete the authentication first ({checked})")
    org, user = checked
    sobject = org.sobject("skilljar__Student__c")
    if sobject is None:
        raise Refused(409, "backfill_failed", "the Skilljar managed package is not installed in this org")
    access = org.access(user["Id"])
    for name in ("skilljar__Student__c", "skilljar__Course_Progress__c"):
        so = org.sobject(name)
        if so is None or not access.object_perm(so, "create"):
            raise Refused(409, "backfill_failed",
                          f"INSUFFICIENT_ACCESS_OR_READONLY: {user['Username']} cannot create {name}")
    now = state.now()
    start = sj.last_sync_at or sj.disconnected_at or now
    batch = [p for p in sj.pending if start <= p["updated_at"] <= now]
    for p in batch:
        _write_student(org, user["Id"], p, now)
    taken = {id(p) for p in batch}
    sj.pending = [p for p in sj.pending if id(p) not in taken]
    done = Backfill(started_at=now, window_start=start, window_end=now, records=len(batch))
    sj.backfills.append(done)
    sj.last_sync_at, sj.backfill_used_for = now, sj.disconnected_at
    org.api_used += -(-2 * len(batch) // 200) if batch else 0
    log.info("skilljar backfill: %d record(s) from %s", len(batch), iso(start))
    return done


def _write_student(org: Org, user_id: str, p: dict[str, Any], now: datetime) -> None:
    stamp = {"OwnerId": user_id, "CreatedById": user_id, "LastModifiedById": user_id, "CreatedDate": now,
             "LastModifiedDate": now, "SystemModstamp": now}
    students = org.table("skilljar__Student__c")
    existing = next((r for r in students.scan() if r.get("skilljar__Skilljar_Id__c") == p["skilljar_id"]),
                    None)
    fields = {"Name": f"{p['first_name']} {p['last_name']}", "skilljar__Email__c": p["email"],
              "skilljar__First_Name__c": p["first_name"], "skilljar__Last_Name__c": p["last_name"],
              "skilljar__Skilljar_Id__c": p["skilljar_id"], "skilljar__Last_Active_At__c": p["updated_at"]}
    if existing is not None:  # an upsert on the external id, as the connector does
        students.update(existing["Id"], {**fields, "LastModifiedById": user_id, "LastModifiedDate": now,
                                         "SystemModstamp": now})
        student = existing
    else:
        student = students.insert({**fields, **stamp})
    courses = org.table("skilljar__Published_Course__c").scan()
    course = next((c for c in courses if c["Name"] == p["course"]), None)
    org.table("skilljar__Course_Progress__c").insert({
        "Name": f"{p['first_name']} – {p['course']}", "skilljar__Student__c": student["Id"],
        "skilljar__Published_Course__c": course["Id"] if course else None,
        "skilljar__Enrolled_At__c": p["updated_at"], "skilljar__Progress_Percent__c": p["progress"],
        "skilljar__Status__c": "Completed" if p["progress"] >= 100 else "In Progress",
        "skilljar__Skilljar_Id__c": f"prog-{p['skilljar_id']}", **stamp})


# -- what the admin page shows ------------------------------------------------------------------------------

def iso(dt: datetime | date | None) -> str | None:
    return dt.isoformat(timespec="seconds") if isinstance(dt, datetime) else (dt.isoformat() if dt else None)


def _username(state: SandboxState, org_key: str | None, user_id: str | None) -> str | None:
    org = state.orgs.get(org_key or "")
    user = org.user(user_id) if org and user_id else None
    return user["Username"] if user else None


def state_json(state: SandboxState) -> dict[str, Any]:
    """Everything the admin page shows, with no token, code or password in it."""
    out: dict[str, Any] = {
        "scenario": state.scenario_name, "description": state.scenario_description, "profile": state.profile,
        "orgs": [{"key": o.key, "id": o.id, "name": o.name, "is_sandbox": o.is_sandbox,
                  "instance": o.instance_name} for o in state.orgs.values()]}
    if state.platform is not None:
        advance(state)
        px, i = state.platform, state.platform.integration
        org = state.orgs.get(i.org_key)
        data_org = px_data_org(state)
        out["px"] = {
            "status": i.status, "authorized": i.authorized, "org_id": org.id if org else None,
            "org_name": org.name if org else None, "org_is_sandbox": org.is_sandbox if org else None,
            "username": _username(state, i.org_key, i.user_id), "disconnected_at": iso(i.disconnected_at),
            "last_success": iso(i.last_success), "last_error": i.last_error,
            "records_processed": i.records_processed, "region": px.region,
            "matching": i.matching, "custom_objects": i.custom_objects,
            "mappings": [{"salesforce": m.salesforce, "platform": m.platform, "direction": m.direction}
                         for m in i.mappings],
            "push": {"enabled": i.push_enabled, "schedule_gmt": i.push_schedule_gmt},
            "schedule": {"fetch_gmt": i.fetch_gmt, "map_gmt": i.map_gmt, "push_gmt": i.push_schedule_gmt},
            "knowledge": {"enabled": px.knowledge.enabled, "categories": px.knowledge.categories,
                          "accessibility": px.knowledge.accessibility,
                          "available_categories": category_names(org) if org else [],
                          **knowledge_status(state)},
            "job": job_json(i.job) if i.job else None,
            "data_org_id": data_org.id, "stale_records": len(px.synced), "synced_at": iso(px.synced_at)}
    if state.skilljar is not None:
        sj = state.skilljar
        org = state.orgs.get(sj.org_key)
        offered, reason = backfill_offer(state)
        out["skilljar"] = {
            "status": sj.status, "org_id": org.id if org else None, "org_name": org.name if org else None,
            "username": _username(state, sj.org_key, sj.user_id), "disconnected_at": iso(sj.disconnected_at),
            "last_sync_at": iso(sj.last_sync_at), "window_days": sj.window_days,
            "backfill_offered": offered, "backfill_reason": reason, "pending": len(sj.pending),
            "backfills": [{"window_start": iso(b.window_start), "window_end": iso(b.window_end),
                           "records": b.records, "state": b.state} for b in sj.backfills]}
    return out
