"""What every REST handler shares: the request context, the error type, routes and the cursors' state.

Handlers live in ``query``, ``records``, ``search`` and ``bulk``; ``rest`` is the edge that
authenticates, counts and dispatches to them.
"""

from __future__ import annotations

import re
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sfwizard.sandbox.http import Request, Response, sf_error
from sfwizard.sandbox.salesforce import tokens
from sfwizard.sandbox.salesforce.store import Access, Org, Record, SObjectDef
from sfwizard.sandbox.state import SandboxState

# 20.0 (Winter '11) … 62.0 (Winter '25), as an org of that release lists them.
VERSIONS = [f"{v}.0" for v in range(20, 63)]
_SEASONS = ("Winter", "Spring", "Summer")

QUERY_PAGE = 2000
CURSOR_IDLE_SECONDS = 15 * 60  # Salesforce drops an idle query cursor after 15 minutes
CURSORS_PER_USER = 10  # … and keeps at most 10 open per user, dropping the oldest

NOT_FOUND = "The requested resource does not exist"


class RestError(Exception):
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


def invalid_field(name: str, sobject: str) -> RestError:
    """What SOQL-style field look-ups answer for a field that does not exist or is not readable."""
    return RestError(400, "INVALID_FIELD",
                    f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom "
                    "field, be sure to append the '__c' after the custom field name. Please reference your "
                    "WSDL or the describe call for the appropriate names.")


def json_body(req: Request) -> Any:
    try:
        return req.json()
    except (ValueError, UnicodeDecodeError) as exc:
        raise RestError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}"[:200]) from None
