"""Before you begin: the vendor's status page, the two people, and the platform API key."""

from __future__ import annotations

from sfwizard.checks.base import Outcome, check, fail, manual, ok, warn
from sfwizard.checks.context import CheckContext
from sfwizard.integrations.salesforce import soql_quote

_BAD = {"partial_outage", "major_outage"}


@check("before.status_page", "Vendor status page", "before", needs=("status",))
def status_page(ctx: CheckContext) -> Outcome:
    s = ctx.status_summary()
    watched = {c.lower() for c in ctx.profile.status_components}
    affected = [(n, st) for n, st in s.components if st != "operational"]
    relevant = [(n, st) for n, st in affected if n.lower() in watched or any(w in n.lower() for w in watched)]
    incidents = [f"{i.get('name')} ({i.get('status')}, {i.get('impact')})" for i in s.incidents]
    evidence = {"indicator": s.indicator, "description": s.description,
                "affected_components": [f"{n}: {st}" for n, st in affected], "unresolved_incidents": incidents}
    if any(st in _BAD for _, st in relevant) or (incidents and relevant):
        return fail("status.integration_affected",
                    f"{ctx.profile.vendor} reports a problem with the Salesforce integration: {s.description}",
                    "an open incident affects the integration; reconnecting now may fail or be undone",
                    "wait for the incident to be resolved (follow its updates), then start the recovery",
                    **evidence)
    if incidents or affected or s.indicator != "none":
        return warn("status.incident_elsewhere",
                    f"status page: {s.description}", "an incident is open elsewhere on the platform",
                    "read the incident; continue if it does not touch the Salesforce integration", **evidence)
    return ok(f"status page: {s.description or 'all systems operational'}", **evidence)


@check("before.salesforce_admin", "Salesforce admin can approve the connection", "connect")
def salesforce_admin(ctx: CheckContext) -> Outcome:
    sf = ctx.salesforce
    me = ctx.memo("me", lambda: sf.query(
        "SELECT Id, Username, Name, IsActive, Profile.Name FROM User WHERE Id = "
        + soql_quote(_my_user_id(ctx)))[0])
    access = ctx.user_access(me["Id"])
    flags = ctx.memo("my_flags", lambda: sf.query(
        "SELECT PermissionsApproveUninstalledApps, PermissionsManageUsers FROM PermissionSet WHERE Id IN "
        f"(SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = {soql_quote(me['Id'])})"))
    approve = any(f.get("PermissionsApproveUninstalledApps") for f in flags)
    manage = access.modify_all or any(f.get("PermissionsManageUsers") for f in flags)
    evidence = {"user": me["Username"], "profile": (me.get("Profile") or {}).get("Name"),
                "api_enabled": access.api_enabled, "manage_users": manage,
                "approve_uninstalled_apps": approve or access.modify_all}
    if not access.api_enabled:
        return fail("admin.api_disabled",
                    f"{me['Username']} cannot use the API", "the signed-in user lacks API Enabled",
                    "sign in as a Salesforce admin, or grant API Enabled", **evidence)
    if not manage:
        return warn("admin.cannot_manage_users", f"{me['Username']} is not a Salesforce admin",
                    "without Manage Users the user cannot fix the integration user's permissions",
                    "have a Salesforce admin sign in for the recovery", **evidence)
    return ok(f"{me['Username']} can approve the connection and fix permissions", **evidence)


def _my_user_id(ctx: CheckContext) -> str:
    return ctx.memo("userinfo", ctx.salesforce.userinfo)["user_id"]


@check("before.platform_api", "Platform API key works", "before", profiles=("gainsight-px",),
       needs=("platform",))
def platform_api(ctx: CheckContext) -> Outcome:
    px = ctx.platform
    sub = ctx.memo("px_subscription", lambda: px.subscription())
    rows = ctx.px_integrations()
    integ = ctx.px_integration()
    evidence: dict = {"region": px.region, "api": px.base_url,
                      "subscription": {"id": sub.get("id"), "name": sub.get("name")} if sub else None,
                      "integrations": [r.as_evidence() for r in rows]}
    if integ is None:
        seen = ", ".join(repr(r.name) for r in rows) or "none"
        return fail("platform.no_integration", "the PX API answered but lists no Salesforce integration "
                    f"(integrations listed: {seen})",
                    "the Salesforce data integration is not set up in this PX subscription, or the key belongs "
                    "to another subscription or region",
                    "check you use the right PX subscription (region and API key)", **evidence)
    evidence["matched_in_platform"] = {"accounts": ctx.px_total("accounts"), "users": ctx.px_total("users")}
    where = f"{sub.get('name')} ({px.region})" if sub and sub.get("name") else px.region
    return ok(f"PX API key works for {where}; the Salesforce integration is {integ.status}", status=integ.status,
              **evidence)


@check("before.people", "Both admins are present", "before", needs=())
def people(ctx: CheckContext) -> Outcome:
    roles = {p["role"]: p["can"] for p in ctx.profile.people}
    return manual("ask.people_present",
                  "confirm the platform admin and the Salesforce admin are both here and can do what "
                  "their role needs", "schedule a short joint session if one of them is missing", roles=roles)
