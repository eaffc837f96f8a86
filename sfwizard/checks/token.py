"""The integration's token: a fresh OAuth grant for its connected app, and the platform seeing it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sfwizard.checks import causes
from sfwizard.checks.base import Outcome, check, fail, ok, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.shared_reads import APP_LOGINS, APP_TOKENS, DISCONNECT, INTEGRATION_USER, ORG, PX_INTEGRATION
from sfwizard.sftime import parse_datetime


def _when(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


@check("token.fresh", "A fresh token for the integration's connected app", "reauthorize",
       needs=("salesforce", "data_org"),
       reads=(INTEGRATION_USER, APP_TOKENS, APP_LOGINS, DISCONNECT, PX_INTEGRATION, ORG))
def fresh_token(ctx: CheckContext) -> Outcome:
    app = ctx.profile.connected_app
    user = ctx.integration_user()
    tokens = ctx.app_tokens()
    logins = ctx.app_logins()
    since = ctx.reauthorized_at or ctx.disconnect_time()
    evidence = {"app": app, "integration_user": user["Username"] if user else None,
                "since": since.isoformat() if since else None,
                "tokens": [{"user": (t.get("User") or {}).get("Username"), "created": t.get("CreatedDate"),
                            "last_used": t.get("LastUsedDate"), "use_count": t.get("UseCount")} for t in tokens[:5]],
                "recent_logins": [{"at": r.get("LoginTime"), "status": r.get("Status")} for r in logins[:5]]}
    failures = [r for r in logins if r.get("Status") != "Success"
                and (since is None or (_when(r.get("LoginTime")) or since) >= since)]
    refusal = _most_specific(failures)
    if refusal is not None and refusal[0].reason == "token.app_blocked":
        cause, fix = refusal[0].words(app=app, status=str(refusal[1].get("Status")))
        return fail("token.app_blocked", f"Salesforce blocked the {app} connected app: {refusal[1].get('Status')}",
                    cause, fix, **evidence)

    def is_fresh(t: dict) -> bool:
        return since is None or max(filter(None, (_when(t.get("CreatedDate")), _when(t.get("LastUsedDate")))),
                                    default=since - timedelta(1)) >= since

    mine = [t for t in tokens if user and t.get("UserId") == user["Id"]]
    fresh = [t for t in mine if is_fresh(t)]
    last_use = max(filter(None, (_when(t.get("LastUsedDate")) for t in mine)), default=None)
    refused_since_use = refusal is not None and (last_use is None or (
        _when(refusal[1].get("LoginTime")) or last_use) > last_use)
    if fresh and user and not refused_since_use:  # (mine is empty without a user)
        t = fresh[0]
        return ok(f"{app} holds a token for {user['Username']} created {t.get('CreatedDate')}, "
                  f"last used {t.get('LastUsedDate')}", **evidence)
    if refusal is not None:
        found, row = refusal
        status = str(row.get("Status"))
        cause, fix = found.words(app=app, status=status)
        evidence["refused_login"] = {"at": row.get("LoginTime"), "status": status}
        return fail(found.reason, f"the last {app} login failed: {status}", cause, fix, **evidence)
    others = [t for t in tokens if t not in mine and is_fresh(t)]  # approved since, by someone else
    if others:
        other = (others[0].get("User") or {}).get("Username")
        return fail("token.other_user", f"{app}'s token belongs to {other}, not the integration user",
                    "the connection was approved by a different Salesforce user",
                    "authorize again logged in as the integration user", **evidence)
    integ = ctx.px_integration() if ctx.px is not None else None
    if not tokens and integ is not None and integ.status == "UP":  # a revoked grant is deleted: none is left here
        org = ctx.organization()
        return fail("token.other_org",
                    f"the platform reports the integration UP, but {org['Name']} holds no {app} token: the approval "
                    "went to another org",
                    "the platform's new token was approved in another org (a sandbox signed in in the same browser)",
                    f"in the platform, click Authorize again from a private window logged in to {org['Name']} only, "
                    "as the integration user", **evidence)
    return fail("token.not_granted", f"no {app} token has been granted since the disconnect",
                "the authorization never completed (a blocked pop-up, or the approval was not finished)",
                "allow pop-ups for the platform's site, use a private window, click Authorize again and finish "
                "the Salesforce approval", **evidence)


def _most_specific(failures: list[dict]) -> tuple[causes.Cause, dict] | None:
    """The refused login whose status names the most specific cause (the newest of those)."""
    named = [(causes.login_cause(str(r.get("Status") or "")), r) for r in failures]
    if not named:
        return None
    rank = causes.RANK
    return min(named, key=lambda cr: (rank.get(cr[0].reason, len(rank)), -(
        (_when(cr[1].get("LoginTime")) or datetime.min.replace(tzinfo=timezone.utc)).timestamp())))


@check("token.platform_status", "Platform reports the integration UP", "reauthorize",
       profiles=("gainsight-px",), needs=("platform",), reads=(PX_INTEGRATION,))
def platform_status(ctx: CheckContext) -> Outcome:
    integ = ctx.px_integration()
    if integ is None:
        return fail("platform.no_integration",
                    "PX lists no Salesforce integration", "it is not set up in this subscription",
                    "check the PX subscription (region and API key)")
    evidence = {"status": integ.status, "last_success": integ.last_success.isoformat() if integ.last_success
                else None, "last_error": integ.last_error, "records_processed": integ.records_processed,
                "rows": [r.as_evidence() for r in integ.rows]}  # every row that could be the integration
    if integ.status != "UP":
        # The cause only from a Salesforce error code the platform relays (its own words name none).
        code = causes.error_code_in(integ.last_error)
        if code is not None:
            found = causes.ERROR_CODES[code]
            cause, fix = found.words(code=code, status=code, app=ctx.profile.connected_app)
            evidence.update(salesforce_error_code=code, cause_reason=found.reason)
        else:
            cause = ("the platform names no Salesforce error code: token.fresh and the permission checks say what "
                     "Salesforce shows")
            fix = ("fix what the other checks name; then the platform admin clicks Authorize on the Salesforce "
                   "card and the Salesforce admin approves, as the integration user")
        return fail("token.platform_down",
                    f"PX reports the Salesforce integration {integ.status}: {integ.last_error or 'no error given'}",
                    cause, fix, **evidence)
    if integ.last_success and ctx.now - integ.last_success > timedelta(hours=26):
        return warn("token.no_sync_since",
                    f"UP, but the last successful sync was {integ.last_success:%Y-%m-%d %H:%M} UTC",
                    "no sync has completed since the re-authorization",
                    "click Synchronize on the Salesforce card and watch it finish", **evidence)
    return ok(f"PX reports the Salesforce integration UP, last success {integ.last_success}", **evidence)
