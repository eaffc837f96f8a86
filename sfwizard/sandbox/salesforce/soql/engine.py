"""The sandbox's SOQL engine: a parsed query (``soql_parse``) answered from an org's tables.

Names are checked the way Salesforce checks them, with the caller's permissions: an object the
user cannot read does not exist for them (INVALID_TYPE), nor does a field without field-level read
(INVALID_FIELD). Rows come back in wire form (``attributes`` first, fields in SELECT order).

Cost on big tables (``GeneratedTable``: rows made on demand):
- ``SELECT COUNT()`` without WHERE is ``len(table)``; nothing is scanned.
- Without WHERE and ORDER BY, and with no deleted rows, nothing is scanned either: page *k* is
  made from row positions when the caller slices ``rows``.
- With WHERE, one streaming pass keeps the matching positions in an ``array('I')`` (4 bytes a
  match); rows are made again, page by page, when sliced.
- With ORDER BY, the pass holds one ``((rank, value), …, position)`` tuple per match (roughly
  150–200 bytes each, ~40 MB for 250,000 string keys) until the sort is done, then only positions.
Pages are read live: a record changed between two pages shows its new values.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfwizard import ids
from sfwizard.sandbox.salesforce.soql.parse import (
    Aggregate,
    BoolOp,
    Comparison,
    Condition,
    FieldPath,
    Literal,
    Not,
    Parser,
    Query,
    RelativeDate,
    SoqlError,
    located,
    malformed,
    parse,
)
from sfwizard.sandbox.salesforce.store import Access, FieldDef, GeneratedTable, Org, Record, SObjectDef, Table
from sfwizard.sandbox.salesforce.wire import to_json

__all__ = ["QueryResult", "SoqlError", "compile_where", "run_query"]

Predicate = Callable[[Record], bool]

_NO_COLUMN = ("No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, be "
              "sure to append the '__c' after the custom field name. Please reference your WSDL or the "
              "describe call for the appropriate names.")
_NO_RELATIONSHIP = ("Didn't understand relationship '{name}' in field path. If you are attempting to use a "
                    "custom relationship, be sure to append the '__r' after the custom relationship name. "
                    "Please reference your WSDL or the describe call for the appropriate names.")
_NO_TYPE = ("sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure "
            "to append the '__c' after the entity name. Please reference your WSDL or the describe call for "
            "the appropriate names.")
MAX_OFFSET = 2000


@dataclass
class QueryResult:
    total_size: int
    rows: Sequence[dict]  # lazy: len() and slicing make wire rows on demand
    sobject: str


# -- field kinds -------------------------------------------------------------------------------

_KINDS = {"id": "id", "reference": "id", "boolean": "bool", "int": "num", "double": "num", "currency": "num",
          "percent": "num", "date": "date", "datetime": "datetime"}


def _kind(f: FieldDef) -> str:
    return _KINDS.get(f.type, "str")


def _long_text(f: FieldDef) -> bool:
    return f.type == "textarea" and f.length > 255


def _norm(kind: str) -> Callable[[Any], Any]:
    """How a value compares: text case-insensitively (empty = null), Ids by their first 15 characters."""
    if kind == "str":
        return lambda v: str(v).lower() if v not in (None, "") else None
    if kind == "id":
        return lambda v: v[:15] if v else None
    return lambda v: v


def _sort_norm(kind: str) -> Callable[[Any], Any]:
    if kind == "str":
        return lambda v: str(v).lower() if v not in (None, "") else None
    return lambda v: v if v not in ("",) else None


# -- names → schema ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Resolved:
    """A field path checked against the schema: relationship hops, then the field itself."""

    hops: tuple[tuple[FieldDef, SObjectDef], ...]
    field: FieldDef
    path: FieldPath

    @property
    def key(self) -> tuple[str, ...]:
        return (*(ref.name.lower() for ref, _ in self.hops), self.field.name.lower())

    @property
    def kind(self) -> str:
        return _kind(self.field)

    def getter(self, org: Org) -> Callable[[Record], Any]:
        name = self.field.name
        if not self.hops:
            return lambda r: r.get(name)
        steps = [(ref.name, org.tables[target.name]) for ref, target in self.hops]

        def get(r: Record) -> Any:
            for ref_name, table in steps:
                rid = r.get(ref_name)
                if not rid:
                    return None
                r = table.get(rid)  # type: ignore[assignment]
                if r is None:
                    return None
            return r.get(name)

        return get


class _Scope:
    """One FROM object as seen by one user: resolves names and compiles conditions."""

    def __init__(self, org: Org, access: Access | None, text: str, sobject: SObjectDef, alias: str | None,
                 now: datetime, tz: tzinfo) -> None:
        self.org, self.access, self.text = org, access, text
        self.sobject, self.alias, self.now, self.tz = sobject, alias, now, tz

    @classmethod
    def open(cls, org: Org, access: Access | None, text: str, name: str, pos: int, alias: str | None,
             now: datetime, tz: tzinfo) -> _Scope:
        s = org.sobject(name)
        if s is None or not s.queryable or (access is not None and not access.object_perm(s, "read")):
            raise SoqlError("INVALID_TYPE", located(text, pos, _NO_TYPE.format(name=name)))
        return cls(org, access, text, s, alias, now, tz)

    def _readable(self, sobject: SObjectDef, f: FieldDef | None = None) -> bool:
        if self.access is None:
            return sobject.queryable
        if f is None:
            return sobject.queryable and self.access.object_perm(sobject, "read")
        return self.access.field_perm(sobject, f, "read")

    def resolve(self, path: FieldPath) -> Resolved:
        parts = list(path.parts)
        obj = self.sobject
        if len(parts) > 1 and obj.relationship(parts[0]) is None and \
                parts[0].lower() in (obj.name.lower(), (self.alias or "").lower()):
            parts = parts[1:]  # qualified with the object's name or alias
        hops: list[tuple[FieldDef, SObjectDef]] = []
        for seg in parts[:-1]:
            ref = obj.relationship(seg)
            target = self.org.sobject(ref.reference_to[0]) if ref and ref.reference_to else None
            if ref is None or target is None or not self._readable(obj, ref) or not self._readable(target):
                raise SoqlError("INVALID_FIELD", located(self.text, path.pos, _NO_RELATIONSHIP.format(name=seg)))
            hops.append((ref, target))
            obj = target
        f = obj.field(parts[-1])
        if f is None or not self._readable(obj, f):
            raise SoqlError("INVALID_FIELD", located(
                self.text, path.pos, _NO_COLUMN.format(name=parts[-1], entity=obj.name)))
        return Resolved(tuple(hops), f, path)

    def _refuse(self, res: Resolved, what: str) -> SoqlError:
        return SoqlError("INVALID_FIELD", located(
            self.text, res.path.pos, f"field '{res.path.text}' can not be {what} in a query call"))

    # -- WHERE -----------------------------------------------------------------------------------
    def compile(self, cond: Condition | None) -> Predicate | None:
        if cond is None:
            return None
        if isinstance(cond, Not):
            inner = self.compile(cond.part)
            assert inner is not None
            return lambda r: not inner(r)
        if isinstance(cond, BoolOp):
            preds = [p for p in (self.compile(c) for c in cond.parts) if p is not None]
            if cond.op == "AND":
                def conj(r: Record) -> bool:
                    for p in preds:
                        if not p(r):
                            return False
                    return True
                return conj

            def disj(r: Record) -> bool:
                for p in preds:
                    if p(r):
                        return True
                return False
            return disj
        return self._comparison(cond)

    def _comparison(self, c: Comparison) -> Predicate:
        res = self.resolve(c.field)
        if _long_text(res.field) or not res.field.filterable:
            raise self._refuse(res, "filtered")
        get, kind = res.getter(self.org), res.kind
        norm = _norm(kind)
        if c.op in ("IN", "NOT IN", "INCLUDES", "EXCLUDES"):
            if isinstance(c.value, Query):
                members, with_null = self._semijoin(c, res), False
            else:
                assert isinstance(c.value, list)
                coerced = [self._coerce(res, lit) for lit in c.value]
                members, with_null = {v for v in coerced if v is not None}, None in coerced
            wanted = c.op in ("IN", "INCLUDES")

            def member(r: Record) -> bool:
                v = norm(get(r))
                return ((v in members) if v is not None else with_null) == wanted
            return member
        assert isinstance(c.value, Literal)
        lit = c.value
        if c.op == "LIKE":
            if kind not in ("str", "id") or lit.kind != "string":
                raise self._type_error(res, kind)
            match = _like(str(lit.value)).fullmatch
            return lambda r: (v := get(r)) is not None and match(str(v)) is not None
        if lit.kind == "relative":
            if kind not in ("date", "datetime"):
                raise self._type_error(res, kind)
            assert isinstance(lit.value, RelativeDate)
            return _in_range(get, c.op, *self._bounds(lit.value, kind))
        value = self._coerce(res, lit)
        return _compare(get, norm, c.op, value)

    def _coerce(self, res: Resolved, lit: Literal) -> Any:
        """The literal as a value of the field's kind (normalised), or Salesforce's refusal."""
        kind = res.kind
        if lit.kind == "null":
            return None
        ok = {"str": "string", "id": "string", "num": "number", "bool": "boolean", "date": "date",
              "datetime": "datetime"}[kind]
        if lit.kind != ok:
            raise self._type_error(res, kind)
        if kind == "id":
            text = str(lit.value)
            if not ids.is_valid(text):
                raise malformed(self.text, lit.pos, f"invalid ID field: {text}")
            return text[:15]
        return _norm(kind)(lit.value)

    def _type_error(self, res: Resolved, kind: str) -> SoqlError:
        name = res.path.text
        if kind in ("str", "id"):
            return SoqlError("INVALID_FIELD", f"value of filter criterion for field '{name}' must be of type "
                                              "string and should be enclosed in quotes")
        typ = {"num": "integer" if res.field.type == "int" else "double", "bool": "boolean", "date": "date",
               "datetime": "dateTime"}[kind]
        code = "MALFORMED_QUERY" if kind == "num" else "INVALID_FIELD"
        return SoqlError(code, f"value of filter criterion for field '{name}' must be of type {typ} and "
                               "should not be enclosed in quotes")

    def _semijoin(self, c: Comparison, outer: Resolved) -> set[str]:
        """``Id IN (SELECT AccountId FROM Contact WHERE …)``: the inner Ids, run once."""
        q = c.value
        assert isinstance(q, Query)
        inner = _Scope.open(self.org, self.access, self.text, q.sobject, q.sobject_pos, q.alias, self.now, self.tz)
        if q.count_only or len(q.items) != 1 or not isinstance(q.items[0].expr, FieldPath):
            raise malformed(self.text, q.sobject_pos, "unexpected token: 'FROM'")
        res = inner.resolve(q.items[0].expr)
        if res.kind != "id" or outer.kind != "id":
            raise malformed(self.text, c.pos, f"The selected field '{res.path.text}' in the subquery and the "
                                              f"left operand field in the where expression in the outer query "
                                              f"'{outer.path.text}' should point to the same object type")
        pred = inner.compile(q.where)
        get = res.getter(self.org)
        out: set[str] = set()
        for r in self.org.tables[inner.sobject.name].scan():
            if pred is None or pred(r):
                v = get(r)
                if v:
                    out.add(v[:15])
        return out

    def _bounds(self, rd: RelativeDate, kind: str) -> tuple[Any, Any]:
        return _relative_bounds(rd, self.now, self.tz, kind)


def _compare(get: Callable[[Record], Any], norm: Callable[[Any], Any], op: str, value: Any) -> Predicate:
    if value is None:  # SOQL: = null / != null test presence; other operators never match
        if op == "=":
            return lambda r: norm(get(r)) is None
        if op == "!=":
            return lambda r: norm(get(r)) is not None
        return lambda r: False
    if op == "=":
        return lambda r: norm(get(r)) == value
    if op == "!=":
        return lambda r: norm(get(r)) != value  # null rows match, as in Salesforce
    test = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

    def ordered(r: Record) -> bool:
        v = norm(get(r))
        return v is not None and test(v, value)
    return ordered


def _in_range(get: Callable[[Record], Any], op: str, lo: Any, hi: Any) -> Predicate:
    """A date literal is a range [lo, hi): = inside, < before it, > after it."""
    def inside(r: Record) -> bool:
        v = get(r)
        if v is None:
            return op == "!="
        if op == "=":
            return lo <= v < hi
        if op == "!=":
            return not lo <= v < hi
        if op == "<":
            return v < lo
        if op == "<=":
            return v < hi
        if op == ">":
            return v >= hi
        return v >= lo
    return inside


def _like(pattern: str):
    import re

    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and pattern[i + 1:i + 2] in ("%", "_"):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


# -- date literals -----------------------------------------------------------------------------

def _user_tz(user: Record | None) -> tzinfo:
    name = (user or {}).get("TimeZoneSidKey") or "GMT"
    if name in ("GMT", "UTC"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _month(d: date, delta: int) -> date:
    m = d.year * 12 + d.month - 1 + delta
    return date(m // 12, m % 12 + 1, 1)


def _day_range(rd: RelativeDate, today: date) -> tuple[date, date]:
    day = timedelta(days=1)
    n = rd.n or 0
    week = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday (en_US)
    month = today.replace(day=1)
    year = date(today.year, 1, 1)
    ranges = {
        "TODAY": (today, today + day), "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        # LAST_N_DAYS:n includes today (LAST_N_DAYS:1 is yesterday and today); NEXT_N_DAYS starts tomorrow.
        "LAST_N_DAYS": (today - n * day, today + day), "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
        "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
        "LAST_90_DAYS": (today - 90 * day, today + day), "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_WEEK": (week, week + 7 * day), "LAST_WEEK": (week - 7 * day, week),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "THIS_MONTH": (month, _month(month, 1)), "LAST_MONTH": (_month(month, -1), month),
        "NEXT_MONTH": (_month(month, 1), _month(month, 2)),
        "THIS_YEAR": (year, date(today.year + 1, 1, 1)), "LAST_YEAR": (date(today.year - 1, 1, 1), year),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
    }
    return ranges[rd.name]


def _relative_bounds(rd: RelativeDate, now: datetime, tz: tzinfo, kind: str) -> tuple[Any, Any]:
    """[lo, hi) of a date literal: days run midnight to midnight in the user's time zone."""
    if rd.name == "LAST_N_HOURS":  # [now - n hours, now]
        lo, hi = now - timedelta(hours=rd.n or 0), now + timedelta(microseconds=1)
        if kind == "datetime":
            return lo, hi
        return lo.astimezone(tz).date(), hi.astimezone(tz).date() + timedelta(days=1)
    d_lo, d_hi = _day_range(rd, now.astimezone(tz).date())
    if kind == "date":
        return d_lo, d_hi

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(timezone.utc)
    return midnight(d_lo), midnight(d_hi)


# -- rows: positions over a table, made on demand ----------------------------------------------

class _Source:
    """A table's rows by position: generated rows first (made on demand), then stored ones."""

    def __init__(self, table: Table, include_deleted: bool) -> None:
        self.table, self.include_deleted = table, include_deleted
        if isinstance(table, GeneratedTable):
            self.gen = table.generated_count
            self.row_at: Callable[[int], Record] = table.row_at
            self.stored = list(Table.scan(table, include_deleted))  # rows added after generation
        else:
            self.gen = 0
            self.stored = list(table.scan(include_deleted))

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        if self.gen:
            row_at, keep_deleted = self.row_at, self.include_deleted
            for i in range(self.gen):
                r = row_at(i)
                if keep_deleted or not r.get("IsDeleted"):
                    yield i, r
        yield from enumerate(self.stored, self.gen)

    def at(self, pos: int) -> Record:
        return self.row_at(pos) if pos < self.gen else self.stored[pos - self.gen]

    def all_positions(self) -> Sequence[int]:
        t = self.table
        if not self.gen or self.include_deleted or t.count(False) == t.count(True):
            return range(self.gen + len(self.stored))  # nothing deleted: positions are row numbers
        return array("I", (pos for pos, _ in self))


class _RecordsSource(_Source):
    """A few records found by Id: what an index lookup gives real Salesforce (no scan)."""

    def __init__(self, records: list[Record]) -> None:
        self.gen, self.stored, self.include_deleted = 0, records, True

    def all_positions(self) -> Sequence[int]:
        return range(len(self.stored))


class _ChangedSource(_Source):
    """A generated table's changed rows and stored rows only: what a ``field > X`` index lookup reads
    when X is newer than every untouched generated row."""

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        keep_deleted = self.include_deleted
        for i in self.table.changed_positions():
            r = self.row_at(i)
            if keep_deleted or not r.get("IsDeleted"):
                yield i, r
        yield from enumerate(self.stored, self.gen)


def _newer_than_generated(where: Condition | None, table: Table) -> bool:
    """True when the WHERE requires a datetime field to be newer than any untouched generated row."""
    bounds = getattr(table, "field_max", None)
    if not bounds or where is None:
        return False
    if isinstance(where, BoolOp):
        return where.op == "AND" and any(_newer_than_generated(p, table) for p in where.parts)
    if not isinstance(where, Comparison) or where.op not in (">", ">=") or len(where.field.parts) != 1:
        return False
    limit = next((v for k, v in bounds.items() if k.lower() == where.field.parts[0].lower()), None)
    value = where.value
    return limit is not None and isinstance(value, Literal) and value.kind == "datetime" and value.value > limit


def _id_filter(where: Condition | None) -> list[str] | None:
    """The Ids a WHERE pins down (``Id = 'x'``, ``Id IN (...)``, or either ANDed with more), else None."""
    if isinstance(where, BoolOp) and where.op == "AND":
        for part in where.parts:
            found = _id_filter(part)
            if found is not None:
                return found
        return None
    if not isinstance(where, Comparison) or where.field.parts[-1].lower() != "id" or len(where.field.parts) > 2:
        return None
    if where.op == "=" and isinstance(where.value, Literal) and where.value.kind == "string":
        return [str(where.value.value)]
    if where.op == "IN" and isinstance(where.value, list) and all(v.kind == "string" for v in where.value):
        return [str(v.value) for v in where.value]
    return None


class LazyRows(Sequence):
    """Query rows made when sliced: ``len()`` is free, ``rows[i:j]`` projects only that page."""

    def __init__(self, source: _Source, positions: Sequence[int], start: int, stop: int,
                 project: Callable[[Record], dict]) -> None:
        self._source, self._positions, self._project = source, positions, project
        self._start, self._len = start, max(0, stop - start)

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            a, b, step = index.indices(self._len)
            at, pos, base, project = self._source.at, self._positions, self._start, self._project
            return [project(at(pos[base + k])) for k in range(a, b, step)]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        return self._project(self._source.at(self._positions[self._start + index]))


# -- SELECT list → wire rows -------------------------------------------------------------------

@dataclass
class _Rel:
    name: str  # relationship name, the key in the row
    ref_field: str
    target: SObjectDef
    table: Table
    children: list


def _projector(org: Org, scope: _Scope, q: Query, version: str) -> Callable[[Record], dict]:
    root: list = []
    rels: dict[tuple[str, ...], _Rel] = {}
    seen: set[tuple[str, ...]] = set()
    for item in q.items:
        if item.alias:
            raise malformed(q.text, item.alias_pos, f"unexpected token: '{item.alias}'")
        assert isinstance(item.expr, FieldPath)
        res = scope.resolve(item.expr)
        if res.key in seen:
            raise SoqlError("INVALID_FIELD", f"duplicate field selected: {item.expr.text}")
        seen.add(res.key)
        children, trail = root, ()
        for ref, target in res.hops:
            trail = (*trail, ref.name.lower())
            node = rels.get(trail)
            if node is None:
                node = rels[trail] = _Rel(ref.relationship_name or ref.name, ref.name, target,
                                          org.tables[target.name], [])
                children.append(node)
            children = node.children
        children.append(res.field.name)
    base = f"/services/data/v{version}/sobjects/"

    def build(rec: Record, obj: str, children: list) -> dict:
        out: dict[str, Any] = {"attributes": {"type": obj, "url": f"{base}{obj}/{rec['Id']}"}}
        for c in children:
            if type(c) is str:
                out[c] = to_json(rec.get(c))
            else:
                rid = rec.get(c.ref_field)
                parent = c.table.get(rid) if rid else None
                out[c.name] = None if parent is None else build(parent, c.target.name, c.children)
        return out

    name = scope.sobject.name
    return lambda rec: build(rec, name, root)


def _null_rank(desc: bool, nulls_first: bool | None) -> int:
    """Rank of nulls in a (rank, value) key so that, after a sort with reverse=desc, they land right."""
    first = (not desc) if nulls_first is None else nulls_first  # default: ASC NULLS FIRST, DESC NULLS LAST
    return 0 if first != desc else 2


def _sorted(entries: list, orders: list[tuple[bool, int]]) -> None:
    """Stable multi-pass sort of tuples whose i-th item is the i-th ORDER BY key."""
    for i in range(len(orders) - 1, -1, -1):
        entries.sort(key=itemgetter(i), reverse=orders[i][0])


def _key_fn(get: Callable[[Record], Any], kind: str, null_rank: int) -> Callable[[Record], tuple]:
    norm = _sort_norm(kind)

    def key(r: Record) -> tuple:
        v = norm(get(r))
        return (null_rank, None) if v is None else (1, v)
    return key


# -- aggregates --------------------------------------------------------------------------------

class _Acc:
    """One aggregate function over one group."""

    __slots__ = ("best", "best_key", "func", "integer", "n", "norm", "seen", "total")

    def __init__(self, func: str, kind: str, integer: bool) -> None:
        self.func, self.norm, self.integer = func, _sort_norm(kind), integer
        self.n, self.total, self.best, self.best_key = 0, 0, None, None
        self.seen: set = set()

    def add(self, v: Any) -> None:
        if v is None or v == "":
            return
        f = self.func
        if f == "COUNT":
            self.n += 1
        elif f == "COUNT_DISTINCT":
            self.seen.add(self.norm(v))
        elif f in ("SUM", "AVG"):
            self.n += 1
            self.total += v
        else:
            k = self.norm(v)
            if self.best_key is None or (k > self.best_key if f == "MAX" else k < self.best_key):
                self.best, self.best_key = v, k

    def result(self) -> Any:
        f = self.func
        if f == "COUNT":
            return self.n
        if f == "COUNT_DISTINCT":
            return len(self.seen)
        if f == "SUM":
            return (self.total if self.integer else float(self.total)) if self.n else None
        if f == "AVG":
            return self.total / self.n if self.n else None
        return self.best


def _aggregate_rows(org: Org, scope: _Scope, q: Query, source: _Source, pred: Predicate | None) -> list[dict]:
    text = q.text
    groups = [scope.resolve(p) for p in q.group_by]
    for g in groups:
        if _long_text(g.field) or g.field.type in ("datetime", "double", "currency", "percent"):
            raise scope._refuse(g, "grouped")
    group_keys = [g.key for g in groups]
    # Columns: ("group", index) or ("agg", index into aggs); hidden ones only serve ORDER BY.
    aggs: list[tuple[str, Resolved]] = []
    columns: list[tuple[str, str, int]] = []  # (output name, "group"|"agg", index)
    n_expr = 0

    def add_agg(a: Aggregate) -> int:
        res = scope.resolve(a.arg)
        f = res.field
        numeric = res.kind == "num"
        if f.type == "boolean" or _long_text(f) or (a.func in ("SUM", "AVG") and not numeric):
            raise malformed(text, a.arg.pos, f"field {a.arg.text} does not support aggregate operator {a.func}")
        for i, (func, other) in enumerate(aggs):
            if func == a.func and other.key == res.key:
                return i
        aggs.append((a.func, res))
        return len(aggs) - 1

    for item in q.items:
        if isinstance(item.expr, Aggregate):
            idx = add_agg(item.expr)
            name = item.alias
            if name is None:
                name, n_expr = f"expr{n_expr}", n_expr + 1
            columns.append((name, "agg", idx))
        else:
            res = scope.resolve(item.expr)
            if res.key not in group_keys:
                raise malformed(text, item.expr.pos, f"Field must be grouped or aggregated: {item.expr.text}")
            columns.append((item.alias or res.field.name, "group", group_keys.index(res.key)))
    orders: list[tuple[bool, int, str, int]] = []  # (desc, null rank, "group"|"agg", index)
    for o in q.order_by:
        if isinstance(o.expr, Aggregate):
            orders.append((o.desc, _null_rank(o.desc, o.nulls_first), "agg", add_agg(o.expr)))
            continue
        res = scope.resolve(o.expr)
        if res.key not in group_keys:
            raise malformed(text, o.expr.pos, f"Ordered field must be grouped or aggregated: {o.expr.text}")
        if _long_text(res.field):
            raise scope._refuse(res, "sorted")
        orders.append((o.desc, _null_rank(o.desc, o.nulls_first), "group", group_keys.index(res.key)))

    gets = [g.getter(org) for g in groups]
    norms = [_sort_norm(g.kind) for g in groups]
    specs = [(func, res.kind, res.field.type == "int") for func, res in aggs]
    agg_gets = [res.getter(org) for _, res in aggs]
    table: dict[Any, tuple[list, list[_Acc]]] = {}
    if not groups:
        table[()] = ([], [_Acc(*spec) for spec in specs])
    single = len(groups) == 1
    for _, r in source:
        if pred is not None and not pred(r):
            continue
        if single:
            raw = [gets[0](r)]
            key: Any = norms[0](raw[0])
        else:
            raw = [get(r) for get in gets]
            key = tuple([norm(v) for norm, v in zip(norms, raw, strict=False)])
        slot = table.get(key)
        if slot is None:
            slot = table[key] = (raw, [_Acc(*spec) for spec in specs])
        for acc, get in zip(slot[1], agg_gets, strict=False):
            acc.add(get(r))
    results = [(values, [a.result() for a in accs]) for values, accs in table.values()]
    if orders:
        def key_of(desc_rank: tuple[bool, int, str, int]) -> Callable:
            _, rank, where, idx = desc_rank
            kind = groups[idx].kind if where == "group" else ("num" if aggs[idx][0].startswith("COUNT")
                                                               or aggs[idx][0] == "AVG" else aggs[idx][1].kind)
            norm = _sort_norm(kind)

            def key(row: tuple) -> tuple:
                v = norm(row[0][idx] if where == "group" else row[1][idx])
                return (rank, None) if v is None else (1, v)
            return key
        for o in reversed(orders):
            results.sort(key=key_of(o), reverse=o[0])
    rows = []
    for values, agg_values in results:
        row: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for name, where, idx in columns:
            row[name] = to_json(values[idx] if where == "group" else agg_values[idx])
        rows.append(row)
    return rows


# -- entry points ------------------------------------------------------------------------------

def _caller(org: Org, user: Record | str | None) -> tuple[Access | None, Record | None]:
    if user is None:
        return None, None  # the system itself: no permission checks
    record = org.user(user) if isinstance(user, str) else user
    user_id = user if isinstance(user, str) else user["Id"]
    return org.access(user_id), record


def run_query(state: Any, org: Org, user: Record | str | None, soql: str, *, include_deleted: bool = False,
              version: str = "60.0") -> QueryResult:
    """Answer ``soql`` for ``user`` (a User record or Id; None = no permission checks).

    Call with ``state.lock`` held, and slice ``rows`` under the lock too.
    """
    q = parse(soql)
    access, record = _caller(org, user)
    scope = _Scope.open(org, access, soql, q.sobject, q.sobject_pos, q.alias, state.now(), _user_tz(record))
    name = scope.sobject.name
    aggregate = bool(q.group_by) or any(isinstance(i.expr, Aggregate) for i in q.items)
    project = None if q.count_only or aggregate else _projector(org, scope, q, version)
    pred = scope.compile(q.where)
    pred = _visible_rows(access, record, name, pred)
    if q.data_category:
        pred = _with_categories(org, q, name, pred)
    if q.offset is not None and q.offset > MAX_OFFSET:
        raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
    start = q.offset or 0
    table = org.tables[name]
    by_id = _id_filter(q.where) if len(q.where.field.parts if isinstance(q.where, Comparison) else ("",)) < 3 \
        else None
    found: list[Record] | None = None
    if by_id is not None and (len(by_id) < 2 or by_id[0][:3] == by_id[-1][:3]):
        found = [r for r in (table.get(i, include_deleted) if len(i) in (15, 18) else None
                             for i in dict.fromkeys(by_id)) if r is not None]

    def window(total: int) -> tuple[int, int]:
        stop = total if q.limit is None else min(total, start + q.limit)
        return min(start, total), max(stop, min(start, total))

    if q.count_only and not q.group_by:
        if pred is None:
            total = table.count(include_deleted)
        else:
            if found is not None:
                rows_in = found
            elif _newer_than_generated(q.where, table):
                rows_in = (r for _, r in _ChangedSource(table, include_deleted))
            else:
                rows_in = table.scan(include_deleted)
            total = sum(1 for r in rows_in if pred(r))
        a, b = window(total)
        return QueryResult(b - a, [], name)
    if found is not None:
        source: _Source = _RecordsSource(found)
    elif _newer_than_generated(q.where, table):
        source = _ChangedSource(table, include_deleted)
    else:
        source = _Source(table, include_deleted)
    if aggregate:
        rows = _aggregate_rows(org, scope, q, source, pred)
        a, b = window(len(rows))
        return QueryResult(b - a, [] if q.count_only else rows[a:b], name)
    assert project is not None
    positions: Sequence[int]
    if q.order_by:
        keys, orders = [], []
        for o in q.order_by:
            if isinstance(o.expr, Aggregate):
                raise malformed(soql, o.expr.pos, f"unexpected token: '{o.expr.func}'")
            res = scope.resolve(o.expr)
            if _long_text(res.field):
                raise scope._refuse(res, "sorted")
            rank = _null_rank(o.desc, o.nulls_first)
            keys.append(_key_fn(res.getter(org), res.kind, rank))
            orders.append((o.desc, rank))
        if len(keys) == 1:
            k0 = keys[0]
            entries = [(k0(r), pos) for pos, r in source if pred is None or pred(r)]
        else:
            entries = [(*[k(r) for k in keys], pos) for pos, r in source if pred is None or pred(r)]
        _sorted(entries, orders)
        positions = array("I", (e[-1] for e in entries))
        del entries
    elif pred is not None:
        positions = array("I", (pos for pos, r in source if pred(r)))
    else:
        positions = source.all_positions()
    a, b = window(len(positions))
    return QueryResult(b - a, LazyRows(source, positions, a, b, project), name)


def _visible_rows(access: Access | None, user: Record | None, name: str, pred: Predicate | None) -> Predicate | None:
    """AND in the rows this user may see of an object with special access rules (store.SPECIAL_ACCESS): who
    lacks Manage Users sees only their own LoginHistory, for instance."""
    from sfwizard.sandbox.salesforce.store import SPECIAL_ACCESS

    special = SPECIAL_ACCESS.get(name)
    if special is None or special.rows is None or access is None or user is None:
        return pred
    mine = special.rows(access, user["Id"])
    if mine is None:
        return pred
    if pred is None:
        return mine
    where = pred
    return lambda r: mine(r) and where(r)


def _with_categories(org: Org, q: Query, name: str, pred: Predicate | None) -> Predicate:
    """AND the WITH DATA CATEGORY filter into the WHERE test (Knowledge articles only)."""
    from sfwizard.sandbox.salesforce import categories

    if name != "KnowledgeArticleVersion" and not name.endswith("__kav"):
        raise malformed(q.text, q.data_category_pos, f"unexpected token: '{q.data_category.split()[0]}'")
    try:
        test = categories.predicate(org, categories.parse(q.data_category))
    except categories.CategoryError as exc:
        raise SoqlError(exc.code, exc.message) from None
    if pred is None:
        return test
    where = pred
    return lambda r: where(r) and test(r)


def compile_where(org: Org, user: Record | str | None, sobject_name: str, where_text: str, *,
                  now: datetime | None = None) -> Predicate:
    """A WHERE condition (without the keyword) as a test on ``sobject_name`` records (SOSL RETURNING)."""
    cond = Parser(where_text).parse_condition_only()
    access, record = _caller(org, user)
    sobject = org.sobject(sobject_name)
    if sobject is None or not sobject.queryable or (access is not None and not access.object_perm(sobject, "read")):
        raise SoqlError("INVALID_TYPE", _NO_TYPE.format(name=sobject_name))
    scope = _Scope(org, access, where_text, sobject, None, now or datetime.now(timezone.utc), _user_tz(record))
    pred = scope.compile(cond)
    return pred or (lambda r: True)
