"""What a person's clicks do to a platform's hold on the Salesforce token: a successful Authorize /
Reconnect, a Deny, and the security advisory that revokes the token. Shared by the PX and Skilljar cards.

Plain functions over ``SandboxState``; callers hold ``state.lock``.
"""

from __future__ import annotations

import logging
from typing import Any

from sfwizard.sandbox.integration import INVALID_SESSION
from sfwizard.sandbox.px.state import PxIntegration, px_state
from sfwizard.sandbox.salesforce.store import Org, Record
from sfwizard.sandbox.salesforce.tokens import token_store
from sfwizard.sandbox.skilljar.state import SkilljarState, skilljar_state
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")


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
