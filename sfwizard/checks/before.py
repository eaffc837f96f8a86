"""Before you begin: the vendor's status page, the two people, and the platform API key."""

from __future__ import annotations

from datetime import timedelta

from sfwizard.checks.base import Outcome, check, fail, manual, ok, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.shared_reads import ME, ORG, PX_INTEGRATION, PX_PAGES, PX_SUBSCRIPTION, STATUS, USERINFO

_BAD = {"partial_outage", "major_outage"}
SOON = timedelta(hours=24)  # a maintenance starting within this is one the recovery would run into


@check("before.status_page", "Vendor status page", "before", needs=("status",), reads=(STATUS,))
def status_page(ctx: CheckContext) -> Outcome:
    """The vendor's status page, read the way Statuspage means it.

    An unresolved incident counts against the integration only when it names a watched component (the
    profile's ``status_components``, matched loosely); an outage of a watched component likewise. A
    component ``under_maintenance``, a maintenance in progress, or one starting within a day is a
    maintenance with its window, never an incident; the ``maintenance`` indicator is understood, and a
    resolved incident is not raised at all.
    """
    s = ctx.status_summary()
    watched = {c.lower() for c in ctx.profile.status_components}

    def relevant(name: str) -> bool:
        return name.lower() in watched or any(w in name.lower() for w in watched)

    affected = [(n, st) for n, st in s.components if st != "operational"]
    under_maintenance = [n for n, st in affected if st == "under_maintenance"]
    troubled = [(n, st) for n, st in affected if st != "under_maintenance"]
    on_watch = [i for i in s.incidents if any(relevant(c) for c in i.components)]
    elsewhere = [i for i in s.incidents if i not in on_watch]
    outages = [(n, st) for n, st in troubled if relevant(n) and st in _BAD]
    now = ctx.now
    current = [m for m in s.maintenances if m.active or (m.scheduled_for and m.scheduled_for - now <= SOON)]
    later = [m for m in s.maintenances if m not in current]
    maint_watch = [m for m in current if any(relevant(c) for c in m.components)]
    comp_watch = [n for n in under_maintenance if relevant(n)
                  and not any(n in m.components for m in maint_watch)]
    evidence = {"indicator": s.indicator, "description": s.description,
                "affected_components": [f"{n}: {st}" for n, st in affected],
                "unresolved_incidents": [f"{i.name} ({i.status}, {i.impact})" for i in s.incidents],
                "incidents": [{"name": i.name, "status": i.status, "impact": i.impact,
                               "components": list(i.components), "watched": i in on_watch} for i in s.incidents],
                "maintenances": [{"name": m.name, "status": m.status, "window": m.window(),
                                  "components": list(m.components),
                                  "scheduled_for": m.scheduled_for.isoformat() if m.scheduled_for else None,
                                  "scheduled_until": m.scheduled_until.isoformat() if m.scheduled_until else None}
                                 for m in s.maintenances]}
    vendor = ctx.profile.vendor
    if on_watch or outages:
        what = (f"{on_watch[0].name} ({on_watch[0].status}, on {', '.join(on_watch[0].components)})" if on_watch
                else f"{outages[0][0]}: {outages[0][1].replace('_', ' ')}")
        return fail("status.integration_affected",
                    f"{vendor} reports a problem with the Salesforce integration: {s.description} — {what}",
                    "an open incident affects the integration; reconnecting now may fail or be undone",
                    "wait for the incident to be resolved (follow its updates), then start the recovery",
                    **evidence)
    if maint_watch or comp_watch:
        m = maint_watch[0] if maint_watch else None
        if m is not None:
            when = "in progress" if m.active else "scheduled"
            summary = f"maintenance {when} on {', '.join(m.components)}: {m.name}, {m.window()}"
            until = f"{m.scheduled_until:%Y-%m-%d %H:%M} UTC" if m.scheduled_until else "it ends"
            fix = (f"reconnect after the maintenance ends ({until})" if m.active else
                   f"finish the recovery before it starts, or wait until after {until}")
        else:
            summary = f"{', '.join(comp_watch)} under maintenance (no window announced)"
            fix = "reconnect once the component is back to operational"
        return warn("status.maintenance", summary,
                    "the vendor is maintaining the integration: a reconnect or sync may fail until it is over",
                    fix, **evidence)
    noise = elsewhere or troubled or s.indicator in ("minor", "major", "critical")
    if noise:
        what = (f"{elsewhere[0].name} (on {', '.join(elsewhere[0].components) or 'no named component'})"
                if elsewhere else ", ".join(f"{n}: {st.replace('_', ' ')}" for n, st in troubled)
                or s.description)
        return warn("status.incident_elsewhere", f"status page: {what}",
                    "an incident or degradation is open elsewhere on the platform",
                    "read it; continue if it does not touch the Salesforce integration", **evidence)
    notes = [f"maintenance: {m.name} ({m.status}), {m.window()}" for m in [*current, *later]]
    notes += [f"{n} under maintenance" for n in under_maintenance if n not in comp_watch]
    return ok(f"status page: {s.description or 'all systems operational'}"
              + (f" — {'; '.join(notes)}" if notes else ""), **evidence)


@check("before.salesforce_signin", "Salesforce answers the wizard's sign-in", "connect", reads=(ORG, USERINFO))
def salesforce_signin(ctx: CheckContext) -> Outcome:
    """Who and where the sign-in is. When the org refuses it before anything else runs (a used-up API limit,
    the signed-in user's expired password, a deactivated or frozen user), this is the result that names the
    cause (the runner's stop), and every other Salesforce check is skipped with why."""
    org = ctx.organization()
    me = ctx.userinfo()
    kind = "SANDBOX" if org.get("IsSandbox") else "production"
    return ok(f"signed in to {org['Name']} ({org['Id']}, {kind}) as {me.get('preferred_username')}",
              org_id=org["Id"], org_name=org["Name"], kind=kind, user=me.get("preferred_username"))


@check("before.salesforce_admin", "Salesforce admin can approve the connection", "connect", reads=(ME,))
def salesforce_admin(ctx: CheckContext) -> Outcome:
    me = ctx.me()
    psets = ctx.permission_sets(me["Username"])  # the profile's and the assigned sets: every flag in one read
    api_enabled = any(p.get("PermissionsApiEnabled") for p in psets)
    modify_all = any(p.get("PermissionsModifyAllData") for p in psets)
    approve = any(p.get("PermissionsApproveUninstalledApps") for p in psets)
    manage = modify_all or any(p.get("PermissionsManageUsers") for p in psets)
    evidence = {"user": me["Username"], "profile": (me.get("Profile") or {}).get("Name"),
                "api_enabled": api_enabled, "manage_users": manage,
                "approve_uninstalled_apps": approve or modify_all}
    if not api_enabled:
        return fail("admin.api_disabled",
                    f"{me['Username']} cannot use the API", "the signed-in user lacks API Enabled",
                    "sign in as a Salesforce admin, or grant API Enabled", **evidence)
    if not manage:
        return warn("admin.cannot_manage_users", f"{me['Username']} is not a Salesforce admin",
                    "without Manage Users the user cannot fix the integration user's permissions",
                    "have a Salesforce admin sign in for the recovery", **evidence)
    return ok(f"{me['Username']} can approve the connection and fix permissions", **evidence)


@check("before.platform_api", "Platform API key works", "before", profiles=("gainsight-px",),
       needs=("platform",), reads=(PX_SUBSCRIPTION, PX_INTEGRATION, PX_PAGES))
def platform_api(ctx: CheckContext) -> Outcome:
    px = ctx.platform
    sub = ctx.px_subscription()
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
