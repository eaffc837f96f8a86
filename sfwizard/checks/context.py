"""What checks share for one run: the API clients, the profile, the snapshot, and facts fetched once.

The facts live by subject, mixed in here: ``salesforce_facts`` (the org, the users, the app's tokens and logins,
access, describes, limits — read through ``batching``'s memoized, batched Salesforce reads), ``platform_facts``
(the platform's API, the status page, the disconnect time) and ``snapshot_facts``; ``memo`` makes each fact once
per run however many threads ask. What a check will read is declared on it (``sfwizard.checks.reads``) and
fetched ahead by the run's plan (``sfwizard.checks.prefetch``). Queries aggregate (COUNT(), MAX) or take
samples: a run's API cost does not grow with the number of records.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sfwizard.checks.platform_facts import PlatformFacts
from sfwizard.checks.salesforce_facts import SalesforceFacts
from sfwizard.checks.snapshot_facts import SnapshotFacts
from sfwizard.profiles import Profile

if TYPE_CHECKING:  # types only: the snapshot module loads YAML, the platform clients load on first use
    from sfwizard.checks.memo import _Pending
    from sfwizard.checks.results import CheckResult
    from sfwizard.integrations.px import PxAPI
    from sfwizard.integrations.salesforce import SalesforceAPI
    from sfwizard.integrations.statuspage import StatusPageAPI
    from sfwizard.snapshot import Snapshot


@dataclass
class CheckContext(SnapshotFacts, SalesforceFacts, PlatformFacts):
    profile: Profile
    sf: SalesforceAPI | None = None
    px: PxAPI | None = None
    status: StatusPageAPI | None = None
    snapshot: Snapshot | None = None  # the admin's record of the integration (sfwizard.snapshot)
    reauthorized_at: datetime | None = None  # when the person clicked Authorize/Reconnect (session)
    disconnected_at: datetime | None = None  # when the integration stopped, as given (disconnect_time() reads it)
    known_article: str | None = None  # a Knowledge article title the admin knows exists
    # Managed packages' latest versions by namespace, as a person read them off the listing (no API says which
    # is the latest); a demo takes them from its scenario.
    latest_versions: dict[str, str] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    results: dict[str, CheckResult] = field(default_factory=dict)  # id → result of this run so far
    sign_in_required: bool = False  # set by the runner: the checks could not run
    unreachable: list[str] = field(default_factory=list)  # set by the runner: checks that reached no service
    # No disconnect time given: the platform's DOWN integration's last success is it (read on first use).
    infer_disconnect: bool = False
    io: Executor | None = field(default=None, repr=False, compare=False)  # set by the runner for its run
    _memo: dict[str, Any] = field(default_factory=dict)  # key → a fact's value (tests may seed it)
    _slots: dict[str, _Pending] = field(default_factory=dict, repr=False, compare=False)  # in flight, or failed
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _stop: BaseException | None = field(default=None, repr=False, compare=False)

    # -- availability --------------------------------------------------------------------------
    def has(self, need: str) -> bool:
        if need == "data_org":
            return self.sf is not None and self.wrong_org() is None
        return {"salesforce": self.sf is not None, "platform": self.px is not None,
                "status": self.status is not None, "snapshot": self.snapshot is not None}.get(need, False)

    def why_missing(self, need: str) -> str:
        if need == "data_org" and self.sf is not None:
            w = self.wrong_org() or {}
            here, there = w.get("signed_in", {}), w.get("data_org", {})
            return (f"not checked in {here.get('name')} ({here.get('id')}): the platform's data lives in "
                    f"{there.get('name') or 'another org'} ({there.get('id')}); identity.right_org says so")
        return {
            "salesforce": "not signed in to Salesforce (run: sfwizard login)",
            "data_org": "not signed in to Salesforce (run: sfwizard login)",
            "platform": f"no {self.profile.vendor} API access (set SFWIZARD_PX_API_KEY)"
            if self.profile.platform_api else f"{self.profile.vendor} has no public API for this",
            "status": "no status page configured",
            "snapshot": "no mapping snapshot yet (run: sfwizard snapshot -o mappings.yaml)",
        }[need]

    def missing_reason(self, need: str) -> str:
        """The skip.* reason code for a missing prerequisite (see ``why_missing`` for the words)."""
        if need == "platform":
            return "skip.no_platform_key" if self.profile.platform_api else "skip.no_platform_api"
        if need == "data_org":
            return "skip.wrong_org" if self.sf is not None else "skip.no_salesforce"
        return {"salesforce": "skip.no_salesforce", "status": "skip.no_status_page",
                "snapshot": "skip.no_snapshot"}[need]
