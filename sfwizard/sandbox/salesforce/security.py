"""What an org shows about one integration after a security revocation, served as Salesforce serves it.

The objects (``extend_standard``): LoginHistory with its LoginGeo, OauthToken with its DeleteToken,
ConnectedApplication and who may use it (SetupEntityAccess), a profile's login IP ranges (LoginIpRange),
SetupAuditTrail, EventLogFile with its CSV LogFile blob, and the PermissionSet/Profile rights a review reads.
Their "Special Access Rules" are registered in ``store.SPECIAL_ACCESS`` (who may query them, which rows each
user sees, fields that need a permission of their own), and the login server asks ``authorize_refusal`` /
``grant_refusal`` before it lets a user through an app: admin-approved users only, a refresh token's policy,
the profile's login IP ranges. Every field, permission, retention and error text, with the page it comes
from, is in docs/security-objects.md; what no public page confirmed is marked there as modelled.

Callers hold ``state.lock``. Nothing here logs a token or a DeleteToken.
"""

from __future__ import annotations

import csv
import hmac
import io
import ipaddress
import logging
import re
import secrets
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.http import Request, Response, sf_error
from sfwizard.sandbox.salesforce.schema import F, _obj
from sfwizard.sandbox.salesforce.store import (
    SPECIAL_ACCESS,
    TABLE_FACTORIES,
    Access,
    ConnectedApp,
    Org,
    Record,
    SObjectDef,
    SpecialAccess,
    Table,
    system_fields,
)
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")

# Key prefixes: EventLogFile's (0AT) is in Salesforce's own examples; the others are modelled.
PREFIXES = {"LoginGeo": "04F", "SetupAuditTrail": "0Ym", "EventLogFile": "0AT", "LoginIpRange": "0IP",
            "SetupEntityAccess": "0J0", "ConnectedApplication": "0H4"}
# The user permissions a review reads beside the ones schema.PERMISSION_FLAGS already holds.
SECURITY_FLAGS = ("PermissionsApiUserOnly", "PermissionsCustomizeApplication", "PermissionsViewEventLogFiles")
NOT_APPROVED = ("OAUTH_APP_ACCESS_DENIED", "user is not admin approved to access this app")
INVALID_APP_ACCESS = {"error": "invalid_app_access", "error_description": NOT_APPROVED[1]}
IP_RESTRICTED = {"error": "invalid_grant", "error_description": "ip restricted"}
EXPIRED_REFRESH = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
RESTRICTED_IP_STATUS = "Restricted IP"  # LoginHistory.Status for a login refused by the profile's IP ranges
# How long EventLogFile keeps files: 30 days where Event Monitoring is licensed, 1 day in Developer Edition
# (REST API guide); an unlicensed production org's free event types are modelled as 1 day too (not published).
RETENTION_DAYS = {"licensed": 30, "developer": 1, "none": 1}
FREE_EVENT_TYPES = ("ApiTotalUsage", "Login", "Logout")
LICENSED_EVENT_TYPES = ("API", "RestApi", "BulkApi", "ApiTotalUsage", "Login", "Logout")
REFRESH_UNITS = {"hours": timedelta(hours=1), "days": timedelta(days=1), "months": timedelta(days=30)}


# -- the objects --------------------------------------------------------------------------------------------

def security_objects() -> list[SObjectDef]:
    """Objects the standard set lacks (read-only through the API here; the admin pages change them)."""
    def obj(name: str, label: str, fields: list[Any], **kw: Any) -> SObjectDef:
        return _obj(name, label, fields, setup=True, owner=False, writable=False, prefix=PREFIXES[name], **kw)

    return [
        obj("LoginGeo", "Login Geo Data", [
            F("City", "string", 255, ro=True), F("Country", "string", 255, ro=True),
            F("CountryIso", "string", 3, ro=True), F("Latitude", "double", ro=True),
            F("Longitude", "double", ro=True), F("LoginTime", "datetime", ro=True, nillable=False),
            F("PostalCode", "string", 20, ro=True), F("Subdivision", "string", 255, ro=True),
        ]),
        obj("ConnectedApplication", "Connected App", [
            F("Name", "string", 80, ro=True, nillable=False, name_field=True),
            F("OptionsAllowAdminApprovedUsersOnly", "boolean", ro=True),
            F("OptionsRefreshTokenValidityMetric", "boolean", ro=True),
            F("RefreshTokenValidityPeriod", "int", ro=True),
            F("OptionsHasSessionLevelPolicy", "boolean", ro=True), F("OptionsIsInternal", "boolean", ro=True),
            F("OptionsFullContentPushNotifications", "boolean", ro=True),
            F("StartUrl", "url", ro=True), F("MobileStartUrl", "url", ro=True),
            F("PinLength", "picklist", ro=True, picklist=("4", "5", "6", "7", "8")),
            F("MobileSessionTimeout", "picklist", ro=True),
        ]),
        obj("SetupAuditTrail", "Setup Audit Trail", [
            F("Action", "string", 80, ro=True, nillable=False), F("Section", "string", 80, ro=True),
            F("Display", "string", 1000, ro=True), F("DelegateUser", "string", 80, ro=True),
            F("CreatedByContext", "string", 80, ro=True), F("CreatedByIssuer", "string", 80, ro=True),
        ]),
        obj("EventLogFile", "Event Log File", [
            F("EventType", "picklist", ro=True, nillable=False, picklist=LICENSED_EVENT_TYPES),
            F("LogDate", "datetime", ro=True, nillable=False),
            F("Interval", "picklist", ro=True, picklist=("Daily", "Hourly")),
            F("LogFile", "base64", ro=True, nillable=False), F("LogFileContentType", "string", 20, ro=True),
            F("LogFileFieldNames", "string", 32000, ro=True), F("LogFileFieldTypes", "string", 32000, ro=True),
            F("LogFileLength", "double", ro=True, nillable=False), F("Sequence", "int", ro=True, nillable=False),
            F("ApiVersion", "double", ro=True, nillable=False),
        ]),
        obj("LoginIpRange", "Login IP Range", [
            F("ProfileId", "reference", ref="Profile", rel="Profile", ro=True, nillable=False),
            F("StartAddress", "string", 39, ro=True, nillable=False),
            F("EndAddress", "string", 39, ro=True, nillable=False), F("Description", "string", 255, ro=True),
        ]),
        obj("SetupEntityAccess", "Setup Entity Access", [
            F("ParentId", "reference", ref="PermissionSet", rel="Parent", ro=True, nillable=False),
            F("SetupEntityId", "reference", ref=("ApexClass", "ConnectedApplication"), ro=True, nillable=False),
            F("SetupEntityType", "picklist", ro=True,
              picklist=("ApexClass", "ApexPage", "ConnectedApplication", "CustomPermission", "TabSet")),
        ]),
    ]


def extend_standard(objects: list[SObjectDef]) -> list[SObjectDef]:
    """The standard objects with the fields a review reads, and the security objects after them."""
    by_name = {o.name: o for o in objects}
    login = by_name.get("LoginHistory")
    if login is not None:
        for f in (F("LoginGeoId", "reference", ref="LoginGeo", rel="LoginGeo", ro=True),
                  F("CountryIso", "string", 3, ro=True), F("ApiVersion", "string", 32, ro=True),
                  F("ClientVersion", "string", 64, ro=True), F("ForwardedForIp", "string", 255, ro=True),
                  F("LoginSubType", "picklist", ro=True), F("TlsProtocol", "picklist", ro=True)):
            login.add_field(f)
        # LoginHistory's UserId is a lookup to User (User.Username in a query reaches through it)
        user_id = login.fields["UserId"]
        login.add_field(replace(user_id, reference_to=("User",), relationship_name="User"))
    token = by_name.get("OauthToken")
    if token is not None:
        token.add_field(F("DeleteToken", "string", 255, ro=True))
    for name in ("Profile", "PermissionSet"):
        s = by_name.get(name)
        if s is not None:
            for flag in SECURITY_FLAGS:
                s.add_field(F(flag, "boolean", ro=name == "Profile"))
    return [*objects, *security_objects()]


class OauthTokenTable(Table):
    """OauthToken rows, each with the DeleteToken the revoke endpoint takes to delete it."""

    def insert(self, record: Record) -> Record:
        record.setdefault("DeleteToken", None)
        if not record["DeleteToken"]:
            record["DeleteToken"] = "DT" + secrets.token_urlsafe(40)
        return super().insert(record)


TABLE_FACTORIES["OauthToken"] = OauthTokenTable


# -- who sees what ("Special Access Rules") -----------------------------------------------------------------------

def _own(field_name: str) -> Callable[[str], Callable[[Record], bool]]:
    def rows(user_id: str) -> Callable[[Record], bool]:
        mine = user_id[:15]
        return lambda r: (r.get(field_name) or "")[:15] == mine
    return rows


def _customize(access: Access) -> bool:
    # An org's administrators (Modify All Data here) hold Customize Application with it.
    return access.customize_application or access.modify_all


def _login_rows(access: Access, user_id: str) -> Callable[[Record], bool] | None:
    return None if access.manage_users else _own("UserId")(user_id)


def _token_rows(access: Access, user_id: str) -> Callable[[Record], bool] | None:
    return None if _customize(access) else _own("UserId")(user_id)


SPECIAL_ACCESS.update({
    # Manage Users (or Monitor Login History) sees everyone's logins; any user their own (API 37.0+).
    "LoginHistory": SpecialAccess(read=lambda a: True, rows=_login_rows,
                                  fields={"LoginGeoId": lambda a: a.manage_users}),
    "LoginGeo": SpecialAccess(read=lambda a: a.manage_users),
    # Customize Application sees every user's tokens; others only their own.
    "OauthToken": SpecialAccess(read=lambda a: True, rows=_token_rows),
    "SetupAuditTrail": SpecialAccess(read=lambda a: a.view_setup),
    "SetupEntityAccess": SpecialAccess(read=lambda a: a.view_setup),
    "ConnectedApplication": SpecialAccess(read=lambda a: a.view_setup or _customize(a)),
    "LoginIpRange": SpecialAccess(read=lambda a: a.view_setup or a.manage_users),
    "EventLogFile": SpecialAccess(read=lambda a: a.view_event_log_files or a.view_all),
})


# -- what the sandbox keeps beside the records ------------------------------------------------------------------------

@dataclass
class LogFile:
    """What one EventLogFile's CSV holds: calls per user on one day, served when its LogFile is fetched."""

    event_type: str
    day: datetime  # midnight UTC
    org_id: str
    calls: dict[str, int]  # user Id → calls that day
    client_ip: str = "34.201.12.7"


@dataclass
class SecurityState:
    event_monitoring: dict[str, str] = field(default_factory=dict)  # org key → licensed | none | developer
    refresh_units: dict[str, str] = field(default_factory=dict)  # ConnectedApplication Id → hours|days|months
    refresh_last_used: dict[str, datetime] = field(default_factory=dict)  # refresh token → its last use
    log_files: dict[str, LogFile] = field(default_factory=dict)  # EventLogFile Id → its contents
    # What the scenario's admin declared as the vendor's egress ranges (the wizard asks a person for them).
    declared_egress: dict[str, Any] = field(default_factory=dict)


_STATES: weakref.WeakKeyDictionary[SandboxState, SecurityState] = weakref.WeakKeyDictionary()


def security_state(state: SandboxState) -> SecurityState:
    s = _STATES.get(state)
    if s is None:
        s = _STATES[state] = SecurityState()
    return s


# -- connected apps: the ConnectedApplication row and who may use it ------------------------------------------------

def app_row(org: Org, app_name: str) -> Record | None:
    for row in org.table("ConnectedApplication").scan():
        if row["Name"] == app_name:
            return row
    return None


def ensure_app_row(state: SandboxState, org: Org, app: ConnectedApp) -> Record:
    """The app's ConnectedApplication row in this org (made with Salesforce's defaults: every user may
    self-authorize, refresh tokens valid until revoked)."""
    row = app_row(org, app.name)
    if row is None:
        now = state.loaded_at - timedelta(days=400)
        row = org.table("ConnectedApplication").insert(system_fields({
            "Name": app.name, "OptionsAllowAdminApprovedUsersOnly": False,
            "OptionsRefreshTokenValidityMetric": False, "RefreshTokenValidityPeriod": None,
            "OptionsHasSessionLevelPolicy": False, "OptionsIsInternal": False,
            "OptionsFullContentPushNotifications": False, "StartUrl": None, "MobileStartUrl": None,
            "PinLength": None, "MobileSessionTimeout": None}, now))
    return row


def set_refresh_policy(state: SandboxState, row: Record, policy: str, period: int | None, unit: str) -> None:
    """The app's refresh token policy, as its ConnectedApplication row shows it: until revoked (no period), a
    period from issue, or a period unused (``OptionsRefreshTokenValidityMetric``). The unit is not on the row."""
    row["RefreshTokenValidityPeriod"] = None if policy == "until_revoked" else int(period or 0)
    row["OptionsRefreshTokenValidityMetric"] = policy == "expire_if_unused"
    security_state(state).refresh_units[row["Id"]] = unit


def permission_set_ids(org: Org, user: Record) -> set[str]:
    """The user's permission sets, the profile's own among them."""
    out = {a["PermissionSetId"] for a in org.table("PermissionSetAssignment").scan() if a["AssigneeId"] == user["Id"]}
    out |= {ps["Id"] for ps in org.table("PermissionSet").scan()
            if ps.get("IsOwnedByProfile") and ps.get("ProfileId") == user.get("ProfileId")}
    return out


def approved(org: Org, user: Record, row: Record) -> bool:
    """An admin approved this user for the app: one of the user's permission sets (or the profile's own)
    has the app in its SetupEntityAccess."""
    mine = permission_set_ids(org, user)
    return any(sea["ParentId"] in mine and sea["SetupEntityId"] == row["Id"]
               for sea in org.table("SetupEntityAccess").scan())


def _admin_gate(org: Org, user: Record | None, app: ConnectedApp) -> bool:
    """True when the app lets only admin-approved users in and this user is not one of them."""
    row = app_row(org, app.name)
    return bool(row and row.get("OptionsAllowAdminApprovedUsersOnly") and user is not None
                and not approved(org, user, row))


def authorize_refusal(state: SandboxState, org: Org, user_id: str, app: ConnectedApp) -> tuple[str, str] | None:
    """The error the authorize endpoint redirects with when the app refuses this user, or None."""
    if _admin_gate(org, org.user(user_id), app):
        log.info("authorization refused: %s is not admin approved for %s", user_id, app.name)
        return NOT_APPROVED
    return None


def grant_refusal(state: SandboxState, org: Org, user_id: str, app: ConnectedApp, client_ip: str,
                  refresh_token: str | None = None, issued_at: datetime | None = None) -> tuple[int, dict] | None:
    """What the token endpoint answers instead of a token for this user and app, or None to let it through.

    In this order: an app that admits only admin-approved users; a refresh token its app's policy has
    expired; a client outside the login IP ranges of the user's profile (LoginHistory records that one)."""
    user = org.user(user_id)
    if _admin_gate(org, user, app):
        return 400, dict(INVALID_APP_ACCESS)
    if refresh_token is not None and _refresh_expired(state, org, app, refresh_token, issued_at):
        return 400, dict(EXPIRED_REFRESH)
    if user is not None and not ip_allowed(org, user, client_ip):
        record_login(state, org, user_id, RESTRICTED_IP_STATUS, app.name, client_ip)
        return 400, dict(IP_RESTRICTED)
    return None


def note_refresh_use(state: SandboxState, refresh_token: str) -> None:
    security_state(state).refresh_last_used[refresh_token] = state.now()


def _refresh_expired(state: SandboxState, org: Org, app: ConnectedApp, token: str, issued_at: datetime | None) -> bool:
    row = app_row(org, app.name)
    period = row.get("RefreshTokenValidityPeriod") if row else None
    if row is None or not period:
        return False  # valid until revoked
    unit = REFRESH_UNITS[security_state(state).refresh_units.get(row["Id"], "days")]
    since = issued_at or state.now()
    if row.get("OptionsRefreshTokenValidityMetric"):  # counts from the token's last use
        since = security_state(state).refresh_last_used.get(token, since)
    return state.now() >= since + unit * int(period)


# -- login IP ranges ---------------------------------------------------------------------------------------------

def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def in_range(ip: str, start: str, end: str) -> bool:
    a, lo, hi = _address(ip), _address(start), _address(end)
    return a is not None and lo is not None and hi is not None and a.version == lo.version == hi.version \
        and lo <= a <= hi  # type: ignore[operator]


def profile_ranges(org: Org, profile_id: str) -> list[Record]:
    return [r for r in org.table("LoginIpRange").scan() if r["ProfileId"] == profile_id]


def ip_allowed(org: Org, user: Record, ip: str) -> bool:
    """No ranges on the profile: any address; otherwise inside one of them."""
    ranges = profile_ranges(org, user.get("ProfileId") or "")
    return not ranges or any(in_range(ip, r["StartAddress"], r["EndAddress"]) for r in ranges)


# -- LoginHistory and LoginGeo ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Geo:
    country: str | None = None
    country_iso: str | None = None
    city: str | None = None
    subdivision: str | None = None
    latitude: float | None = None
    longitude: float | None = None


# Where the scenarios' integration logins come from (documentation addresses and the builder's own).
KNOWN_NETWORKS: dict[str, Geo] = {
    "34.201.12.7": Geo("United States", "US", "Ashburn", "Virginia", 39.04, -77.49),
}


def geo_row(state: SandboxState, org: Org, geo: Geo | None, at: datetime) -> str | None:
    """A LoginGeo row for one login (Salesforce keeps one per login event), or None without a location."""
    if geo is None:
        return None
    row = org.table("LoginGeo").insert(system_fields({
        "City": geo.city, "Country": geo.country, "CountryIso": geo.country_iso, "Latitude": geo.latitude,
        "Longitude": geo.longitude, "LoginTime": at, "PostalCode": None, "Subdivision": geo.subdivision}, at))
    return str(row["Id"])


def record_login(state: SandboxState, org: Org, user_id: str, status: str, application: str, source_ip: str,
                 *, at: datetime | None = None, login_type: str = "Remote Access 2.0", geo: Geo | None = None,
                 api_type: str | None = None) -> Record:
    """One LoginHistory row (with its LoginGeo when the location is known)."""
    at = at or state.now()
    geo = geo if geo is not None else KNOWN_NETWORKS.get(source_ip)
    return org.table("LoginHistory").insert(system_fields({
        "UserId": user_id, "LoginTime": at, "LoginType": login_type, "SourceIp": source_ip, "Status": status,
        "Application": application, "Browser": "Unknown", "Platform": "Unknown", "LoginUrl": "login.salesforce.com",
        "ApiType": api_type, "LoginGeoId": geo_row(state, org, geo, at),
        "CountryIso": geo.country_iso if geo else None}, at))


def locate_logins(state: SandboxState, org: Org, networks: dict[str, Geo]) -> None:
    """Give the logins already recorded (the builder's) the location of their source address."""
    for row in org.table("LoginHistory").scan():
        if row.get("LoginGeoId"):
            continue
        geo = networks.get(row.get("SourceIp") or "") or KNOWN_NETWORKS.get(row.get("SourceIp") or "")
        if geo is not None:
            row["LoginGeoId"] = geo_row(state, org, geo, row["LoginTime"])
            row["CountryIso"] = geo.country_iso


# -- SetupAuditTrail ---------------------------------------------------------------------------------------------

def audit(state: SandboxState, org: Org, by_user_id: str | None, action: str, section: str, display: str,
          at: datetime | None = None, delegate: str | None = None) -> Record:
    """A Setup Audit Trail row, as Setup writes one for each change."""
    at = at or state.now()
    record: Record = {"Action": action, "Section": section, "Display": display, "DelegateUser": delegate,
                      "CreatedByContext": None, "CreatedByIssuer": None}
    system_fields(record, at, by=by_user_id)
    return org.table("SetupAuditTrail").insert(record)


# -- EventLogFile -------------------------------------------------------------------------------------------------

# The columns Salesforce's API-family event log files begin with, then what these files add.
LOG_COLUMNS = ("EVENT_TYPE", "TIMESTAMP", "REQUEST_ID", "ORGANIZATION_ID", "USER_ID", "RUN_TIME", "CPU_TIME",
               "URI", "SESSION_KEY", "LOGIN_KEY", "USER_TYPE", "REQUEST_STATUS", "DB_TOTAL_TIME", "METHOD",
               "STATUS_CODE", "USER_AGENT", "ROWS_PROCESSED", "TIMESTAMP_DERIVED", "USER_ID_DERIVED", "CLIENT_IP",
               "URI_ID_DERIVED")
LOG_TYPES = ("String", "String", "String", "Id", "Id", "Number", "Number", "String", "String", "String", "String",
             "String", "Number", "String", "Number", "String", "Number", "DateTime", "Id", "IP", "Id")


def retention(state: SandboxState, org: Org) -> int:
    return RETENTION_DAYS[security_state(state).event_monitoring.get(org.key, "none")]


def event_types(state: SandboxState, org: Org) -> tuple[str, ...]:
    licence = security_state(state).event_monitoring.get(org.key, "none")
    return FREE_EVENT_TYPES if licence == "none" else LICENSED_EVENT_TYPES


def add_log_file(state: SandboxState, org: Org, event_type: str, day: datetime, calls: dict[str, int],
                 client_ip: str = "34.201.12.7") -> Record | None:
    """One daily file of ``event_type`` for ``day`` (UTC midnight), if the org's licence and retention keep it.
    Daily files appear the day after; they are kept ``retention`` days."""
    if event_type not in event_types(state, org) or not any(calls.values()):
        return None
    created = day + timedelta(days=1, hours=2)
    if created > state.loaded_at or created < state.loaded_at - timedelta(days=retention(state, org)):
        return None
    spec = LogFile(event_type, day, org.id, dict(calls), client_ip)
    length = log_length(spec)
    row = org.table("EventLogFile").insert(system_fields({
        "EventType": event_type, "LogDate": day, "Interval": "Daily", "LogFile": None,
        "LogFileContentType": "CSV", "LogFileFieldNames": ",".join(LOG_COLUMNS),
        "LogFileFieldTypes": ",".join(LOG_TYPES), "LogFileLength": float(length), "Sequence": 0,
        "ApiVersion": float(state.api_version)}, created))
    # A query answers a base64 field with the URL its content is fetched from.
    row["LogFile"] = f"/services/data/v{state.api_version}/sobjects/EventLogFile/{row['Id']}/LogFile"
    security_state(state).log_files[row["Id"]] = spec
    return row


def _line(spec: LogFile, user_id: str, n: int, at: datetime) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow((
        spec.event_type, at.strftime("%Y%m%d%H%M%S.") + f"{at.microsecond // 1000:03d}", f"4{n:021d}"[:22],
        spec.org_id[:15], user_id[:15], "38", "12", "/services/data/v60.0/query", "", "", "Standard", "S", "21000000",
        "GET", "200", "Gainsight-PX/1.0", "25", at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), user_id, spec.client_ip, ""))
    return out.getvalue()


def _header() -> str:
    return ",".join(f'"{c}"' for c in LOG_COLUMNS) + "\n"


def log_csv(spec: LogFile) -> Iterator[str]:
    """The file's CSV, one line per call (quoted as Salesforce quotes every field)."""
    yield _header()
    n = 0
    for user_id, count in spec.calls.items():
        step = 86_400_000 // max(count, 1)
        for i in range(count):
            n += 1
            yield _line(spec, user_id, n, spec.day + timedelta(milliseconds=i * step))


def log_length(spec: LogFile) -> int:
    """The CSV's size in bytes (LogFileLength), without writing it: every line of a user weighs the same."""
    total = len(_header().encode())
    for user_id, count in spec.calls.items():
        total += count * len(_line(spec, user_id, 1, spec.day).encode())
    return total


def _blob(ctx: Any, req: Request, m: re.Match[str]) -> Response:
    """``GET sobjects/EventLogFile/<Id>/LogFile``: the file's content (text/csv), not JSON."""
    obj, record_id, name = m.group(1), m.group(2), m.group(3)
    sobject = ctx.readable(obj)
    if sobject is None:
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
    f = sobject.field(name)
    if f is None or f.type != "base64":
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
    rid = ids.to18(record_id) if len(record_id) == 15 else record_id
    spec = security_state(ctx.state).log_files.get(rid)
    if spec is None or ctx.org.table(sobject.name).get(rid) is None:
        return sf_error(404, "NOT_FOUND", "The requested resource does not exist")
    return Response(200, "".join(log_csv(spec)).encode(), content_type="text/csv")


def api_routes() -> list[Any]:
    from sfwizard.sandbox.salesforce.api import api_route

    return [api_route("GET", r"sobjects/(\w+)/(\w{15,18})/(\w+)/?", _blob)]


# -- revoke by DeleteToken ---------------------------------------------------------------------------------------

def revoke_by_delete_token(state: SandboxState, token: str) -> bool:
    """``/services/oauth2/revoke?token=<DeleteToken>``: the OauthToken row is deleted, and with it every token
    of that grant (the app, for that user, in that org), which then answers INVALID_SESSION_ID."""
    from sfwizard.sandbox.salesforce.tokens import token_store

    if not token.startswith("DT"):
        return False
    for org in state.orgs.values():
        table = org.table("OauthToken")
        for row in list(table.scan()):
            known = row.get("DeleteToken") or ""
            if known and hmac.compare_digest(known.encode(), token.encode()):
                clients = [c for c, app in state.connected_apps.items() if app.name == row["AppName"]]
                n = sum(token_store(state).revoke_grant(org.key, row["UserId"], c) for c in clients)
                table.delete(row["Id"])
                log.info("OAuth token of %s for %s deleted (%d token(s) revoked)", row["UserId"], row["AppName"], n)
                return True
    return False
