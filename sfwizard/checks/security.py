"""The security review of one integration: is it safe to let its token come back, and is it harder to abuse?

Nine rows, each a status and a ``sec.*`` reason (``skip.no_permission`` where the signed-in user may not read
what a row needs: it then says what it could not read and why, never guesses, never fails). Worded as evidence:
what the org shows, where and when — never who is to blame. Each hardening row turns green by itself once
the change is made in Setup: admin-approved users only, a refresh token that expires when unused, login IP
ranges on the integration user's profile, an API-only integration user, the least-privilege permission set.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sfwizard.checks.base import Outcome, check, fail, manual, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.security_facts import (
    SEC_APP,
    SEC_AUDIT,
    SEC_DESCRIBES,
    SEC_LOGINS,
    SEC_ME,
    SEC_REACH,
    SEC_TOKENS,
    SEC_VOLUME,
    TOKENS_READ,
    app_reads,
    apps,
    audit_reads,
    audit_total,
    chosen_files,
    file_calls,
    log_files,
    login_reads,
    my_rights,
    reach,
    token_reads,
    tokens_total,
    volume_count_reads,
)
from sfwizard.checks.security_proposal import needs
from sfwizard.checks.security_settings import Ranges, network_of, parse_ranges, settings_of, window
from sfwizard.checks.shared_reads import DISCONNECT, INTEGRATION_USER
from sfwizard.integrations.salesforce import ApiError
from sfwizard.sftime import parse_datetime

STEP = "security"
NEEDS = ("salesforce", "data_org")
BASE = (INTEGRATION_USER, DISCONNECT)
HOLDERS_SHOWN = 20
UI_LOGIN_TYPES = ("Application",)  # LoginHistory.LoginType of a login to the Salesforce UI
NETWORKS_SHOWN = 30


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return parse_datetime(str(value))
    except ValueError:
        return None


def _iso(value: Any) -> str | None:
    dt = _when(value)
    return dt.isoformat(timespec="seconds") if dt else None


def _no_user() -> Outcome:
    return skipped("skip.no_integration_user", "the integration user is not known yet",
                   "no token or login for the connected app, and no snapshot naming the user")


def _guessed_among(ctx: CheckContext) -> list[str]:
    """Without a snapshot naming it, the integration user is the app's token holder (else its login): when several
    users hold tokens (or logged in), that is a guess — the review of the wrong user would be worse than none."""
    if ctx.integration_user_soql() is not None:
        return []
    holders = {str(t["UserId"])[:15]: (t.get("User") or {}).get("Username") or t["UserId"] for t in ctx.app_tokens()}
    if not holders:
        holders = {str(r["UserId"])[:15]: r["UserId"] for r in ctx.app_logins() if r.get("Status") == "Success"}
    return sorted(holders.values()) if len(holders) > 1 else []


def _integration_user(ctx: CheckContext) -> tuple[dict[str, Any] | None, Outcome | None]:
    """The integration user, or the row's answer when it is not known for sure."""
    user = ctx.integration_user()
    if user is None:
        return None, _no_user()
    among = _guessed_among(ctx)
    if among:
        return None, manual("ask.integration_user",
                            f"{len(among)} users hold {ctx.profile.connected_app} tokens ({', '.join(among[:3])}"
                            f"{'…' if len(among) > 3 else ''}): which one is the integration user is not known",
                            "take the mapping snapshot (the Mappings step, or --snapshot) so the review holds the "
                            "right user", candidates=among)
    return user, None


def _cannot_read(what: str, needs: str, why: str, **evidence: Any) -> Outcome:
    """A row that could not be read: what, which permission it needs, and why that matters — never a failure."""
    return skipped("skip.no_permission", f"could not read {what}: it needs {needs}", why,
                   could_not_read={"what": what, "needs": needs, "why": why}, **evidence)


# What Salesforce answers a user who may not read an object (or a field of it).
PERMISSION_CODES = ("INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INVALID_TYPE", "INVALID_FIELD",
                    "API_DISABLED_FOR_ORG", "FUNCTIONALITY_NOT_ENABLED")


def _refused(exc: ApiError, what: str, needs: str) -> Outcome:
    if exc.code in PERMISSION_CODES:
        return _cannot_read(what, needs, f"Salesforce answered {exc.code}: the signed-in user may not read {what}",
                            errorCode=exc.code)
    # Another refusal (a query this org will not run, a timeout): said as it is, never read as a permission.
    why = f"Salesforce answered {exc.code}: {' '.join(exc.detail.split())[:200]}"
    return skipped("skip.query_refused", f"could not read {what}: Salesforce refused the query ({exc.code})", why,
                   could_not_read={"what": what, "needs": needs, "why": why}, errorCode=exc.code)


# -- logins by source network ------------------------------------------------------------------------------------------

@check("sec.logins", "Integration user's logins by source network", STEP, needs=NEEDS,
       reads=(*BASE, SEC_ME, SEC_LOGINS))
def logins(ctx: CheckContext) -> Outcome:
    user, answer = _integration_user(ctx)
    if answer is not None:
        return answer
    w = window(ctx)
    s = settings_of(ctx)
    declared = parse_ranges(s.egress)
    reads = login_reads(ctx, user)
    try:
        rows = ctx.read(reads["grouped"])
    except ApiError as exc:
        return _refused(exc, "LoginHistory", "Manage Users (or Monitor Login History)")
    manage_users = my_rights(ctx)["manage_users"]
    evidence: dict[str, Any] = {"integration_user": user["Username"], "window": w.to_dict(),
                                "declared_ranges": list(declared.text), "declared_source": s.egress_source or None}
    if not manage_users and not rows:
        return _cannot_read("the integration user's login history", "Manage Users (or Monitor Login History)",
                            "without it LoginHistory shows a user only their own logins, so none of the integration "
                            "user's is visible: an empty answer says nothing", **evidence)
    networks = _networks(rows, declared, w.disconnect)
    # The vendor's servers log in through the API; a login to the UI as the integration user is a person's (the
    # Allow of a re-authorization): shown apart, never held against the vendor's ranges.
    outside = [n["network"] for n in networks if n["declared"] is False and n["successes"] > n["ui_logins"]]
    failures = [{"network": n["network"], "statuses": n["failure_statuses"], "count": n["failures"],
                 "last_seen": n["last_failure"]} for n in networks if n["failures"]]
    ui = [{"network": n["network"], "count": n["ui_logins"], "last_seen": n["last_seen"]} for n in networks
          if n["ui_logins"]]
    evidence.update(networks=networks[:NETWORKS_SHOWN], networks_total=len(networks), outside_declared=outside,
                    failures=failures, ui_logins=ui, geo=manage_users, truncated=len(rows) >= 200)
    if declared.bad:
        evidence["declared_not_understood"] = list(declared.bad)
    total = sum(n["successes"] - n["ui_logins"] for n in networks)
    if not networks:
        return ok(f"no login by {user['Username']} from {w.since:%Y-%m-%d} to {w.until:%Y-%m-%d}", **evidence)
    if outside:
        first = next(n for n in networks if n["network"] == outside[0])
        where = ", ".join(x for x in (first["cities"][:1] + first["countries"][:1]) if x) or "location not shown"
        after = [n["network"] for n in networks if n["network"] in outside and n["seen_after_disconnect"]]
        when = f"; seen after the disconnect ({w.disconnect:%Y-%m-%d %H:%M} UTC)" if after else ""
        return fail("sec.login_outside_ranges",
                    f"{sum(n['successes'] - n['ui_logins'] for n in networks if n['network'] in outside)} "
                    f"successful API login(s) of "
                    f"{user['Username']} came from {len(outside)} network(s) outside the declared vendor ranges: "
                    f"{outside[0]} ({where}), first {first['first_seen']}, last {first['last_seen']}{when}",
                    "the declared ranges are where the vendor says its servers connect from; these logins came "
                    "from elsewhere, with the integration user's credentials",
                    "find out with the vendor whose network this is before reconnecting; if it is not theirs, "
                    "change the integration user's password, revoke its tokens and review what it read "
                    "(Setup → Login History, Event Monitoring)", **evidence)
    if not declared.spans:
        listed = ", ".join(n["network"] for n in networks[:3]) + ("…" if len(networks) > 3 else "")
        return manual("ask.vendor_egress",
                      f"{total} successful login(s) from {len(networks)} network(s) ({listed}): declare the vendor's "
                      "egress ranges to mark any outside them",
                      "ask the vendor for the IP ranges its servers connect to Salesforce from, with the page that "
                      "publishes them, and enter them in the Security review step", **evidence)
    return ok(f"all {total} successful login(s) of {user['Username']} came from the declared vendor ranges "
              f"({', '.join(n['network'] for n in networks[:3])})", **evidence)


def _networks(rows: list[dict[str, Any]], declared: Ranges, disconnect: datetime | None) -> list[dict[str, Any]]:
    """The grouped logins folded by network (/24, /48): when first and last seen, how often, from where, how."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        ip = r.get("SourceIp")
        net = network_of(ip)
        n = out.setdefault(net, {"network": net, "addresses": [], "successes": 0, "failures": 0, "first_seen": None,
                                 "last_seen": None, "last_failure": None, "countries": [], "cities": [],
                                 "login_types": [], "applications": [], "failure_statuses": [],
                                 "declared": None, "seen_after_disconnect": False, "ui_logins": 0})
        count = int(r.get("logins") or 0)
        first, last = _when(r.get("firstSeen")), _when(r.get("lastSeen"))
        if r.get("Status") == "Success":
            n["successes"] += count
            n["first_seen"] = _earliest(n["first_seen"], first)
            n["last_seen"] = _latest(n["last_seen"], last)
            n["seen_after_disconnect"] |= bool(disconnect and last and last > disconnect)
            if r.get("LoginType") in UI_LOGIN_TYPES:
                n["ui_logins"] += count
        else:
            n["failures"] += count
            n["last_failure"] = _latest(n["last_failure"], last)
            _add(n["failure_statuses"], r.get("Status"))
        _add(n["addresses"], ip)
        _add(n["countries"], r.get("Country"))
        _add(n["cities"], r.get("City"))
        _add(n["login_types"], r.get("LoginType"))
        _add(n["applications"], r.get("Application"))
        covered = declared.covers(ip)
        if covered is not None:
            n["declared"] = covered if n["declared"] is None else (n["declared"] and covered)
    for n in out.values():
        for key in ("first_seen", "last_seen", "last_failure"):
            n[key] = _iso(n[key])
        n["addresses"] = n["addresses"][:5]
    return sorted(out.values(), key=lambda n: (-(n["successes"] + n["failures"]), n["network"]))


def _add(items: list[Any], value: Any) -> None:
    if value not in (None, "") and value not in items:
        items.append(value)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((x for x in (a, b) if x), default=None)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((x for x in (a, b) if x), default=None)


# -- OAuth tokens of the vendor's apps ------------------------------------------------------------------------------

@check("sec.tokens", "Every OAuth token of the vendor's apps", STEP, needs=NEEDS, reads=(*BASE, SEC_ME, SEC_TOKENS))
def tokens(ctx: CheckContext) -> Outcome:
    user, answer = _integration_user(ctx)
    if answer is not None and answer.reason != "skip.no_integration_user":
        return answer
    names = apps(ctx)
    try:
        rows = ctx.read(token_reads(ctx)[0])
        total = tokens_total(ctx, rows)
    except ApiError as exc:
        return _refused(exc, "OauthToken", "Customize Application")
    mine = str(user["Id"])[:15] if user else ""
    shown = [{"user": (t.get("User") or {}).get("Username"), "name": (t.get("User") or {}).get("Name"),
              "user_id": t.get("UserId"), "app": t.get("AppName"), "created": t.get("CreatedDate"),
              "last_used": t.get("LastUsedDate"), "use_count": t.get("UseCount"),
              "integration_user": bool(mine) and str(t.get("UserId") or "")[:15] == mine} for t in rows]
    others = sorted({t["user"] or t["user_id"] for t in shown if not t["integration_user"]})
    evidence: dict[str, Any] = {"apps": list(names), "integration_user": user["Username"] if user else None,
                                "total": total, "read": len(rows), "truncated": total > len(rows),
                                "tokens": shown[:50], "other_holders": others[:HOLDERS_SHOWN]}
    if not my_rights(ctx)["customize_application"]:
        return _cannot_read("every user's tokens of the vendor's apps", "Customize Application",
                            "without it OauthToken shows a user only their own tokens: the others', if any, are not "
                            "visible", **evidence)
    if others:
        more = f" (and {total - len(rows)} more not read)" if total > TOKENS_READ else ""
        return fail("sec.tokens_other_users",
                    f"{len(others)} user(s) besides the integration user hold tokens of {', '.join(names)}: "
                    f"{', '.join(others[:3])}{'…' if len(others) > 3 else ''}{more}",
                    "each is a live grant of the vendor's app to that person's access in the org",
                    "revoke the tokens nobody needs (from the Security review step, or Setup → Connected Apps "
                    "OAuth Usage), then let only the integration user's permission set use the app", **evidence)
    if not shown:
        return ok(f"no token of {', '.join(names)} is held in the org", **evidence)
    return ok(f"only the integration user holds tokens of {', '.join(names)} ({len(shown)})", **evidence)


# -- what the integration user can reach ---------------------------------------------------------------------------

_RIGHT_WORDS = {"PermissionsModifyAllData": "Modify All Data", "PermissionsViewAllData": "View All Data",
                "PermissionsManageUsers": "Manage Users", "PermissionsCustomizeApplication": "Customize Application",
                "PermissionsViewSetup": "View Setup and Configuration"}


def _label(ps: dict[str, Any]) -> str:
    if ps.get("IsOwnedByProfile"):
        return f"profile {(ps.get('Profile') or {}).get('Name') or ps.get('Name')}"
    return str(ps.get("Label") or ps.get("Name"))


@check("sec.reach", "Integration user's reach against what its mappings need", STEP,
       needs=(*NEEDS, "snapshot"), reads=(*BASE, SEC_REACH, SEC_DESCRIBES))
def reach_vs_needs(ctx: CheckContext) -> Outcome:
    user, answer = _integration_user(ctx)
    if answer is not None:
        return answer
    got = reach(ctx, user)
    want = needs(ctx)
    sets = got["sets"]
    rights = {r: [_label(ps) for ps in sets if ps.get(r)] for r in _RIGHT_WORDS}
    extra_objects, extra_rights = [], []
    for op in got["objects"]:
        obj = op["SobjectType"]
        have = {r for r in ("Read", "Create", "Edit", "Delete") if op.get(f"Permissions{r}")}
        if op.get("PermissionsViewAllRecords"):
            have.add("ViewAllRecords")
        if op.get("PermissionsModifyAllRecords"):
            have.add("ModifyAllRecords")
        allowed = {r.title() for r in want.objects.get(obj, ())}
        beyond = sorted(have - allowed)
        if obj not in want.objects and have:
            extra_objects.append(obj)
        if beyond:
            extra_rights.append({"object": obj, "beyond": beyond})
    extra_fields = [fp["Field"] for fp in got["fields"]
                    if fp["Field"] not in want.fields and (fp.get("PermissionsRead") or fp.get("PermissionsEdit"))]
    extra_field_edits = [fp["Field"] for fp in got["fields"] if fp["Field"] in want.fields
                         and fp.get("PermissionsEdit") and "edit" not in want.fields[fp["Field"]]]
    profile = next((ps for ps in sets if ps.get("IsOwnedByProfile")), None)
    evidence: dict[str, Any] = {
        "integration_user": user["Username"], "profile": (user.get("Profile") or {}).get("Name"),
        "permission_sets": [_label(ps) for ps in sets if not ps.get("IsOwnedByProfile")],
        "modify_all_data": rights["PermissionsModifyAllData"], "view_all_data": rights["PermissionsViewAllData"],
        "other_rights": {_RIGHT_WORDS[r]: v for r, v in rights.items()
                         if v and r not in ("PermissionsModifyAllData", "PermissionsViewAllData")},
        "extra_objects": sorted(extra_objects), "extra_object_rights": extra_rights,
        "extra_fields": len(extra_fields) + len(extra_field_edits), "extra_fields_sample": sorted(extra_fields)[:20],
        "field_permissions_total": got["fields_total"], "field_permissions_read": len(got["fields"]),
        "api_only": any(ps.get("PermissionsApiUserOnly") for ps in sets),
        "profile_ip_ranges": len(got["ranges"]), "proposal": want.to_dict(),
        "profile_grants_api": bool(profile and profile.get("PermissionsApiEnabled"))}
    broad = rights["PermissionsModifyAllData"] or rights["PermissionsViewAllData"]
    if broad or extra_objects or extra_rights or extra_fields or extra_field_edits or evidence["other_rights"]:
        what = []
        if rights["PermissionsModifyAllData"]:
            what.append(f"Modify All Data ({rights['PermissionsModifyAllData'][0]})")
        elif rights["PermissionsViewAllData"]:
            what.append(f"View All Data ({rights['PermissionsViewAllData'][0]})")
        if extra_objects:
            what.append(f"{len(extra_objects)} object(s) no mapping uses ({', '.join(sorted(extra_objects)[:3])})")
        if extra_rights and not extra_objects:
            what.append("; ".join(f"{'/'.join(e['beyond'])} on {e['object']}" for e in extra_rights[:3]))
        if extra_fields or extra_field_edits:
            what.append(f"{len(extra_fields) + len(extra_field_edits)} field permission(s) beyond the mapped fields")
        if evidence["other_rights"] and not what:
            what.append(", ".join(evidence["other_rights"]))
        return warn("sec.over_privileged",
                    f"{user['Username']} can reach more than its mappings need: {'; '.join(what)}",
                    "a token of this user reaches everything the user can; what no mapping needs only widens what a "
                    "stolen token can read or change",
                    f"deploy the proposed permission set {want.name} (the Security review step writes it), assign it "
                    "to the integration user and remove the broader permission sets and rights", **evidence)
    return ok(f"{user['Username']} reaches what its mappings need and nothing more", **evidence)


# -- API only -----------------------------------------------------------------------------------------------------

@check("sec.api_only", "A dedicated, API-only integration user", STEP, needs=NEEDS,
       reads=(*BASE, SEC_REACH))
def api_only(ctx: CheckContext) -> Outcome:
    user, answer = _integration_user(ctx)
    if answer is not None:
        return answer
    sets = reach(ctx, user)["sets"]
    via = [_label(ps) for ps in sets if ps.get("PermissionsApiUserOnly")]
    me = ctx.userinfo()
    personal = str(me.get("user_id") or "")[:15] == str(user["Id"])[:15]
    evidence = {"integration_user": user["Username"], "api_only": bool(via), "via": via,
                "profile": (user.get("Profile") or {}).get("Name"), "signed_in_user": me.get("preferred_username"),
                "dedicated": not personal}
    if personal:
        return warn("sec.not_api_only", f"the integration runs as {user['Username']}, the admin signed in now",
                    "a person's login also opens the Salesforce UI and their own access to the vendor's token",
                    "create a dedicated integration user with API Only User and authorize the app as it", **evidence)
    if not via:
        return warn("sec.not_api_only", f"{user['Username']} can also log in to the Salesforce UI (no API Only User)",
                    "its password then opens the whole UI, not only the API the integration uses",
                    "give the integration user API Only User (on its profile or a permission set)", **evidence)
    return ok(f"{user['Username']} is a dedicated, API-only user ({via[0]})", **evidence)


# -- login IP ranges on the profile -------------------------------------------------------------------------------

@check("sec.ip_ranges", "Login IP ranges on the integration user's profile", STEP, needs=NEEDS,
       reads=(*BASE, SEC_REACH))
def ip_ranges(ctx: CheckContext) -> Outcome:
    user, answer = _integration_user(ctx)
    if answer is not None:
        return answer
    try:
        ranges = reach(ctx, user)["ranges"]
    except ApiError as exc:
        return _refused(exc, "the profile's login IP ranges", "View Setup and Configuration")
    declared = parse_ranges(settings_of(ctx).egress)
    shown = [{"start": r["StartAddress"], "end": r["EndAddress"], "description": r.get("Description")} for r in ranges]
    profile = (user.get("Profile") or {}).get("Name")
    evidence: dict[str, Any] = {"integration_user": user["Username"], "profile": profile, "ranges": shown,
                                "declared_ranges": list(declared.text)}
    if declared.spans and shown:
        evidence["within_declared"] = all(declared.covers_range(r["start"], r["end"]) for r in shown)
    if not shown:
        return warn("sec.no_ip_ranges", f"the profile {profile} has no login IP ranges: {user['Username']} may log in "
                    "from any address", "a stolen password or token works from anywhere",
                    f"add the vendor's egress ranges as Login IP Ranges on the profile {profile}", **evidence)
    return ok(f"the profile {profile} allows logins only from {len(shown)} range(s) "
              f"({', '.join(r['start'] + '–' + r['end'] for r in shown[:2])})", **evidence)


# -- the connected app: who may use it, refresh tokens --------------------------------------------------------------

def _app_rows(ctx: CheckContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    app_read, access_read = app_reads(ctx)
    return ctx.read(app_read), ctx.read(access_read)


@check("sec.app_access", "Only admin-approved users may use the vendor's app", STEP, needs=NEEDS,
       reads=(*BASE, SEC_APP, SEC_REACH))
def app_access(ctx: CheckContext) -> Outcome:
    try:
        rows, access = _app_rows(ctx)
    except ApiError as exc:
        return _refused(exc, "the connected app's policies", "View Setup and Configuration")
    user, _ = _integration_user(ctx)  # not known for sure: whether it is approved is not said
    sets = {ps["Id"][:15] for ps in reach(ctx, user)["sets"]} if user else set()
    out = []
    for row in rows:
        approved = [a for a in access if a["SetupEntityId"][:15] == row["Id"][:15]]
        names = [_approved_name(a) for a in approved]
        out.append({"app": row["Name"], "admin_approved": bool(row.get("OptionsAllowAdminApprovedUsersOnly")),
                    "approved": names, "high_assurance": bool(row.get("OptionsHasSessionLevelPolicy")),
                    "integration_user_approved": any(a["ParentId"][:15] in sets for a in approved) if user else None})
    evidence = {"apps": out, "integration_user": user["Username"] if user else None}
    if not out:
        return ok(f"{', '.join(apps(ctx))} is not installed in this org: no policy of its own to set", **evidence)
    blocked = [a for a in out if a["admin_approved"] and a["integration_user_approved"] is False]
    if blocked:
        return fail("sec.integration_user_not_approved",
                    f"{blocked[0]['app']} admits only approved users, and none of the integration user's profile or "
                    "permission sets is approved: the next Authorize will be refused (OAUTH_APP_ACCESS_DENIED)",
                    "Permitted Users is 'Admin approved users are pre-authorized' without the integration user's "
                    "permission set", f"add the integration user's permission set to {blocked[0]['app']} (Manage → "
                    "Permission Sets) before reconnecting", **evidence)
    open_ = [a for a in out if not a["admin_approved"]]
    if open_:
        return warn("sec.app_all_users", f"every user of the org may authorize {open_[0]['app']} as themselves",
                    "Permitted Users is 'All users may self-authorize': anyone can grant the vendor's app their "
                    "own access", "set Permitted Users to 'Admin approved users are pre-authorized' and approve only "
                    "the integration user's permission set (Setup → Connected Apps → Manage → Edit Policies)",
                    **evidence)
    return ok(f"{', '.join(a['app'] for a in out)}: only admin-approved users "
              f"({', '.join(out[0]['approved'][:3]) or 'none'})", **evidence)


def _approved_name(a: dict[str, Any]) -> str:
    parent = a.get("Parent") or {}
    if parent.get("IsOwnedByProfile"):
        return f"profile {(parent.get('Profile') or {}).get('Name') or parent.get('Name')}"
    return str(parent.get("Label") or parent.get("Name") or a.get("ParentId"))


@check("sec.refresh_policy", "The vendor's refresh tokens expire when unused", STEP, needs=NEEDS,
       reads=(*BASE, SEC_APP))
def refresh_policy(ctx: CheckContext) -> Outcome:
    try:
        rows, _ = _app_rows(ctx)
    except ApiError as exc:
        return _refused(exc, "the connected app's policies", "View Setup and Configuration")
    out = []
    for row in rows:
        period = row.get("RefreshTokenValidityPeriod")
        policy = "until_revoked" if not period else (
            "expire_if_unused" if row.get("OptionsRefreshTokenValidityMetric") else "expire_after")
        out.append({"app": row["Name"], "policy": policy, "period": period,
                    "unit": "not shown by the API (hours, days or months)"})
    evidence = {"apps": out}
    if not out:
        return ok(f"{', '.join(apps(ctx))} is not installed in this org: no policy of its own to set", **evidence)
    forever = [a for a in out if a["policy"] == "until_revoked"]
    if forever:
        return warn("sec.refresh_never_expires", f"{forever[0]['app']}'s refresh tokens are valid until revoked",
                    "a refresh token taken from the vendor keeps working however long nobody uses it",
                    "set the refresh token policy to 'Expire refresh token if not used for' a period longer than the "
                    "sync's longest gap (Setup → Connected Apps → Manage → Edit Policies)", **evidence)
    fixed = [a for a in out if a["policy"] == "expire_after"]
    if fixed:
        return warn("sec.refresh_fixed_expiry",
                    f"{fixed[0]['app']}'s refresh tokens expire {fixed[0]['period']} units after they were issued, "
                    "used or not", "a fixed lifetime ends the integration's token on a date, however busy it is: "
                    "the next disconnect is scheduled", "choose 'Expire refresh token if not used for' instead",
                    **evidence)
    return ok(f"{', '.join(a['app'] for a in out)}: refresh tokens expire when not used for {out[0]['period']} "
              "(hours, days or months: the API does not show which)", **evidence)


# -- API volume -------------------------------------------------------------------------------------------------

@check("sec.api_volume", "Integration user's API volume, against its own baseline", STEP, needs=NEEDS,
       reads=(*BASE, SEC_ME, SEC_VOLUME))
def api_volume(ctx: CheckContext) -> Outcome:
    user, answer = _integration_user(ctx)
    if answer is not None:
        return answer
    w = window(ctx)
    files = log_files(ctx)
    could_not: dict[str, Any] | None = None
    chosen = chosen_files(ctx, files) if isinstance(files, list) else []
    evidence: dict[str, Any] = {"integration_user": user["Username"], "window": w.to_dict()}
    if isinstance(files, ApiError):
        could_not = {"what": "EventLogFile", "needs": "View Event Log Files (or View All Data)",
                     "why": f"Salesforce answered {files.code}: the signed-in user may not read event log files"}
    elif not chosen:
        days = sorted({str(f["LogDate"])[:10] for f in files})
        could_not = {"what": "EventLogFile", "needs": "Event Monitoring",
                     "why": f"the org keeps API event log files for {len(days)} day(s) here"
                            f"{' (' + ', '.join(days[:3]) + ')' if days else ''}: none shows the incident window "
                            "against the days before it (Salesforce keeps them 30 days where Event Monitoring is "
                            "licensed, a day otherwise)"}
    if chosen:
        per_day: dict[str, int] = {}
        for f in chosen:
            day = str(f["LogDate"])[:10]
            per_day[day] = per_day.get(day, 0) + file_calls(ctx, f, user["Id"])
        return _volume(evidence, "EventLogFile", per_day, w, files_read=len(chosen))
    evidence["could_not_read"] = could_not
    if not my_rights(ctx)["manage_users"]:
        return _cannot_read("the integration user's API volume", "View Event Log Files, or Manage Users for the "
                            "login counts", "neither the event log files nor the integration user's login history "
                            "can be read by the signed-in user", **{k: v for k, v in evidence.items()
                                                                    if k != "could_not_read"})
    counts = {k: ctx.read(r) for k, r in volume_count_reads(ctx, user["Id"]).items()}
    return _volume_from_logins(evidence, counts, w)


def _volume(evidence: dict[str, Any], source: str, per_day: dict[str, int], w: Any, files_read: int) -> Outcome:
    incident = w.incident_since.date().isoformat() if w.incident_since else None
    disconnect = w.disconnect.date().isoformat() if w.disconnect else None
    baseline = [v for d, v in per_day.items() if not incident or d < incident]
    in_incident = {d: v for d, v in per_day.items()
                   if incident and incident <= d and (not disconnect or d <= disconnect)}
    average = round(sum(baseline) / len(baseline)) if baseline else None
    peak = max(in_incident.items(), key=lambda kv: kv[1]) if in_incident else None
    evidence.update(source=source, unit="API calls", days=[{"day": d, "calls": v} for d, v in sorted(per_day.items())],
                    baseline_per_day=average, baseline_days=len(baseline), files_read=files_read,
                    incident_peak={"day": peak[0], "calls": peak[1]} if peak else None)
    shown = f"baseline {average:,}/day over {len(baseline)} day(s)" if average is not None else "no baseline day"
    if peak:
        shown += f"; peak {peak[1]:,} on {peak[0]} in the incident window"
    return ok(f"API calls of the integration user from {source}: {shown}", **evidence)


def _volume_from_logins(evidence: dict[str, Any], counts: dict[str, Any], w: Any) -> Outcome:
    per_day: dict[str, int] = {}
    sample = counts.get("incident_logins") or []
    for row in sample:
        day = str(row.get("LoginTime") or "")[:10]
        per_day[day] = per_day.get(day, 0) + 1
    base_days = max(((w.incident_since or w.disconnect or w.until) - w.since).days, 1)
    average = round(counts.get("baseline", 0) / base_days) if "baseline" in counts else None
    peak = max(per_day.items(), key=lambda kv: kv[1]) if per_day else None
    sampled = "incident" in counts and len(sample) < counts["incident"]
    evidence.update(source="LoginHistory", unit="logins (a token refresh is a login)", baseline_per_day=average,
                    baseline_days=base_days, days=[{"day": d, "calls": v} for d, v in sorted(per_day.items())],
                    incident_total=counts.get("incident"), after_disconnect=counts.get("after"),
                    incident_sampled=sampled, incident_peak={"day": peak[0], "calls": peak[1]} if peak else None)
    shown = f"baseline {average:,} login(s)/day" if average is not None else "no baseline"
    if peak:
        shown += f"; peak {'at least ' if sampled else ''}{peak[1]:,} on {peak[0]} in the incident window"
    if counts.get("after"):
        shown += f"; {counts['after']:,} after the disconnect"
    return ok(f"no event log file shows API calls here; LoginHistory: {shown}", **evidence)


# -- Setup Audit Trail ----------------------------------------------------------------------------------------------

def _names(ctx: CheckContext, user: dict[str, Any] | None) -> list[str]:
    """What a Setup change that touched the integration names: the app, the user, its profile and sets."""
    names = list(apps(ctx))
    if user is not None:
        names += [str(user["Username"]), str((user.get("Profile") or {}).get("Name") or "")]
        try:
            names += [str(ps.get("Label") or "") for ps in reach(ctx, user)["sets"] if not ps.get("IsOwnedByProfile")]
            names += [str(ps.get("Name") or "") for ps in reach(ctx, user)["sets"] if not ps.get("IsOwnedByProfile")]
        except ApiError:
            pass
    return sorted({n for n in names if len(n) > 2}, key=str.lower)


def _touches(display: str, names: Iterable[str]) -> list[str]:
    text = display.lower()
    return [n for n in names if n.lower() in text]


@check("sec.audit_trail", "Setup changes that touched the integration in the window", STEP, needs=NEEDS,
       reads=(*BASE, SEC_REACH, SEC_AUDIT))
def audit_trail(ctx: CheckContext) -> Outcome:
    w = window(ctx)
    try:
        rows = ctx.read(audit_reads(ctx)[0])
        total = audit_total(ctx, rows)
    except ApiError as exc:
        return _refused(exc, "the Setup Audit Trail", "View Setup and Configuration")
    user, _ = _integration_user(ctx)
    names = _names(ctx, user)
    me = str(ctx.userinfo().get("user_id") or "")[:15]
    touching = []
    for r in rows:
        hits = _touches(str(r.get("Display") or ""), names)
        if hits:
            touching.append({"at": _iso(r.get("CreatedDate")), "by": (r.get("CreatedBy") or {}).get("Username"),
                             "action": r.get("Action"), "section": r.get("Section"), "display": r.get("Display"),
                             "delegate": r.get("DelegateUser"), "touches": hits,
                             "yours": str(r.get("CreatedById") or "")[:15] == me})
    others = [t for t in touching if not t["yours"]]
    evidence = {"window": w.to_dict(), "watched": names, "total": total, "read": len(rows),
                "truncated": total > len(rows), "touching": touching[:40], "by_others": len(others),
                "yours": len(touching) - len(others)}
    if others:
        t = others[0]
        return warn("sec.setup_changes",
                    f"{len(others)} Setup change(s) in the window touched the integration, the latest on {t['at']} "
                    f"by {t['by']}: {t['display']}",
                    "changes to the app, the integration user, its profile or permission sets change what the "
                    "vendor's token can do", "confirm each change with whoever made it (Setup → View Setup Audit "
                    "Trail)", **evidence)
    mine = f" ({len(touching)} by you, shown)" if touching else ""
    return ok(f"no Setup change by others touched the integration since {w.since:%Y-%m-%d}{mine}", **evidence)
