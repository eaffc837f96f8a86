"""What a security review reads about one integration, and the reads declared for the run's plan.

Every read is bounded, whatever the size of the org: aggregates (logins grouped by source address, COUNT()s),
samples with a count beside them (OauthToken: 500 rows of the count; SetupAuditTrail: the 500 newest of the
window; FieldPermissions: 2,000 of the count) and at most ``MAX_LOG_FILES`` event log files, one per day. The
first wave carries what needs only the sign-in, the snapshot and the profile (the signed-in user's rights, the
integration user's permission sets and reach, the app and who may use it, the tokens, the event log files'
list); the second what needs the window and the first wave (logins, the volume, the audit trail).

Objects, fields and the permissions each needs: docs/security-objects.md.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sfwizard.checks.reads import Reads
from sfwizard.checks.security_settings import settings_of, window
from sfwizard.checks.soql import (
    _assigned_to,  # the user's permission sets as a semi-join on the username
    psets_soql,
)
from sfwizard.checks.soql import tokens_soql as app_tokens_soql
from sfwizard.integrations.salesforce import ApiError, Read, in_clause, soql_quote
from sfwizard.sftime import format_datetime, parse_datetime

if TYPE_CHECKING:
    from sfwizard.checks.context import CheckContext

TOKENS_READ = 500  # an OauthToken query answers up to 500 rows (queryMore up to 2,500): count first
AUDIT_READ = 500
FIELD_PERMS_READ = 2000
LOGIN_GROUPS = 200
MAX_LOG_FILES = 12  # daily event log files read at most: the incident window's days first, then the baseline's
LOG_TYPES = ("ApiTotalUsage", "RestApi", "API", "BulkApi")
RIGHTS = ("PermissionsManageUsers", "PermissionsViewSetup", "PermissionsCustomizeApplication",
          "PermissionsViewEventLogFiles", "PermissionsViewAllData", "PermissionsModifyAllData")


def apps(ctx: CheckContext) -> tuple[str, ...]:
    return settings_of(ctx).vendor_apps or (ctx.profile.connected_app,)


def _when(dt: datetime) -> str:
    return format_datetime(dt.astimezone(timezone.utc))


# -- the signed-in user's rights ----------------------------------------------------------------------------------

def my_rights_soql(ctx: CheckContext) -> str:
    """The signed-in user's permission sets: the same read ``before.salesforce_admin`` makes (one read for both)."""
    return psets_soql(str(ctx.userinfo()["preferred_username"]))


def my_rights(ctx: CheckContext) -> dict[str, bool]:
    """What the signed-in user may read here: Manage Users (everyone's logins), View Setup and Configuration,
    Customize Application (everyone's tokens), View Event Log Files, View All Data."""
    def find() -> dict[str, bool]:
        sets = ctx.query(my_rights_soql(ctx))
        has = {r: any(ps.get(r) for ps in sets) for r in RIGHTS}
        view_all = has["PermissionsViewAllData"] or has["PermissionsModifyAllData"]
        return {"manage_users": has["PermissionsManageUsers"],
                "view_setup": has["PermissionsViewSetup"] or has["PermissionsModifyAllData"],
                "customize_application": has["PermissionsCustomizeApplication"],
                "view_event_log_files": has["PermissionsViewEventLogFiles"] or view_all, "view_all": view_all}
    return ctx.memo("security:my_rights", find)


def _manage_users_or_unknown(ctx: CheckContext) -> bool:
    """Manage Users, for building a read plan: when the rights' read is not in yet (a wave builds its reads without
    waiting for its own answers), assume it — a wrong guess only costs the check a read of its own."""
    from sfwizard.checks.batching import key_of

    known = ctx.known("security:my_rights") or (
        ctx.known("userinfo") and ctx.known(key_of(Read("query", my_rights_soql(ctx)))))
    return my_rights(ctx)["manage_users"] if known else True


def _me_first(ctx: CheckContext) -> list[Any]:
    known = ctx.known("userinfo") and ctx.userinfo().get("preferred_username")
    return [Read("query", my_rights_soql(ctx))] if known else [ctx.userinfo]


def _me_then(ctx: CheckContext) -> list[Any]:
    known = ctx.known("userinfo") and ctx.userinfo().get("preferred_username")
    return [Read("query", my_rights_soql(ctx))] if known else []


# -- the integration user's reach -----------------------------------------------------------------------------------

def _user_sets_soql(username: str) -> str:
    """The integration user's permission sets: the same read the permission checks make (one read for all)."""
    return psets_soql(username)


def _objects_soql(username: str) -> str:
    return ("SELECT SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete, "
            "PermissionsViewAllRecords, PermissionsModifyAllRecords FROM ObjectPermissions WHERE ParentId IN "
            f"{_assigned_to(username)} ORDER BY SobjectType LIMIT 500")


def _fields_soql(username: str) -> str:
    return (f"SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId IN "
            f"{_assigned_to(username)} ORDER BY Field LIMIT {FIELD_PERMS_READ}")


def _fields_count_soql(username: str) -> str:
    return f"SELECT COUNT() FROM FieldPermissions WHERE ParentId IN {_assigned_to(username)}"


def _ranges_soql(username: str) -> str:
    return ("SELECT StartAddress, EndAddress, Description, ProfileId FROM LoginIpRange WHERE ProfileId IN "
            f"(SELECT ProfileId FROM User WHERE Username = {soql_quote(username.lower())})")


def reach_reads(username: str) -> list[Read]:
    return [Read("query", _user_sets_soql(username)), Read("query", _objects_soql(username)),
            Read("query", _fields_soql(username)), Read("query", _ranges_soql(username))]


def _full(ctx: CheckContext, read: Read, size: int) -> bool:
    """Whether a bounded read came back full (then its COUNT() says how many there are in all)."""
    from sfwizard.checks.batching import key_of

    if not ctx.known(key_of(read)):
        return False
    rows = ctx.read(read)
    return isinstance(rows, list) and len(rows) >= size


def reach(ctx: CheckContext, user: dict[str, Any]) -> dict[str, Any]:
    """The integration user's permission sets (the profile's own among them), every object permission, field
    permissions (the first 2,000, counted beyond that) and its profile's login IP ranges."""
    def fetch() -> dict[str, Any]:
        name = str(user["Username"])
        reads = reach_reads(name)
        ctx.prefetch(reads)
        fields = ctx.read(reads[2])
        total = ctx.count(_fields_count_soql(name)) if len(fields) >= FIELD_PERMS_READ else len(fields)
        return {"sets": ctx.read(reads[0]), "objects": ctx.read(reads[1]), "fields": fields, "fields_total": total,
                "ranges": ctx.read(reads[3])}
    return ctx.memo(f"security:reach:{user['Id']}", fetch)


def _reach_named(ctx: CheckContext) -> list[Any]:
    soql = ctx.integration_user_soql()
    return reach_reads(ctx.snapshot.integration_user.username) if soql and ctx.snapshot else []


def _reach_found(ctx: CheckContext) -> list[Any]:
    user = ctx.integration_user()
    if user is None:
        return []
    name = str(user["Username"])
    reads = reach_reads(name)
    full = [Read("count", _fields_count_soql(name))] if _full(ctx, reads[2], FIELD_PERMS_READ) else []
    return reads + full


# -- the app, who may use it, its tokens ---------------------------------------------------------------------------

def app_soql(ctx: CheckContext) -> str:
    return ("SELECT Id, Name, OptionsAllowAdminApprovedUsersOnly, OptionsRefreshTokenValidityMetric, "
            "RefreshTokenValidityPeriod, OptionsHasSessionLevelPolicy FROM ConnectedApplication WHERE Name IN "
            f"{in_clause(apps(ctx))}")


def app_access_soql(ctx: CheckContext) -> str:
    return ("SELECT ParentId, Parent.Name, Parent.Label, Parent.IsOwnedByProfile, Parent.Profile.Name, SetupEntityId "
            "FROM SetupEntityAccess WHERE SetupEntityType = 'ConnectedApplication' AND SetupEntityId IN "
            f"(SELECT Id FROM ConnectedApplication WHERE Name IN {in_clause(apps(ctx))})")


def tokens_soql(ctx: CheckContext) -> str:
    """Every token of the vendor's apps (its one app: the same read ``token.fresh`` makes)."""
    names = apps(ctx)
    if len(names) == 1:
        return app_tokens_soql(names[0])
    return ("SELECT Id, AppName, UserId, User.Username, User.Name, CreatedDate, LastUsedDate, UseCount FROM OauthToken "
            f"WHERE AppName IN {in_clause(names)} ORDER BY LastUsedDate DESC NULLS LAST LIMIT {TOKENS_READ}")


def tokens_count_soql(ctx: CheckContext) -> str:
    return f"SELECT COUNT() FROM OauthToken WHERE AppName IN {in_clause(apps(ctx))}"


def app_reads(ctx: CheckContext) -> list[Read]:
    return [Read("query", app_soql(ctx)), Read("query", app_access_soql(ctx))]


def token_reads(ctx: CheckContext) -> list[Read]:
    return [Read("query", tokens_soql(ctx))]


def tokens_total(ctx: CheckContext, rows: list[dict[str, Any]]) -> int:
    """How many tokens in all: the rows read, or — when the 500 came back full — the COUNT()."""
    return ctx.count(tokens_count_soql(ctx)) if len(rows) >= TOKENS_READ else len(rows)


def _tokens_then(ctx: CheckContext) -> list[Any]:
    return [Read("count", tokens_count_soql(ctx))] if _full(ctx, token_reads(ctx)[0], TOKENS_READ) else []


# -- logins ---------------------------------------------------------------------------------------------------

def logins_soql(ctx: CheckContext, user_id: str, geo: bool, since: datetime, until: datetime | None = None,
                grouping: str = "SourceIp, Status, LoginType, Application") -> str:
    group = grouping + (", LoginGeo.Country, LoginGeo.City" if geo else "")
    upto = f" AND LoginTime <= {_when(until)}" if until else ""
    return (f"SELECT {group}, COUNT(Id) logins, MIN(LoginTime) firstSeen, MAX(LoginTime) lastSeen FROM LoginHistory "
            f"WHERE UserId = {soql_quote(user_id)} AND LoginTime >= {_when(since)}{upto} GROUP BY {group} "
            f"ORDER BY COUNT(Id) DESC LIMIT {LOGIN_GROUPS}")


def login_reads(ctx: CheckContext, user: dict[str, Any], geo: bool | None = None) -> dict[str, Read]:
    w = window(ctx)
    if geo is None:
        geo = my_rights(ctx)["manage_users"]  # LoginHistory.LoginGeoId needs Manage Users
    return {"grouped": Read("query", logins_soql(ctx, user["Id"], geo, w.since, w.until))}


def _logins_then(ctx: CheckContext) -> list[Any]:
    user = ctx.integration_user()
    return list(login_reads(ctx, user, _manage_users_or_unknown(ctx)).values()) if user else []


# -- API volume -------------------------------------------------------------------------------------------------

def log_files_soql() -> str:
    """The daily API-family event log files Salesforce keeps (30 days where Event Monitoring is licensed)."""
    types = in_clause(LOG_TYPES)
    return (f"SELECT Id, EventType, LogDate, LogFileLength FROM EventLogFile WHERE Interval = 'Daily' AND "
            f"EventType IN {types} AND LogDate = LAST_N_DAYS:31 ORDER BY LogDate DESC LIMIT 200")


def _day(value: Any) -> datetime:
    dt = parse_datetime(str(value)) if not isinstance(value, datetime) else value
    return dt.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def chosen_files(ctx: CheckContext, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One file per day in the window (ApiTotalUsage, which counts every API call, where a day has it; else the
    REST, SOAP and Bulk files together), the incident window's days first, then the baseline's newest, up to
    ``MAX_LOG_FILES`` — or none when the files cover no day of the incident window or none before it (an org
    without Event Monitoring keeps a day): LoginHistory shows the volume then."""
    w = window(ctx)
    by_day: dict[datetime, list[dict[str, Any]]] = {}
    for f in files:
        day = _day(f["LogDate"])
        if _day(w.since) <= day <= w.until:
            by_day.setdefault(day, []).append(f)
    for day, fs in by_day.items():
        total = [f for f in fs if f["EventType"] == "ApiTotalUsage"]
        by_day[day] = total or fs
    incident_from = _day(w.incident_since) if w.incident_since else None
    first = sorted((d for d in by_day if incident_from and d >= incident_from), reverse=True)
    rest = sorted((d for d in by_day if d not in first), reverse=True)
    if (incident_from and not first) or not rest:
        return []  # no file shows the incident window, or none the days before it: no baseline to show it against
    out: list[dict[str, Any]] = []
    for day in first + rest:
        if len(out) + len(by_day[day]) > MAX_LOG_FILES:
            break
        out += by_day[day]
    return out


def file_calls(ctx: CheckContext, f: dict[str, Any], user_id: str) -> int:
    """The integration user's calls in one event log file (read as it streams in: the file is never held)."""
    def count() -> int:
        path = f"/services/data/v{ctx.salesforce.version}/sobjects/EventLogFile/{f['Id']}/LogFile"
        lines = ctx.salesforce.lines(path)
        reader = csv.reader(lines)
        header = next(reader, [])
        try:
            column = header.index("USER_ID")
        except ValueError:
            return 0
        mine = user_id[:15]
        return sum(1 for row in reader if len(row) > column and row[column][:15] == mine)
    return ctx.memo(f"security:log_file:{f['Id']}", count)


LOGIN_SAMPLE = 2000  # the incident window's logins read to count them per day (the newest, when there are more)


def volume_count_reads(ctx: CheckContext, user_id: str) -> dict[str, Read]:
    """What LoginHistory shows of the volume when no event log file does (a login per token refresh): COUNT()s of
    the baseline, the incident window and after the disconnect, and the incident window's logins (up to
    ``LOGIN_SAMPLE``, newest first) to count them per day."""
    w = window(ctx)
    user = soql_quote(user_id)
    count = f"SELECT COUNT() FROM LoginHistory WHERE UserId = {user} AND LoginTime >= "
    out: dict[str, Read] = {}
    base_end = w.incident_since or w.disconnect or w.until
    if base_end > w.since:
        out["baseline"] = Read("count", f"{count}{_when(w.since)} AND LoginTime < {_when(base_end)}")
    if w.incident_since and w.disconnect and w.incident_since < w.disconnect:
        span = f"{_when(w.incident_since)} AND LoginTime < {_when(w.disconnect)}"
        out["incident"] = Read("count", f"{count}{span}")
        out["incident_logins"] = Read("query", f"SELECT LoginTime FROM LoginHistory WHERE UserId = {user} AND "
                                               f"LoginTime >= {span} ORDER BY LoginTime DESC LIMIT {LOGIN_SAMPLE}")
    if w.disconnect and w.disconnect < w.until:
        out["after"] = Read("count", f"{count}{_when(w.disconnect)} AND LoginTime <= {_when(w.until)}")
    return out


def log_files(ctx: CheckContext) -> list[dict[str, Any]] | ApiError:
    """The event log files' list, or the error that says why it could not be read."""
    def fetch() -> list[dict[str, Any]] | ApiError:
        try:
            return ctx.query(log_files_soql())
        except ApiError as exc:
            return exc
    return ctx.memo("security:log_files", fetch)


def _volume_then(ctx: CheckContext) -> list[Any]:
    user = ctx.integration_user()
    if user is None:
        return []
    files = log_files(ctx)
    chosen = chosen_files(ctx, files) if isinstance(files, list) else []
    if chosen:
        return [lambda f=f: file_calls(ctx, f, user["Id"]) for f in chosen]
    return list(volume_count_reads(ctx, user["Id"]).values()) if _manage_users_or_unknown(ctx) else []


# -- Setup Audit Trail ---------------------------------------------------------------------------------------------

def audit_soql(ctx: CheckContext) -> str:
    w = window(ctx)
    return ("SELECT Action, Section, Display, CreatedDate, CreatedById, CreatedBy.Username, DelegateUser FROM "
            f"SetupAuditTrail WHERE CreatedDate >= {_when(w.since)} ORDER BY CreatedDate DESC LIMIT {AUDIT_READ}")


def audit_count_soql(ctx: CheckContext) -> str:
    return f"SELECT COUNT() FROM SetupAuditTrail WHERE CreatedDate >= {_when(window(ctx).since)}"


def audit_reads(ctx: CheckContext) -> list[Read]:
    return [Read("query", audit_soql(ctx))]


def audit_total(ctx: CheckContext, rows: list[dict[str, Any]]) -> int:
    return ctx.count(audit_count_soql(ctx)) if len(rows) >= AUDIT_READ else len(rows)


# -- the reads, declared ---------------------------------------------------------------------------------------------

SEC_ME = Reads("security_my_rights", "salesforce", first=_me_first, then=_me_then)
SEC_REACH = Reads("security_reach", "salesforce", first=_reach_named, then=_reach_found)
SEC_APP = Reads("security_app", "salesforce", first=app_reads)
SEC_TOKENS = Reads("security_tokens", "salesforce", first=token_reads, then=_tokens_then)
SEC_LOGINS = Reads("security_logins", "salesforce", then=_logins_then)
SEC_VOLUME = Reads("security_volume", "salesforce", first=lambda ctx: [Read("query", log_files_soql())],
                   then=_volume_then)
SEC_AUDIT = Reads("security_audit", "salesforce", then=audit_reads)


def _describes(ctx: CheckContext) -> list[Any]:
    from sfwizard.checks.security_proposal import needed_objects

    return [Read("describe", o) for o in needed_objects(ctx)]


SEC_DESCRIBES = Reads("security_describes", "salesforce", first=_describes)
