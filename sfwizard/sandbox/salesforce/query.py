"""query / queryAll: server-side cursors over the SOQL engine's lazy rows, in pages of up to 2,000."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.http import Request, Response, json_response
from sfwizard.sandbox.salesforce import soql
from sfwizard.sandbox.salesforce.api import (
    CURSOR_IDLE_SECONDS,
    CURSORS_PER_USER,
    QUERY_PAGE,
    ApiRoute,
    Ctx,
    Cursor,
    RestError,
    RestState,
    api_route,
    rest_state,
)
from sfwizard.sandbox.salesforce.store import FieldDef, Org

# -- query and queryAll --------------------------------------------------------------------------------

def _batch_size(req: Request, default: int = QUERY_PAGE) -> int:
    opts = req.header("sforce-query-options") or ""
    m = re.search(r"batchSize\s*=\s*(\d+)", opts, re.IGNORECASE)
    if not m:
        return default
    return min(max(int(m.group(1)), 200), QUERY_PAGE)


def _expire_cursors(rs: RestState, now: float) -> None:
    for loc in [loc for loc, c in rs.cursors.items() if now - c.touched > CURSOR_IDLE_SECONDS]:
        del rs.cursors[loc]


def _new_cursor(ctx: Ctx, rs: RestState, cursor: Cursor) -> str:
    owner = (cursor.org_key, cursor.user_id)
    mine = [loc for loc, c in rs.cursors.items() if (c.org_key, c.user_id) == owner]
    while len(mine) >= CURSORS_PER_USER:  # oldest first: the dict keeps insertion order
        rs.cursors.pop(mine.pop(0), None)
    # A QueryLocator Id; the random serial keeps locators unguessable across restarts.
    loc = ids.make_id("01g", rs.next_serial() * 7919 + secrets.randbelow(7919), pod=ctx.org.pod)
    rs.cursors[loc] = cursor
    return loc


def _page(ctx: Ctx, cursor: Cursor, locator: str | None, offset: int, batch: int) -> Response:
    rows = cursor.result.rows
    page = list(rows[offset:offset + batch])
    end = offset + len(page)
    body: dict[str, Any] = {"totalSize": cursor.result.total_size, "done": end >= len(rows)}
    rs = rest_state(ctx.state)
    if not body["done"]:
        if locator is None:
            locator = _new_cursor(ctx, rs, cursor)
        cursor.touched = time.monotonic()
        body["nextRecordsUrl"] = ctx.url(f"{cursor.endpoint}/{locator}-{end}")
    elif locator is not None:
        rs.cursors.pop(locator, None)
    body["records"] = page
    return json_response(body)


def _query(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    endpoint = m.group(1)
    q = req.arg("q")
    if q is None or not q.strip():
        raise RestError(400, "MALFORMED_QUERY", "A query string must be provided (the q parameter).")
    try:
        result = soql.run_query(ctx.state, ctx.org, ctx.user, q, include_deleted=endpoint == "queryAll",
                                version=ctx.version)
    except soql.SoqlError as exc:
        raise RestError(400, exc.code, exc.message) from None
    if (req.arg("columns") or "").lower() == "true":
        return json_response(_column_metadata(ctx, q, result.sobject))
    rs = rest_state(ctx.state)
    _expire_cursors(rs, time.monotonic())
    cursor = Cursor(result, ctx.org.key, ctx.user["Id"], endpoint, _batch_size(req), time.monotonic())
    return _page(ctx, cursor, None, 0, cursor.batch)


@dataclass
class SelectColumn:
    """One SELECT item resolved through the schema: canonical path (``Owner``, ``Name``) and its field."""

    path: list[str]
    fdef: FieldDef | None
    aggregate: str | None = None  # the alias or exprN of an aggregate
    display: str = ""


def select_columns(org: Org, soql: str, sobject_name: str) -> list[SelectColumn]:
    """The SELECT list of an already-validated query, with names as ``describe`` spells them."""
    from sfwizard.sandbox.salesforce.soql.parse import Aggregate, parse

    q = parse(soql)
    out: list[SelectColumn] = []
    n_expr = 0
    for item in q.items:
        if isinstance(item.expr, Aggregate):
            name = item.alias or f"expr{n_expr}"
            n_expr += 0 if item.alias else 1
            out.append(SelectColumn([name], None, name, item.expr.text))
            continue
        parts = list(item.expr.parts)
        if q.alias and len(parts) > 1 and parts[0].lower() == q.alias.lower():
            parts = parts[1:]
        obj, path, f = org.sobject(sobject_name), [], None
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            f = (obj.field(part) if last else obj.relationship(part)) if obj is not None else None
            path.append((f.name if last else f.relationship_name or part) if f is not None else part)
            obj = org.sobject(f.reference_to[0]) if f is not None and not last and f.reference_to else None
        out.append(SelectColumn(path, f, None, ".".join(path)))
    return out


_APEX_TYPES = {"id": "Id", "reference": "Id", "boolean": "Boolean", "int": "Integer", "double": "Double",
               "currency": "Decimal", "percent": "Decimal", "date": "Date", "datetime": "Datetime"}


def _column_metadata(ctx: Ctx, soql: str, sobject_name: str) -> dict[str, Any]:
    """``query?columns=true``: what the Salesforce CLI asks before ``sf data query`` prints a table."""

    def col(name: str, display: str, f: FieldDef | None, aggregate: bool = False) -> dict[str, Any]:
        kind = f.type if f is not None else ""
        return {"aggregate": aggregate, "apexType": _APEX_TYPES.get(kind, "String") if f else None,
                "booleanType": kind == "boolean", "columnName": name, "custom": bool(f and f.custom),
                "displayName": display, "foreignKeyName": None, "insertable": bool(f and f.createable),
                "joinColumns": [], "numberType": kind in ("int", "double", "currency", "percent"),
                "textType": kind in ("string", "textarea", "email", "phone", "url", "picklist"),
                "updatable": bool(f and f.updateable)}

    out: list[dict[str, Any]] = []
    joins: dict[str, dict[str, Any]] = {}
    for c in select_columns(ctx.org, soql, sobject_name):
        if c.aggregate:
            out.append(col(c.aggregate, c.display, None, aggregate=True))
        elif len(c.path) == 1:
            out.append(col(c.path[0], c.path[0], c.fdef))
        else:  # Owner.Name nests under one "Owner" column, deeper paths nest again
            parent = joins.get(c.path[0])
            if parent is None:
                parent = joins[c.path[0]] = col(c.path[0], c.path[0], None)
                out.append(parent)
            for depth, part in enumerate(c.path[1:-1], start=1):
                child = next((j for j in parent["joinColumns"] if j["columnName"] == part), None)
                if child is None:
                    child = col(part, ".".join(c.path[:depth + 1]), None)
                    parent["joinColumns"].append(child)
                parent = child
            parent["joinColumns"].append(col(c.path[-1], ".".join(c.path), c.fdef))
    sobject = ctx.org.sobject(sobject_name)
    return {"columnMetadata": out, "entityName": sobject.name if sobject else sobject_name,
            "groupBy": bool(re.search(r"\bgroup\s+by\b", soql, re.IGNORECASE)),
            "idSelected": any(c.get("columnName") == "Id" for c in out),
            "keyPrefix": sobject.key_prefix if sobject else None}


def _query_more(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    locator, offset = m.group(2), int(m.group(3))
    rs = rest_state(ctx.state)
    _expire_cursors(rs, time.monotonic())
    cursor = rs.cursors.get(locator)
    if cursor is None or (cursor.org_key, cursor.user_id) != (ctx.org.key, ctx.user["Id"]) \
            or offset > len(cursor.result.rows):
        raise RestError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    batch = _batch_size(req, cursor.batch)
    return _page(ctx, cursor, locator, offset, batch)


def api_routes() -> list[ApiRoute]:
    return [
        api_route("GET", r"(query|queryAll)/?", _query),
        api_route("GET", r"(query|queryAll)/(01g\w+)-(\d+)/?", _query_more),
    ]
