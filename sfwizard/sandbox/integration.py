"""What the PX and Skilljar imitations share about the Salesforce token a platform holds: checking it as an
API call would (``token_identity``), the errors a platform records, and ``Refused`` — a click the platform
would not accept, with the HTTP status and a reason a person can act on (the admin routes show it).

Callers hold ``state.lock``. Connecting and revoking are clicks: ``sandbox.admin.clicks``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sfwizard.sandbox.salesforce.store import Org, Record
from sfwizard.sandbox.salesforce.tokens import (
    PASSWORD_EXPIRED,
    PASSWORD_EXPIRED_MESSAGE,
    token_store,
    touch_oauth_token,
)
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")

INVALID_SESSION = "INVALID_SESSION_ID: Session expired or invalid"
API_DISABLED = "API_CURRENTLY_DISABLED: API is disabled for this User"
EXPIRED_PASSWORD = f"{PASSWORD_EXPIRED}: {PASSWORD_EXPIRED_MESSAGE}"


class Refused(Exception):
    """A click the platform would not accept, with the reason it shows."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.error, self.reason = status, error, reason


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
    if user["Id"] in org.expired_passwords:
        return EXPIRED_PASSWORD
    if not org.access(user["Id"]).api_enabled:
        return API_DISABLED
    touch_oauth_token(state, org, tok.grant)
    return org, user


# -- what the admin page shows ------------------------------------------------------------------------------

def iso(dt: datetime | date | None) -> str | None:
    return dt.isoformat(timespec="seconds") if isinstance(dt, datetime) else (dt.isoformat() if dt else None)
