"""Gainsight PX's side of the sandbox as plain state: the Salesforce card (mappings, schedule, the
integration's token and status), the sync job, the attribute model and the Knowledge settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sfwizard.sandbox.integration import Refused

if TYPE_CHECKING:
    from sfwizard.sandbox.state import SandboxState


@dataclass
class Mapping:
    """One field mapping between a Salesforce field and a platform attribute."""

    salesforce: str  # "Account.Industry"
    platform: str  # "account.industry" or "user.email"
    direction: str  # "sf_to_px" or "px_to_sf"

    @property
    def sf_object(self) -> str:
        return self.salesforce.split(".", 1)[0]

    @property
    def sf_field(self) -> str:
        return self.salesforce.split(".", 1)[1]

    @property
    def px_object(self) -> str:
        return self.platform.split(".", 1)[0]

    @property
    def px_attribute(self) -> str:
        return self.platform.split(".", 1)[1]


@dataclass
class Attribute:
    """A PX attribute as the attribute-model API lists it."""

    api_name: str
    display_name: str
    type: str  # STRING NUMBER BOOLEAN DATE_TIME (DATE and DATETIME are read as DATE_TIME)
    custom: bool = False
    state: str = "ENABLED"  # ENABLED DISABLED DELETED: a disabled or deleted attribute receives no data
    default_value: str | None = None


@dataclass
class SyncJob:
    """A Synchronize click: runs for a few seconds, advancing ``done`` towards ``total``."""

    started_at: datetime
    total: int
    duration_s: float
    done: int = 0
    state: str = "RUNNING"  # RUNNING COMPLETED FAILED
    finished_at: datetime | None = None
    error: str | None = None
    pushed: int = 0


@dataclass
class KnowledgeSettings:
    used: bool = True  # False: the tenant does not use the Salesforce Knowledge integration at all
    enabled: bool = False
    categories: list[str] = field(default_factory=list)  # "Group.Category"
    accessibility: list[str] = field(default_factory=list)  # Public Partner Customer Internal


@dataclass
class PxIntegration:
    """PX's Salesforce data integration: whose token it holds and how the sync went."""

    org_key: str  # the org the (last) authorization was made against
    # (sync_name below: its row's integrationSyncName in the monitoring API — PX publishes no such name)
    user_id: str | None  # the Salesforce user who approved it (the integration user)
    client_id: str  # PX's connected app
    status: str = "UP"  # UP or DOWN, as the monitoring API reports it
    authorized: bool = True
    disconnected_at: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    records_processed: int = 0
    access_token: str | None = None  # the integration's own token (held by the platform)
    refresh_token: str | None = None
    matching: dict[str, dict[str, str]] = field(default_factory=dict)  # account/user → {salesforce, platform}
    mappings: list[Mapping] = field(default_factory=list)
    custom_objects: list[str] = field(default_factory=list)
    push_enabled: bool = True
    push_schedule_gmt: list[str] = field(default_factory=lambda: ["03:00", "11:00", "19:00"])
    fetch_gmt: str = "00:00"
    map_gmt: str = "04:00"
    sync_duration_s: float = 4.0
    job: SyncJob | None = None
    history: list[SyncJob] = field(default_factory=list)
    home_org_key: str = ""  # the org the integration was set up with, where its data lives (never changes)
    home_user_id: str | None = None  # the integration user there (the one the snapshot documents)
    sync_name: str = "Salesforce"


@dataclass
class PxState:
    integration: PxIntegration
    knowledge: KnowledgeSettings = field(default_factory=KnowledgeSettings)
    region: str = "US"
    time_zone: str = "America/Los_Angeles"  # the subscription's (GET /v1/admin/subscription: timeZone)
    attributes: dict[str, list[Attribute]] = field(default_factory=dict)  # "account"/"user" → list
    # What PX holds per Salesforce Id: attribute → value as of its last sync (stale until synced).
    synced: dict[str, dict[str, Any]] = field(default_factory=dict)
    synced_at: datetime | None = None  # data in PX reflects Salesforce as of this time
    # The org PX's records came from at its last sync (None: the integration's org). An Authorize
    # against another org changes whose token PX holds; only the next sync changes its data.
    data_org_key: str | None = None
    # PX accounts and users the Salesforce integration did not match (no sfdcId / sfdcContactId): normal
    # in every tenant (trials, visitors). They come first in PX's scroll order here.
    unmatched_accounts: int = 0
    unmatched_users: int = 0
    # Further rows of the monitoring API (other integrations), for tests: {"integrationSyncName", …}.
    other_integrations: list[dict[str, Any]] = field(default_factory=list)


def px_state(state: SandboxState) -> PxState:
    if state.platform is None:
        raise Refused(404, "not_configured", "this scenario has no Gainsight PX integration")
    return state.platform
