"""Issued OAuth tokens and the one way every API request is authenticated.

Access tokens look like Salesforce's (``<org id 15>!<opaque>``) so redaction and clients see the
real shape; they are made at run time and live only in memory.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sfwizard.sandbox.http import Request, Response, sf_error
from sfwizard.sandbox.salesforce.store import Org, Record
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")


@dataclass
class Grant:
    """What a token stands for: one user of one org, through one connected app."""

    org_key: str
    user_id: str
    client_id: str
    scopes: tuple[str, ...] = ("api", "refresh_token", "id")


@dataclass
class AccessToken:
    token: str
    grant: Grant
    issued_at: datetime
    uses: int = 0
    revoked: bool = False
    refresh_token: str | None = None  # the refresh token it came from, if any


@dataclass
class RefreshToken:
    token: str
    grant: Grant
    issued_at: datetime
    revoked: bool = False


@dataclass
class TokenStore:
    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    # Filled by oauth.py: authorization codes, device codes, login sessions.
    codes: dict[str, Any] = field(default_factory=dict)
    devices: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, Any] = field(default_factory=dict)  # browser session cookie → signed-in user
    pending: dict[str, Any] = field(default_factory=dict)  # authorize/device transactions in the browser

    def issue(self, state: SandboxState, grant: Grant, with_refresh: bool,
              from_refresh: str | None = None) -> tuple[AccessToken, RefreshToken | None]:
        org = state.orgs[grant.org_key]
        now = state.now()
        access = AccessToken(org.id[:15] + "!" + secrets.token_urlsafe(72), grant, now,
                             refresh_token=from_refresh)
        self.access[access.token] = access
        refresh = None
        if with_refresh:
            refresh = RefreshToken("5Aep861" + secrets.token_urlsafe(60), grant, now)
            self.refresh[refresh.token] = refresh
            access.refresh_token = refresh.token
        return access, refresh

    def revoke(self, token: str) -> bool:
        """Revoking a refresh token also kills the access tokens issued from it, as Salesforce does."""
        if token in self.access:
            self.access[token].revoked = True
            return True
        if token in self.refresh:
            self.refresh[token].revoked = True
            for a in self.access.values():
                if a.refresh_token == token:
                    a.revoked = True
            return True
        return False

    def revoke_grant(self, org_key: str, user_id: str, client_id: str) -> int:
        """Revoke every token of one app for one user (what a security advisory does)."""
        n = 0
        for t in [*self.access.values(), *self.refresh.values()]:
            g = t.grant
            if (g.org_key, g.user_id, g.client_id) == (org_key, user_id, client_id) and not t.revoked:
                t.revoked = True
                n += 1
        return n


def token_store(state: SandboxState) -> TokenStore:
    if state.oauth is None:
        state.oauth = TokenStore()
    return state.oauth


@dataclass
class Caller:
    """An authenticated API caller."""

    org: Org
    user: Record
    token: AccessToken


def invalid_session() -> Response:
    return sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid")


# A user whose password policy expired the password: every API call of theirs answers this, HTTP 401 (as a
# real org answered a describe: [{"message":"Your password has expired. Please reset your password.",
# "errorCode":"INVALID_OPERATION_WITH_EXPIRED_PASSWORD"}]; Salesforce's KB 000212767 names the code).
PASSWORD_EXPIRED = "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"
PASSWORD_EXPIRED_MESSAGE = "Your password has expired. Please reset your password."


def authenticate(state: SandboxState, req: Request, require_api: bool = True) -> Caller | Response:
    """The caller behind the request's Bearer token, or the error Salesforce would answer.

    Counts the call against the token (for ``expire-token=N``) and touches the OauthToken row.
    Call with ``state.lock`` held.
    """
    raw = req.bearer()
    if not raw:
        return invalid_session()
    tok = token_store(state).access.get(raw)
    if tok is None or tok.revoked:
        return invalid_session()
    limit = state.faults.token_expires_after
    if limit is not None and tok.uses >= limit:
        if not tok.revoked:
            log.warning("fault: access token expired after %d calls", limit)
        tok.revoked = True
        return invalid_session()
    org = state.orgs.get(tok.grant.org_key)
    user = org.user(tok.grant.user_id) if org else None
    if org is None or user is None or not user.get("IsActive"):
        return invalid_session()
    if user["Id"] in org.expired_passwords:
        return sf_error(401, PASSWORD_EXPIRED, PASSWORD_EXPIRED_MESSAGE)
    if require_api and not org.access(user["Id"]).api_enabled:
        return sf_error(403, "API_CURRENTLY_DISABLED", "API is disabled for this User")
    tok.uses += 1
    touch_oauth_token(state, org, tok.grant)
    return Caller(org, user, tok)


def touch_oauth_token(state: SandboxState, org: Org, grant: Grant) -> None:
    """Keep the OauthToken row for (app, user) current, as Setup → Connected Apps OAuth Usage shows."""
    app = state.connected_apps.get(grant.client_id)
    if app is None:
        return
    table = org.table("OauthToken")
    now = state.now()
    for row in table.scan():
        if row["UserId"] == grant.user_id and row["AppName"] == app.name:
            row["LastUsedDate"] = now
            row["UseCount"] = (row.get("UseCount") or 0) + 1
            return
    table.insert({"AppName": app.name, "UserId": grant.user_id, "AppMenuItemId": None,
                  "RequestToken": None, "AccessToken": None, "CreatedDate": now, "LastModifiedDate": now,
                  "SystemModstamp": now, "LastUsedDate": now, "UseCount": 1})
