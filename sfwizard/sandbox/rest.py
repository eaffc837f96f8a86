"""Salesforce REST API (``/services/data/...``): the edge every API call passes through.

One route catches ``/services/data/vNN.0/...``: it checks the version, authenticates the Bearer token,
counts one API call against the org and stamps ``Sforce-Limit-Info`` on the answer (errors included),
then dispatches to an inner table of handlers. ``composite/batch`` re-enters that inner table, so a
batch counts as ONE API call, as Salesforce counts it. This module holds versions, the resource map,
limits, query/queryAll (server-side cursors over the SOQL engine's lazy rows) and composite/batch;
describe, records and collections live in ``rest_records.py``, SOSL and data categories in
``rest_search.py``, Bulk API 2.0 query jobs in ``bulk.py``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sfwizard import ids
from sfwizard.sandbox import soql, tokens
from sfwizard.sandbox.http import Request, Response, Route, json_response, route, sf_error
from sfwizard.sandbox.store import Access, FieldDef, Org, Record, SandboxState, SObjectDef

log = logging.getLogger("sfwizard.sandbox")

# 20.0 (Winter '11) … 62.0 (Winter '25), as an org of that release lists them.
VERSIONS = [f"{v}.0" for v in range(20, 63)]
_SEASONS = ("Winter", "Spring", "Summer")

QUERY_PAGE = 2000
CURSOR_IDLE_SECONDS = 15 * 60  # Salesforce drops an idle query cursor after 15 minutes
CURSORS_PER_USER = 10  # … and keeps at most 10 open per user, dropping the oldest

NOT_FOUND = "The requested resource does not exist"


class ApiError(Exception):
    """An error answered as ``[{"message","errorCode"[,"fields"]}]`` (per record in collections)."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def response(self) -> Response:
        return sf_error(self.status, self.code, self.message, self.fields)

    def item(self) -> dict[str, Any]:
        """The per-record error shape of sObject Collections."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


@dataclass
class Ctx:
    """One authenticated API request: who asks, in which org, at which API version."""

    state: SandboxState
    org: Org
    user: Record
    caller: tokens.Caller
    version: str  # "60.0"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def access(self) -> Access:
        return self.org.access(self.user["Id"])

    def url(self, rest: str) -> str:
        return f"/services/data/v{self.version}/{rest}"

    def readable(self, name: str) -> SObjectDef | None:
        """The object if this user may see it at all (Knowledge only while the org has it on)."""
        sobject = self.org.sobject(name)
        if sobject is None or not self.access.object_perm(sobject, "read"):
            return None
        if sobject.name == "KnowledgeArticleVersion" and not self.org.knowledge_enabled:
            return None
        return sobject


@dataclass
class Cursor:
    result: Any  # soql.QueryResult (lazy rows)
    org_key: str
    user_id: str
    endpoint: str  # "query" or "queryAll"
    batch: int
    touched: float


@dataclass
class RestState:
    """What the REST layer keeps between calls: cursors, Bulk jobs, call counters for faults."""

    cursors: OrderedDict[str, Cursor] = field(default_factory=OrderedDict)
    jobs: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)  # org key → API calls served (request-limit fault)
    bulk_jobs_created: dict[str, int] = field(default_factory=dict)
    serial: int = 0

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial


_REST_STATE: weakref.WeakKeyDictionary[SandboxState, RestState] = weakref.WeakKeyDictionary()


def rest_state(state: SandboxState) -> RestState:
    rs = _REST_STATE.get(state)
    if rs is None:
        rs = _REST_STATE[state] = RestState()
    return rs


# -- the edge -----------------------------------------------------------------------------------------

ApiHandler = Callable[[Ctx, Request, "re.Match[str]"], Response]


@dataclass
class ApiRoute:
    method: str
    pattern: re.Pattern[str]
    handler: ApiHandler


def api_route(method: str, pattern: str, handler: ApiHandler) -> ApiRoute:
    return ApiRoute(method, re.compile("^" + pattern + "$"), handler)


def limit_header(org: Org) -> tuple[str, str]:
    return ("Sforce-Limit-Info", f"api-usage={org.api_used}/{org.api_max}")


def _with_limits(resp: Response, org: Org | None) -> Response:
    if org is not None:
        resp.headers.append(limit_header(org))
    return resp


def _org_of_request(state: SandboxState, req: Request) -> Org | None:
    """The org a refused request belongs to (its token's, else the default) for the limits header."""
    tok = tokens.token_store(state).access.get(req.bearer() or "")
    if tok is not None and tok.grant.org_key in state.orgs:
        return state.orgs[tok.grant.org_key]
    return state.orgs.get(state.default_org_key)


def _limit_exceeded(state: SandboxState, org: Org) -> bool:
    if org.api_used >= org.api_max:
        return True
    after = state.faults.request_limit_after
    if after is not None and rest_state(state).calls.get(org.key, 0) >= after:
        log.warning("fault: REQUEST_LIMIT_EXCEEDED after %d API calls (org %s)", after, org.key)
        return True
    return False


def _data_handler(state: SandboxState, req: Request, m: re.Match[str]) -> Response:
    version, rest = m.group(1), (m.group(2) or "").lstrip("/")
    if version not in VERSIONS:
        return sf_error(404, "NOT_FOUND", NOT_FOUND)
    with state.lock:
        caller = tokens.authenticate(state, req)
        if isinstance(caller, Response):
            return _with_limits(caller, _org_of_request(state, req))
        org = caller.org
        if _limit_exceeded(state, org):
            return _with_limits(sf_error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), org)
        org.api_used += 1
        calls = rest_state(state).calls
        calls[org.key] = calls.get(org.key, 0) + 1
        ctx = Ctx(state, org, caller.user, caller, version, req.headers)
        resp = dispatch(ctx, req, rest)
        return _with_limits(resp, org)


_API_ROUTES: list[ApiRoute] | None = None


def _api_routes() -> list[ApiRoute]:
    global _API_ROUTES
    if _API_ROUTES is None:
        from sfwizard.sandbox import bulk, rest_records, rest_search  # they import this module's helpers

        _API_ROUTES = [*_own_routes(), *rest_records.api_routes(), *rest_search.api_routes(),
                       *bulk.api_routes()]
    return _API_ROUTES


def dispatch(ctx: Ctx, req: Request, rest: str) -> Response:
    """Route the part after ``/services/data/vNN.0/`` to its handler (also used by composite/batch)."""
    method = "GET" if req.method == "HEAD" else req.method
    allowed: list[str] = []
    for r in _api_routes():
        m = r.pattern.match(rest)
        if not m:
            continue
        if r.method != method:
            allowed.append(r.method)
            continue
        try:
            return r.handler(ctx, req, m)
        except ApiError as exc:
            return exc.response()
    if allowed:
        methods = ",".join(dict.fromkeys(allowed))
        return sf_error(405, "METHOD_NOT_ALLOWED",
                        f"HTTP Method '{req.method}' not allowed. Allowed are {methods}")
    return sf_error(404, "NOT_FOUND", NOT_FOUND)


def invalid_field(name: str, sobject: str) -> ApiError:
    """What SOQL-style field look-ups answer for a field that does not exist or is not readable."""
    return ApiError(400, "INVALID_FIELD",
                    f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom "
                    "field, be sure to append the '__c' after the custom field name. Please reference your "
                    "WSDL or the describe call for the appropriate names.")


def json_body(req: Request) -> Any:
    try:
        return req.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}"[:200]) from None


# -- versions, resources, limits ------------------------------------------------------------------------

def _version_label(v: str) -> str:
    n = int(float(v)) - 20
    return f"{_SEASONS[n % 3]} '{11 + n // 3:02d}"


def _versions(state: SandboxState, req: Request, m: re.Match[str]) -> Response:
    return json_response([{"label": _version_label(v), "url": f"/services/data/v{v}", "version": v}
                          for v in VERSIONS])


def _resources(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    names = ["tooling", "metadata", "eclair", "folders", "prechatForms", "chatter", "tabs", "appMenu",
             "quickActions", "queryAll", "commerce", "wave", "iot", "analytics", "search", "identity",
             "composite", "parameterizedSearch", "fingerprint", "theme", "nouns", "event", "serviceTemplates",
             "recent", "connect", "licensing", "limits", "process", "async-queries", "query", "match",
             "emailConnect", "compactLayouts", "sobjects", "actions", "jobs", "consent"]
    if ctx.org.knowledge_enabled:
        names += ["knowledgeManagement", "support"]
    out = {n: ctx.url(n) for n in names}
    out["identity"] = f"{ctx.state.base_url}/id/{ctx.org.id}/{ctx.user['Id']}"
    return json_response(out)


def _limits(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    org = ctx.org
    jobs = rest_state(ctx.state).bulk_jobs_created.get(org.key, 0)

    def lim(mx: int, used: int = 0) -> dict[str, int]:
        return {"Max": mx, "Remaining": max(mx - used, 0)}

    data_rows = sum(t.count() for t in org.tables.values())
    return json_response({
        "ActiveScratchOrgs": lim(3), "AnalyticsExternalDataSizeMB": lim(40960),
        "ConcurrentAsyncGetReportInstances": lim(200), "ConcurrentSyncReportRuns": lim(20),
        "DailyAnalyticsDataflowJobExecutions": lim(60), "DailyApiRequests": lim(org.api_max, org.api_used),
        "DailyAsyncApexExecutions": lim(250000), "DailyBulkApiBatches": lim(15000),
        "DailyBulkV2QueryFileStorageMB": lim(976562), "DailyBulkV2QueryJobs": lim(10000, jobs),
        "DailyDurableGenericStreamingApiEvents": lim(10000), "DailyDurableStreamingApiEvents": lim(10000),
        "DailyGenericStreamingApiEvents": lim(10000), "DailyStandardVolumePlatformEvents": lim(10000),
        "DailyStreamingApiEvents": lim(10000), "DailyWorkflowEmails": lim(2000),
        "DataStorageMB": lim(max(1024, data_rows * 2 // 1024 + 1), data_rows * 2 // 1024),
        "FileStorageMB": lim(2048), "HourlyAsyncReportRuns": lim(1200), "HourlyDashboardRefreshes": lim(200),
        "HourlyDashboardResults": lim(5000), "HourlyDashboardStatuses": lim(999999999),
        "HourlyODataCallout": lim(20000), "HourlySyncReportRuns": lim(500),
        "HourlyTimeBasedWorkflow": lim(1000),
        "MassEmail": lim(5000), "MonthlyPlatformEventsUsageEntitlement": lim(0),
        "Package2VersionCreates": lim(6), "PermissionSets": {**lim(1500), "CreateCustom": lim(1000)},
        "SingleEmail": lim(5000), "StreamingApiConcurrentClients": lim(2000),
    })


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
        raise ApiError(400, "MALFORMED_QUERY", "A query string must be provided (the q parameter).")
    try:
        result = soql.run_query(ctx.state, ctx.org, ctx.user, q, include_deleted=endpoint == "queryAll",
                                version=ctx.version)
    except soql.SoqlError as exc:
        raise ApiError(400, exc.code, exc.message) from None
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
    from sfwizard.sandbox.soql_parse import Aggregate, parse

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
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    batch = _batch_size(req, cursor.batch)
    return _page(ctx, cursor, locator, offset, batch)


# -- composite/batch ----------------------------------------------------------------------------------

MAX_BATCH = 25
_HALTED = {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}


def _batch(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    body = json_body(req)
    subs = body.get("batchRequests") if isinstance(body, dict) else None
    if not isinstance(subs, list):
        raise ApiError(400, "JSON_PARSER_ERROR", "Request body must contain batchRequests")
    if len(subs) > MAX_BATCH:
        raise ApiError(400, "LIMIT_EXCEEDED", f"A maximum of {MAX_BATCH} batch requests is allowed")
    halt, halted, has_errors = bool(body.get("haltOnError")), False, False
    results = []
    for sub in subs:
        if halted:
            results.append({"result": [_HALTED], "statusCode": 412})
            continue
        resp = _batch_one(ctx, req, sub)
        result = json.loads(resp.body) if resp.body and "json" in resp.content_type else None
        results.append({"result": result, "statusCode": resp.status})
        if resp.status >= 400:
            has_errors = True
            halted = halt
    return json_response({"hasErrors": has_errors, "results": results})


def _batch_one(ctx: Ctx, outer: Request, sub: Any) -> Response:
    if not isinstance(sub, dict) or not isinstance(sub.get("url"), str) or not sub.get("method"):
        return sf_error(400, "INVALID_BATCH_REQUEST", "A batch request needs a method and a url")
    parts = urlsplit(sub["url"])
    path = parts.path
    path = path.removeprefix("/services/data/")
    vm = re.match(r"/?v(\d+\.\d)(/.*)?$", path)
    if not vm or vm.group(1) not in VERSIONS:
        return sf_error(404, "NOT_FOUND", NOT_FOUND)
    rich = sub.get("richInput")
    inner = Request(method=str(sub["method"]).upper(),
                    path="/services/data/v" + vm.group(1) + (vm.group(2) or ""),
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k: v for k, v in outer.headers.items() if k != "content-length"},
                    body=json.dumps(rich).encode() if rich is not None else b"", client=outer.client)
    sub_ctx = Ctx(ctx.state, ctx.org, ctx.user, ctx.caller, vm.group(1), inner.headers)
    if (vm.group(2) or "").lstrip("/").startswith("composite/batch"):
        return sf_error(400, "INVALID_BATCH_REQUEST", "A batch request cannot contain a batch")
    return dispatch(sub_ctx, inner, (vm.group(2) or "").lstrip("/"))


# -- routes -------------------------------------------------------------------------------------------

def _own_routes() -> list[ApiRoute]:
    return [
        api_route("GET", r"", _resources),
        api_route("GET", r"limits/?", _limits),
        api_route("GET", r"(query|queryAll)/?", _query),
        api_route("GET", r"(query|queryAll)/(01g\w+)-(\d+)/?", _query_more),
        api_route("POST", r"composite/batch/?", _batch),
    ]


def routes() -> list[Route]:
    return [
        route("GET", r"/services/data/?", _versions),
        route("*", r"/services/data/v(\d+\.\d+)(/.*)?", _data_handler),
    ]
