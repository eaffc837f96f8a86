"""The sandbox's Salesforce OAuth 2.0 server, on login_url (= base_url).

Browser side: authorize → login → Allow Access? → redirect with ``code`` (or ``access_denied``), the
device-code page at ``/setup/connect``, logout. Machine side: the token endpoint (authorization_code
with PKCE, refresh_token with optional rotation, password, device), revoke, userinfo and the identity
URL. Wire shapes and error texts follow what Salesforce answers (see REFERENCE.md and the report).

``token_grant`` is the token endpoint as a function, so the admin module can finish a platform's
Authorize click without an HTTP round trip. Nothing here logs a code, token, password or secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

from sfwizard import ids
from sfwizard.sandbox.http import (
    Request,
    Response,
    Route,
    html_response,
    json_response,
    redirect,
    route,
    text_response,
)
from sfwizard.sandbox.salesforce import pages, security
from sfwizard.sandbox.salesforce.store import ConnectedApp, Org, Record, system_fields
from sfwizard.sandbox.salesforce.tokens import (
    AccessToken,
    Grant,
    RefreshToken,
    TokenStore,
    token_store,
    touch_oauth_token,
)
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")

CODE_TTL = timedelta(minutes=15)
TX_TTL = timedelta(minutes=30)
SESSION_TTL = timedelta(hours=2)
DEVICE_TTL = timedelta(minutes=10)
DEVICE_INTERVAL = 5  # seconds a device must wait between polls
DEFAULT_SCOPES = ("api", "refresh_token", "id")
PASSWORD_SCOPES = ("api", "id")  # the username-password flow never gets a refresh token
UI_LOGIN_FAILED = ("Please check your username and password. If you still can't log in, contact your "
                   "Salesforce administrator.")
UNINSTALLED_STATUS = "Failed: Connected App Not Installed"
ALLOW_PATH = "/setup/secur/RemoteAccessAuthorizationPage.apexp"
ERROR_PATH = "/setup/secur/RemoteAccessErrorPage.apexp"
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"  # no vowels or look-alikes: no words, no 0/O

TokenResult = tuple[int, dict[str, Any]]


# -- what the server remembers --------------------------------------------------------------------------
@dataclass
class AuthCode:
    grant: Grant
    redirect_uri: str
    challenge: str | None
    expires: datetime
    used: bool = False
    issued: list[str] = field(default_factory=list)  # tokens made from it: revoked if it is replayed


@dataclass
class DeviceAuth:
    client_id: str
    user_code: str
    scopes: tuple[str, ...]
    expires: datetime
    interval: int = DEVICE_INTERVAL
    last_poll: datetime | None = None
    status: str = "pending"  # approved, denied, used
    grant: Grant | None = None


@dataclass
class BrowserSession:
    org_key: str
    user_id: str
    expires: datetime


@dataclass
class Tx:
    """One trip through the browser pages: an authorize request, or a device code being approved."""

    kind: str  # "authorize" or "device"
    csrf: str
    expires: datetime
    client_id: str = ""
    scopes: tuple[str, ...] = ()
    redirect_uri: str = ""
    client_state: str | None = None
    challenge: str | None = None
    device_code: str | None = None
    user: tuple[str, str] | None = None  # (org key, user id) once someone has signed in


# -- small helpers ----------------------------------------------------------------------------------------
def _err(status: int, error: str, description: str) -> TokenResult:
    return status, {"error": error, "error_description": description}


def _scopes(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for s in (raw or "").replace(",", " ").split():
        if s not in out:
            out.append(s)
    return tuple(out) or default


def _wants_refresh(scopes: tuple[str, ...]) -> bool:
    return "refresh_token" in scopes or "offline_access" in scopes


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a.encode(), b.encode())


def _with_params(uri: str, **params: str | None) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _redirect_ok(app: ConnectedApp, uri: str) -> bool:
    """A loopback http redirect with an explicit port (RFC 8252), or one the app registered exactly."""
    if uri in app.redirect_uris:
        return True
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    return (parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")
            and port is not None and not parts.fragment and "@" not in parts.netloc)


def _prune(store: TokenStore, now: datetime) -> None:
    """Forget what can no longer be used (used codes stay an hour to catch replays)."""
    grace = timedelta(hours=1)
    for table, limit in ((store.codes, grace), (store.devices, grace), (store.pending, timedelta()),
                         (store.sessions, timedelta())):
        for key in [k for k, v in table.items() if v.expires + limit < now]:
            del table[key]


def _user_label(org: Org, user_id: str) -> str:
    user = org.user(user_id)
    return user["Username"] if user else user_id


def _may_approve_uninstalled(org: Org, user_id: str) -> bool:
    """PermissionsApproveUninstalledApps from the user's permission sets (the profile's own included)."""
    user = org.user(user_id)
    if user is None:
        return False
    ps_ids = {a["PermissionSetId"] for a in org.table("PermissionSetAssignment").scan()
              if a["AssigneeId"] == user_id}
    for ps in org.table("PermissionSet").scan():
        own_profile = ps.get("IsOwnedByProfile") and ps.get("ProfileId") == user.get("ProfileId")
        mine = ps["Id"] in ps_ids or own_profile
        if mine and ps.get("PermissionsApproveUninstalledApps"):
            return True
    return False


# LoginHistory.Status texts for refused logins. Salesforce documents no list; these are the ones admins report
# seeing (salesforce.stackexchange.com/q/146422: "User is Inactive", "Password Lockout", "User Is Frozen").
INACTIVE, LOCKED, FROZEN = "User is Inactive", "Password Lockout", "User Is Frozen"


def _login_refused(org: Org, user: Record) -> str | None:
    """Why a login with the right password is refused (the LoginHistory status), or None."""
    if not user.get("IsActive"):
        return INACTIVE
    login = org.login_state(user["Id"])
    if login.get("IsFrozen"):
        return FROZEN
    if login.get("IsPasswordLocked"):
        return LOCKED
    return None


def _blocked(app: ConnectedApp, org: Org, user_id: str) -> bool:
    """Since Sept 2025 an uninstalled connected app needs Approve Uninstalled Connected Apps."""
    return org.key not in app.installed_in and not _may_approve_uninstalled(org, user_id)


def _login_history(state: SandboxState, org: Org, user_id: str, status: str, *, login_type: str,
                   application: str, client_ip: str = "127.0.0.1", browser: str = "Unknown") -> None:
    now = state.now()
    org.table("LoginHistory").insert(system_fields({
        "UserId": user_id, "LoginTime": now, "LoginType": login_type, "SourceIp": client_ip,
        "Status": status, "Application": application, "Browser": browser, "Platform": "Unknown",
        "LoginUrl": urlsplit(state.base_url).netloc or "127.0.0.1", "ApiType": None,
    }, now))
    if status == "Success":
        user = org.user(user_id)
        if user is not None:
            user["LastLoginDate"] = now


def _drop_unused_oauth_rows(state: SandboxState, grant: Grant) -> None:
    """Once an (app, user) has no live token left, its OauthToken row goes, as in Setup."""
    store = token_store(state)
    key = (grant.org_key, grant.user_id, grant.client_id)
    for t in [*store.access.values(), *store.refresh.values()]:
        g = t.grant
        if (g.org_key, g.user_id, g.client_id) == key and not t.revoked:
            return
    app = state.connected_apps.get(grant.client_id)
    org = state.orgs.get(grant.org_key)
    if app is None or org is None:
        return
    table = org.table("OauthToken")
    for row in list(table.scan()):
        if row["UserId"] == grant.user_id and row["AppName"] == app.name:
            table.delete(row["Id"])


# -- the token endpoint ---------------------------------------------------------------------------------
def token_grant(state: SandboxState, params: dict[str, str], client_ip: str = "127.0.0.1") -> TokenResult:
    """The token endpoint's logic: ``(status code, JSON body)`` for the given form fields."""
    with state.lock:
        _prune(token_store(state), state.now())
        grant_type = params.get("grant_type", "")
        if not grant_type and params.get("response_type") == "device_code":
            return _device_start(state, params)
        handler = _GRANTS.get(grant_type)
        if handler is None:
            return _err(400, "unsupported_grant_type", "grant type not supported")
        return handler(state, params, client_ip)


def _app(state: SandboxState, params: dict[str, str]) -> ConnectedApp | TokenResult:
    app = state.connected_apps.get(params.get("client_id", ""))
    if app is None:
        return _err(400, "invalid_client_id", "client identifier invalid")
    secret = params.get("client_secret") or None
    if secret is not None and not _same(secret, app.client_secret):
        return _err(400, "invalid_client", "invalid client credentials")
    return app


def _success(state: SandboxState, app: ConnectedApp, grant: Grant, *, with_refresh: bool, how: str,
             client_ip: str, from_refresh: str | None = None) -> tuple[TokenResult, AccessToken,
                                                                     RefreshToken | None]:
    store = token_store(state)
    org = state.orgs[grant.org_key]
    access, refresh = store.issue(state, grant, with_refresh, from_refresh=from_refresh)
    id_url = f"{state.base_url}/id/{org.id}/{grant.user_id}"
    issued_at = str(int(access.issued_at.timestamp() * 1000))
    # Salesforce signs id + issued_at with the consumer secret so a client can check the response.
    signature = base64.b64encode(hmac.new(app.client_secret.encode(), (id_url + issued_at).encode(),
                                          hashlib.sha256).digest()).decode()
    body: dict[str, Any] = {"access_token": access.token}
    if refresh is not None:
        body["refresh_token"] = refresh.token
    body.update(signature=signature, scope=" ".join(grant.scopes), instance_url=state.base_url, id=id_url,
                token_type="Bearer", issued_at=issued_at)
    touch_oauth_token(state, org, grant)
    _login_history(state, org, grant.user_id, "Success", login_type="Remote Access 2.0",
                   application=app.name, client_ip=client_ip)
    log.info("token issued (%s) for %s via %s", how, _user_label(org, grant.user_id), app.name)
    return (200, body), access, refresh


def _active_user(state: SandboxState, grant: Grant) -> Record | None:
    org = state.orgs.get(grant.org_key)
    user = org.user(grant.user_id) if org else None
    if user is None or not user.get("IsActive") or org is None or org.login_state(user["Id"]).get("IsFrozen"):
        return None  # (a frozen user cannot log in: Salesforce answers "inactive user" as for a deactivated one)
    return user


def _grant_authorization_code(state: SandboxState, p: dict[str, str], client_ip: str) -> TokenResult:
    app = _app(state, p)
    if isinstance(app, tuple):
        return app
    store = token_store(state)
    rec: AuthCode | None = store.codes.get(p.get("code", ""))
    if rec is None or rec.grant.client_id != app.client_id:
        return _err(400, "invalid_grant", "invalid authorization code")
    if rec.used:
        # RFC 6749 §4.1.2: a code used twice may be stolen, so what it produced is revoked.
        for tok in rec.issued:
            store.revoke(tok)
        _drop_unused_oauth_rows(state, rec.grant)
        log.warning("authorization code replayed: tokens issued from it were revoked")
        return _err(400, "invalid_grant", "invalid authorization code")
    if state.now() >= rec.expires:
        return _err(400, "invalid_grant", "expired authorization code")
    if p.get("redirect_uri", "") != rec.redirect_uri:
        return _err(400, "redirect_uri_mismatch", "redirect_uri must match configuration")
    if rec.challenge is None and not p.get("client_secret"):
        return _err(400, "invalid_client", "invalid client credentials")  # no PKCE: a secret is required
    if rec.challenge is not None and not _same(_s256(p.get("code_verifier", "")), rec.challenge):
        return _err(400, "invalid_grant", "invalid code verifier")
    if _active_user(state, rec.grant) is None:
        return _err(400, "invalid_grant", "inactive user")
    rec.used = True
    result, access, refresh = _success(state, app, rec.grant, with_refresh=_wants_refresh(rec.grant.scopes),
                                       how="authorization_code", client_ip=client_ip)
    rec.issued = [access.token] + ([refresh.token] if refresh else [])
    return result


def _grant_refresh_token(state: SandboxState, p: dict[str, str], client_ip: str) -> TokenResult:
    app = _app(state, p)
    if isinstance(app, tuple):
        return app
    rt: RefreshToken | None = token_store(state).refresh.get(p.get("refresh_token", ""))
    if rt is None or rt.revoked or rt.grant.client_id != app.client_id:
        return _err(400, "invalid_grant", "expired access/refresh token")
    if _active_user(state, rt.grant) is None:
        return _err(400, "invalid_grant", "inactive user")
    refused = security.grant_refusal(state, state.orgs[rt.grant.org_key], rt.grant.user_id, app, client_ip,
                                     rt.token, rt.issued_at)
    if refused is not None:
        return refused
    security.note_refresh_use(state, rt.token)
    if app.rotate_refresh_tokens:
        rt.revoked = True  # the old refresh token dies; access tokens already issued live on
        result, _, _ = _success(state, app, rt.grant, with_refresh=True, how="refresh_token, rotated",
                                client_ip=client_ip)
    else:
        result, _, _ = _success(state, app, rt.grant, with_refresh=False, how="refresh_token",
                                client_ip=client_ip, from_refresh=rt.token)
    return result


def _grant_password(state: SandboxState, p: dict[str, str], client_ip: str) -> TokenResult:
    app = _app(state, p)
    if isinstance(app, tuple):
        return app
    if not p.get("client_secret"):
        return _err(400, "invalid_client", "invalid client credentials")
    username = p.get("username", "")
    found = state.org_of_user(username) if username else None
    if found is None:
        return _err(400, "invalid_grant", "authentication failure")
    org, user = found
    known = state.passwords.get((org.key, user["Username"].lower()))
    if not _same(p.get("password", ""), known):
        _login_history(state, org, user["Id"], "Invalid Password", login_type="Remote Access 2.0",
                       application=app.name, client_ip=client_ip)
        log.info("password grant refused for %s: invalid password", user["Username"])
        return _err(400, "invalid_grant", "authentication failure")
    refused = _login_refused(org, user)
    if refused:
        _login_history(state, org, user["Id"], refused, login_type="Remote Access 2.0",
                       application=app.name, client_ip=client_ip)
        return _err(400, "invalid_grant", "authentication failure" if refused == LOCKED else "inactive user")
    if _blocked(app, org, user["Id"]):
        _login_history(state, org, user["Id"], UNINSTALLED_STATUS, login_type="Remote Access 2.0",
                       application=app.name, client_ip=client_ip)
        return _err(400, "invalid_client", "app must be installed into org")
    refused = security.grant_refusal(state, org, user["Id"], app, client_ip)
    if refused is not None:
        return refused
    grant = Grant(org.key, user["Id"], app.client_id, PASSWORD_SCOPES)
    result, _, _ = _success(state, app, grant, with_refresh=False, how="password", client_ip=client_ip)
    return result


def _device_start(state: SandboxState, p: dict[str, str]) -> TokenResult:
    app = _app(state, p)
    if isinstance(app, tuple):
        return app
    if not app.device_flow:
        return _err(400, "invalid_grant", "device flow is not enabled for the app")
    store = token_store(state)
    device_code = secrets.token_urlsafe(48)
    taken = {d.user_code for d in store.devices.values()}
    user_code = ""
    while not user_code or user_code in taken:
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
    store.devices[device_code] = DeviceAuth(app.client_id, user_code, _scopes(p.get("scope"), DEFAULT_SCOPES),
                                            state.now() + DEVICE_TTL)
    log.info("device authorization started for %s", app.name)
    return 200, {"device_code": device_code, "user_code": user_code,
                 "verification_uri": f"{state.base_url}/setup/connect", "interval": DEVICE_INTERVAL}


def _grant_device(state: SandboxState, p: dict[str, str], client_ip: str) -> TokenResult:
    app = _app(state, p)
    if isinstance(app, tuple):
        return app
    dev: DeviceAuth | None = token_store(state).devices.get(p.get("code") or p.get("device_code") or "")
    if dev is None or dev.client_id != app.client_id or dev.status == "used":
        return _err(400, "invalid_grant", "token exchange failed")
    now = state.now()
    if now >= dev.expires:
        return _err(400, "expired_token", "device code expired")
    if dev.status == "denied":
        return _err(400, "access_denied", "end-user denied authorization")
    if dev.status == "approved" and dev.grant is not None:
        if _active_user(state, dev.grant) is None:
            return _err(400, "invalid_grant", "inactive user")
        dev.status = "used"
        result, _, _ = _success(state, app, dev.grant, with_refresh=_wants_refresh(dev.grant.scopes),
                                how="device", client_ip=client_ip)
        return result
    too_fast = dev.last_poll is not None and (now - dev.last_poll).total_seconds() < dev.interval
    dev.last_poll = now
    if too_fast:
        return _err(400, "slow_down", "polling too quickly for the token endpoint")
    return _err(400, "authorization_pending", "authorization pending")


_GRANTS = {
    "authorization_code": _grant_authorization_code,
    "refresh_token": _grant_refresh_token,
    "password": _grant_password,
    "device": _grant_device,
    "urn:ietf:params:oauth:grant-type:device_code": _grant_device,
}


def _token_params(req: Request) -> dict[str, str]:
    """Query string, url-encoded or multipart form (the sf CLI's device flow posts multipart), Basic auth."""
    out = {k: v[0] for k, v in req.query.items()}
    ctype = req.header("content-type", "") or ""
    if req.body and ctype.lower().startswith("multipart/form-data"):
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n"
                                                  + req.body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                value = part.get_payload(decode=True) or b""
                out[str(name)] = value.decode("utf-8", "replace")
    elif req.body and "json" not in ctype.lower():
        out.update(req.form())
    auth = req.header("authorization", "") or ""
    if auth[:6].lower() == "basic ":
        try:
            cid, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            cid, secret = "", ""
        if cid:
            out.setdefault("client_id", unquote_plus(cid))
            out.setdefault("client_secret", unquote_plus(secret))
    return out


def _token(state: SandboxState, req: Request, m: Any) -> Response:
    status, body = token_grant(state, _token_params(req), client_ip=req.client)
    return json_response(body, status, headers=[("Cache-Control", "no-store"), ("Pragma", "no-cache")])


# -- revoke, userinfo, identity ---------------------------------------------------------------------------
def _revoke(state: SandboxState, req: Request, m: Any) -> Response:
    token = req.params().get("token", "")
    with state.lock:
        store = token_store(state)
        tok: AccessToken | RefreshToken | None = store.access.get(token) or store.refresh.get(token)
        if (tok is None or tok.revoked) and security.revoke_by_delete_token(state, token):
            return Response(200, b"", content_type="", headers=[("Cache-Control", "no-store")])
        if tok is None or tok.revoked:
            # Salesforce answers this one url-encoded, not JSON (jsforce parses it with querystring).
            return Response(400, b"error=unsupported_token_type&error_description=this%20token%20type%20is"
                                 b"%20not%20supported", content_type="application/x-www-form-urlencoded")
        store.revoke(token)
        _drop_unused_oauth_rows(state, tok.grant)
        org = state.orgs.get(tok.grant.org_key)
        log.info("token revoked for %s", _user_label(org, tok.grant.user_id) if org else "?")
    return Response(200, b"", content_type="", headers=[("Cache-Control", "no-store")])


def _identity_caller(state: SandboxState, req: Request) -> tuple[Org, Record, AccessToken] | Response:
    """The identity endpoints answer 403 with a bare code in plain text, unlike the REST API."""
    raw = req.bearer() or req.arg("oauth_token")
    if not raw:
        return text_response("Missing_OAuth_Token", 403)
    tok = token_store(state).access.get(raw)
    org = state.orgs.get(tok.grant.org_key) if tok else None
    user = org.user(tok.grant.user_id) if org and tok else None
    if tok is None or tok.revoked or org is None or user is None:
        return text_response("Bad_OAuth_Token", 403)
    if not user.get("IsActive"):
        return text_response("Inactive", 404)
    return org, user, tok


def _utc_offset_ms(tz_name: str | None) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        now = datetime.now(ZoneInfo(tz_name or "America/Los_Angeles"))
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    off = (now.utcoffset() or timedelta()) - (now.dst() or timedelta())  # the standard offset, as Salesforce
    return int(off.total_seconds() * 1000)


def _stamp_z(value: Any) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else None


def _urls(state: SandboxState, org: Org, user: Record, version: str | None) -> dict[str, str]:
    base, oid, v = state.base_url, org.id[:15], version or "{version}"
    data = f"{base}/services/data/v{v}"
    return {
        "enterprise": f"{base}/services/Soap/c/{v}/{oid}", "metadata": f"{base}/services/Soap/m/{v}/{oid}",
        "partner": f"{base}/services/Soap/u/{v}/{oid}", "rest": f"{data}/", "sobjects": f"{data}/sobjects/",
        "search": f"{data}/search/", "query": f"{data}/query/", "recent": f"{data}/recent/",
        "tooling_soap": f"{base}/services/Soap/T/{v}/{oid}", "tooling_rest": f"{data}/tooling/",
        "profile": f"{base}/{user['Id']}", "feeds": f"{data}/chatter/feeds",
        "groups": f"{data}/chatter/groups", "users": f"{data}/chatter/users",
        "feed_items": f"{data}/chatter/feed-items", "feed_elements": f"{data}/chatter/feed-elements",
        "custom_domain": base,
    }


def _person(state: SandboxState, org: Org, user: Record, tok: AccessToken) -> dict[str, Any]:
    app = state.connected_apps.get(tok.grant.client_id)
    return {
        "id": f"{state.base_url}/id/{org.id}/{user['Id']}",
        "language": user.get("LanguageLocaleKey") or "en_US", "locale": user.get("LocaleSidKey") or "en_US",
        "timezone": user.get("TimeZoneSidKey") or "America/Los_Angeles",
        "photos": {"picture": f"{state.base_url}/profilephoto/005/F",
                   "thumbnail": f"{state.base_url}/profilephoto/005/T"},
        "installed": bool(app and org.key in app.installed_in),
        "nick": user["Username"].split("@")[0],
    }


def _identity_body(state: SandboxState, org: Org, user: Record, tok: AccessToken,
                   version: str | None) -> dict[str, Any]:
    p = _person(state, org, user, tok)
    return {
        "id": p["id"], "asserted_user": True, "user_id": user["Id"], "organization_id": org.id,
        "username": user["Username"], "nick_name": p["nick"], "display_name": user.get("Name"),
        "email": user.get("Email"), "email_verified": True, "first_name": user.get("FirstName"),
        "last_name": user.get("LastName"), "timezone": p["timezone"], "photos": p["photos"],
        "addr_street": None, "addr_city": None, "addr_state": None, "addr_country": "US", "addr_zip": None,
        "mobile_phone": None, "mobile_phone_verified": False, "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None}, "urls": _urls(state, org, user, version),
        "active": bool(user.get("IsActive")), "user_type": "STANDARD", "language": p["language"],
        "locale": p["locale"], "utcOffset": _utc_offset_ms(p["timezone"]),
        "last_modified_date": _stamp_z(user.get("LastModifiedDate")), "is_app_installed": p["installed"],
    }


def _userinfo_body(state: SandboxState, org: Org, user: Record, tok: AccessToken) -> dict[str, Any]:
    p = _person(state, org, user, tok)
    return {
        "sub": p["id"], "user_id": user["Id"], "organization_id": org.id,
        "preferred_username": user["Username"], "nickname": p["nick"], "name": user.get("Name"),
        "email": user.get("Email"), "email_verified": True, "given_name": user.get("FirstName"),
        "family_name": user.get("LastName"), "zoneinfo": p["timezone"], "photos": p["photos"],
        "profile": f"{state.base_url}/{user['Id']}", "picture": p["photos"]["picture"],
        "address": {"country": "US"}, "is_salesforce_integration_user": False,
        "urls": _urls(state, org, user, None), "active": bool(user.get("IsActive")), "user_type": "STANDARD",
        "language": p["language"], "locale": p["locale"], "utcOffset": _utc_offset_ms(p["timezone"]),
        "updated_at": _stamp_z(user.get("LastModifiedDate")), "is_app_installed": p["installed"],
    }


def _userinfo(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        caller = _identity_caller(state, req)
        if isinstance(caller, Response):
            return caller
        return json_response(_userinfo_body(state, *caller))


def _identity(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        caller = _identity_caller(state, req)
        if isinstance(caller, Response):
            return caller
        org, user, tok = caller
        org_id, user_id = m["org"], m["user"]
        if not (ids.is_valid(org_id) and ids.is_valid(user_id)):
            return text_response("Bad_Id", 404)
        if ids.to18(org_id) != org.id:
            return text_response("Wrong_Org", 403)
        if ids.to18(user_id) != user["Id"]:
            return text_response("Bad_Id", 403)  # a token reads its own identity only
        return json_response(_identity_body(state, org, user, tok, req.arg("version")))


# -- the browser side -------------------------------------------------------------------------------------
def _cookies(req: Request) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(req.header("cookie", "") or "")
    except CookieError:
        return {}
    return {k: v.value for k, v in jar.items()}


def _set_cookie(name: str, value: str, max_age: int | None = None) -> tuple[str, str]:
    extra = f"; Max-Age={max_age}" if max_age is not None else ""
    return "Set-Cookie", f"{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax{extra}"


def _saved_usernames(req: Request) -> list[str]:
    raw = _cookies(req).get("sfw_saved_usernames", "")
    return [u for u in unquote(raw).split("|") if u][:5]


def _browser(req: Request) -> str:
    ua = req.header("user-agent", "") or ""
    for name in ("Edg", "Firefox", "Chrome", "Safari"):
        if name in ua:
            return {"Edg": "Edge"}.get(name, name)
    return "Unknown"


def _html(text: str, status: int = 200, cookies: list[tuple[str, str]] | None = None) -> Response:
    resp = html_response(text, status)
    resp.headers.extend(cookies or [])
    return resp


def _expired_page() -> Response:
    return _html(pages.message_page("Request expired", "This login request has expired or was already "
                                    "used. Start again from the app that sent you here."), 400)


def _error_redirect(state: SandboxState, error: str, description: str,
                    client_id: str | None = None) -> Response:
    """Salesforce stops on its own error page (never the app's redirect_uri) when it cannot trust the app."""
    query = urlencode({k: v for k, v in (("error", error), ("error_description", description),
                                         ("client_id", client_id)) if v})
    return redirect(f"{state.base_url}{ERROR_PATH}?{query}")


def _new_tx(state: SandboxState, kind: str, **kw: Any) -> tuple[str, Tx]:
    store = token_store(state)
    _prune(store, state.now())
    tx_id = secrets.token_urlsafe(24)
    tx = Tx(kind=kind, csrf=secrets.token_urlsafe(24), expires=state.now() + TX_TTL, **kw)
    store.pending[tx_id] = tx
    return tx_id, tx


def _live_tx(state: SandboxState, tx_id: str | None) -> Tx | None:
    tx = token_store(state).pending.get(tx_id or "")
    return tx if tx is not None and tx.expires > state.now() else None


def _form_tx(state: SandboxState, req: Request) -> tuple[str, Tx, dict[str, str]] | None:
    """The transaction a form post belongs to, if its CSRF token matches and it comes from our own pages."""
    form = req.form()
    origin = req.header("origin")
    if origin and origin != "null" and state.base_url and origin.rstrip("/") != state.base_url:
        return None
    tx_id = form.get("tx", "")
    tx = _live_tx(state, tx_id)
    if tx is None or not _same(form.get("csrf"), tx.csrf):
        return None
    return tx_id, tx, form


def _session_user(state: SandboxState, req: Request) -> tuple[str, str] | None:
    sess: BrowserSession | None = token_store(state).sessions.get(_cookies(req).get("sid", ""))
    if sess is None or sess.expires <= state.now():
        return None
    org = state.orgs.get(sess.org_key)
    user = org.user(sess.user_id) if org else None
    return (sess.org_key, sess.user_id) if user is not None and user.get("IsActive") else None


def _hinted_user(state: SandboxState) -> tuple[str, str] | None:
    """The scenario's remembered session (wrong-org): someone already signed in to another org."""
    hint = getattr(state, "login_hint", None)
    if not hint:
        return None
    org_key, user_id = hint
    org = state.orgs.get(org_key)
    user = org.user(user_id) if org else None
    return (org_key, user["Id"]) if user is not None and user.get("IsActive") else None


def _begin(state: SandboxState, req: Request, tx_id: str, tx: Tx, prompt: list[str],
           username: str = "") -> Response:
    """Straight to Allow when the browser is signed in (or the scenario remembers a session), else log in."""
    cookies = _cookies(req)
    user = None
    if "login" not in prompt:
        user = _session_user(state, req)
        if user is None and "sid" not in cookies and "sfw_logged_out" not in cookies:
            user = _hinted_user(state)
    if user is not None:
        tx.user = user
        return _to_allow(state, req, tx_id, tx)
    app = state.connected_apps.get(tx.client_id)
    return _html(pages.login_page(tx=tx_id, csrf=tx.csrf, app_name=app.name if app else "", username=username,
                                  saved=_saved_usernames(req)))


def _to_allow(state: SandboxState, req: Request, tx_id: str, tx: Tx) -> Response:
    assert tx.user is not None
    app = state.connected_apps[tx.client_id]
    org = state.orgs[tx.user[0]]
    if _blocked(app, org, tx.user[1]):
        _login_history(state, org, tx.user[1], UNINSTALLED_STATUS, login_type="Remote Access 2.0",
                       application=app.name, client_ip=req.client, browser=_browser(req))
        token_store(state).pending.pop(tx_id, None)
        log.info("authorization blocked for %s: %s is not installed in %s", _user_label(org, tx.user[1]),
                 app.name, org.name)
        return _error_redirect(state, "invalid_client", "app must be installed into org", app.client_id)
    refusal = security.authorize_refusal(state, org, tx.user[1], app)  # only admin-approved users, say
    if refusal is not None:
        token_store(state).pending.pop(tx_id, None)
        if tx.kind == "device":
            return _html(pages.message_page("Access denied", refusal[1]), 400)
        return redirect(_with_params(tx.redirect_uri, error=refusal[0], error_description=refusal[1],
                                     state=tx.client_state))
    return redirect(f"{state.base_url}{ALLOW_PATH}?tx={quote(tx_id)}")


def _authorize(state: SandboxState, req: Request, m: Any) -> Response:
    p = req.params()
    with state.lock:
        app = state.connected_apps.get(p.get("client_id", ""))
        if app is None:
            return _error_redirect(state, "invalid_client_id", "client identifier invalid")
        redirect_uri = p.get("redirect_uri", "")
        if not _redirect_ok(app, redirect_uri):
            return _error_redirect(state, "redirect_uri_mismatch", "redirect_uri must match configuration")
        client_state = p.get("state")
        if p.get("response_type") != "code":
            return redirect(_with_params(redirect_uri, error="unsupported_response_type",
                                         error_description="response type not supported", state=client_state))
        challenge = p.get("code_challenge") or None
        if challenge and (p.get("code_challenge_method") or "S256") != "S256":
            bad_method = "invalid code challenge method"
            return redirect(_with_params(redirect_uri, error="invalid_request", error_description=bad_method,
                                         state=client_state))
        tx_id, tx = _new_tx(state, "authorize", client_id=app.client_id,
                            scopes=_scopes(p.get("scope"), DEFAULT_SCOPES), redirect_uri=redirect_uri,
                            client_state=client_state, challenge=challenge)
        return _begin(state, req, tx_id, tx, (p.get("prompt") or "").split(), p.get("login_hint", ""))


def _login_form(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        tx_id = req.arg("tx", "") or ""
        tx = _live_tx(state, tx_id)
        if tx is None:
            return _expired_page()
        app = state.connected_apps.get(tx.client_id)
        return _html(pages.login_page(tx=tx_id, csrf=tx.csrf, app_name=app.name if app else "",
                                      username=req.arg("username", "") or "", saved=_saved_usernames(req)))


def _login_submit(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        found_tx = _form_tx(state, req)
        if found_tx is None:
            return _expired_page()
        tx_id, tx, form = found_tx
        app = state.connected_apps.get(tx.client_id)
        username = form.get("username", "").strip()
        found = state.org_of_user(username) if username else None
        failed = None
        if found is None:
            failed = "no such user"
        else:
            org, user = found
            if not _same(form.get("pw", ""), state.passwords.get((org.key, user["Username"].lower()))):
                failed = "Invalid Password"
            else:
                failed = _login_refused(org, user)
            if failed:
                _login_history(state, org, user["Id"], failed, login_type="Application",
                               application="Browser", client_ip=req.client, browser=_browser(req))
        if failed:
            log.info("login refused for %s: %s", username or "(blank)", failed.lower())
            return _html(pages.login_page(tx=tx_id, csrf=tx.csrf, app_name=app.name if app else "",
                                          username=username, error=UI_LOGIN_FAILED,
                                          saved=_saved_usernames(req)))
        org, user = found  # type: ignore[misc]
        _login_history(state, org, user["Id"], "Success", login_type="Application", application="Browser",
                       client_ip=req.client, browser=_browser(req))
        log.info("login ok for %s", user["Username"])
        store = token_store(state)
        sid = secrets.token_urlsafe(32)
        store.sessions[sid] = BrowserSession(org.key, user["Id"], state.now() + SESSION_TTL)
        name = user["Username"]
        saved = [name] + [u for u in _saved_usernames(req) if u.lower() != name.lower()]
        remembered = quote("|".join(saved[:5]), safe="")
        cookies = [_set_cookie("sid", sid), _set_cookie("sfw_logged_out", "", max_age=0),
                   _set_cookie("sfw_saved_usernames", remembered, max_age=31_536_000)]
        tx.user = (org.key, user["Id"])
        resp = _to_allow(state, req, tx_id, tx)
        resp.headers.extend(cookies)
        return resp


def _allow_facts(state: SandboxState, tx: Tx) -> pages.AllowFacts | None:
    app = state.connected_apps.get(tx.client_id)
    org = state.orgs.get(tx.user[0]) if tx.user else None
    user = org.user(tx.user[1]) if org and tx.user else None
    if app is None or org is None or user is None:
        return None
    return pages.AllowFacts(app_name=app.name, user_name=user.get("Name") or "", username=user["Username"],
                            org_name=org.name, org_id=org.id, is_sandbox=org.is_sandbox, scopes=tx.scopes)


def _allow_form(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        tx_id = req.arg("tx", "") or ""
        tx = _live_tx(state, tx_id)
        facts = _allow_facts(state, tx) if tx else None
        if tx is None or facts is None:
            return _expired_page()
        return _html(pages.allow_page(tx=tx_id, csrf=tx.csrf, facts=facts))


def _allow_submit(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        found_tx = _form_tx(state, req)
        if found_tx is None or found_tx[1].user is None:
            return _expired_page()
        tx_id, tx, form = found_tx
        store = token_store(state)
        del store.pending[tx_id]  # one decision per trip
        assert tx.user is not None
        allow = form.get("decision") == "allow"
        grant = Grant(tx.user[0], tx.user[1], tx.client_id, tx.scopes)
        who = _user_label(state.orgs[tx.user[0]], tx.user[1])
        app = state.connected_apps[tx.client_id]
        log.info("%s %s access for %s", who, "allowed" if allow else "denied", app.name)
        if tx.kind == "device":
            dev: DeviceAuth | None = store.devices.get(tx.device_code or "")
            if dev is None or dev.expires <= state.now() or dev.status != "pending":
                return _html(pages.message_page("Code expired", "This code has expired. Start again on your "
                                                "device."), 400)
            dev.status, dev.grant = ("approved", grant) if allow else ("denied", None)
            if allow:
                return _html(pages.message_page(
                    "You're connected", f"{app.name} can now access Salesforce as {who}. You can close this "
                    "window and return to your device."))
            return _html(pages.message_page("Access denied", f"{app.name} was not given access."))
        if not allow:
            denied = "end-user denied authorization"
            return redirect(_with_params(tx.redirect_uri, error="access_denied", error_description=denied,
                                         state=tx.client_state))
        code = "aPrx" + secrets.token_urlsafe(60) + "=="
        store.codes[code] = AuthCode(grant, tx.redirect_uri, tx.challenge, state.now() + CODE_TTL)
        return redirect(_with_params(tx.redirect_uri, code=code, state=tx.client_state))


def _error_page(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        app = state.connected_apps.get(req.arg("client_id", "") or "")
        error, description = req.arg("error", "") or "", req.arg("error_description", "") or ""
        return _html(pages.oauth_error_page(error, description, app_name=app.name if app else ""))


def _normalise_user_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def _connect_form(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        tx_id, tx = _new_tx(state, "device")
        return _html(pages.device_code_page(tx=tx_id, csrf=tx.csrf, user_code=req.arg("user_code", "") or ""))


def _connect_submit(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        found_tx = _form_tx(state, req)
        if found_tx is None or found_tx[1].kind != "device":
            return _expired_page()
        tx_id, tx, form = found_tx
        code = _normalise_user_code(form.get("user_code", ""))
        now = state.now()
        match = next(((dc, d) for dc, d in token_store(state).devices.items()
                      if d.user_code == code and d.status == "pending" and d.expires > now), None)
        if match is None:
            return _html(pages.device_code_page(
                tx=tx_id, csrf=tx.csrf, user_code=form.get("user_code", ""),
                error="That code is invalid or has expired. Check the code on your device and try again."))
        tx.device_code, dev = match
        tx.client_id, tx.scopes = dev.client_id, dev.scopes
        return _begin(state, req, tx_id, tx, [])


def _logout(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        token_store(state).sessions.pop(_cookies(req).get("sid", ""), None)
    return _html(pages.message_page("Logged out", "You have logged out of every org in this browser."),
                 cookies=[_set_cookie("sid", "", max_age=0), _set_cookie("sfw_logged_out", "1")])


def routes() -> list[Route]:
    allow, error = ALLOW_PATH.replace(".", r"\."), ERROR_PATH.replace(".", r"\.")
    return [
        route("GET", "/services/oauth2/authorize", _authorize),
        route("POST", "/services/oauth2/authorize", _authorize),
        route("GET", "/services/oauth2/login", _login_form),
        route("POST", "/services/oauth2/login", _login_submit),
        route("GET", allow, _allow_form),
        route("POST", allow, _allow_submit),
        route("GET", error, _error_page),
        route("POST", "/services/oauth2/token", _token),
        route("GET", "/services/oauth2/revoke", _revoke),
        route("POST", "/services/oauth2/revoke", _revoke),
        route("GET", "/services/oauth2/userinfo", _userinfo),
        route("POST", "/services/oauth2/userinfo", _userinfo),
        route("GET", "/id/(?P<org>[A-Za-z0-9]{15,18})/(?P<user>[A-Za-z0-9]{15,18})/?", _identity),
        route("POST", "/id/(?P<org>[A-Za-z0-9]{15,18})/(?P<user>[A-Za-z0-9]{15,18})/?", _identity),
        route("GET", "/setup/connect", _connect_form),
        route("POST", "/setup/connect", _connect_submit),
        route("GET", r"/secur/logout\.jsp", _logout),
    ]
