"""Vendors' Atlassian Statuspage v2 status pages, through ``transport.Http``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import Http


@dataclass(frozen=True)
class StatusSummary:
    indicator: str  # none minor major critical
    description: str
    components: tuple[tuple[str, str], ...]  # (name, status)
    incidents: tuple[dict[str, Any], ...]


class StatusPageAPI:
    def __init__(self, http: Http, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def summary(self) -> StatusSummary:
        resp = self.http.request("GET", self.base_url + "/api/v2/summary.json", label="status")
        if resp.status_code >= 400:
            raise SfwizardError(f"the status page answered HTTP {resp.status_code}",
                                f"open {self.base_url} in a browser")
        data = resp.json()
        unresolved = self.http.request("GET", self.base_url + "/api/v2/incidents/unresolved.json",
                                       label="status")
        incidents = unresolved.json().get("incidents", []) if unresolved.status_code < 400 else \
            [i for i in data.get("incidents", []) if i.get("status") not in ("resolved", "postmortem")]
        return StatusSummary(
            indicator=str(data.get("status", {}).get("indicator", "none")),
            description=str(data.get("status", {}).get("description", "")),
            components=tuple((str(c.get("name")), str(c.get("status"))) for c in data.get("components", [])),
            incidents=tuple(incidents),
        )
