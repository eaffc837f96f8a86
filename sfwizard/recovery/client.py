"""IntegrationClient: the one facade every screen and CLI command talks to.

Synchronous and safe to call from one worker thread (a check run fans out on threads of its own and
hands results back through ``on_result``); every call is bounded by timeouts, stops at the next request when
``cancel`` is set, reports ``Progress`` and returns plain data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sfwizard.cancel import CancelToken, ProgressFn, no_progress
from sfwizard.checks.base import CheckResult
from sfwizard.checks.context import CheckContext
from sfwizard.checks.runner import run_checks, specs_for
from sfwizard.integrations.transport import CallCounter, Http
from sfwizard.profiles import Profile, load_profile

if TYPE_CHECKING:
    from sfwizard.integrations.px import PxAPI
    from sfwizard.integrations.salesforce import SalesforceAPI
    from sfwizard.integrations.statuspage import StatusPageAPI

log = logging.getLogger("sfwizard")


@dataclass(frozen=True)
class Endpoints:
    """Where everything lives; production values come from Settings, demo ones from the sandbox."""

    instance_url: str | None = None
    access_token: str | None = None
    api_version: str = "60.0"
    px_api_url: str | None = None
    px_api_key: str | None = None
    status_url: str | None = None
    ca_cert: str | None = None  # an extra CA trusted beside the OS trust store (the sandbox's in demo)


class IntegrationClient:
    def __init__(self, profile: str, endpoints: Endpoints, *, refresh: Callable[[], str] | None = None,
                 cancel: CancelToken | None = None) -> None:
        self.profile: Profile = load_profile(profile)
        self.endpoints = endpoints
        self.cancel = cancel or CancelToken()
        self.counter = CallCounter()
        self._refresh = refresh
        self._http: Http | None = None
        self._sf: SalesforceAPI | None = None
        self._px: PxAPI | None = None
        self._status: StatusPageAPI | None = None

    # -- lazily built API clients ----------------------------------------------------------------
    @property
    def http(self) -> Http:
        if self._http is None:
            self._http = Http(self.endpoints.ca_cert, counter=self.counter, cancel=self.cancel)
        return self._http

    @property
    def salesforce(self) -> SalesforceAPI | None:
        """Salesforce as the signed-in user; None until there is a sign-in."""
        if self._sf is None and self.endpoints.instance_url and self.endpoints.access_token:
            from sfwizard.integrations.salesforce import SalesforceAPI

            self._sf = SalesforceAPI(self.endpoints.instance_url, self.endpoints.access_token,
                                     version=self.endpoints.api_version, ca_cert=self.endpoints.ca_cert,
                                     counter=self.counter, refresh=self._refresh, cancel=self.cancel)
        return self._sf

    @property
    def platform(self) -> PxAPI | None:
        """The platform's API; None where the platform has none (Skilljar) or no key is configured."""
        if self._px is None and self.profile.platform_api and self.endpoints.px_api_url \
                and self.endpoints.px_api_key:
            from sfwizard.integrations.px import PxAPI

            self._px = PxAPI(self.http, self.endpoints.px_api_url, self.endpoints.px_api_key)
        return self._px

    @property
    def status_page(self) -> StatusPageAPI:
        if self._status is None:
            from sfwizard.integrations.statuspage import StatusPageAPI

            self._status = StatusPageAPI(self.http, self.endpoints.status_url or self.profile.status_page)
        return self._status

    # -- checks ----------------------------------------------------------------------------------
    def context(self, *, snapshot: Any = None, reauthorized_at: datetime | None = None,
                disconnected_at: datetime | None = None, known_article: str | None = None) -> CheckContext:
        # No disconnect time given: a DOWN integration's last success is when it stopped (UP: no disconnect to
        # date) — read with the run's first round of reads, not before it (CheckContext.disconnect_time).
        return CheckContext(self.profile, self.salesforce, self.platform, self.status_page, snapshot,
                            reauthorized_at=reauthorized_at, disconnected_at=disconnected_at,
                            known_article=known_article, infer_disconnect=disconnected_at is None)

    def run_checks(self, ctx: CheckContext, *, only: Iterable[str] | None = None,
                   steps: Iterable[str] | None = None, progress: ProgressFn = no_progress,
                   on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
        specs = specs_for(self.profile.name, only, steps)
        return run_checks(ctx, specs, cancel=self.cancel, progress=progress, on_result=on_result)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
