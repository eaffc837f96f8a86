"""The platforms' hold on a Salesforce OAuth token: connect (Authorize / Reconnect), the advisory that
revokes it, and checking it as an API call would. Shared by the PX and Skilljar imitations.

Plain functions over ``SandboxState``; callers hold ``state.lock``. A refusal raises ``Refused`` with
the HTTP status and a reason a person can act on; the admin routes turn it into JSON or a page message.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sfwizard.sandbox.px.state import PxIntegration, PxState
from sfwizard.sandbox.salesforce.store import Org, Record
from sfwizard.sandbox.salesforce.tokens import token_store, touch_oauth_token
from sfwizard.sandbox.skilljar.state import SkilljarState
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")

INVALID_SESSION = "INVALID_SESSION_ID: Session expired or invalid"
API_DISABLED = "API_CURRENTLY_DISABLED: API is disabled for this User"


class Refused(Exception):
    """A click the platform would not accept, with the reason it shows."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.error, self.reason = status, error, reason


def px_state(state: SandboxState) -> PxState:
    if state.platform is None:
        raise Refused(404, "not_configured", "this scenario has no Gainsight PX integration")
    return state.platform


def skilljar_state(state: SandboxState) -> SkilljarState:
    if state.skilljar is None:
        raise Refused(404, "not_configured", "this scenario has no Skilljar integration")
    return state.skilljar


# -- tokens ------------------------------------------------------------------------------------------

def token_identity(state: SandboxState, token: str | None) -> tuple[Org, Record] | str:
    """The org and user behind an integration's own token, checked as an API call would be."""
    tok = token_store(state).access.get(token or "")
    if tok is None or tok.revoked:
        return INVALID_SESSION
    org = state.orgs.get(tok.grant.org_key)
    user = org.user(tok.grant.user_id) if org else None
    if org is None or user is None or not user.get("IsActive"):
        return INVALID_SESSION
    if not org.access(user["Id"]).api_enabled:
        return API_DISABLED
    touch_oauth_token(state, org, tok.grant)
    return org, user


def connect(state: SandboxState, kind: str, token_body: dict[str, Any]) -> tuple[Org, Record]:
    """A successful Authorize/Reconnect: the platform now holds whoever approved, in whichever org."""
    grant = token_store(state).access[token_body["access_token"]].grant
    org = state.orgs[grant.org_key]
    user = org.user(grant.user_id)
    assert user is not None
    if kind == "px":
        px = px_state(state)
        integ = px.integration
        if px.data_org_key is None:
            px.data_org_key = integ.org_key  # PX's records stay where they were until the next sync
        integ.org_key, integ.user_id = grant.org_key, grant.user_id
        integ.access_token, integ.refresh_token = token_body["access_token"], token_body.get("refresh_token")
        integ.status, integ.authorized, integ.last_error = "UP", True, None
    else:
        sj = skilljar_state(state)
        sj.org_key, sj.user_id = grant.org_key, grant.user_id
        sj.access_token, sj.refresh_token = token_body["access_token"], token_body.get("refresh_token")
        sj.status = "connected"
    log.info("%s authorized against %s (%s) as %s", kind, org.name, org.id, user["Username"])
    return org, user


def authorization_refused(state: SandboxState, kind: str, error: str, description: str = "") -> str:
    """The person clicked Deny (or the login server refused): nothing changes but the last error."""
    reason = error if not description else f"{error}: {description}"
    if kind == "px":
        px_state(state).integration.last_error = reason
    log.info("%s authorization refused: %s", kind, error)
    return reason


def revoke(state: SandboxState, kind: str) -> int:
    """Simulate the security advisory: every token of the integration's app and user dies."""
    target: PxIntegration | SkilljarState = (px_state(state).integration if kind == "px"
                                             else skilljar_state(state))
    org = state.orgs[target.org_key]
    n = token_store(state).revoke_grant(target.org_key, target.user_id or "", target.client_id)
    app = state.connected_apps.get(target.client_id)
    table = org.table("OauthToken")
    for row in list(table.scan()):
        if app is not None and row["UserId"] == target.user_id and row["AppName"] == app.name:
            table.delete(row["Id"])  # Setup → OAuth Usage no longer lists the grant
    now = state.now()
    if isinstance(target, PxIntegration):
        target.status, target.authorized, target.disconnected_at = "DOWN", False, now
        target.last_error = INVALID_SESSION
    else:
        target.status, target.disconnected_at = "disconnected", now
    target.access_token = target.refresh_token = None
    log.info("advisory simulated: %d %s token(s) revoked", n, kind)
    return n


# -- what the admin page shows ------------------------------------------------------------------------------

def iso(dt: datetime | date | None) -> str | None:
    return dt.isoformat(timespec="seconds") if isinstance(dt, datetime) else (dt.isoformat() if dt else None)
