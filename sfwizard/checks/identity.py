"""Identity: which org the wizard is signed in to, where the platform's data lives, and which org holds the
integration's new token — three orgs that must be one."""

from __future__ import annotations

from typing import Any

from sfwizard.checks.base import Outcome, check, fail, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.reads import Reads
from sfwizard.checks.salesforce_facts import org_facts
from sfwizard.checks.shared_reads import APP_TOKENS, ORG, PX_INTEGRATION, PX_PAGES
from sfwizard.integrations.salesforce import ApiError, Read, in_clause

SAMPLE = 200  # platform records whose Salesforce Ids are looked up: one IN clause each (of a 1,000 page)


def _name(o: dict[str, Any]) -> str:
    return f"{o.get('name') or 'an org'} ({o.get('id')}, {o.get('kind', 'org')})"


@check("identity.org", "Connected org", "reauthorize", reads=(ORG,))
def connected_org(ctx: CheckContext) -> Outcome:
    org = ctx.organization()
    kind = "SANDBOX" if org.get("IsSandbox") else "production"
    evidence = {"org_id": org["Id"], "name": org["Name"], "instance": org.get("InstanceName"),
                "kind": kind, "edition": org.get("OrganizationType"), "url": ctx.salesforce.instance_url}
    if org.get("IsSandbox"):
        return warn("org.sandbox", f"connected to a SANDBOX org: {org['Name']} ({org['Id']})",
                    "integrations normally run against production",
                    "if this is not the org the platform syncs with, sign in to production", **evidence)
    return ok(f"{org['Name']} ({org['Id']}, {kind}, {org.get('InstanceName')})", **evidence)


def sample_reads(ctx: CheckContext) -> tuple[Read | None, Read | None, int, int]:
    """How many of the platform's sampled records' Salesforce Ids exist here: the two COUNT() reads (None when
    the sample holds no Id), and how many Ids each samples."""
    account_ids = [a["sfdcId"] for a in ctx.px_sample("accounts") if a.get("sfdcId")][:SAMPLE]
    contact_ids = [u["sfdcContactId"] for u in ctx.px_sample("users") if u.get("sfdcContactId")][:SAMPLE]
    accounts = Read("count", f"SELECT COUNT() FROM Account WHERE Id IN {in_clause(account_ids)}") \
        if account_ids else None
    contacts = Read("count", f"SELECT COUNT() FROM Contact WHERE Id IN {in_clause(contact_ids)}") \
        if contact_ids else None
    return accounts, contacts, len(account_ids), len(contact_ids)


def _samples(ctx: CheckContext) -> list[Read]:
    if ctx.px is None:
        return []
    accounts, contacts, _, _ = sample_reads(ctx)
    return [r for r in (accounts, contacts) if r is not None]


SAMPLES = Reads("identity_samples", "salesforce", then=_samples)  # the platform's Ids, looked up here


def _sampled(ctx: CheckContext, evidence: dict[str, Any]) -> tuple[int, int]:
    """How many of the platform's sampled records' Salesforce Ids exist in the signed-in org: (sampled, found),
    the counts also in ``evidence``. (0, 0) without a platform API."""
    if ctx.px is None:
        return 0, 0
    accounts, contacts, n_accounts, n_contacts = sample_reads(ctx)
    ctx.prefetch(r for r in (accounts, contacts) if r is not None)  # one round trip for both
    found_a = ctx.read(accounts) if accounts else 0
    found_c = ctx.read(contacts) if contacts else 0
    evidence.update(accounts_sampled=n_accounts, accounts_found=found_a,
                    contacts_sampled=n_contacts, contacts_found=found_c)
    if not n_accounts + n_contacts:
        evidence["why_nothing_sampled"] = ("none of the platform's first 1,000 accounts and users carries a "
                                           "Salesforce Id (sfdcId, sfdcContactId): it has matched nothing yet")
    return n_accounts + n_contacts, found_a + found_c


# What a sandbox holds of production's records, by kind (Salesforce Help, "Sandbox Types and Templates" and
# "Considerations for Partial Copy sandbox creation and refreshes", KB 000381868): a Full sandbox copies every
# record and a Partial Copy a sample (up to 10,000 records per object its sandbox template selects), both keeping
# production's record Ids; a Developer or Developer Pro sandbox copies metadata only, no records. Organization
# shows only IsSandbox: the kind is in production's SandboxInfo.LicenseType (Tooling API), which cannot be read
# from the sandbox itself — so the words follow what the records show.
FULL_COPY = ("a full-copy sandbox keeps production's record Ids, so the platform's records look right here "
             "although its data lives in production")
PARTIAL_COPY = ("a Partial Copy sandbox holds a sample of production's records (up to 10,000 an object), with "
                "production's Ids: some of the platform's records are here, most are not")
NO_RECORDS = ("a Developer or Developer Pro sandbox copies no records (metadata only), and another org's records "
              "have other Ids: none of the platform's records is here")


def sandbox_kind_words(sampled: int, found: int) -> str:
    """Why the platform's records are (or are not) in a sandbox, in the words that fit what was found."""
    if sampled and found >= 0.9 * sampled:
        return FULL_COPY
    return PARTIAL_COPY if found else NO_RECORDS


@check("identity.signed_in_org", "The wizard is signed in to the org the platform's data lives in", "connect",
       needs=("salesforce",), reads=(ORG, PX_PAGES, SAMPLES))
def signed_in_org(ctx: CheckContext) -> Outcome:
    """At Connect Salesforce, before anything is read from the org (the mapping snapshot is taken from it next):
    the signed-in org against where the platform's data lives — the snapshot's org when there is one, else the
    platform's records' Salesforce Ids looked up here (a COUNT of at most 200 Ids an object)."""
    org = ctx.organization()
    here = org_facts(org, ctx.salesforce.instance_url)
    evidence: dict[str, Any] = {"signed_in_org": here}
    wrong = ctx.wrong_org()
    snap = ctx.snapshot.org if ctx.snapshot else None
    if snap is not None and snap.id:
        evidence["data_org"] = wrong["data_org"] if wrong else {**here, "source": "snapshot"}
    sampled, found = _sampled(ctx, evidence)
    sandbox = bool(org.get("IsSandbox"))
    if wrong:
        there = wrong["data_org"]
        return fail("org.snapshot_mismatch",
                    f"signed in to {_name(here)}, but the platform's data lives in {_name(there)} (the snapshot's org)",
                    "the wizard's sign-in went to another org than the one the integration reads (several Salesforce "
                    "sessions in one browser)" + (f"; {sandbox_kind_words(sampled, found)}" if sandbox and sampled
                                                  else ""),
                    f"sign the wizard in to {there['name'] or there['id']} before documenting the mappings: sfwizard "
                    "login from a private window, after logging out of every other org", **evidence)
    if snap is not None and snap.id:
        note = "" if not sampled or found >= 0.9 * sampled else (
            f"; only {found} of {sampled} of the platform's records are here — identity.right_org (Re-authorize) "
            "looks at where the platform's token went")
        return ok(f"signed in to {_name(here)}, the org the snapshot documents{note}", **evidence)
    if not sampled:
        if sandbox:
            return warn("org.sandbox", f"signed in to a SANDBOX: {_name(here)}, and nothing shows where the "
                        "platform's data lives (no snapshot, no platform record with a Salesforce Id)",
                        "integrations normally run against production",
                        "if the platform syncs with production, sign the wizard in there: sfwizard login", **evidence)
        return skipped("skip.nothing_to_compare", f"signed in to {_name(here)}: nothing to compare with (no snapshot, "
                       "and the platform's records carry no Salesforce Id yet)", **evidence)
    share = f"{found} of {sampled} of the platform's records' Salesforce Ids"
    if found >= 0.9 * sampled:
        if sandbox:
            return warn("org.sandbox_copy", f"signed in to a SANDBOX: {_name(here)}; {share} exist here too",
                        FULL_COPY, "unless the platform was set up against this sandbox, sign the wizard in to "
                        "production before documenting the mappings: sfwizard login", **evidence)
        return ok(f"signed in to {_name(here)}: {share} exist here", **evidence)
    if sandbox:
        return fail("org.mismatch", f"signed in to a SANDBOX: {_name(here)}, but the platform's data is not here: "
                    f"only {share} exist here", "the wizard's sign-in went to a sandbox, not the org the platform "
                    f"syncs with; {sandbox_kind_words(sampled, found)}",
                    "sign the wizard in to production before documenting the mappings: sfwizard login from a private "
                    "window, after logging out of every other org", **evidence)
    return warn("org.mismatch", f"only {share} exist in {_name(here)}",
                "either the platform's data lives in another org, or the platform synced from another org since "
                "(a new authorization approved there); identity.right_org, at Re-authorize, tells which",
                "if the platform syncs with another org, sign the wizard in there: sfwizard login", **evidence)


def _token_here(ctx: CheckContext) -> bool | None:
    """Whether the signed-in org holds any grant of the integration's connected app (a revoked or expired
    grant is deleted from OauthToken, so any row is live); None when the signed-in user cannot read it."""
    try:
        return bool(ctx.app_tokens())
    except ApiError:
        return None


@check("identity.right_org", "The platform's data lives in this org", "reauthorize",
       needs=("salesforce",), reads=(ORG, APP_TOKENS, PX_INTEGRATION, PX_PAGES, SAMPLES))
def right_org(ctx: CheckContext) -> Outcome:
    """Three orgs, named: where the wizard's sign-in went (``signed_in_org``), where the platform's data lives
    (``data_org``: the snapshot's org), and which org holds the integration's new token (``token_org``).

    The snapshot decides where the data lives; without one the platform's records' Salesforce Ids do, as
    far as they can (a full-copy sandbox shares production's Ids, so Ids alone never prove the org). A
    signed-in production org is never called wrong because the platform's token went to a sandbox: then
    the platform is what points elsewhere, and the check says so.
    """
    org = ctx.organization()
    here = org_facts(org, ctx.salesforce.instance_url)
    evidence: dict[str, Any] = {"org_id": org["Id"], "org_name": org["Name"], "signed_in_org": here}
    wrong = ctx.wrong_org()
    snap = ctx.snapshot.org.id if ctx.snapshot else ""
    if snap:
        evidence["snapshot_org_id"] = snap
        evidence["data_org"] = wrong["data_org"] if wrong else {**here, "source": "snapshot"}
    integ = ctx.px_integration() if ctx.px is not None else None
    platform_up = integ is not None and integ.status == "UP"
    token_here = _token_here(ctx)
    evidence["token_org"] = here if token_here else ("another org" if platform_up and token_here is False else None)
    sampled, found = _sampled(ctx, evidence)
    if wrong:
        there = wrong["data_org"]
        also = (f" The integration's new token was approved here too, in {here['name']}: authorize it again in "
                f"{there['name'] or there['id']}." if token_here else "")
        match = (" (the platform's records do match this org: if the snapshot was taken in the wrong org, take "
                 "it again here)" if sampled and found >= 0.9 * sampled else "")
        return fail("org.snapshot_mismatch",
                    f"signed in to {_name(here)}, but the platform's data lives in {_name(there)}{match}",
                    "the wizard's sign-in went to another org than the one the integration reads (several "
                    "Salesforce sessions in one browser)",
                    f"sign the wizard in to {there['name'] or there['id']}: sfwizard login (a private window, after "
                    f"logging out of every other org), then run the checks again.{also}", **evidence)
    records_elsewhere = bool(sampled) and found < 0.9 * sampled
    if records_elsewhere or (platform_up and token_here is False):
        why = (f"only {found} of {sampled} of the platform's records' Salesforce Ids exist here" if records_elsewhere
               else f"the platform reports the integration UP, but {here['name']} holds no "
                    f"{ctx.profile.connected_app} token")
        if org.get("IsSandbox") and not snap:
            return fail("org.mismatch", f"signed in to {_name(here)}, and the platform's data is not here: {why}",
                        "the wizard's sign-in probably went to a sandbox, not the production org the integration "
                        f"reads; {sandbox_kind_words(sampled, found)}",
                        "sign the wizard in to production (sfwizard login) and run the checks again", **evidence)
        return fail("org.platform_elsewhere",
                    f"the platform's token is not from {_name(here)}: {why}",
                    f"{here['name']} is the org the integration should read ("
                    + ("the snapshot's org" if snap else "production") + "), but the platform's new token was "
                    "approved in another org (a sandbox open in the same browser)"
                    + ("; the platform's records are still production's: a full-copy sandbox keeps their Ids"
                       if not records_elsewhere else "; the platform's records now come from there: "
                       + ("a Partial Copy sandbox holds only a sample of production's records"
                          if found else "a Developer sandbox copies none of production's records")),
                    f"in the platform, click Authorize again from a private window logged in to {here['name']} "
                    "only, as the integration user; then Synchronize", **evidence)
    if not snap and ctx.px is None:
        return skipped("skip.nothing_to_compare", "nothing to compare with: take a mapping snapshot first", **evidence)
    if not snap and not sampled:
        return skipped("skip.nothing_to_compare", "nothing to compare with: no snapshot, and the platform's records "
                       "carry no Salesforce Id yet", **evidence)
    basis = " and ".join(([] if not snap else ["the snapshot"]) + ([] if not sampled else
                                                                    [f"{found} of {sampled} platform records"]))
    return ok(f"the platform's data lives in {here['name']} ({here['id']}): {basis} match", **evidence)
