"""Salesforce REST API (``/services/data/...``): the edge every API call passes through.

One route catches ``/services/data/vNN.0/...``: it checks the version, authenticates the Bearer token,
counts one API call against the org and stamps ``Sforce-Limit-Info`` on the answer (errors included),
then dispatches to an inner table of handlers. ``composite/batch`` re-enters that inner table, so a
batch counts as ONE API call, as Salesforce counts it. This module holds versions, the resource map,
limits and composite/batch; query/queryAll live in ``query``, describe, records and collections in
``records``, SOSL and data categories in ``search``, Bulk API 2.0 query jobs in ``bulk``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sfwizard.sandbox.http import Request, Response, Route, json_response, method_not_allowed, route, sf_error
from sfwizard.sandbox.salesforce import bulk, query, records, search, security, tokens, tooling
from sfwizard.sandbox.salesforce.api import (
    _SEASONS,
    NOT_FOUND,
    VERSIONS,
    ApiRoute,
    Ctx,
    RestError,
    api_route,
    json_body,
    limit_header,
    rest_state,
)
from sfwizard.sandbox.salesforce.store import Org
from sfwizard.sandbox.state import SandboxState

log = logging.getLogger("sfwizard.sandbox")


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


def _api_routes() -> list[ApiRoute]:
    global _API_ROUTES
    if _API_ROUTES is None:
        _API_ROUTES = [*_own_routes(), *query.api_routes(), *records.api_routes(), *search.api_routes(),
                       *bulk.api_routes(), *tooling.api_routes(), *security.api_routes()]
    return _API_ROUTES


_API_ROUTES: list[ApiRoute] | None = None


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
        except RestError as exc:
            return exc.response()
    if allowed:
        return method_not_allowed(req, allowed)
    return sf_error(404, "NOT_FOUND", NOT_FOUND)


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


# -- composite/batch ----------------------------------------------------------------------------------

MAX_BATCH = 25
_HALTED = {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}


def _batch(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    body = json_body(req)
    subs = body.get("batchRequests") if isinstance(body, dict) else None
    if not isinstance(subs, list):
        raise RestError(400, "JSON_PARSER_ERROR", "Request body must contain batchRequests")
    if len(subs) > MAX_BATCH:
        raise RestError(400, "LIMIT_EXCEEDED", f"A maximum of {MAX_BATCH} batch requests is allowed")
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
        api_route("POST", r"composite/batch/?", _batch),
    ]


def routes() -> list[Route]:
    return [
        route("GET", r"/services/data/?", _versions),
        route("*", r"/services/data/v(\d+\.\d+)(/.*)?", _data_handler),
    ]
