"""Python values ↔ Salesforce JSON: datetimes as ``2026-11-20T10:00:00.000+0000``, dates as ISO."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sfwizard.sandbox.store import FieldDef


def format_datetime(value: datetime) -> str:
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


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


class WireValueError(ValueError):
    """A JSON value that does not fit the field's type."""


def from_json(f: FieldDef, value: Any) -> Any:
    """Validate and convert a value a client sent for ``f``."""
    if value is None:
        return None
    t = f.type
    try:
        if t == "boolean":
            if not isinstance(value, bool):
                raise WireValueError
            return value
        if t == "int":
            if isinstance(value, bool):
                raise WireValueError
            return int(value)
        if t in ("double", "currency", "percent"):
            if isinstance(value, bool):
                raise WireValueError
            return float(value)
        if t == "datetime":
            return parse_datetime(str(value))
        if t == "date":
            return date.fromisoformat(str(value)[:10])
    except (TypeError, ValueError) as exc:
        raise WireValueError(f"{value!r} is not a valid {t}") from exc
    text = str(value)
    if f.length and len(text) > f.length:
        raise WireValueError(f"data value too large: {text[:20]}... (max length={f.length})")
    return text
