"""Vendors' Atlassian Statuspage v2 status pages, through ``transport.Http``.

One call: ``summary.json`` holds the status, the components, the unresolved incidents and the upcoming and
in-progress scheduled maintenances (Statuspage's API v2: "a summary of the status page, including a status
indicator, component statuses, unresolved incidents, and any upcoming or in-progress scheduled
maintenances"), so ``incidents/unresolved.json`` would only repeat its incidents. A maintenance is kept apart
from incidents, as Statuspage keeps it: a component ``under_maintenance`` or a scheduled window is not an
outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import Http

CLOSED = ("resolved", "postmortem", "completed")


@dataclass(frozen=True)
class Incident:
    name: str
    status: str  # investigating identified monitoring (resolved and postmortem are dropped)
    impact: str  # none minor major critical
    components: tuple[str, ...]  # the names of the components it affects
    shortlink: str = ""


@dataclass(frozen=True)
class Maintenance:
    name: str
    status: str  # scheduled in_progress verifying
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    components: tuple[str, ...]
    shortlink: str = ""

    @property
    def active(self) -> bool:
        return self.status in ("in_progress", "verifying")

    def window(self) -> str:
        def at(dt: datetime | None) -> str:
            return f"{dt:%Y-%m-%d %H:%M} UTC" if dt else "?"
        return f"{at(self.scheduled_for)} → {at(self.scheduled_until)}"


@dataclass(frozen=True)
class StatusSummary:
    indicator: str  # none minor major critical maintenance
    description: str
    components: tuple[tuple[str, str], ...]  # (name, status)
    incidents: tuple[Incident, ...]  # unresolved only
    maintenances: tuple[Maintenance, ...] = ()  # upcoming and in progress


class StatusPageAPI:
    def __init__(self, http: Http, base_url: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")

    def summary(self) -> StatusSummary:
        resp = self.http.request("GET", self.base_url + "/api/v2/summary.json", label="status")
        if resp.status_code >= 400:
            raise SfwizardError(f"the status page {self.base_url} answered HTTP {resp.status_code}",
                                f"open {self.base_url} in a browser", fix="settings.status_url")
        try:
            data = resp.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):  # a web page, not Statuspage's v2 JSON: the address is not a status page
            raise SfwizardError(f"{self.base_url} answered, but not as a Statuspage status page (no "
                                "/api/v2/summary.json)", f"open {self.base_url} in a browser",
                                fix="settings.status_url")
        raw = data.get("incidents") or []
        return StatusSummary(
            indicator=str(data.get("status", {}).get("indicator", "none")),
            description=str(data.get("status", {}).get("description", "")),
            components=tuple((str(c.get("name")), str(c.get("status"))) for c in data.get("components", [])),
            incidents=tuple(_incident(i) for i in raw if i.get("status") not in CLOSED),
            maintenances=tuple(_maintenance(m) for m in data.get("scheduled_maintenances", []) or []
                               if m.get("status") not in CLOSED),
        )


def _names(item: dict[str, Any]) -> tuple[str, ...]:
    """The affected components' names: from ``components``, else from the updates' ``affected_components``."""
    names = [str(c.get("name")) for c in item.get("components") or [] if isinstance(c, dict)]
    for update in item.get("incident_updates") or []:
        names += [str(a.get("name")) for a in update.get("affected_components") or [] if isinstance(a, dict)]
    return tuple(dict.fromkeys(n for n in names if n and n != "None"))


def _incident(i: dict[str, Any]) -> Incident:
    return Incident(str(i.get("name")), str(i.get("status")), str(i.get("impact")), _names(i),
                    str(i.get("shortlink") or ""))


def _maintenance(m: dict[str, Any]) -> Maintenance:
    from sfwizard.sftime import parse_datetime

    def when(key: str) -> datetime | None:
        try:
            return parse_datetime(str(m[key])) if m.get(key) else None
        except ValueError:
            return None

    return Maintenance(str(m.get("name")), str(m.get("status")), when("scheduled_for"), when("scheduled_until"),
                       _names(m), str(m.get("shortlink") or ""))
