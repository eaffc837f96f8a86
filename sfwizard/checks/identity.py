"""Identity: which org we are connected to, and whether it is the org the platform's data lives in."""

from __future__ import annotations

from sfwizard import ids
from sfwizard.checks.base import Outcome, check, fail, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.integrations.salesforce import in_clause

SAMPLE = 200  # platform records whose Salesforce Ids are looked up: one IN clause each (of a 1,000 page)


@check("identity.org", "Connected org", "reauthorize")
def connected_org(ctx: CheckContext) -> Outcome:
    org = ctx.organization()
    kind = "SANDBOX" if org.get("IsSandbox") else "production"
    evidence = {"org_id": org["Id"], "name": org["Name"], "instance": org.get("InstanceName"),
                "kind": kind, "edition": org.get("OrganizationType")}
    if org.get("IsSandbox"):
        return warn("org.sandbox", f"connected to a SANDBOX org: {org['Name']} ({org['Id']})",
                    "integrations normally run against production",
                    "if this is not the org the platform syncs with, sign in to production", **evidence)
    return ok(f"{org['Name']} ({org['Id']}, {kind}, {org.get('InstanceName')})", **evidence)


@check("identity.right_org", "The platform's data lives in this org", "reauthorize",
       needs=("salesforce",))
def right_org(ctx: CheckContext) -> Outcome:
    org = ctx.organization()
    evidence: dict = {"org_id": org["Id"], "org_name": org["Name"]}
    problems: list[str] = []
    reason = ""  # the platform's records outweigh the snapshot: they show where the data lives now
    snap_org = ctx.snapshot.org.id if ctx.snapshot else ""
    if snap_org:
        evidence["snapshot_org_id"] = snap_org
        if not ids.same_id(snap_org, org["Id"]):
            problems.append(f"the snapshot was taken in org {snap_org}, this is {org['Id']}")
            reason = "org.snapshot_mismatch"
    if ctx.px is not None:
        account_ids = [a["sfdcId"] for a in ctx.px_sample("accounts") if a.get("sfdcId")][:SAMPLE]
        contact_ids = [u["sfdcContactId"] for u in ctx.px_sample("users") if u.get("sfdcContactId")][:SAMPLE]
        found_a = ctx.salesforce.count(f"SELECT COUNT() FROM Account WHERE Id IN {in_clause(account_ids)}") \
            if account_ids else 0
        found_c = ctx.salesforce.count(f"SELECT COUNT() FROM Contact WHERE Id IN {in_clause(contact_ids)}") \
            if contact_ids else 0
        evidence.update(accounts_sampled=len(account_ids), accounts_found=found_a,
                        contacts_sampled=len(contact_ids), contacts_found=found_c)
        sampled = len(account_ids) + len(contact_ids)
        if sampled and (found_a + found_c) < 0.9 * sampled:
            problems.append(f"only {found_a + found_c} of {sampled} platform records' Salesforce Ids exist here")
            reason = "org.mismatch"
    if problems:
        return fail(reason, "this is probably the WRONG org: " + problems[0],
                    "the connection was approved in a different org (several Salesforce sessions in one browser)",
                    "log out of every Salesforce org, use a private browser window, and authorize again "
                    "as the integration user of the production org", **evidence)
    if not snap_org and ctx.px is None:
        return skipped("skip.nothing_to_compare", "nothing to compare with: take a mapping snapshot first", **evidence)
    return ok(f"the platform's records and the snapshot match {org['Name']} ({org['Id']})", **evidence)
