"""A scenario's ``security:`` block: what a security review of the integration will find in the org.

    security:
      org: prod                        # default: the platform's (or Skilljar's) org
      user: integration                # whose logins, tokens and API volume; default: the integration user
      event_monitoring: licensed       # licensed (30 days), developer (1 day) or none (free types, 1 day)
      permissions:                     # rights the base format has no key for, by profile or permission set
        Minimum Access - API Only Integrations: {api_only: true}
      connected_apps:
        gainsight: {admin_approved: true, approved: [Gainsight_PX_Integration],
                    refresh_token: {policy: expire_if_unused, period: 90, unit: days}}
      login_ip_ranges:
        Minimum Access - API Only Integrations: [34.201.12.0/24, {start: 10.0.0.1, end: 10.0.0.9}]
      networks: [{ip: 198.51.100.23, country: Netherlands, country_iso: NL, city: Amsterdam}]
      logins: [{user: integration, app: gainsight, ip: 198.51.100.23, from: -2d, to: -1d, count: 40}]
      tokens: [{user: rep, app: gainsight, created: -20d, last_used: -2d, use_count: 14}]
      audit_trail: [{at: -6d, by: admin, action: PermSetAssign, section: Manage Users, display: "…"}]
      api_volume: {daily: 2400, peaks: [{at: -5d, calls: 48000}]}
      login_volume: {generate: 1000000, days: 180}   # bulk LoginHistory rows (benchmarks)
      declared_egress: {ranges: [34.201.12.0/24], source: https://vendor.example/ips}

Everything is checked with ``file:line:column`` and refused where Salesforce would refuse it (an IP range
whose end comes before its start, a login or an audit row from the future, a Setup Audit Trail row older than
the 180 days Salesforce keeps, a name that is no profile or permission set of the org).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta, timezone
from typing import Any

from sfwizard import ids
from sfwizard import yamlspec as y
from sfwizard.sandbox.salesforce import security as sec
from sfwizard.sandbox.salesforce.store import GeneratedTable, Org, Record
from sfwizard.sandbox.salesforce.tokens import Grant, token_store
from sfwizard.sandbox.scenarios import validate
from sfwizard.sandbox.state import SandboxState

AUDIT_TRAIL_DAYS = 180  # SetupAuditTrail keeps "at least the last 180 days"
LOGIN_TYPES = ("Remote Access 2.0", "Remote Access Client", "Application", "Other Apex API", "SAML Sfdc Initiated SSO")


class _Ip(y.Spec):
    """An IPv4 or IPv6 address."""

    def check(self, value: Any, where: y.Where) -> Any:
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            raise where.error(f"not an IP address: {y.show(value)}") from None


class _Range(y.Spec):
    """``a.b.c.d/nn``, ``start-end``, one address, or ``{start, end, description}`` → (start, end, description)."""

    def check(self, value: Any, where: y.Where) -> Any:
        description = None
        if isinstance(value, dict):
            spec = y.Obj({"start": _Ip(), "end": _Ip(), "description": y.Str()}, required=("start", "end"))
            v = spec.check(value, where)
            start, end, description = v["start"], v["end"], v.get("description")
        elif isinstance(value, str):
            start, end = parse_range(value, where)
        else:
            raise where.error(f"expected a range like 34.201.12.0/24 or {{start, end}}; got {y.kind_of(value)}")
        a, b = ipaddress.ip_address(start), ipaddress.ip_address(end)
        if a.version != b.version:
            raise where.error(f"the range mixes IPv{a.version} and IPv{b.version}: {start} – {end}")
        if b < a:  # type: ignore[operator]
            raise where.error(f"the range's end {end} comes before its start {start}")
        return (start, end, description)


class _RangeText(y.Spec):
    """A range as the admin wrote it (``34.201.12.0/24``, ``a-b``, one address), checked and kept as written."""

    def check(self, value: Any, where: y.Where) -> Any:
        if not isinstance(value, str):
            raise where.error(f"expected a range like 34.201.12.0/24; got {y.kind_of(value)}")
        _Range().check(value, where)
        return value.strip()


def parse_range(text: str, where: y.Where) -> tuple[str, str]:
    text = text.strip()
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            return str(net.network_address), str(net.broadcast_address)
        if "-" in text and ":" not in text:
            start, _, end = text.partition("-")
            return str(ipaddress.ip_address(start.strip())), str(ipaddress.ip_address(end.strip()))
        addr = str(ipaddress.ip_address(text))
        return addr, addr
    except ValueError:
        raise where.error(f"not an IP range: {y.show(text)} (use 34.201.12.0/24, a-b or one address)") from None


_PERMS = y.Obj({"api_only": y.Bool(), "customize_application": y.Bool(), "view_event_log_files": y.Bool(),
                "manage_users": y.Bool(), "view_setup": y.Bool()})
_APP = y.Obj({"admin_approved": y.Bool(), "approved": y.ListOf(y.Str()), "high_assurance": y.Bool(),
              "refresh_token": y.Obj({"policy": y.Enum(("until_revoked", "expire_after", "expire_if_unused")),
                                      "period": y.Int(1), "unit": y.Enum(tuple(sec.REFRESH_UNITS))},
                                     required=("policy",))})
_NETWORK = y.Obj({"ip": _Ip(), "country": y.Str(), "country_iso": y.Str(), "city": y.Str(), "subdivision": y.Str(),
                  "latitude": y.Float(-90, 90), "longitude": y.Float(-180, 180)}, required=("ip",))
_LOGINS = y.Obj({"user": y.Str(), "app": y.Str(), "ip": _Ip(), "from": y.RelTime(), "to": y.RelTime(),
                 "count": y.Int(1), "status": y.Str(), "type": y.Enum(LOGIN_TYPES)},
                required=("user", "ip", "from"))
_TOKEN = y.Obj({"user": y.Str(), "app": y.Str(), "created": y.RelTime(), "last_used": y.RelTime(),
                "use_count": y.Int(0)}, required=("user", "app"))
_AUDIT = y.Obj({"at": y.RelTime(), "by": y.Str(), "action": y.Str(), "section": y.Str(), "display": y.Str(),
                "delegate": y.Str()}, required=("at", "by", "action", "display"))
SPEC = y.Obj({
    "org": y.Str(), "user": y.Str(), "event_monitoring": y.Enum(("licensed", "developer", "none")),
    "permissions": y.MapOf(_PERMS), "connected_apps": y.MapOf(_APP), "login_ip_ranges": y.MapOf(y.ListOf(_Range())),
    "networks": y.ListOf(_NETWORK), "logins": y.ListOf(_LOGINS), "tokens": y.ListOf(_TOKEN),
    "audit_trail": y.ListOf(_AUDIT),
    "api_volume": y.Obj({"daily": y.Int(0), "peaks": y.ListOf(y.Obj({"at": y.RelTime(), "calls": y.Int(0)},
                                                                      required=("at", "calls")))}),
    "login_volume": y.Obj({"generate": y.Int(0), "days": y.Int(1)}, required=("generate",)),
    "declared_egress": y.Obj({"ranges": y.ListOf(_RangeText()), "source": y.Str()}, required=("ranges",)),
})


# -- building ---------------------------------------------------------------------------------------------------

def build(state: SandboxState, s: dict[str, Any], doc: validate.Doc) -> None:
    """Every org gets its connected apps' ConnectedApplication rows and its admins' rights; the block, when
    there is one, adds what the review will find."""
    for org in state.orgs.values():
        for app in state.connected_apps.values():
            if org.key in app.installed_in:
                sec.ensure_app_row(state, org, app)
        _admin_rights(org)
    block = s.get("security")
    if not block:
        for org in state.orgs.values():
            sec.locate_logins(state, org, {})
        return
    org = _org(state, s, block, doc)
    users = {role: uid for (key, uid), role in state.user_roles.items() if key == org.key}
    ss = sec.security_state(state)
    ss.event_monitoring[org.key] = block.get("event_monitoring", "none")
    for name, perms in (block.get("permissions") or {}).items():
        _set_rights(org, name, perms, doc, ("security", "permissions", name))
    for key, a in (block.get("connected_apps") or {}).items():
        _app_policy(state, org, key, a, doc)
    for profile, ranges in (block.get("login_ip_ranges") or {}).items():
        prof = _profile(org, profile, doc, ("security", "login_ip_ranges", profile))
        for start, end, description in ranges:
            _insert(state, org, "LoginIpRange", {"ProfileId": prof["Id"], "StartAddress": start,
                                                 "EndAddress": end, "Description": description})
    networks = {n["ip"]: _geo(n) for n in block.get("networks") or []}
    for i, entry in enumerate(block.get("logins") or []):
        _logins(state, org, entry, users, networks, doc, ("security", "logins", i))
    sec.locate_logins(state, org, networks)
    for other in state.orgs.values():
        if other is not org:
            sec.locate_logins(state, other, {})
    who = _integration_user(state, s, block, users, doc)
    for i, t in enumerate(block.get("tokens") or []):
        _token(state, org, t, users, doc, ("security", "tokens", i))
    for i, a in enumerate(block.get("audit_trail") or []):
        _audit(state, org, a, users, doc, ("security", "audit_trail", i))
    if block.get("api_volume") and who:
        _api_volume(state, org, who, block["api_volume"])
    if block.get("login_volume") and who:
        _login_volume(state, org, who, block["login_volume"], networks)
    egress = block.get("declared_egress")
    if egress:
        ss.declared_egress = {"ranges": list(egress["ranges"]), "source": egress.get("source", "")}


def _org(state: SandboxState, s: dict[str, Any], block: dict[str, Any], doc: validate.Doc) -> Org:
    key = block.get("org") or (s.get("platform") or s.get("skilljar") or {}).get("org") or state.default_org_key
    if key not in state.orgs:
        raise doc.error(("security", "org"), validate._one_of(key, list(state.orgs), "org"))
    return state.orgs[key]


def _integration_user(state: SandboxState, s: dict[str, Any], block: dict[str, Any], users: dict[str, str],
                      doc: validate.Doc) -> str | None:
    role = block.get("user") or (s.get("platform") or s.get("skilljar") or {}).get("integration_user")
    if role is None:
        return None
    if role not in users:
        raise doc.error(("security", "user"), validate._one_of(role, list(users), "user key"))
    return users[role]


def _admin_rights(org: Org) -> None:
    """An org's administrators (Modify All Data here) hold Customize Application too."""
    for table in ("Profile", "PermissionSet"):
        for row in org.table(table).scan():
            if row.get("PermissionsModifyAllData") and row.get("PermissionsCustomizeApplication") is None:
                row["PermissionsCustomizeApplication"] = True
    org.invalidate_access()


_FLAG = {"api_only": "PermissionsApiUserOnly", "customize_application": "PermissionsCustomizeApplication",
         "view_event_log_files": "PermissionsViewEventLogFiles", "manage_users": "PermissionsManageUsers",
         "view_setup": "PermissionsViewSetup"}


def _set_rights(org: Org, name: str, perms: dict[str, bool], doc: validate.Doc, path: tuple[str, ...]) -> None:
    rows = _permission_sets(org, name)
    if not rows:
        raise doc.error(path, _unknown_set(org, name))
    for row in rows:
        for key, value in perms.items():
            row[_FLAG[key]] = value
    profile = _profile_row(org, name)
    if profile is not None:
        for key, value in perms.items():
            profile[_FLAG[key]] = value
    org.invalidate_access()


def _profile_row(org: Org, name: str) -> Record | None:
    return next((p for p in org.table("Profile").scan() if p["Name"].lower() == name.lower()), None)


def _profile(org: Org, name: str, doc: validate.Doc, path: tuple[str, ...]) -> Record:
    row = _profile_row(org, name)
    if row is None:
        raise doc.error(path, validate._one_of(name, [p["Name"] for p in org.table("Profile").scan()], "profile",
                                               f"org {org.key}"))
    return row


def _permission_sets(org: Org, name: str) -> list[Record]:
    """A profile's own permission set, or a permission set by label or API name."""
    profile = _profile_row(org, name)
    out = []
    for ps in org.table("PermissionSet").scan():
        if profile is not None and ps.get("IsOwnedByProfile") and ps.get("ProfileId") == profile["Id"]:
            out.append(ps)
        elif not ps.get("IsOwnedByProfile") and name.lower() in (ps["Name"].lower(), ps["Label"].lower()):
            out.append(ps)
    return out


def _unknown_set(org: Org, name: str) -> str:
    known = [p["Name"] for p in org.table("Profile").scan()] + \
        [ps["Name"] for ps in org.table("PermissionSet").scan() if not ps.get("IsOwnedByProfile")]
    return validate._one_of(name, known, "profile or permission set", f"org {org.key}")


def _insert(state: SandboxState, org: Org, table: str, values: Record, at: datetime | None = None) -> Record:
    from sfwizard.sandbox.salesforce.store import system_fields

    return org.table(table).insert(system_fields(values, at or state.loaded_at - timedelta(days=120)))


def _app_policy(state: SandboxState, org: Org, key: str, a: dict[str, Any], doc: validate.Doc) -> None:
    client_id = state.app_keys.get(key)
    if client_id is None:
        raise doc.error(("security", "connected_apps", key),
                        validate._one_of(key, [k for k in state.app_keys if k != "sfwizard"], "connected app key"))
    app = state.connected_apps[client_id]
    row = sec.ensure_app_row(state, org, app)
    row["OptionsAllowAdminApprovedUsersOnly"] = bool(a.get("admin_approved", False))
    row["OptionsHasSessionLevelPolicy"] = bool(a.get("high_assurance", False))
    for i, name in enumerate(a.get("approved") or []):
        sets = _permission_sets(org, name)
        if not sets:
            raise doc.error(("security", "connected_apps", key, "approved", i), _unknown_set(org, name))
        _insert(state, org, "SetupEntityAccess", {"ParentId": sets[0]["Id"], "SetupEntityId": row["Id"],
                                                  "SetupEntityType": "ConnectedApplication"})
    refresh = a.get("refresh_token")
    if refresh:
        set_refresh_policy(state, row, refresh["policy"], refresh.get("period"), refresh.get("unit", "days"),
                           doc, ("security", "connected_apps", key, "refresh_token"))


def set_refresh_policy(state: SandboxState, row: Record, policy: str, period: int | None, unit: str,
                       doc: validate.Doc | None = None, path: tuple[str, ...] = ()) -> None:
    """The app's refresh token policy: until revoked, after a period from issue, or after a period unused."""
    if policy != "until_revoked" and not period:
        message = f"the {policy} refresh token policy needs a period (1 or more {unit})"
        if doc is not None:
            raise doc.error((*path, "policy"), message)
        raise ValueError(message)
    sec.set_refresh_policy(state, row, policy, period, unit)


def _geo(n: dict[str, Any]) -> sec.Geo:
    return sec.Geo(n.get("country"), n.get("country_iso"), n.get("city"), n.get("subdivision"), n.get("latitude"),
                   n.get("longitude"))


def _user(users: dict[str, str], role: str, doc: validate.Doc, path: tuple[str | int, ...]) -> str:
    if role not in users:
        raise doc.error(path, validate._one_of(role, list(users), "user key"))
    return users[role]


def _app_name(state: SandboxState, key: str, doc: validate.Doc, path: tuple[str | int, ...]) -> str:
    client_id = state.app_keys.get(key)
    if client_id is None:
        raise doc.error(path, validate._one_of(key, list(state.app_keys), "connected app key"))
    return state.connected_apps[client_id].name


def _not_after_now(state: SandboxState, at: datetime, doc: validate.Doc, path: tuple[str | int, ...],
                   what: str) -> None:
    if at > state.loaded_at + timedelta(seconds=1):
        raise doc.error(path, f"{what} cannot be in the future ({at:%Y-%m-%d %H:%M} UTC)")


def _logins(state: SandboxState, org: Org, entry: dict[str, Any], users: dict[str, str],
            networks: dict[str, sec.Geo], doc: validate.Doc, path: tuple[str | int, ...]) -> None:
    user_id = _user(users, entry["user"], doc, (*path, "user"))
    app = _app_name(state, entry["app"], doc, (*path, "app")) if entry.get("app") else "Browser"
    start, end = entry["from"], entry.get("to", entry["from"])
    if end < start:
        raise doc.error((*path, "to"), "the logins end before they start")
    _not_after_now(state, end, doc, (*path, "to" if "to" in entry else "from"), "a login")
    count = entry.get("count", 1)
    step = (end - start) / (count - 1) if count > 1 else timedelta()
    login_type = entry.get("type") or ("Remote Access 2.0" if entry.get("app") else "Application")
    geo = networks.get(entry["ip"])
    for i in range(count):
        sec.record_login(state, org, user_id, entry.get("status", "Success"), app, entry["ip"], at=start + step * i,
                         login_type=login_type, geo=geo)


def _token(state: SandboxState, org: Org, t: dict[str, Any], users: dict[str, str], doc: validate.Doc,
           path: tuple[str | int, ...]) -> None:
    """A live grant of the app to this user: real tokens in the login server, and its OauthToken row."""
    user_id = _user(users, t["user"], doc, (*path, "user"))
    client_id = state.app_keys.get(t["app"])
    if client_id is None:
        raise doc.error((*path, "app"), validate._one_of(t["app"], list(state.app_keys), "connected app key"))
    created = t.get("created", state.loaded_at - timedelta(days=30))
    last_used = t.get("last_used", created)
    if last_used < created:
        raise doc.error((*path, "last_used"), "a token cannot be used before it was created")
    _not_after_now(state, last_used, doc, (*path, "last_used" if "last_used" in t else "created"), "a token's use")
    app = state.connected_apps[client_id]
    access, refresh = token_store(state).issue(state, Grant(org.key, user_id, client_id), with_refresh=True)
    access.issued_at = created
    if refresh is not None:
        refresh.issued_at = created
        sec.security_state(state).refresh_last_used[refresh.token] = last_used
    table = org.table("OauthToken")
    for row in table.scan():
        if row["UserId"] == user_id and row["AppName"] == app.name:
            row.update({"CreatedDate": created, "LastUsedDate": last_used, "UseCount": t.get("use_count", 1)})
            return
    table.insert({"AppName": app.name, "UserId": user_id, "AppMenuItemId": None, "RequestToken": None,
                  "AccessToken": None, "CreatedDate": created, "LastModifiedDate": last_used,
                  "SystemModstamp": last_used, "LastUsedDate": last_used, "UseCount": t.get("use_count", 1)})


def _audit(state: SandboxState, org: Org, a: dict[str, Any], users: dict[str, str], doc: validate.Doc,
           path: tuple[str | int, ...]) -> None:
    by = _user(users, a["by"], doc, (*path, "by"))
    at = a["at"]
    _not_after_now(state, at, doc, (*path, "at"), "a Setup Audit Trail row")
    if at < state.loaded_at - timedelta(days=AUDIT_TRAIL_DAYS):
        raise doc.error((*path, "at"), f"Salesforce keeps Setup Audit Trail rows {AUDIT_TRAIL_DAYS} days: this one "
                                       "would be gone")
    sec.audit(state, org, by, a["action"], a.get("section", "Manage Users"), a["display"], at, a.get("delegate"))


def _day(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _api_volume(state: SandboxState, org: Org, user_id: str, v: dict[str, Any]) -> None:
    """The integration user's API calls per day, as the org's event log files keep them."""
    daily = v.get("daily", 0)
    peaks = {_day(p["at"]): p["calls"] for p in v.get("peaks") or []}
    others = [uid for (key, uid) in state.user_roles if key == org.key and uid != user_id][:1]
    today = _day(state.loaded_at)
    for back in range(1, 31):
        day = today - timedelta(days=back)
        calls = {user_id: peaks.get(day, daily)}
        if others:
            calls[others[0]] = 3  # a person's own API use that day, which the review must leave out
        for event_type in ("RestApi", "ApiTotalUsage"):
            sec.add_log_file(state, org, event_type, day, calls)


def _login_volume(state: SandboxState, org: Org, user_id: str, v: dict[str, Any],
                  networks: dict[str, sec.Geo]) -> None:
    """``generate`` LoginHistory rows of the integration user over ``days``, made on demand (the table keeps
    the rows already there after them), each from the builder's network with one shared LoginGeo row."""
    n, days = v["generate"], v.get("days", 180)
    if n <= 0:
        return
    table = org.table("LoginHistory")
    app = next((a.name for a in state.connected_apps.values() if a.name != "sfwizard"), "Browser")
    ip = "34.201.12.7"
    geo_id = sec.geo_row(state, org, networks.get(ip) or sec.KNOWN_NETWORKS.get(ip), state.loaded_at)
    end = state.loaded_at - timedelta(minutes=5)
    span = timedelta(days=days).total_seconds()
    pod = org.pod

    def row(i: int) -> Record:
        at = end - timedelta(seconds=span * (n - 1 - i) / max(n, 1))
        return {"Id": ids.make_id("0Ya", 900_000_000 + i, pod=pod), "IsDeleted": False, "UserId": user_id,
                "LoginTime": at, "LoginType": "Remote Access 2.0", "SourceIp": ip, "Status": "Success",
                "Application": app, "Browser": "Unknown", "Platform": "Unknown", "LoginUrl": "login.salesforce.com",
                "ApiType": None, "LoginGeoId": geo_id, "CountryIso": "US", "CreatedDate": at,
                "LastModifiedDate": at, "SystemModstamp": at, "CreatedById": user_id, "LastModifiedById": user_id}

    bulk = GeneratedTable(table.sobject, n, row, pod)
    for existing in table.scan():
        bulk.insert(existing)
    org.tables[table.sobject.name] = bulk


def declared_egress(state: SandboxState) -> dict[str, Any] | None:
    """The vendor egress ranges the scenario's admin declared (the connection line carries them to a demo)."""
    egress = sec.security_state(state).declared_egress
    return dict(egress) if egress else None
