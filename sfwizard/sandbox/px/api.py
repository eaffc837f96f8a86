"""Gainsight PX's REST API under ``/px/v1``, to its published contract (Swagger "Gainsight PX REST API"
0.1.6): integration monitoring, accounts and users (``filter``, ``sort``, scroll paging, ``totalHits``),
the attribute model and the subscription detail.

PX's records are a view over the Salesforce tables of the org it last synced from: a PX account per
Account, a PX user per Contact, carrying the values PX last synced (``PxState.synced``) where Salesforce
changed since — plus the accounts and users the integration never matched (no ``sfdcId`` /
``sfdcContactId``), as every real tenant has. ``id`` is PX's own id, never the Salesforce Id. Pages are
built record by record from positions, so a 250,000-account tenant never materialises.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sfwizard.sandbox.http import Request, Response, Route, json_response, route
from sfwizard.sandbox.px import query
from sfwizard.sandbox.px.errors import px_error
from sfwizard.sandbox.px.state import PxState
from sfwizard.sandbox.px.sync import advance, platform_clock, platform_value, px_data_org
from sfwizard.sandbox.salesforce.store import GeneratedTable, Org, Record, Table
from sfwizard.sandbox.state import SandboxState

MAX_PAGE = 1000
DEFAULT_PAGE = 25  # PX's default on /users and /accounts

# The contract's Account (24 properties) and User (29) keys, in its order; Location's 11.
ACCOUNT_KEYS = ("id", "name", "trackedSubscriptionId", "sfdcId", "lastSeenDate", "dunsNumber", "industry",
                "numberOfEmployees", "sicCode", "website", "naicsCode", "plan", "location", "numberOfUsers",
                "propertyKeys", "createDate", "lastModifiedDate", "customAttributes", "parentGroupId",
                "renewalDate", "healthScore", "gsId", "nps", "csm")
USER_KEYS = ("aptrinsicId", "identifyId", "type", "gender", "email", "firstName", "lastName", "lastSeenDate",
             "signUpDate", "firstVisitDate", "title", "phone", "score", "role", "subscriptionId", "accountId",
             "numberOfVisits", "location", "propertyKeys", "createDate", "lastModifiedDate", "customAttributes",
             "globalUnsubscribe", "sfdcContactId", "channelMetricList", "lastVisitedUserAgentData", "id",
             "lastInferredLocation", "globalId")
LOCATION_KEYS = ("countryName", "countryCode", "stateName", "stateCode", "city", "street", "postalCode",
                 "continent", "regionName", "timeZone", "coordinates")
NESTED = {"location", "lastInferredLocation", "customAttributes", "lastVisitedUserAgentData", "channelMetricList"}

# PX's own top-level fields; any other mapped attribute lives under customAttributes.
ACCOUNT_FIELDS = set(ACCOUNT_KEYS) - {"id", "location", "propertyKeys", "customAttributes", "createDate",
                                      "lastModifiedDate"}
USER_FIELDS = set(USER_KEYS) - {"aptrinsicId", "id", "location", "propertyKeys", "customAttributes", "createDate",
                                "lastModifiedDate", "channelMetricList", "lastVisitedUserAgentData",
                                "lastInferredLocation", "globalId"}
_INT_FIELDS = {"numberOfEmployees", "numberOfUsers", "healthScore", "score", "numberOfVisits"}
_WIRE_TYPE = {"DATE": "DATE_TIME", "DATETIME": "DATE_TIME"}
_COUNTRIES = {"US": ("United States", "USA", "NA"), "CA": ("Canada", "CAN", "NA"),
              "GB": ("United Kingdom", "GBR", "EU"), "IE": ("Ireland", "IRL", "EU"), "DE": ("Germany", "DEU", "EU"),
              "NL": ("Netherlands", "NLD", "EU"), "AU": ("Australia", "AUS", "OC"), "SG": ("Singapore", "SGP", "AS")}
_TIME_ZONES = {"US": "America/Chicago", "CA": "America/Toronto", "GB": "Europe/London", "IE": "Europe/Dublin",
               "DE": "Europe/Berlin", "NL": "Europe/Amsterdam", "AU": "Australia/Sydney", "SG": "Asia/Singapore"}


def _ms(value: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day).timestamp() * 1000)
    return None


def _auth(state: SandboxState, req: Request) -> Response | None:
    if not state.px_api_key or req.header("x-aptrinsic-api-key") != state.px_api_key:
        return px_error(401, "Unauthorized or bad API Key")
    if state.platform is None:
        return px_error(404, "This subscription has no Gainsight PX data")
    return None


def _property_key(state: SandboxState) -> str:
    return f"AP-{hashlib.blake2b(str(state.seed).encode(), digest_size=5).hexdigest().upper()}-2"


def _uuid(*parts: Any) -> str:
    return str(uuid.UUID(bytes=hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()))


def _h(*parts: Any) -> int:
    return int.from_bytes(hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def account_id(sfdc_id: str) -> str:
    """PX's own id of the account the integration made for a Salesforce Account (never the sfdcId)."""
    return _uuid("account", sfdc_id[:15])


def location(city: Any = None, state_code: Any = None, country: Any = None, street: Any = None,
             postal: Any = None) -> dict[str, Any]:
    """The contract's Location: all 11 keys, null where PX knows nothing."""
    name, code, continent = _COUNTRIES.get(str(country or "").upper(), (country or None, None, None))
    return {"countryName": name, "countryCode": code, "stateName": None, "stateCode": state_code or None,
            "city": city or None, "street": street or None, "postalCode": postal or None, "continent": continent,
            "regionName": None, "timeZone": _TIME_ZONES.get(str(country or "").upper()), "coordinates": None}


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
    out: dict[str, Any] = dict.fromkeys(ACCOUNT_KEYS)
    out.update({
        "id": account_id(row["Id"]), "name": row.get("Name"), "sfdcId": row["Id"],
        "lastSeenDate": platform_value("lastSeenDate", row["Id"], ref), "website": row.get("Website"),
        "location": location(row.get("BillingCity"), row.get("BillingState"), row.get("BillingCountry"),
                             row.get("BillingStreet"), row.get("BillingPostalCode")),
        "numberOfUsers": platform_value("numberOfUsers", row["Id"], ref) % 40,
        "propertyKeys": [_property_key(state)], "createDate": _ms(row.get("CreatedDate")),
        "lastModifiedDate": _modified(row, px), "customAttributes": {}})
    for m in px.integration.mappings:
        if m.px_object != "account" or m.sf_object != "Account":
            continue
        if m.direction == "sf_to_px":
            _put(out, ACCOUNT_FIELDS, m.px_attribute, old.get(m.px_attribute, row.get(m.sf_field)))
        else:
            _put(out, ACCOUNT_FIELDS, m.px_attribute, platform_value(m.px_attribute, row["Id"], ref))
    return out


_WORDS = ("Acorn", "Bluebird", "Cobalt", "Driftwood", "Ember", "Fjord", "Glacier", "Hollow", "Indigo", "Juniper")
_KINDS = ("Studio", "Collective", "Works", "Labs", "Co", "Trial workspace")


def unmatched_account_json(state: SandboxState, px: PxState, i: int) -> dict[str, Any]:
    """An account PX tracks that the Salesforce integration never matched: no sfdcId."""
    h = _h(state.seed, "unmatched-account", i)
    ref = platform_clock(state)
    created = ref - timedelta(days=3 + h % 400)
    name = f"{_WORDS[h % len(_WORDS)]} {_KINDS[(h >> 8) % len(_KINDS)]} {i + 1}"
    out: dict[str, Any] = dict.fromkeys(ACCOUNT_KEYS)
    out.update({
        "id": _uuid("unmatched-account", state.seed, i), "name": name,
        "lastSeenDate": _ms(ref - timedelta(hours=(h >> 16) % 300)),
        "website": f"https://{name.split()[0].lower()}{i + 1}.example",
        "location": location(country=("US", "GB", "DE", "AU")[(h >> 24) % 4]), "numberOfUsers": 1 + (h >> 32) % 6,
        "plan": "Trial" if (h >> 40) % 3 == 0 else None, "propertyKeys": [_property_key(state)],
        "createDate": _ms(created), "lastModifiedDate": _ms(created + timedelta(days=(h >> 44) % 3)),
        "customAttributes": None})  # "a map of apiName to value", or null where nothing is set
    return out


def user_json(state: SandboxState, px: PxState, row: Record) -> dict[str, Any]:
    old = px.synced.get(row["Id"], {})
    ref = platform_clock(state)
    identify = row.get("Email") or row["Id"]
    created = _ms(row.get("CreatedDate"))
    last_seen = platform_value("lastSeenDate", row["Id"], ref)
    out: dict[str, Any] = dict.fromkeys(USER_KEYS)
    out.update({
        "aptrinsicId": _uuid("user", row["Id"]), "identifyId": identify, "id": identify, "type": "USER",
        "email": row.get("Email"), "firstName": row.get("FirstName"), "lastName": row.get("LastName"),
        "lastSeenDate": last_seen, "signUpDate": created, "firstVisitDate": created,
        "title": row.get("Title"), "phone": row.get("Phone"), "score": 0,
        "accountId": account_id(row["AccountId"]) if row.get("AccountId") else None,
        "numberOfVisits": platform_value("visits", row["Id"], ref),
        "location": location(row.get("MailingCity"), None, row.get("MailingCountry")),
        "propertyKeys": [_property_key(state)], "createDate": created, "lastModifiedDate": _modified(row, px),
        "customAttributes": {}, "globalUnsubscribe": bool(row.get("HasOptedOutOfEmail")),
        "sfdcContactId": row["Id"], **_activity(state, row["Id"], created, last_seen)})
    for m in px.integration.mappings:
        if m.px_object != "user" or m.sf_object != "Contact":
            continue
        if m.direction == "sf_to_px":
            _put(out, USER_FIELDS, m.px_attribute, old.get(m.px_attribute, row.get(m.sf_field)))
        else:
            _put(out, USER_FIELDS, m.px_attribute, platform_value(m.px_attribute, row["Id"], ref))
    return out


def _activity(state: SandboxState, key: str, first: int | None, last: int | None) -> dict[str, Any]:
    """Where and with what a user was last seen (channelMetricList, lastVisitedUserAgentData, …)."""
    h = _h("activity", key)
    country = ("US", "GB", "DE", "CA", "AU")[h % 5]
    return {
        "channelMetricList": [{"groupId": _property_key(state), "channel": 1, "environment": 1,
                               "firstSeenDate": first, "lastSeenDate": last}],
        "lastVisitedUserAgentData": [{"propertyKey": _property_key(state), "userAgent": {
            "rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) "
                            "Chrome/126.0 Safari/537.36", "device": "Desktop", "platformType": "Mac OS X",
            "platformVersion": "14.5", "browserType": "Chrome", "browserVersion": "126.0"}}],
        "lastInferredLocation": location(country=country)}


def unmatched_user_json(state: SandboxState, px: PxState, i: int) -> dict[str, Any]:
    """A visitor or lead PX tracks that matches no Salesforce Contact: no sfdcContactId."""
    h = _h(state.seed, "unmatched-user", i)
    ref = platform_clock(state)
    created = _ms(ref - timedelta(days=1 + h % 200))
    last_seen = _ms(ref - timedelta(hours=(h >> 12) % 200))
    lead = h % 3 == 0
    email = f"visitor{i + 1}@{_WORDS[(h >> 4) % len(_WORDS)].lower()}.example" if lead else None
    identify = email or "anon-" + _uuid("anon", state.seed, i)[:13]
    out: dict[str, Any] = dict.fromkeys(USER_KEYS)
    out.update({
        "aptrinsicId": _uuid("unmatched-user", state.seed, i), "identifyId": identify, "id": identify,
        "type": "LEAD" if lead else "VISITOR", "gender": "EMPTY_GENDER", "email": email, "lastSeenDate": last_seen,
        "signUpDate": created if lead else None, "firstVisitDate": created, "score": 0,
        "accountId": _uuid("unmatched-account", state.seed, i % px.unmatched_accounts)
        if px.unmatched_accounts else None,
        "numberOfVisits": 1 + (h >> 20) % 30, "location": location(), "propertyKeys": [_property_key(state)],
        "createDate": created, "lastModifiedDate": last_seen, "customAttributes": None, "globalUnsubscribe": False,
        **_activity(state, identify, created, last_seen)})
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


def _encode(kind: str, query_text: dict[str, Any], **at: int) -> str:
    """A scrollId: the list, the query it belongs to, and where the next page starts."""
    raw = json.dumps({"k": kind[0], **query_text, **at}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(scroll_id: str, kind: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(scroll_id + "=" * (-len(scroll_id) % 4)))
        at = int(data.get("p", data.get("o", -1)))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return data if isinstance(data, dict) and data.get("k") == kind[0] and at >= 0 else None


def _known(kind: str):
    """Which field names a filter or sort may name: the contract's, dotted into the nested ones."""
    keys = set(ACCOUNT_KEYS if kind == "accounts" else USER_KEYS)
    if kind == "users":
        keys.discard("id")  # "Synonym for identifyId, output only, not filterable"

    def known(name: str) -> bool:
        top, dot, rest = name.partition(".")
        top = next((k for k in keys if k.lower() == top.lower()), "")
        return bool(top) and (bool(rest) if top in NESTED else not dot)
    return known


class _View:
    """One list's records in PX's scroll order: the unmatched first, then one per Salesforce row."""

    def __init__(self, state: SandboxState, kind: str) -> None:
        self.state, self.kind = state, kind
        self.px: PxState = state.platform
        self.table = px_data_org(state).table("Account" if kind == "accounts" else "Contact")
        self.unmatched = self.px.unmatched_accounts if kind == "accounts" else self.px.unmatched_users
        self.end = self.unmatched + _span(self.table)
        self._stored: list[Record] | None = None
        self.id_field = "sfdcId" if kind == "accounts" else "sfdcContactId"

    def at(self, position: int) -> dict[str, Any] | None:
        if position < self.unmatched:
            render_unmatched = unmatched_account_json if self.kind == "accounts" else unmatched_user_json
            return render_unmatched(self.state, self.px, position)
        row, self._stored = _row_at(self.table, position - self.unmatched, self._stored)
        if row is None:
            return None
        return (account_json if self.kind == "accounts" else user_json)(self.state, self.px, row)

    def bounds(self, filters: query.Filters) -> tuple[int, int, int | None]:
        """Where matching records can be, and their count when known without looking at each."""
        matched = len(self.table)
        presence = query.presence_only(filters, self.id_field) if filters else None
        if not filters:
            return 0, self.end, self.unmatched + matched
        if presence is True:
            return self.unmatched, self.end, matched
        if presence is False:
            return 0, self.unmatched, self.unmatched
        return 0, self.end, None


def _list(state: SandboxState, req: Request, kind: str) -> Response:
    denied = _auth(state, req)
    if denied:
        return denied
    try:
        size = int(req.arg("pageSize") or DEFAULT_PAGE)
    except ValueError:
        return px_error(400, "Bad request: pageSize must be an integer")
    if not 1 <= size <= MAX_PAGE:
        return px_error(400, f"Bad request: pageSize must be between 1 and {MAX_PAGE}")
    asked = {"f": req.query.get("filter", []), "s": req.arg("sort") or ""}
    scroll: dict[str, Any] | None = None
    if req.arg("scrollId"):
        scroll = _decode(req.arg("scrollId") or "", kind)
        if scroll is None:
            return px_error(400, "Bad request: invalid scrollId")
        said = {"f": scroll.get("f", []), "s": scroll.get("s", "")}
        if (asked["f"] or asked["s"]) and asked != said:
            return px_error(400, "Bad request: the scrollId belongs to another filter or sort")
        asked = said  # a scroll keeps its query, whether or not the request repeats it
    try:
        filters = query.parse_filters(asked["f"], _known(kind))
        sort = query.parse_sort(asked["s"], _known(kind))
    except query.QueryError as exc:
        return px_error(400, str(exc))
    with state.lock:
        advance(state)
        view = _View(state, kind)
        first, last, total = view.bounds(filters)
        out: list[dict[str, Any]] = []
        if sort:  # sorting needs every match: fine for the tenants a sort is asked of
            hits = [r for r in (view.at(p) for p in range(first, last)) if r is not None
                    and query.matches(r, filters)]
            offset = int(scroll.get("o", 0)) if scroll else 0
            out = query.sort_records(hits, sort)[offset:offset + size]
            total, cursor = len(hits), {"o": offset + len(out)}
        else:
            pos = max(first, int(scroll.get("p", 0)) if scroll else 0)
            while len(out) < size and pos < last:
                record = view.at(pos)
                pos += 1
                if record is not None and query.matches(record, filters):
                    out.append(record)
            if total is None:
                total = sum(1 for p in range(first, last) if (r := view.at(p)) is not None
                            and query.matches(r, filters))
            cursor = {"p": pos}
    # Like PX, the last page still carries a scrollId: clients stop on a short page.
    return json_response({kind: out, "totalHits": total, "scrollId": _encode(kind, asked, **cursor)})


def accounts(state: SandboxState, req: Request, m: Any) -> Response:
    return _list(state, req, "accounts")


def users(state: SandboxState, req: Request, m: Any) -> Response:
    return _list(state, req, "users")


def account_one(state: SandboxState, req: Request, m: Any) -> Response:
    """``/v1/accounts/{accountId}``: by PX's own id (case-sensitive, exact), never by the sfdcId."""
    denied = _auth(state, req)
    if denied:
        return denied
    wanted = m.group(1)
    with state.lock:
        advance(state)
        view = _View(state, "accounts")
        for i in range(view.unmatched):
            record = view.at(i)
            if record is not None and record["id"] == wanted:
                return json_response(record)
        for row in view.table.scan():
            if account_id(row["Id"]) == wanted:
                return json_response(account_json(state, state.platform, row))
    return px_error(404, "Account not found")


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
        view = _View(state, "users")
        for i in range(view.unmatched):
            record = view.at(i)
            if record is not None and record["identifyId"] == identify:
                return json_response(record)
    return px_error(404, "User not found")


def monitoring(state: SandboxState, req: Request, m: Any) -> Response:
    """One row per configured integration (IntegrationStatus: 5 keys). PX has no row for Knowledge."""
    denied = _auth(state, req)
    if denied:
        return denied
    with state.lock:
        advance(state)
        i = state.platform.integration
        rows = [{"integrationSyncName": i.sync_name, "currentStatus": i.status,
                 "lastSuccessfulDate": _ms(i.last_success), "lastError": i.last_error,
                 "numberOfRecordsProcessed": i.records_processed}]
        rows += [dict(r) for r in state.platform.other_integrations]
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
                 "type": _WIRE_TYPE.get(a.type, a.type), "state": a.state,
                 "origin": "CUSTOM" if a.custom else "DEFAULT", "createdDate": created,
                 "modifiedDate": created, "defaultValue": a.default_value}
                for a in attrs]
    return json_response(body)


def unknown_type(state: SandboxState, req: Request, m: Any) -> Response:
    denied = _auth(state, req)
    return denied or px_error(404, "Type not found")


def subscription(state: SandboxState, req: Request, m: Any) -> Response:
    """``/v1/admin/subscription``: SubscriptionDetail (which subscription the key belongs to; no region)."""
    denied = _auth(state, req)
    if denied:
        return denied
    with state.lock:
        org = state.orgs.get(state.platform.integration.org_key) or state.default_org
        slug = "".join(ch for ch in org.name.lower().split(" ")[0] if ch.isalnum()) or "tenant"
        body = {"id": _uuid("subscription", state.seed), "name": org.name, "iconUrl": None,
                "timeZone": state.platform.time_zone, "website": f"https://www.{slug}.example",
                "description": f"{org.name} product analytics",
                "products": [{"name": f"{org.name} app", "description": "The web application",
                              "productKeys": [{"channel": "WEB", "productKey": _property_key(state),
                                               "url": f"https://app.{slug}.example"}]}]}
    return json_response(body)


def routes() -> list[Route]:
    return [
        route("GET", r"/px/v1/admin/monitoring/integrations", monitoring),
        route("GET", r"/px/v1/admin/subscription", subscription),
        route("GET", r"/px/v1/accounts", accounts),
        route("GET", r"/px/v1/accounts/([^/]+)", account_one),
        route("GET", r"/px/v1/users", users),
        route("GET", r"/px/v1/users/([^/]+)", user_one),
        route("GET", r"/px/v1/admin/model/(account|user)/attributes", attributes),
        route("GET", r"/px/v1/admin/model/[^/]+/attributes", unknown_type),
    ]
