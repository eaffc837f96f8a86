"""Skilljar's Salesforce integration as plain state: its token, Last Sync Date, disconnect, and backfills."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sfwizard.sandbox.integration import Refused

if TYPE_CHECKING:
    from sfwizard.sandbox.state import SandboxState


@dataclass
class Backfill:
    started_at: datetime
    window_start: datetime
    window_end: datetime
    records: int
    state: str = "COMPLETED"


@dataclass
class SkilljarState:
    org_key: str
    user_id: str | None
    client_id: str
    status: str = "connected"  # connected or disconnected
    disconnected_at: datetime | None = None
    last_sync_at: datetime | None = None
    backfills: list[Backfill] = field(default_factory=list)
    backfill_used_for: datetime | None = None  # the disconnect a backfill already caught up
    pending: list[dict[str, Any]] = field(default_factory=list)  # Skilljar-side changes not yet pushed
    window_days: int = 21
    access_token: str | None = None  # the connection's own tokens, once Reconnect has made them
    refresh_token: str | None = None


def skilljar_state(state: SandboxState) -> SkilljarState:
    if state.skilljar is None:
        raise Refused(404, "not_configured", "this scenario has no Skilljar integration")
    return state.skilljar
