"""The whole sandbox's state: the orgs, connected apps, the platforms' states and the faults.

Everything a request touches hangs off one ``SandboxState`` guarded by one re-entrant lock; each
imitated service keeps its own part (``platform``, ``skilljar``, ``status_page``, ``oauth``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the Salesforce imitation imports this module: types only here
    from sfwizard.sandbox.salesforce.store import ConnectedApp, Org, Record


@dataclass
class Faults:
    """Failures to inject; see ``faults.py`` for the command-line syntax."""

    latency_ms: int = 0
    jitter_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    drop_rate: float = 0.0
    token_expires_after: int | None = None  # an access token dies after N API calls
    request_limit_after: int | None = None  # REQUEST_LIMIT_EXCEEDED after N API calls
    px_rate_per_second: int | None = None  # the platform API answers 429 above this rate
    px_429_rate: float = 0.0  # a fraction of platform calls answer 429 regardless
    # service ("salesforce", "platform", "status") → requests it answers before it can no longer be reached
    unreachable: dict[str, int] = field(default_factory=dict)


class SandboxState:
    """The whole sandbox. Every handler takes ``state.lock`` around what it reads and writes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.scenario_name = ""
        self.scenario_description = ""
        self.scenario_path = ""
        self.seed = 0
        self.profile = "gainsight-px"  # or "skilljar"
        self.loaded_at = datetime.now(timezone.utc)
        self.base_url = ""  # https://127.0.0.1:PORT once bound
        self.orgs: dict[str, Org] = {}
        self.default_org_key = ""
        self.connected_apps: dict[str, ConnectedApp] = {}
        self.passwords: dict[tuple[str, str], str] = {}  # (org key, username lower) → password
        self.px_api_key = ""
        self.faults = Faults()
        self.api_version = "60.0"
        # Filled by the platform, OAuth and status modules (their own dataclasses).
        self.oauth: Any = None
        self.platform: Any = None
        self.skilljar: Any = None
        self.status_page: Any = None
        # Filled by scenario.py: scenario app key → client_id, (org key, user Id) → role key from the
        # YAML, and a remembered browser session (org key, user Id) the login page offers (wrong-org).
        self.app_keys: dict[str, str] = {}
        self.user_roles: dict[tuple[str, str], str] = {}
        self.login_hint: tuple[str, str] | None = None
        # Records the scenario wrote out field by field: their history (who changed them, when) is the
        # file's word, so the generated history (pushes, changes since the disconnect) leaves them alone.
        self.explicit_ids: set[str] = set()

    @staticmethod
    def now() -> datetime:
        return datetime.now(timezone.utc)

    @property
    def default_org(self) -> Org:
        return self.orgs[self.default_org_key]

    def org_of_user(self, username: str) -> tuple[Org, Record] | None:
        for org in self.orgs.values():
            u = org.user_by_username(username)
            if u is not None:
                return org, u
        return None
