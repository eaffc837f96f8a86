"""Salesforce's datetime text (``2026-11-20T10:00:00.000+0000``) ↔ aware UTC datetimes."""

from __future__ import annotations

from datetime import datetime, timezone


def format_datetime(value: datetime) -> str:
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """Salesforce accepts ``Z``, ``+0000`` and ``+00:00`` offsets, with or without milliseconds."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    if len(t) >= 5 and t[-5] in "+-" and t[-3] != ":":
        t = t[:-2] + ":" + t[-2:]
    value = datetime.fromisoformat(t)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def local_clock(hhmm_gmt: str, now: datetime | None = None) -> str:
    """A GMT clock time ("04:00") as this machine's local time on ``now``'s day ("23:00 EST")."""
    hh, mm = (int(x) for x in hhmm_gmt.split(":"))
    day = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return day.replace(hour=hh, minute=mm, second=0, microsecond=0).astimezone().strftime("%H:%M %Z")
