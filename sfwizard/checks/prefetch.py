"""The run's plan: every read the chosen checks will make, fetched in as few round trips as their data allows.

A check asks its facts one after the other; run alone, that is one round trip per read. The plan fetches the
same reads ahead, in waves, while the checks wait on the memo for what they need (``CheckContext.memo``):

1. what needs nothing first — the platform's pages, integration and attributes, the status page, the
   Salesforce reads known from the snapshot and the sign-in (the integration user by username, its
   permission sets and permissions by a semi-join on that username, the app's tokens and logins, describes,
   limits, the Knowledge counts under the categories as the snapshot spells them), in ONE composite/batch
   request of up to 25 reads, beside the Tooling and category-group requests no batch carries;
2. what needs wave 1's answers — the platform's sampled Ids looked up, the reads filtered on the disconnect
   (the platform's DOWN integration's last success), the integration user's writes, the article search for
   the newest title, the profile password policies one by one — again one composite/batch request;
(without a snapshot naming the integration user, it is found from the app's grants while planning wave 2,
one round trip more).

A read is memoized by its text and built by the same function the check calls (``identity.sample_reads``,
``dataflow.current_reads`` …), so a read planned here is the read the check asks for; one planned wrongly
is only an unused sub-request, and one not planned is made by the check itself. The plan never raises: an
error lands in the memo as that read's answer. benchmarks/ROUND_TRIPS.md counts the waves and calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sfwizard.checks import dataflow, identity, knowledge, proactive, skilljar
from sfwizard.checks.base import CheckSpec
from sfwizard.checks.context import ORG_SOQL, CheckContext, logins_soql, tokens_soql
from sfwizard.integrations.salesforce import Read, SalesforceAPI

log = logging.getLogger("sfwizard")

Item = Read | Callable[[], Any]

# What each check reads, by name (the waves below turn names into reads).
PX_PAGES = {"before.platform_api", "identity.right_org", "flow.salesforce_to_platform"}
PX_INTEGRATION = {"before.platform_api", "token.platform_status", "identity.right_org", "token.fresh",
                  "flow.platform_to_salesforce"}
PX_ATTRIBUTES = {"mapping.salesforce_fields", "mapping.platform_attributes"}
SINCE = {"token.fresh", "flow.salesforce_to_platform", "flow.platform_to_salesforce", "skilljar.backfill_window",
         "skilljar.backfill_arrived"}
INTEGRATION_USER = {"token.fresh", "perm.api_enabled", "perm.read_sources", "perm.edit_targets",
                    "flow.platform_to_salesforce", "proactive.password_age", "proactive.dedicated_user",
                    "skilljar.backfill_window", "skilljar.backfill_arrived"}
ACCESS = {"perm.api_enabled", "perm.read_sources", "perm.edit_targets", "flow.platform_to_salesforce",
          "proactive.password_age"}
APP_GRANTS = {"token.fresh", "identity.right_org", "skilljar.backfill_window", "skilljar.backfill_arrived"}
DESCRIBE_MAPPED = {"mapping.salesforce_fields", "mapping.push_targets", "mapping.live_vs_snapshot",
                   "flow.platform_to_salesforce"}
KNOWLEDGE = {"knowledge.categories", "knowledge.visibility", "knowledge.search"}


def plan_and_fetch(ctx: CheckContext, specs: Iterable[CheckSpec], ready: threading.Event) -> int:
    """Fetch the chosen checks' reads wave by wave; ``ready`` is set once the first wave is in. Returns the
    number of waves that sent anything. Never raises."""
    chosen = {s.id for s in specs}
    waves = 0
    try:
        for make in (_first, _second):
            items = _safely(make, ctx, chosen)
            if items:
                waves += 1
                ctx.prefetch(items)
            ready.set()
    except Exception:  # noqa: BLE001 - a plan that fails only leaves the checks to ask for themselves
        log.warning("the read plan failed; the checks read on their own", exc_info=True)
    finally:
        ready.set()
    return waves


def _safely(make: Callable[[CheckContext, set[str]], list[Item]], ctx: CheckContext, chosen: set[str]) -> list[Item]:
    try:
        return list(make(ctx, chosen))
    except Exception:  # noqa: BLE001 - a fact the plan needed failed: its checks will say so
        log.debug("read plan: %s gave up", getattr(make, "__name__", "a part"), exc_info=True)
        return []


def _known(ctx: CheckContext, key: str) -> bool:
    with ctx._lock:
        return key in ctx._memo


def _salesforce(ctx: CheckContext) -> bool:
    return isinstance(ctx.sf, SalesforceAPI) and ctx.stopped is None


def _data_org(ctx: CheckContext) -> bool:
    """Checks that need the data org run (the org is known from the sign-in, or assumed until read)."""
    return not _known(ctx, "org") or ctx.has("data_org")


def _first(ctx: CheckContext, chosen: set[str]) -> list[Item]:
    from sfwizard.integrations.px import PxAPI

    items: list[Item] = []
    if ctx.status is not None and "before.status_page" in chosen:
        items.append(ctx.status_summary)
    px = isinstance(ctx.px, PxAPI)
    if px and chosen & (PX_INTEGRATION | (SINCE if ctx.infer_disconnect else set())):
        items.append(ctx.px_integrations)
    if px and "before.platform_api" in chosen:
        items.append(ctx.px_subscription)
    if px and chosen & PX_PAGES:
        items += [lambda: ctx.px_sample("accounts"), lambda: ctx.px_sample("users")]
    if px and chosen & PX_ATTRIBUTES:
        items += [lambda: ctx.px_attributes("account"), lambda: ctx.px_attributes("user")]
    if not _salesforce(ctx):
        return items
    if not _known(ctx, "org"):
        items.append(Read("query", ORG_SOQL))
    if "before.salesforce_admin" in chosen:
        items += _me(ctx) if _known(ctx, "userinfo") else [ctx.userinfo]  # (a bare client has not read it yet)
    app = ctx.profile.connected_app
    if "identity.right_org" in chosen:  # (in any org: it is what tells the orgs apart)
        items.append(Read("query", tokens_soql(app)))
    if not _data_org(ctx):
        return items
    if chosen & (INTEGRATION_USER | APP_GRANTS):
        items += [Read("query", tokens_soql(app)), Read("query", logins_soql(app))]
    soql = ctx.integration_user_soql()
    if soql and chosen & INTEGRATION_USER:
        items.append(Read("query", soql))
        if chosen & ACCESS:
            items += ctx.access_reads(ctx.snapshot.integration_user.username)  # type: ignore[union-attr]
    if chosen & DESCRIBE_MAPPED and ctx.mappings():
        items += [Read("describe", o) for o in sorted({m.salesforce.split(".", 1)[0] for m in ctx.mappings()})]
    if "mapping.live_vs_snapshot" in chosen:
        items += [Read("describe", o) for o in ctx.custom_objects()]
    if "skilljar.package" in chosen:
        items += [Read("describe", o) for o in (ctx.profile.backfill or {}).get("objects", [])]
        items.append(lambda: skilljar.installed_version(ctx))
    if "proactive.password_age" in chosen:
        items += [lambda: ctx.tooling(proactive.POLICY_IDS), lambda: ctx.tooling(proactive.ORG_POLICY)]
    if "proactive.api_headroom" in chosen:
        items.append(Read("limits"))  # last: a limit read after the others counts them (as the check did)
    if chosen & KNOWLEDGE and ctx.snapshot is not None and ctx.knowledge_used:
        items.append(lambda: knowledge._groups(ctx))
        items += knowledge.wanted_reads(ctx, knowledge.guessed_filters(ctx))
    return items


def _second(ctx: CheckContext, chosen: set[str]) -> list[Item]:
    if not _salesforce(ctx):
        return []
    parts = (_me_later, _samples, _current, _user_reads, _knowledge_reads) if _data_org(ctx) else \
        (_me_later, _samples)
    return [item for part in parts for item in _safely(part, ctx, chosen)]


def _me(ctx: CheckContext) -> list[Item]:
    """The signed-in user's row and permission sets (before.salesforce_admin)."""
    me = ctx.userinfo()
    return [Read("query", ctx.me_soql())] + \
        ([ctx.access_reads(me["preferred_username"])[0]] if me.get("preferred_username") else [])


def _me_later(ctx: CheckContext, chosen: set[str]) -> list[Item]:
    """When the sign-in's user was read in wave 1 (a bare client), its row and sets now."""
    return _me(ctx) if "before.salesforce_admin" in chosen else []


def _samples(ctx: CheckContext, chosen: set[str]) -> list[Item]:
    """The platform's sampled Salesforce Ids, looked up (identity.right_org)."""
    if ctx.px is None or "identity.right_org" not in chosen:
        return []
    accounts, contacts, _, _ = identity.sample_reads(ctx)
    return [r for r in (accounts, contacts) if r is not None]


def _current(ctx: CheckContext, chosen: set[str]) -> list[Item]:
    """The sampled accounts' rows changed since the disconnect (flow.salesforce_to_platform)."""
    if ctx.px is None or "flow.salesforce_to_platform" not in chosen or not ctx.source_mappings():
        return []
    changed, rows = dataflow.current_reads(ctx)
    return ([changed] if changed else []) + rows


def _user_reads(ctx: CheckContext, chosen: set[str]) -> list[Item]:
    """What needs the integration user's row: its writes, its password policy, its permissions (read here when
    the snapshot did not name it, so they could not be read by its username in wave 1)."""
    user = ctx.integration_user() if chosen & INTEGRATION_USER else None
    if user is None:
        return []
    parts: list[Callable[[], list[Item]]] = []
    if chosen & ACCESS:
        parts.append(lambda: list(ctx.access_reads(user["Username"])))
    pushes = [m.salesforce for m in ctx.push_mappings()]
    if "flow.platform_to_salesforce" in chosen and pushes:
        parts.append(lambda: [] if dataflow.unwritable(ctx, user, pushes) else
                     [r for pair in dataflow.push_reads(ctx, user).values() for r in pair[:2]])
    if "proactive.password_age" in chosen and user.get("LastPasswordChangeDate"):
        parts.append(lambda: _policies(ctx, user))
    if "skilljar.backfill_window" in chosen:
        parts.append(lambda: list(skilljar.last_sync_reads(ctx, user)))
    if "skilljar.backfill_arrived" in chosen:
        parts.append(lambda: _arrived(ctx, user))
    return [item for part in parts for item in _safely(lambda c, s, part=part: part(), ctx, chosen)]


def _policies(ctx: CheckContext, user: dict[str, Any]) -> list[Item]:
    """The profile password policies, one Tooling read each, all at once (unless the password never expires)."""
    if any(p.get("PermissionsPasswordNeverExpires") for p in ctx.user_access(user).permission_sets):
        return []
    singles = [proactive.policy_soql(row["Id"]) for row in ctx.tooling(proactive.POLICY_IDS)]
    return [lambda q=q: ctx.tooling(q) for q in singles]


def _arrived(ctx: CheckContext, user: dict[str, Any]) -> list[Item]:
    since = skilljar.arrived_since(ctx)
    return list(skilljar.arrived_reads(ctx, user, since).values()) if since is not None else []


def _knowledge_reads(ctx: CheckContext, chosen: set[str]) -> list[Item]:
    """The counts under the categories that exist (already in when wave 1's guess was right), and the search
    for the known or newest article, inside the categories and outside them."""
    if not chosen & KNOWLEDGE or ctx.snapshot is None or not ctx.knowledge_used or knowledge._groups(ctx) is None:
        return []
    filters = knowledge.category_filters(ctx)
    items: list[Item] = list(knowledge.wanted_reads(ctx, filters))
    if "knowledge.search" in chosen:
        title = knowledge.known_title(ctx) or _newest_title(ctx, filters)
        if title:
            inside, outside = knowledge.search_reads(ctx, title, filters)
            items += inside + ([outside] if outside is not None else [])
    return items


def _newest_title(ctx: CheckContext, filters: list[str]) -> str:
    rows = [row for r in knowledge.newest_reads(filters) for row in ctx.read(r)]
    return str(max(rows, key=lambda r: str(r.get("LastPublishedDate") or ""))["Title"]) if rows else ""
