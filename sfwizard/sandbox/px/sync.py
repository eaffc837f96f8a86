"""What Gainsight PX does when a person clicks Synchronize, and the Knowledge settings.

A sync advances lazily from the clock on every read (``advance``) and a daemon timer finishes it on
time even when nobody is looking, so a client that only polls Salesforce still sees the pushes land.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from datetime import datetime
from typing import Any

from sfwizard.sandbox.integration import INVALID_SESSION, Refused, iso, token_identity
from sfwizard.sandbox.px.state import Mapping, PxIntegration, PxState, SyncJob, px_state
from sfwizard.sandbox.salesforce.store import Org, Record
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")
PREFIX = "PX_"
PUSH_LIMIT = 2000  # accounts with platform activity a sync writes: bounded, so large tenants stay cheap
ACCESSIBILITY = ("Public", "Customer", "Partner", "Internal")


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


def push_error(org: Org, user: Record, m: Mapping) -> str | None:
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
        error = push_error(org, user, m)
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
