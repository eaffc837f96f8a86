"""Gainsight PX's REST API under ``/px/v1``: monitoring, accounts and users (scrollId paging), attributes.

PX's records are a view over the Salesforce tables: a PX account per Account, a PX user per Contact,
with the values PX last synced (``PxState.synced``) where Salesforce changed since. Pages are built
row by row from positions, so a 250,000-account tenant never materialises.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from sfwizard.sandbox.http import Request, Response, Route, json_response, route
from sfwizard.sandbox.platform import PxState
from sfwizard.sandbox.store import GeneratedTable, Org, SandboxState, Table

MAX_PAGE = 1000
_TOP_LEVEL = {"name", "industry", "numberOfEmployees", "website", "email", "firstName", "lastName", "plan",
              "lastSeenDate"}


def _ms(dt: datetime | None) -> int | None:
    return int(dt.timestamp() * 1000) if dt else None


def _error(status: int, message: str) -> Response:
    return json_response({"type": "error", "status": status, "message": message}, status)


def _px(state: SandboxState) -> PxState | None:
    return state.platform


def _auth(state: SandboxState, req: Request) -> Response | None:
    if req.header("x-aptrinsic-api-key") != state.px_api_key or not state.px_api_key:
        return _error(401, "Unauthorized: missing or invalid X-APTRINSIC-API-KEY")
    if _px(state) is None:
        return _error(404, "This subscription has no Gainsight PX data (a Skilljar scenario)")
    return None


def _h(value: str, salt: str) -> int:
    return int.from_bytes(hashlib.blake2b((salt + value).encode(), digest_size=8).digest(), "big")


def platform_value(attribute: str, sfdc_id: str, now: datetime) -> Any:
    """PX's own numbers (what it pushes to Salesforce): stable per record, looks like usage data."""
    h = _h(sfdc_id, attribute)
    if attribute.lower().endswith("date") or "seen" in attribute.lower() or "login" in attribute.lower():
        return _ms(now) - (h % (14 * 86400)) * 1000
    if "score" in attribute.lower():
        return float(40 + h % 60)
    return float(1 + h % 250)


def _row_at(table: Table, position: int, rows_cache: dict[int, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The position-th live row: generated rows by index, stored rows from a per-request list."""
    if isinstance(table, GeneratedTable):
        if position < table.generated_count:
            row = table.row_at(position)
            return None if row.get("IsDeleted") else row
        position -= table.generated_count
        stored = rows_cache.setdefault(id(table), list(Table.scan(table)))
    else:
        stored = rows_cache.setdefault(id(table), list(table.scan()))
    return stored[position] if position < len(stored) else None


def _size(table: Table) -> int:
    return table.count(include_deleted=True)


def account_json(state: SandboxState, org: Org, px: PxState, row: dict[str, Any]) -> dict[str, Any]:
    old = px.synced.get(row["Id"], {})
    out: dict[str, Any] = {"id": row["Id"], "name": row.get("Name"), "sfdcId": row["Id"],
                           "trackedSubscriptionId": "", "industry": None, "numberOfEmployees": None,
                           "website": row.get("Website"), "numberOfUsers": 0, "plan": None,
                           "location": {"city": row.get("BillingCity"), "countryName": row.get("BillingCountry")},
                           "createDate": _ms(row.get("CreatedDate")),
                           "lastModifiedDate": _ms(min(row.get("LastModifiedDate"), px.synced_at)
                                                   if px.synced_at and row.get("LastModifiedDate") else None),
                           "lastSeenDate": platform_value("lastSeenDate", row["Id"], state.loaded_at),
                           "customAttributes": {}}
    for m in px.integration.mappings:
        if m.px_object != "account":
            continue
        if m.direction == "sf_to_px" and m.sf_object == "Account":
            value = old.get(m.px_attribute, row.get(m.sf_field))
        elif m.direction == "px_to_sf":
            value = platform_value(m.px_attribute, row["Id"], state.loaded_at)
        else:
            continue
        if isinstance(value, datetime):
            value = _ms(value)
        (out if m.px_attribute in _TOP_LEVEL else out["customAttributes"])[m.px_attribute] = value
    return out


def user_json(state: SandboxState, org: Org, px: PxState, row: dict[str, Any]) -> dict[str, Any]:
    old = px.synced.get(row["Id"], {})
    out: dict[str, Any] = {"aptrinsicId": "px-" + row["Id"][3:15], "identifyId": row.get("Email"),
                           "type": "USER", "email": None, "firstName": None, "lastName": None,
                           "accountId": row.get("AccountId"), "sfdcContactId": row["Id"],
                           "createDate": _ms(row.get("CreatedDate")),
                           "lastSeenDate": platform_value("lastSeenDate", row["Id"], state.loaded_at),
                           "customAttributes": {}}
    for m in px.integration.mappings:
        if m.px_object == "user" and m.direction == "sf_to_px" and m.sf_object == "Contact":
            value = old.get(m.px_attribute, row.get(m.sf_field))
            (out if m.px_attribute in _TOP_LEVEL else out["customAttributes"])[m.px_attribute] = value
    return out


def _encode(position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"p": position}).encode()).decode().rstrip("=")


def _decode(scroll_id: str) -> int | None:
    try:
        pad = "=" * (-len(scroll_id) % 4)
        return int(json.loads(base64.urlsafe_b64decode(scroll_id + pad))["p"])
    except (ValueError, KeyError, TypeError):
        return None


def _list(state: SandboxState, req: Request, kind: str) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    try:
        size = int(req.arg("pageSize", "100") or 100)
    except ValueError:
        return _error(400, "pageSize must be a number")
    if not 1 <= size <= MAX_PAGE:
        return _error(400, f"pageSize must be between 1 and {MAX_PAGE}")
    start = 0
    if req.arg("scrollId"):
        decoded = _decode(req.arg("scrollId") or "")
        if decoded is None:
            return _error(400, "invalid scrollId")
        start = decoded
    with state.lock:
        px = _px(state)
        assert px is not None
        org = state.orgs[px.integration.org_key] if px.integration.org_key in state.orgs else state.default_org
        table = org.table("Account" if kind == "accounts" else "Contact")
        cache: dict[int, list[dict[str, Any]]] = {}
        out, pos, total = [], start, _size(table)
        while len(out) < size and pos < total:
            row = _row_at(table, pos, cache)
            pos += 1
            if row is not None:
                out.append(account_json(state, org, px, row) if kind == "accounts" else user_json(state, org, px, row))
    body: dict[str, Any] = {kind: out, "scrollId": _encode(pos) if pos < total else None}
    return json_response(body)


def accounts(state: SandboxState, req: Request, m: Any) -> Response:
    return _list(state, req, "accounts")


def users(state: SandboxState, req: Request, m: Any) -> Response:
    return _list(state, req, "users")


def account_one(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    with state.lock:
        px = _px(state)
        assert px is not None
        org = state.orgs.get(px.integration.org_key, state.default_org)
        row = org.table("Account").get(m.group(1)) if len(m.group(1)) in (15, 18) else None
        if row is None:
            return _error(404, f"Account {m.group(1)} not found")
        return json_response(account_json(state, org, px, row))


def monitoring(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    with state.lock:
        px = _px(state)
        assert px is not None
        i = px.integration
        return json_response({"integrationStatuses": [{
            "integrationSyncName": "Salesforce", "currentStatus": i.status,
            "lastSuccessfulDate": _ms(i.last_success), "lastError": i.last_error,
            "numberOfRecordsProcessed": i.records_processed}]})


def attributes(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    with state.lock:
        px = _px(state)
        assert px is not None
        attrs = px.attributes.get(m.group(1).lower(), [])
        return json_response([{"apiName": a.api_name, "displayName": a.display_name, "type": a.type,
                               "customAttribute": a.custom, "category": "CUSTOM" if a.custom else "DEFAULT"}
                              for a in attrs])


def routes() -> list[Route]:
    return [
        route("GET", r"/px/v1/admin/monitoring/integrations", monitoring),
        route("GET", r"/px/v1/accounts", accounts),
        route("GET", r"/px/v1/accounts/([A-Za-z0-9]+)", account_one),
        route("GET", r"/px/v1/users", users),
        route("GET", r"/px/v1/admin/model/(account|user)/attributes", attributes),
    ]
