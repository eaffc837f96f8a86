"""Gainsight PX's REST API under ``/px/v1``: integration monitoring, accounts and users, the attribute model.

Shapes follow PX's published API (AccountsPage/UsersPage with ``scrollId`` and ``totalHits``,
AttributeMetadata, IntegrationStatusPage). PX's records are a view over the Salesforce tables of the
org it last synced from: a PX account per Account, a PX user per Contact, carrying the values PX
last synced (``PxState.synced``) where Salesforce changed since. Pages are built row by row from
positions, so a 250,000-account tenant never materialises.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import date, datetime
from typing import Any

from sfwizard.sandbox.http import Request, Response, Route, json_response, route
from sfwizard.sandbox.px.state import PxState
from sfwizard.sandbox.px.sync import advance, knowledge_status, platform_clock, platform_value, px_data_org
from sfwizard.sandbox.salesforce.store import GeneratedTable, Org, Record, Table
from sfwizard.sandbox.state import SandboxState

MAX_PAGE = 1000
DEFAULT_PAGE = 25  # PX's default on /users and /accounts

# PX's own top-level fields; any other mapped attribute lives under customAttributes.
ACCOUNT_FIELDS = {"name", "trackedSubscriptionId", "sfdcId", "lastSeenDate", "dunsNumber", "industry",
                  "numberOfEmployees", "sicCode", "website", "naicsCode", "plan", "numberOfUsers",
                  "parentGroupId", "renewalDate", "healthScore", "gsId", "nps", "csm"}
USER_FIELDS = {"type", "gender", "email", "firstName", "lastName", "lastSeenDate", "signUpDate",
               "firstVisitDate", "title", "phone", "score", "role", "subscriptionId", "accountId",
               "numberOfVisits", "globalUnsubscribe", "sfdcContactId"}
_INT_FIELDS = {"numberOfEmployees", "numberOfUsers", "healthScore", "score", "numberOfVisits"}
_WIRE_TYPE = {"DATE": "DATE_TIME", "DATETIME": "DATE_TIME"}


def _ms(value: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day).timestamp() * 1000)
    return None


def _error(status: int, message: str) -> Response:
    return json_response({"type": "error", "status": status, "message": message}, status)


def _auth(state: SandboxState, req: Request) -> Response | None:
    if not state.px_api_key or req.header("x-aptrinsic-api-key") != state.px_api_key:
        return _error(401, "Unauthorized or bad API Key")
    if state.platform is None:
        return _error(404, "This subscription has no Gainsight PX data")
    return None


def _property_key(state: SandboxState) -> str:
    return f"AP-{hashlib.blake2b(str(state.seed).encode(), digest_size=5).hexdigest().upper()}-2"


def _wire(value: Any) -> Any:
    ms = _ms(value)
    return ms if ms is not None else value


def _put(out: dict[str, Any], top: set[str], attribute: str, value: Any) -> None:
    value = _wire(value)
    if attribute in top:
        if attribute in _INT_FIELDS and isinstance(value, float):
            value = int(value)
        out[attribute] = value
    else:
        out["customAttributes"][attribute] = value


def _modified(row: Record, px: PxState) -> int | None:
    """When PX last changed its copy: the Salesforce change, unless PX has not synced since."""
    changed = row.get("LastModifiedDate")
    return _ms(min(changed, px.synced_at) if changed and px.synced_at else changed)


def account_json(state: SandboxState, px: PxState, row: Record) -> dict[str, Any]:
    old = px.synced.get(row["Id"], {})
    ref = platform_clock(state)
    out: dict[str, Any] = {
        "id": row["Id"], "name": row.get("Name"), "trackedSubscriptionId": None, "sfdcId": row["Id"],
        "lastSeenDate": platform_value("lastSeenDate", row["Id"], ref), "dunsNumber": None, "industry": None,
        "numberOfEmployees": None, "sicCode": None, "website": row.get("Website"), "naicsCode": None,
        "plan": None, "location": {"countryName": row.get("BillingCountry"), "city": row.get("BillingCity"),
                                   "stateName": row.get("BillingState")},
        "numberOfUsers": platform_value("numberOfUsers", row["Id"], ref) % 40,
        "propertyKeys": [_property_key(state)], "createDate": _ms(row.get("CreatedDate")),
        "lastModifiedDate": _modified(row, px), "customAttributes": {}}
    for m in px.integration.mappings:
        if m.px_object != "account" or m.sf_object != "Account":
            continue
        if m.direction == "sf_to_px":
            _put(out, ACCOUNT_FIELDS, m.px_attribute, old.get(m.px_attribute, row.get(m.sf_field)))
        else:
            _put(out, ACCOUNT_FIELDS, m.px_attribute, platform_value(m.px_attribute, row["Id"], ref))
    return out


def user_json(state: SandboxState, px: PxState, row: Record) -> dict[str, Any]:
    old = px.synced.get(row["Id"], {})
    ref = platform_clock(state)
    identify = row.get("Email") or row["Id"]
    out: dict[str, Any] = {
        "aptrinsicId": str(uuid.UUID(bytes=hashlib.blake2b(row["Id"].encode(), digest_size=16).digest())),
        "identifyId": identify, "id": identify, "type": "USER", "gender": None,
        "email": row.get("Email"), "firstName": row.get("FirstName"), "lastName": row.get("LastName"),
        "lastSeenDate": platform_value("lastSeenDate", row["Id"], ref),
        "signUpDate": _ms(row.get("CreatedDate")),
        "title": row.get("Title"), "phone": row.get("Phone"), "score": None, "role": None,
        "accountId": row.get("AccountId"), "numberOfVisits": platform_value("visits", row["Id"], ref),
        "location": None, "propertyKeys": [_property_key(state)], "createDate": _ms(row.get("CreatedDate")),
        "lastModifiedDate": _modified(row, px), "customAttributes": {}, "globalUnsubscribe": False,
        "sfdcContactId": row["Id"]}
    for m in px.integration.mappings:
        if m.px_object != "user" or m.sf_object != "Contact":
            continue
        if m.direction == "sf_to_px":
            _put(out, USER_FIELDS, m.px_attribute, old.get(m.px_attribute, row.get(m.sf_field)))
        else:
            _put(out, USER_FIELDS, m.px_attribute, platform_value(m.px_attribute, row["Id"], ref))
    return out


# -- paging by position --------------------------------------------------------------------------------

def _span(table: Table) -> int:
    """Positions a scroll walks: generated rows, then stored ones (deleted ones keep their place)."""
    return table.count(include_deleted=True)


def _row_at(table: Table, position: int,
            stored: list[Record] | None) -> tuple[Record | None, list[Record] | None]:
    """The row at ``position`` (None if deleted), and the stored-row list once it had to be made."""
    if isinstance(table, GeneratedTable):
        if position < table.generated_count:
            row = table.row_at(position)
            return (None if row.get("IsDeleted") else row), stored
        position -= table.generated_count
        if stored is None:
            stored = list(Table.scan(table, include_deleted=True))
    elif stored is None:
        stored = list(table.scan(include_deleted=True))
    row = stored[position] if position < len(stored) else None
    return (None if row is None or row.get("IsDeleted") else row), stored


def _encode(position: int, kind: str) -> str:
    raw = json.dumps({"k": kind[0], "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(scroll_id: str, kind: str) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(scroll_id + "=" * (-len(scroll_id) % 4)))
        position = int(data["p"])
    except (ValueError, KeyError, TypeError):
        return None
    return position if data.get("k") == kind[0] and position >= 0 else None


def _list(state: SandboxState, req: Request, kind: str) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    try:
        size = int(req.arg("pageSize") or DEFAULT_PAGE)
    except ValueError:
        return _error(400, "pageSize must be an integer")
    if not 1 <= size <= MAX_PAGE:
        return _error(400, f"pageSize must be between 1 and {MAX_PAGE}")
    start = 0
    if req.arg("scrollId"):
        decoded = _decode(req.arg("scrollId") or "", kind)
        if decoded is None:
            return _error(400, "Invalid scrollId")
        start = decoded
    with state.lock:
        advance(state)
        px: PxState = state.platform
        org = px_data_org(state)
        table = org.table("Account" if kind == "accounts" else "Contact")
        render = account_json if kind == "accounts" else user_json
        out: list[dict[str, Any]] = []
        pos, end, stored = start, _span(table), None
        while len(out) < size and pos < end:
            row, stored = _row_at(table, pos, stored)
            pos += 1
            if row is not None:
                out.append(render(state, px, row))
        total = len(table)
    # Like PX, the last page still carries a scrollId: clients stop on a short page.
    return json_response({kind: out, "totalHits": total, "scrollId": _encode(pos, kind)})


def accounts(state: SandboxState, req: Request, m: Any) -> Response:
    return _list(state, req, "accounts")


def users(state: SandboxState, req: Request, m: Any) -> Response:
    return _list(state, req, "users")


def account_one(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    with state.lock:
        advance(state)
        org = px_data_org(state)
        rid = m.group(1)
        row = org.table("Account").get(rid) if len(rid) == 18 else None  # PX ids are case-sensitive, exact
        if row is None:
            return _error(404, "Account not found")
        return json_response(account_json(state, state.platform, row))


def user_one(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    from urllib.parse import unquote

    identify = unquote(m.group(1))
    with state.lock:
        advance(state)
        org: Org = px_data_org(state)
        for row in org.table("Contact").scan():
            if (row.get("Email") or row["Id"]) == identify:
                return json_response(user_json(state, state.platform, row))
    return _error(404, "User not found")


def monitoring(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    with state.lock:
        advance(state)
        i = state.platform.integration
        rows = [{"integrationSyncName": "Salesforce", "currentStatus": i.status,
                 "lastSuccessfulDate": _ms(i.last_success), "lastError": i.last_error,
                 "numberOfRecordsProcessed": i.records_processed}]
        kc = knowledge_status(state)
        rows.append({"integrationSyncName": "Knowledge Center - Salesforce Knowledge Base",
                     "currentStatus": kc["status"],
                     "lastSuccessfulDate": _ms(i.last_success) if kc["status"] == "UP" else None,
                     "lastError": kc["last_error"], "numberOfRecordsProcessed": 0})
    return json_response({"integrationStatuses": rows})


def attributes(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    kind = m.group(1)
    with state.lock:
        attrs = state.platform.attributes.get(kind, [])
        created = _ms(state.loaded_at)
        body = [{"id": f"{kind}-{a.api_name}", "name": a.display_name, "apiName": a.api_name,
                 "internalName": a.api_name if not a.custom else f"custom_{a.api_name}", "description": "",
                 "type": _WIRE_TYPE.get(a.type, a.type), "state": "ENABLED",
                 "origin": "CUSTOM" if a.custom else "DEFAULT", "createdDate": created,
                 "modifiedDate": created}
                for a in attrs]
    return json_response(body)


def unknown_type(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    return denied or _error(404, "Type not found")


def routes() -> list[Route]:
    return [
        route("GET", r"/px/v1/admin/monitoring/integrations", monitoring),
        route("GET", r"/px/v1/accounts", accounts),
        route("GET", r"/px/v1/accounts/([^/]+)", account_one),
        route("GET", r"/px/v1/users", users),
        route("GET", r"/px/v1/users/([^/]+)", user_one),
        route("GET", r"/px/v1/admin/model/(account|user)/attributes", attributes),
        route("GET", r"/px/v1/admin/model/[^/]+/attributes", unknown_type),
    ]
