"""What the admin page (and ``/__sandbox__/state``) shows: every platform's state, with no token,
code or password in it.
"""

from __future__ import annotations

from typing import Any

from sfwizard.sandbox.integration import iso
from sfwizard.sandbox.px.sync import advance, category_names, job_json, knowledge_status, px_data_org
from sfwizard.sandbox.skilljar.backfill import backfill_offer
from sfwizard.sandbox.state import SandboxState


def _username(state: SandboxState, org_key: str | None, user_id: str | None) -> str | None:
    org = state.orgs.get(org_key or "")
    user = org.user(user_id) if org and user_id else None
    return user["Username"] if user else None


def state_json(state: SandboxState) -> dict[str, Any]:
    """Everything the admin page shows, with no token, code or password in it."""
    out: dict[str, Any] = {
        "scenario": state.scenario_name, "description": state.scenario_description, "profile": state.profile,
        "orgs": [{"key": o.key, "id": o.id, "name": o.name, "is_sandbox": o.is_sandbox,
                  "instance": o.instance_name, "my_domain": o.my_domain,
                  # what a person reads off a package's listing: the newest version published (no API has it)
                  "packages": [{k: p[k] for k in ("namespace", "name", "version", "latest") if k in p}
                               for p in o.installed_packages]} for o in state.orgs.values()]}
    if state.platform is not None:
        advance(state)
        px, i = state.platform, state.platform.integration
        org = state.orgs.get(i.org_key)
        home = state.orgs.get(i.home_org_key) or org
        data_org = px_data_org(state)
        out["px"] = {
            "status": i.status, "authorized": i.authorized, "org_id": org.id if org else None,
            "org_name": org.name if org else None, "org_is_sandbox": org.is_sandbox if org else None,
            "home_org_id": home.id if home else None,
            "home_username": _username(state, i.home_org_key or i.org_key, i.home_user_id or i.user_id),
            "username": _username(state, i.org_key, i.user_id), "disconnected_at": iso(i.disconnected_at),
            "last_success": iso(i.last_success), "last_error": i.last_error,
            "records_processed": i.records_processed, "region": px.region,
            "matching": i.matching, "custom_objects": i.custom_objects,
            "mappings": [{"salesforce": m.salesforce, "platform": m.platform, "direction": m.direction}
                         for m in i.mappings],
            "push": {"enabled": i.push_enabled, "schedule_gmt": i.push_schedule_gmt},
            "schedule": {"fetch_gmt": i.fetch_gmt, "map_gmt": i.map_gmt, "push_gmt": i.push_schedule_gmt},
            "knowledge": {"used": px.knowledge.used, "enabled": px.knowledge.enabled,
                          "categories": px.knowledge.categories,
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
