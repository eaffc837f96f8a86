"""Skilljar's self-service Backfill: offered while Disconnected and within 21 days of the disconnect;
one catch-up per click, from the Last Sync Date to now, written as the integration user.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sfwizard.sandbox.integration import Refused, iso, token_identity
from sfwizard.sandbox.salesforce.store import Org
from sfwizard.sandbox.skilljar.state import Backfill, skilljar_state
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")

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
