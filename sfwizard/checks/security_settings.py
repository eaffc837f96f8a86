"""What a security review looks at: its window, the vendor's apps, and the egress ranges the admin declared.

``SecuritySettings`` comes from the profile (``security:`` in sfwizard/profiles/*.yaml: the vendor's app names,
and egress ranges only where a public source for them was found — none is, so none ships) and from what the
admin declares in the wizard or on the command line (saved in the recovery session). A caller attaches it to a
run's context (``attach``); a run without one reviews the profile's defaults.

The window (``window``): from ``since`` (default 30 days before the disconnect, or before now when nothing
disconnected) to ``until`` (default now). The incident window is the ``incident_days`` before the disconnect:
the API volume shows its peak against the days before it (the baseline) — shown, never judged.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfwizard.checks.context import CheckContext
    from sfwizard.profiles import Profile

KEY = "security:settings"
DEFAULT_DAYS = 30
INCIDENT_DAYS = 7
IPV4_NETWORK = 24  # logins are grouped by /24 (IPv4) and /48 (IPv6) networks
IPV6_NETWORK = 48

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class SecuritySettings:
    since: datetime | None = None  # None: DEFAULT_DAYS before the disconnect (or now)
    until: datetime | None = None  # None: now
    egress: tuple[str, ...] = ()  # the vendor's egress ranges as declared ("34.201.12.0/24", "a-b", one address)
    egress_source: str = ""  # the URL the ranges came from, as the admin gave it
    vendor_apps: tuple[str, ...] = ()  # the vendor's connected app names (default: the profile's app)
    incident_days: int = INCIDENT_DAYS

    def with_egress(self, ranges: list[str] | tuple[str, ...], source: str = "") -> SecuritySettings:
        return replace(self, egress=tuple(ranges), egress_source=source)

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None, "egress": list(self.egress),
                "egress_source": self.egress_source, "vendor_apps": list(self.vendor_apps),
                "incident_days": self.incident_days}


def from_profile(profile: Profile) -> SecuritySettings:
    sec = profile.security or {}
    apps = tuple(sec.get("vendor_apps") or ()) or (profile.connected_app,)
    return SecuritySettings(egress=tuple(sec.get("egress_ranges") or ()), egress_source=str(sec.get("egress_source")
                                                                                             or ""), vendor_apps=apps)


def attach(ctx: CheckContext, settings: SecuritySettings) -> None:
    """The settings this run reviews with (replacing any attached before)."""
    if not settings.vendor_apps:
        settings = replace(settings, vendor_apps=from_profile(ctx.profile).vendor_apps)
    with ctx._lock:
        ctx._memo[KEY] = settings


def settings_of(ctx: CheckContext) -> SecuritySettings:
    return ctx.memo(KEY, lambda: from_profile(ctx.profile))


# -- the window ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    disconnect: datetime | None
    incident_since: datetime | None  # the incident window: incident_days before the disconnect

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat(timespec="seconds"), "until": self.until.isoformat(timespec="seconds"),
                "disconnect": self.disconnect.isoformat(timespec="seconds") if self.disconnect else None,
                "incident_since": self.incident_since.isoformat(timespec="seconds") if self.incident_since else None}


def window(ctx: CheckContext) -> Window:
    def make() -> Window:
        s = settings_of(ctx)
        disconnect = ctx.disconnect_time()
        until = s.until or ctx.now
        since = s.since or ((disconnect or until) - timedelta(days=DEFAULT_DAYS))
        incident = disconnect - timedelta(days=s.incident_days) if disconnect else None
        return Window(since, until, disconnect, max(incident, since) if incident else None)
    return ctx.memo("security:window", make)


# -- networks -----------------------------------------------------------------------------------------------------

def address(text: str | None) -> Address | None:
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def network_of(ip: str | None) -> str:
    """The /24 (IPv4) or /48 (IPv6) network an address belongs to; the text itself when it is no address."""
    a = address(ip)
    if a is None:
        return ip or "unknown"
    bits = IPV4_NETWORK if a.version == 4 else IPV6_NETWORK
    return str(ipaddress.ip_network(f"{a}/{bits}", strict=False))


@dataclass(frozen=True)
class Ranges:
    """Declared ranges, parsed; ``bad`` lists what was not a range (shown, never guessed at)."""

    spans: tuple[tuple[Address, Address], ...] = ()
    bad: tuple[str, ...] = ()
    text: tuple[str, ...] = field(default=())

    def covers(self, ip: str | None) -> bool | None:
        """Whether the address is inside a declared range; None when nothing is declared or it is no address."""
        a = address(ip)
        if not self.spans or a is None:
            return None
        return any(lo.version == a.version and lo <= a <= hi for lo, hi in self.spans)  # type: ignore[operator]

    def covers_range(self, start: str, end: str) -> bool:
        lo, hi = address(start), address(end)
        return lo is not None and hi is not None and bool(self.covers(start)) and bool(self.covers(end))


def parse_ranges(texts: tuple[str, ...] | list[str]) -> Ranges:
    spans, bad = [], []
    for raw in texts:
        text = str(raw).strip()
        try:
            if "/" in text:
                net = ipaddress.ip_network(text, strict=False)
                spans.append((net.network_address, net.broadcast_address))
            elif "-" in text and ":" not in text:
                a, _, b = text.partition("-")
                lo, hi = ipaddress.ip_address(a.strip()), ipaddress.ip_address(b.strip())
                if lo.version != hi.version or hi < lo:  # type: ignore[operator]
                    raise ValueError(text)
                spans.append((lo, hi))
            else:
                a = ipaddress.ip_address(text)
                spans.append((a, a))
        except ValueError:
            bad.append(text)
    return Ranges(tuple(spans), tuple(bad), tuple(str(t) for t in texts))


def check_range(text: str) -> str | None:
    """What is wrong with one range as a person typed it, or None."""
    got = parse_ranges([text])
    return None if got.spans else f"not an IP range: {text!r} (use 34.201.12.0/24, 10.0.0.1-10.0.0.9 or one address)"
