"""Bulk API 2.0 query jobs (``/services/data/vNN.0/jobs/query``): create, poll, page through CSV results.

A job runs its SOQL once, at creation, into a lazy result; each results page slices that result and
writes only those rows as CSV, so a 250,000-row job never sits in memory as one file. A job answers
``UploadComplete`` when made, ``InProgress`` at its first poll and ``JobComplete`` from the second on,
so clients exercise their polling loop.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.http import Request, Response, json_response, no_content
from sfwizard.sandbox.salesforce import soql, wire
from sfwizard.sandbox.salesforce.api import NOT_FOUND, ApiRoute, Ctx, RestError, api_route, json_body, rest_state
from sfwizard.sandbox.salesforce.query import select_columns
from sfwizard.sandbox.salesforce.store import Org

DEFAULT_PAGE = 50_000  # what simple-salesforce asks for; also our cap when maxRecords is absent
MAX_PAGE = 100_000
MAX_JOBS = 100  # per sandbox; the oldest finished ones are forgotten first
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_UNSUPPORTED = re.compile(
    r"\b(count|count_distinct|sum|avg|min|max)\s*\(|\bgroup\s+by\b|\boffset\b|\(\s*select\b", re.IGNORECASE)


@dataclass
class Column:
    header: str
    path: list[str]
    type: str


@dataclass
class QueryJob:
    id: str
    org_key: str
    user_id: str
    operation: str
    query: str
    sobject: str
    result: Any
    columns: list[Column]
    delimiter: str
    line_ending: str
    version: str
    created: datetime
    state: str = "UploadComplete"
    polls: int = 0
    modstamp: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _columns(org: Org, sobject: str, query: str) -> list[Column]:
    """CSV headers as Salesforce writes them (``Owner.Name``), from the schema's spelling."""
    return [Column(".".join(c.path), c.path, c.fdef.type if c.fdef else "string")
            for c in select_columns(org, query, sobject)]


def _cell(row: dict[str, Any], col: Column) -> str:
    value: Any = row
    for part in col.path:
        if not isinstance(value, dict):
            return ""
        key = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(key) if key else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if col.type == "datetime" and isinstance(value, str) and value.endswith("+0000"):
        return value[:-5] + "Z"  # Bulk CSV writes UTC as Z
    return str(value)


def _job_info(job: QueryJob, full: bool) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": job.id, "operation": job.operation, "object": job.sobject, "createdById": job.user_id,
        "createdDate": wire.format_datetime(job.created),
        "systemModstamp": wire.format_datetime(job.modstamp or job.created), "state": job.state,
        "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(job.version),
        "lineEnding": "CRLF" if job.line_ending == "\r\n" else "LF",
        "columnDelimiter": next(k for k, v in DELIMITERS.items() if v == job.delimiter),
    }
    if full:
        done = job.state == "JobComplete"
        info.update({"jobType": "V2Query", "numberRecordsProcessed": len(job.result.rows) if done else 0,
                     "retries": 0, "totalProcessingTime": 120 if done else 0, "isPkChunkingSupported": True})
    return info


def _job(ctx: Ctx, job_id: str) -> QueryJob:
    job = rest_state(ctx.state).jobs.get(job_id)
    if job is None or job.org_key != ctx.org.key:
        raise RestError(404, "NOT_FOUND", NOT_FOUND)
    return job


def _create(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    body = json_body(req)
    if not isinstance(body, dict):
        raise RestError(400, "API_ERROR", "Value does not match expected type")
    operation, query = body.get("operation"), body.get("query")
    if operation not in ("query", "queryAll"):
        raise RestError(400, "API_ERROR", f"Invalid operation: {operation}")
    if not isinstance(query, str) or not query.strip():
        raise RestError(400, "API_ERROR", "The query is required for a query job")
    delimiter = DELIMITERS.get(str(body.get("columnDelimiter") or "COMMA"))
    line_ending = LINE_ENDINGS.get(str(body.get("lineEnding") or "LF"))
    if delimiter is None or line_ending is None:
        raise RestError(400, "API_ERROR", "Invalid columnDelimiter or lineEnding")
    if _UNSUPPORTED.search(query):
        raise RestError(400, "INVALIDJOB", "Aggregate queries, OFFSET and subqueries are not supported "
                                          "by Bulk API 2.0 query jobs")
    try:
        result = soql.run_query(ctx.state, ctx.org, ctx.user, query, include_deleted=operation == "queryAll",
                                version=ctx.version)
    except soql.SoqlError as exc:
        raise RestError(400, exc.code, exc.message) from None
    rs = rest_state(ctx.state)
    sobject = ctx.org.sobject(result.sobject)
    job = QueryJob(
        id=ids.make_id("750", rs.next_serial(), pod=ctx.org.pod), org_key=ctx.org.key, user_id=ctx.user["Id"],
        operation=operation, query=query, sobject=sobject.name if sobject else result.sobject, result=result,
        columns=_columns(ctx.org, result.sobject, query), delimiter=delimiter,
        line_ending=line_ending, version=ctx.version, created=ctx.state.now())
    while len(rs.jobs) >= MAX_JOBS:
        rs.jobs.pop(next(iter(rs.jobs)))
    rs.jobs[job.id] = job
    rs.bulk_jobs_created[ctx.org.key] = rs.bulk_jobs_created.get(ctx.org.key, 0) + 1
    return json_response(_job_info(job, False))


def _get(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    job = _job(ctx, m.group(1))
    job.polls += 1
    if job.state in ("UploadComplete", "InProgress"):
        job.state = "InProgress" if job.polls == 1 else "JobComplete"
        job.modstamp = ctx.state.now()
    return json_response(_job_info(job, True))


def _list(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    jobs = [j for j in rest_state(ctx.state).jobs.values() if j.org_key == ctx.org.key]
    records = [_job_info(j, True) for j in jobs]
    return json_response({"done": True, "records": records, "nextRecordsUrl": None})


def _abort(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    job = _job(ctx, m.group(1))
    body = json_body(req)
    if not isinstance(body, dict) or body.get("state") != "Aborted":
        raise RestError(400, "INVALIDJOBSTATE", "A query job can only be set to Aborted")
    if job.state == "JobComplete":
        raise RestError(400, "INVALIDJOBSTATE", "Job is already complete")
    job.state, job.modstamp = "Aborted", ctx.state.now()
    return json_response(_job_info(job, True))


def _delete(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    job = _job(ctx, m.group(1))
    if job.state not in ("JobComplete", "Aborted", "Failed"):
        raise RestError(400, "INVALIDJOBSTATE", "Only a finished job can be deleted")
    rest_state(ctx.state).jobs.pop(job.id, None)
    return no_content()


def _decode_locator(text: str) -> int:
    try:
        value = int(base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise RestError(400, "INVALIDLOCATOR", f"Invalid locator: {text}") from None
    if value < 0:
        raise RestError(400, "INVALIDLOCATOR", f"Invalid locator: {text}")
    return value


def _encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _results(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    job = _job(ctx, m.group(1))
    if job.state != "JobComplete":
        raise RestError(400, "INVALIDJOBSTATE", f"The job {job.id} is not complete (state {job.state})")
    raw_max = req.arg("maxRecords")
    if raw_max is not None and (not raw_max.isdigit() or int(raw_max) < 1):
        raise RestError(400, "INVALIDPARAMETER", f"Invalid maxRecords: {raw_max}")
    size = min(int(raw_max), MAX_PAGE) if raw_max else DEFAULT_PAGE
    locator = req.arg("locator")
    offset = _decode_locator(locator) if locator and locator != "null" else 0
    rows = job.result.rows
    total = len(rows)
    if offset > total:
        raise RestError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
    page = rows[offset:offset + size]
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=job.delimiter, lineterminator=job.line_ending, quoting=csv.QUOTE_ALL)
    writer.writerow([c.header for c in job.columns])
    for row in page:
        writer.writerow([_cell(row, c) for c in job.columns])
    end = offset + len(page)
    return Response(200, buf.getvalue().encode("utf-8"), content_type="text/csv", headers=[
        ("Sforce-Locator", _encode_locator(end) if end < total else "null"),
        ("Sforce-NumberOfRecords", str(len(page))),
    ])


def api_routes() -> list[ApiRoute]:
    job = r"jobs/query/(750\w+)"
    return [
        api_route("POST", r"jobs/query/?", _create),
        api_route("GET", r"jobs/query/?", _list),
        api_route("GET", job + r"/?", _get),
        api_route("PATCH", job + r"/?", _abort),
        api_route("DELETE", job + r"/?", _delete),
        api_route("GET", job + r"/results/?", _results),
    ]
