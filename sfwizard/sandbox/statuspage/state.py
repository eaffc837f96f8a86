"""A Statuspage v2 page as plain state: components, incidents and scheduled maintenances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class StatusComponent:
    name: str
    status: str = "operational"  # operational degraded_performance partial_outage major_outage under_maintenance
    id: str = ""
    group: str = ""  # the name of the group component it sits in ("" when ungrouped)


@dataclass
class Incident:
    name: str
    status: str  # investigating identified monitoring resolved postmortem
    impact: str  # none minor major critical
    created_at: datetime
    updates: list[dict[str, Any]] = field(default_factory=list)  # {status, body, created_at}
    components: list[str] = field(default_factory=list)
    id: str = ""
    shortlink: str = ""


@dataclass
class Maintenance:
    """A scheduled maintenance: an announced window, not an incident (Statuspage keeps them apart)."""

    name: str
    status: str  # scheduled in_progress verifying completed
    scheduled_for: datetime
    scheduled_until: datetime
    impact: str = "maintenance"
    components: list[str] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # {status, body, created_at}
    id: str = ""
    shortlink: str = ""


@dataclass
class StatusPageState:
    name: str = "Gainsight"
    url: str = "https://status.gainsight.com"
    indicator: str = "none"  # none minor major critical maintenance
    description: str = "All Systems Operational"
    time_zone: str = "Etc/UTC"  # page.time_zone: the page's times are written with this zone's offset
    components: list[StatusComponent] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    maintenances: list[Maintenance] = field(default_factory=list)
