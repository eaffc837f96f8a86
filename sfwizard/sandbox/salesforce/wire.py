"""Python values ↔ Salesforce JSON: datetimes as ``2026-11-20T10:00:00.000+0000``, dates as ISO."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sfwizard.sandbox.salesforce.store import FieldDef
from sfwizard.sftime import format_datetime, parse_datetime

__all__ = ["format_datetime", "parse_datetime", "to_json", "from_json", "WireValueError"]


def to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


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
