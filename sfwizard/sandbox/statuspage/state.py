"""A Statuspage v2 page as plain state: components and incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class StatusComponent:
    name: str
    status: str = "operational"  # operational degraded_performance partial_outage major_outage under_maintenance
    id: str = ""


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
class StatusPageState:
    name: str = "Gainsight"
    url: str = "https://status.gainsight.com"
    indicator: str = "none"  # none minor major critical
    description: str = "All Systems Operational"
    components: list[StatusComponent] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
