"""The reads the shared facts make (``salesforce_facts``, ``platform_facts``), as ``Reads`` a check declares:
``@check(..., reads=(INTEGRATION_USER, ACCESS))``. A check's own reads are declared beside it, in its module."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfwizard.checks.reads import Reads
from sfwizard.checks.soql import ORG_SOQL, logins_soql, tokens_soql
from sfwizard.integrations.salesforce import Read

if TYPE_CHECKING:
    from sfwizard.checks.context import CheckContext

# -- Salesforce ----------------------------------------------------------------------------------------------------

def _org(ctx: CheckContext) -> list[Any]:
    return [] if ctx.known("org") else [Read("query", ORG_SOQL)]


def _me(ctx: CheckContext) -> list[Any]:
    """The signed-in user's row and permission sets, once the sign-in's user is known (a bare client reads it
    in the first wave, these in the second)."""
    if not ctx.known("userinfo"):
        return []
    me = ctx.userinfo()
    return [Read("query", ctx.me_soql())] + \
        ([ctx.access_reads(me["preferred_username"])[0]] if me.get("preferred_username") else [])


def _integration_user(ctx: CheckContext) -> list[Any]:
    """By the snapshot's username; without one, the app's grants and logins name it (then read by Id)."""
    soql = ctx.integration_user_soql()
    app = ctx.profile.connected_app
    return [Read("query", soql)] if soql else [Read("query", tokens_soql(app)), Read("query", logins_soql(app))]


def _access_named(ctx: CheckContext) -> list[Any]:
    return ctx.access_reads(ctx.snapshot.integration_user.username) if ctx.integration_user_soql() else []  # type: ignore[union-attr]


def _access_found(ctx: CheckContext) -> list[Any]:
    user = ctx.integration_user()
    return ctx.access_reads(user["Username"]) if user else []


def _mapped_objects(ctx: CheckContext) -> list[Any]:
    return [Read("describe", o) for o in sorted({m.salesforce.split(".", 1)[0] for m in ctx.mappings()})]


ORG = Reads("org", "salesforce", first=_org)
USERINFO = Reads("userinfo", "salesforce", first=lambda ctx: [ctx.userinfo])
ME = Reads("me", "salesforce", first=lambda ctx: _me(ctx) or [ctx.userinfo], then=_me)
APP_TOKENS = Reads("app_tokens", "salesforce",
                   first=lambda ctx: [Read("query", tokens_soql(ctx.profile.connected_app))])
APP_LOGINS = Reads("app_logins", "salesforce",
                   first=lambda ctx: [Read("query", logins_soql(ctx.profile.connected_app))])
INTEGRATION_USER = Reads("integration_user", "salesforce", first=_integration_user,
                         then=lambda ctx: [ctx.integration_user])
ACCESS = Reads("integration_user_access", "salesforce", first=_access_named, then=_access_found)
DESCRIBE_MAPPED = Reads("describe_mapped", "salesforce", first=_mapped_objects)
DESCRIBE_CUSTOM = Reads("describe_custom", "salesforce",
                        first=lambda ctx: [Read("describe", o) for o in ctx.custom_objects()])
LIMITS = Reads("limits", "salesforce", first=lambda ctx: [Read("limits")], last=True)


# -- the platform and the status page ------------------------------------------------------------------------------

def _disconnect(ctx: CheckContext) -> list[Any]:
    return [ctx.px_integrations] if ctx.infer_disconnect and ctx.disconnected_at is None else []


STATUS = Reads("status_summary", "status", first=lambda ctx: [ctx.status_summary])
PX_INTEGRATION = Reads("px_integration", "platform", first=lambda ctx: [ctx.px_integrations])
PX_SUBSCRIPTION = Reads("px_subscription", "platform", first=lambda ctx: [ctx.px_subscription])
PX_PAGES = Reads("px_pages", "platform",
                 first=lambda ctx: [lambda: ctx.px_sample("accounts"), lambda: ctx.px_sample("users")])
PX_ATTRIBUTES = Reads("px_attributes", "platform",
                      first=lambda ctx: [lambda: ctx.px_attributes("account"), lambda: ctx.px_attributes("user")])
DISCONNECT = Reads("disconnect_time", "platform", first=_disconnect)  # (inferred from the platform's status)
