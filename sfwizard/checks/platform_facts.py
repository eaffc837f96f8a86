"""Facts from the platform's API and the vendor's status page, read once per run, and when the integration stopped."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sfwizard.checks.memo import Memo

if TYPE_CHECKING:
    from sfwizard.integrations.px import IntegrationStatus, PxAPI
    from sfwizard.integrations.px import Page as PxPage
    from sfwizard.integrations.statuspage import StatusPageAPI, StatusSummary


class PlatformFacts(Memo):
    """Mixed into ``CheckContext`` (its fields: ``px``, ``status``, ``disconnected_at``, ``infer_disconnect``)."""

    px: PxAPI | None
    status: StatusPageAPI | None
    disconnected_at: datetime | None
    infer_disconnect: bool

    @property
    def platform(self) -> PxAPI:
        assert self.px is not None, "a check that calls the platform must declare needs=(\"platform\",)"
        return self.px

    def px_integrations(self) -> list[IntegrationStatus]:
        return self.memo("px_integrations", lambda: self.platform.integrations())

    def px_integration(self) -> IntegrationStatus | None:
        """The platform's Salesforce data integration, as its monitoring API reports it: every row whose
        name could be it (PX publishes no names), DOWN when any of them is (``integrations.px.combine``)."""
        def fetch() -> IntegrationStatus | None:
            from sfwizard.integrations.px import combine, salesforce_rows

            return combine(salesforce_rows(self.px_integrations()))
        return self.memo("px_integration", fetch)

    def _px_page(self, kind: str) -> PxPage:
        from sfwizard.integrations.px import MATCHED, PX_PAGE

        return self.memo(f"px_page_{kind}", lambda: self.platform.page(kind, PX_PAGE, filters=(MATCHED[kind],)))

    def px_sample(self, kind: str) -> list[dict[str, Any]]:
        """One page (1,000) of the platform's accounts or users that the integration matched to Salesforce
        (unmatched ones are normal and say nothing about the org): the bounded sample checks compare."""
        return self._px_page(kind).records

    def px_total(self, kind: str) -> int | None:
        """How many accounts or users the platform holds matched to Salesforce (``totalHits``, same call)."""
        return self._px_page(kind).total_hits

    def px_attributes(self, kind: str) -> list[dict[str, Any]]:
        return self.memo(f"px_attributes:{kind}", lambda: self.platform.attributes(kind))

    def px_subscription(self) -> dict[str, Any] | None:
        return self.memo("px_subscription", lambda: self.platform.subscription())

    def status_summary(self) -> StatusSummary:
        assert self.status is not None, "a check that reads the status page must declare needs=(\"status\",)"
        return self.memo("status", self.status.summary)

    def disconnect_time(self) -> datetime | None:
        """When the integration stopped: the time given (the admin's word, the session's), else — when asked to
        infer it — the last success of the platform's integration while it is DOWN (UP: no disconnect)."""
        if self.disconnected_at is not None or not self.infer_disconnect or self.px is None:
            return self.disconnected_at

        def infer() -> datetime | None:
            try:
                integ = self.px_integration()
            except Exception:  # the platform checks report it; inference just gives up
                return None
            return integ.last_success if integ is not None and integ.status != "UP" else None

        return self.memo("disconnect_inferred", infer)
