"""PX's ``filter`` and ``sort`` on /v1/accounts and /v1/users, as its contract describes them.

filter: "a list of semicolon-separated filters in the form {fieldName}{operator}{fieldValue}"; terms in
one ``filter`` parameter are joined by AND, separate ``filter`` parameters by OR. Operators ``==`` ``!=``
``<`` ``<=`` ``>`` ``>=``, ``~`` (matches, wildcards ``*`` and ``?``) and ``!~`` (not like). Filters are not
case-sensitive. Field names may be dotted (``location.city``, ``customAttributes.tier``).

sort: "a list of semi-colon separated fields names, each with an optional dash to imply descending sort
order" (``sort=name;-createDate``; a leading ``+`` is accepted too).

What the contract leaves open is decided here and said so: an empty value means "not set" (``sfdcId==``
finds records without one, ``sfdcId!=`` records with one); a record without the field never matches
``~``, ``<``, ``<=``, ``>``, ``>=``; records without the sort field come last either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

_TERM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(==|!=|<=|>=|!~|<|>|~)(.*)$", re.S)


class QueryError(ValueError):
    """A filter or sort PX answers 400 "Bad request" to."""


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str


Filters = tuple[tuple[Term, ...], ...]  # OR of ANDs
Sort = tuple[tuple[str, bool], ...]  # (field, descending)


def parse_filters(values: Iterable[str], known: Callable[[str], bool]) -> Filters:
    groups = []
    for raw in values:
        terms = []
        for part in raw.split(";"):
            part = part.strip()
            if not part:
                continue
            m = _TERM.match(part)
            if not m:
                raise QueryError(f"Bad request: not a filter: {part!r} (use {{field}}{{operator}}{{value}} with "
                                 "== != < <= > >= ~ !~)")
            if not known(m.group(1)):
                raise QueryError(f"Bad request: cannot filter on {m.group(1)!r}")
            terms.append(Term(*m.groups()))
        if terms:
            groups.append(tuple(terms))
    return tuple(groups)


def parse_sort(text: str | None, known: Callable[[str], bool]) -> Sort:
    out = []
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        desc = part.startswith("-")
        name = part.lstrip("+-").strip()
        if not name or not known(name):
            raise QueryError(f"Bad request: cannot sort on {name or part!r}")
        out.append((name, desc))
    return tuple(out)


def value_of(record: dict[str, Any], field: str) -> Any:
    value: Any = record
    for part in field.split("."):
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None) \
            if part not in value else value[part]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _like(pattern: str, value: Any) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, _text(value), re.I | re.S) is not None


def _compare(value: Any, given: str) -> int:
    if isinstance(value, bool):
        a, b = _text(value), given.strip().lower()
    elif isinstance(value, (int, float)):
        try:
            a, b = float(value), float(given)  # type: ignore[assignment]
        except ValueError:
            a, b = _text(value).casefold(), given.casefold()
    else:
        a, b = str(value).casefold(), given.casefold()
    return (a > b) - (a < b)  # type: ignore[operator]


def holds(record: dict[str, Any], t: Term) -> bool:
    v = value_of(record, t.field)
    unset = v is None or v == "" or v == [] or v == {}
    if t.op in ("~", "!~"):
        hit = not unset and not isinstance(v, (dict, list)) and _like(t.value, v)
        return hit if t.op == "~" else not hit
    if t.value == "" and t.op in ("==", "!="):
        return unset if t.op == "==" else not unset
    if unset:
        return t.op == "!="
    c = _compare(v, t.value)
    return {"==": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[t.op]


def matches(record: dict[str, Any], filters: Filters) -> bool:
    return not filters or any(all(holds(record, t) for t in group) for group in filters)


def presence_only(filters: Filters, field: str) -> bool | None:
    """True when the filters say exactly "``field`` is set", False for exactly "not set", else None.

    Lets a large tenant answer ``totalHits`` and skip ahead without looking at every record.
    """
    kinds = set()
    for group in filters:
        if len(group) != 1 or group[0].field.lower() != field.lower():
            return None
        t = group[0]
        anything = t.value != "" and t.value.strip("*") in ("", "?")  # "*", "?*": any value at all
        if (t.op == "~" and anything) or (t.op == "!=" and t.value == ""):
            kinds.add(True)
        elif (t.op == "!~" and anything) or (t.op == "==" and t.value == ""):
            kinds.add(False)
        else:
            return None
    return kinds.pop() if len(kinds) == 1 else None


def _key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (1, float(value))
    return (2, str(value).casefold())


def sort_records(records: list[dict[str, Any]], sort: Sort) -> list[dict[str, Any]]:
    """Stable multi-key sort, records without the field last for ascending and descending alike."""
    out = list(records)
    for field, desc in reversed(sort):
        present = [r for r in out if value_of(r, field) not in (None, "")]
        missing = [r for r in out if value_of(r, field) in (None, "")]
        out = sorted(present, key=lambda r, f=field: _key(value_of(r, f)), reverse=desc) + missing
    return out
