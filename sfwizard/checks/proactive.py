"""What predicts the next disconnect: password age, API headroom, a personal user as integration user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sfwizard.checks.base import Outcome, check, fail, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.reads import Reads
from sfwizard.checks.shared_reads import ACCESS, INTEGRATION_USER, LIMITS, USERINFO
from sfwizard.sftime import parse_datetime

DEFAULT_EXPIRY_DAYS = 90  # Salesforce's default password policy: assumed only when no API shows the policy
# What the org's SecuritySettings metadata names its password expiry (Setup → Password Policies).
EXPIRATION_DAYS = {"Never": 0, "ThirtyDays": 30, "SixtyDays": 60, "NinetyDays": 90, "SixMonths": 180,
                   "OneYear": 365}
PROFILE_POLICIES_READ = 10  # profile password policies read one by one (Metadata comes one record a query)
POLICY_IDS = f"SELECT Id FROM ProfilePasswordPolicy LIMIT {PROFILE_POLICIES_READ}"
ORG_POLICY = "SELECT Id, Metadata FROM SecuritySettings LIMIT 1"


def policy_soql(policy_id: str) -> str:
    from sfwizard.integrations.salesforce import soql_quote

    return f"SELECT Id, Metadata FROM ProfilePasswordPolicy WHERE Id = {soql_quote(policy_id)}"


def password_policy(ctx: CheckContext, user: dict[str, Any]) -> dict[str, Any]:
    """How long the integration user's password lives, from what Salesforce shows, most specific first.

    1. The "Password Never Expires" user permission (``PermissionsPasswordNeverExpires``) on the user's
       profile or a permission set assigned to them (PermissionSet, through the REST API).
    2. The profile's own password policy, which overrides the org's for its users: the Tooling API's
       ``ProfilePasswordPolicy`` (Metadata API type of the same name, ``passwordExpiration`` in days, 0 =
       never; Salesforce Labs' OrgCheck reads the same metadata). Its ``Metadata`` may be queried only one
       record at a time, so the Ids come first, then at most ``PROFILE_POLICIES_READ`` single reads — sent
       together (the Tooling API has no batch here: one request each, one round trip for all).
    3. The org's policy: the Tooling API's ``SecuritySettings`` Metadata, ``passwordPolicies.expiration``
       (Never, ThirtyDays … OneYear), the query sfdx-hardis makes (``SELECT Id, Metadata FROM
       SecuritySettings LIMIT 1``).
    4. Nothing shown (no View Setup, an org that refuses the Tooling API): Salesforce's default of 90 days,
       assumed, and the evidence says so.

    Researched: Metadata API ProfilePasswordPolicy and SecuritySettings.PasswordPolicies
    (developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_profilepasswordpolicy.htm and
    …/meta_securitysettings.htm); the Tooling query from sfdx-hardis's ``hardis:org:diagnose:mfa`` docs;
    OrgCheck (SalesforceLabs) reading ``passwordExpiration``. Whether an org's Tooling API serves
    ProfilePasswordPolicy rows is not documented as such: any refusal only falls through to the next source.

    Returns {"days": int | None (None: never), "source": words, "assumed": bool, "unavailable": [codes]}.
    """
    from sfwizard.integrations.salesforce import ApiError

    def find() -> dict[str, Any]:
        access = ctx.user_access(user)
        never = [p.get("Label") or p.get("Name") for p in access.permission_sets
                 if p.get("PermissionsPasswordNeverExpires")]
        if never:
            return {"days": None, "source": f"permission Password Never Expires ({never[0]})", "assumed": False}
        unavailable: list[str] = []
        profile = (user.get("Profile") or {}).get("Name") or ""
        try:
            singles = [policy_soql(row["Id"]) for row in ctx.tooling(POLICY_IDS)]
            ctx.prefetch([lambda q=q: ctx.tooling(q) for q in singles])  # concurrently, one round trip
            for q in singles:
                one = ctx.tooling(q)
                meta = (one[0].get("Metadata") or {}) if one else {}
                if profile and str(meta.get("profile", "")).lower() == profile.lower():
                    days = int(meta.get("passwordExpiration") or 0)
                    return {"days": days or None, "source": f"profile password policy ({profile})",
                            "assumed": False}
        except ApiError as exc:
            unavailable.append(f"ProfilePasswordPolicy: {exc.code}")
        try:
            rows = ctx.tooling(ORG_POLICY)
            expiration = ((rows[0].get("Metadata") or {}).get("passwordPolicies") or {}).get("expiration") \
                if rows else None
            if expiration in EXPIRATION_DAYS:
                return {"days": EXPIRATION_DAYS[expiration] or None, "source": "org password policy",
                        "assumed": False}
        except ApiError as exc:
            unavailable.append(f"SecuritySettings: {exc.code}")
        return {"days": DEFAULT_EXPIRY_DAYS, "assumed": True, "unavailable": unavailable,
                "source": f"assumed: no API showed the policy (Salesforce's default, {DEFAULT_EXPIRY_DAYS} days)"}

    return ctx.memo(f"password_policy:{user['Id']}", find)


def _policies(ctx: CheckContext) -> list[Any]:
    """The profile password policies, one Tooling read each, all at once (unless the password never expires)."""
    user = ctx.integration_user()
    if user is None or not user.get("LastPasswordChangeDate") or \
            any(p.get("PermissionsPasswordNeverExpires") for p in ctx.user_access(user).permission_sets):
        return []
    singles = [policy_soql(row["Id"]) for row in ctx.tooling(POLICY_IDS)]
    return [lambda q=q: ctx.tooling(q) for q in singles]


POLICIES = Reads("password_policies", "salesforce",
                 first=lambda ctx: [lambda: ctx.tooling(POLICY_IDS), lambda: ctx.tooling(ORG_POLICY)], then=_policies)


@check("proactive.password_age", "Integration user's password age", "validate", needs=("salesforce", "data_org"),
       reads=(INTEGRATION_USER, ACCESS, POLICIES))
def password_age(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None or not user.get("LastPasswordChangeDate"):
        return skipped("skip.no_integration_user" if user is None else "skip.no_password_date",
                       "the integration user or its password date is not known")
    changed = parse_datetime(user["LastPasswordChangeDate"])
    age = (ctx.now - changed).days
    policy = password_policy(ctx, user)
    days = policy["days"]
    evidence: dict[str, Any] = {"user": user["Username"], "last_password_change": user["LastPasswordChangeDate"],
                                "age_days": age, "expiry_days": days, "expiry_source": policy["source"]}
    if policy["assumed"]:
        evidence["assumed_expiry_days"] = days
        if policy.get("unavailable"):
            evidence["policy_unavailable"] = policy["unavailable"]
    if days is None:
        return ok(f"{user['Username']}'s password never expires ({policy['source']}): no expiry to plan for",
                  **evidence)
    expires = changed + timedelta(days=days)
    left = (expires - ctx.now).days
    evidence["expires"] = expires.isoformat()
    basis = "assumed — no API showed the policy" if policy["assumed"] else policy["source"]
    if expires < ctx.now and not policy["assumed"]:  # the policy Salesforce shows has expired it
        from sfwizard.checks.causes import PASSWORD_EXPIRED

        cause, fix = PASSWORD_EXPIRED.words(status=f"{age} days old under a {days}-day policy, {policy['source']}")
        return fail("proactive.password_expired",
                    f"{user['Username']}'s password expired on {expires:%Y-%m-%d}: it is {age} days old under a "
                    f"{days}-day policy ({basis})", cause, fix, **evidence)
    if left <= 14:
        when = f"expired on {expires:%Y-%m-%d}" if left < 0 else f"may expire within {left} days ({expires:%Y-%m-%d})"
        return warn("proactive.password_expiring",
                    f"{user['Username']}'s password is {age} days old: it {when} under a {days}-day policy ({basis})",
                    "a password change or expiry revokes the integration's OAuth token (the next disconnect)",
                    "give the integration user a profile whose password never expires (Password Policies), "
                    "or plan the change with a re-authorization", **evidence)
    return ok(f"password {age} days old: about {left} days before the {days}-day policy expires it ({basis})",
              **evidence)


@check("proactive.api_headroom", "API calls left today", "validate", needs=("salesforce", "data_org"),
       reads=(LIMITS,))
def api_headroom(ctx: CheckContext) -> Outcome:
    limits = ctx.limits()
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
       needs=("salesforce", "data_org"), reads=(INTEGRATION_USER, USERINFO))
def dedicated_user(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None:
        return skipped("skip.no_integration_user", "the integration user is not known yet")
    me = ctx.userinfo()
    evidence = {"integration_user": user["Username"], "signed_in_user": me.get("preferred_username")}
    if me.get("user_id", "")[:15] == user["Id"][:15]:
        return warn("proactive.personal_user", f"the integration runs as {user['Username']}, the admin signed in now",
                    "a personal admin's password change or departure disconnects the integration again",
                    "create a dedicated integration user (API Enabled, minimal permissions) and authorize as it",
                    **evidence)
    return ok(f"the integration runs as {user['Username']}, not a person's own login", **evidence)
