"""What predicts the next disconnect: password age, API headroom, a personal user as integration user."""

from __future__ import annotations

from sfwizard.checks.base import Outcome, check, fail, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.sftime import parse_datetime

DEFAULT_EXPIRY_DAYS = 90  # Salesforce's default password policy; the policy itself is not in the REST API


@check("proactive.password_age", "Integration user's password age", "validate", needs=("salesforce", "data_org"))
def password_age(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None or not user.get("LastPasswordChangeDate"):
        return skipped("skip.no_integration_user" if user is None else "skip.no_password_date",
                       "the integration user or its password date is not known")
    age = (ctx.now - parse_datetime(user["LastPasswordChangeDate"])).days
    left = DEFAULT_EXPIRY_DAYS - age
    evidence = {"user": user["Username"], "last_password_change": user["LastPasswordChangeDate"],
                "age_days": age, "assumed_expiry_days": DEFAULT_EXPIRY_DAYS}
    if left <= 14:
        return warn("proactive.password_expiring",
                    f"{user['Username']}'s password is {age} days old: it may expire within {max(left, 0)} days",
                    "a password change or expiry revokes the integration's OAuth token (the next disconnect)",
                    "give the integration user a profile whose password never expires (Password Policies), "
                    "or plan the change with a re-authorization", **evidence)
    return ok(f"password {age} days old (about {left} days before a {DEFAULT_EXPIRY_DAYS}-day policy expires it)",
              **evidence)


@check("proactive.api_headroom", "API calls left today", "validate", needs=("salesforce", "data_org"))
def api_headroom(ctx: CheckContext) -> Outcome:
    limits = ctx.memo("limits", ctx.salesforce.limits)
    daily = limits.get("DailyApiRequests", {})
    mx, remaining = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
    used = mx - remaining
    evidence = {"max": mx, "remaining": remaining, "used": used}
    if mx and remaining <= 0:
        return fail("proactive.api_exhausted", "the org's daily API limit is used up",
                    "every integration call now fails with REQUEST_LIMIT_EXCEEDED",
                    "wait for the 24-hour window to roll, or ask Salesforce for a temporary increase", **evidence)
    if mx and used / mx > 0.8:
        return warn("proactive.api_high_usage", f"{used:,} of {mx:,} daily API calls used ({used * 100 // mx}%)",
                    "a backfill or catch-up sync may exhaust the limit",
                    "pause other heavy integrations until the catch-up completes", **evidence)
    return ok(f"{remaining:,} of {mx:,} daily API calls left", **evidence)


@check("proactive.dedicated_user", "The integration runs as a dedicated user", "validate",
       needs=("salesforce", "data_org"))
def dedicated_user(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None:
        return skipped("skip.no_integration_user", "the integration user is not known yet")
    me = ctx.memo("userinfo", ctx.salesforce.userinfo)
    evidence = {"integration_user": user["Username"], "signed_in_user": me.get("preferred_username")}
    if me.get("user_id", "")[:15] == user["Id"][:15]:
        return warn("proactive.personal_user", f"the integration runs as {user['Username']}, the admin signed in now",
                    "a personal admin's password change or departure disconnects the integration again",
                    "create a dedicated integration user (API Enabled, minimal permissions) and authorize as it",
                    **evidence)
    return ok(f"the integration runs as {user['Username']}, not a person's own login", **evidence)
