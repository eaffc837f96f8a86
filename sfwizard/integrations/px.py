"""Gainsight PX's REST API (its published contract, Swagger 0.1.6), through ``transport.Http``.

What the contract leaves open is not bet on: the Salesforce integration's ``integrationSyncName`` is not
published, so every row that could be it counts (one DOWN row makes it DOWN); ``lastError`` is shown as
PX wrote it and never read for words; an error body may be PX's envelope, other JSON, or a proxy's HTML
page, and is read into one line whatever it is. Unmatched accounts and users (no ``sfdcId`` /
``sfdcContactId``) are normal: samples ask for matched records only, with the contract's ``filter``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import Http

PX_PAGE = 1000  # the API's largest page
# "has any value": the contract's ``~`` matches with wildcards, and ``?`` needs one character at least. It has
# no "exists" operator, and how ``!=`` treats a record without the field is not written anywhere.
MATCHED = {"accounts": "sfdcId~?*", "users": "sfdcContactId~?*"}
_REGIONS = {"api.aptrinsic.com": "US", "api-eu.aptrinsic.com": "EU", "api-us2.aptrinsic.com": "US2"}
_SALESFORCE_WORDS = ("salesforce", "sfdc")


@dataclass(frozen=True)
class IntegrationStatus:
    name: str
    status: str  # UP or DOWN
    last_success: datetime | None
    last_error: str | None
    records_processed: int | None
    rows: tuple[IntegrationStatus, ...] = field(default=(), compare=False)  # the rows it was made of

    def as_evidence(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status,
                "last_success": self.last_success.isoformat() if self.last_success else None,
                "last_error": self.last_error, "records_processed": self.records_processed}


@dataclass(frozen=True)
class Page:
    """One page of /v1/accounts or /v1/users: its records and ``totalHits`` (every record the filter matches)."""

    records: list[dict[str, Any]]
    total_hits: int | None


def salesforce_rows(rows: Sequence[IntegrationStatus]) -> list[IntegrationStatus]:
    """Every monitoring row that could be the Salesforce integration (PX publishes no names)."""
    return [r for r in rows if any(w in r.name.lower() for w in _SALESFORCE_WORDS)]


def combine(rows: Sequence[IntegrationStatus]) -> IntegrationStatus | None:
    """The Salesforce integration as one status: DOWN when any of its rows is not UP; the oldest last
    success; each error as PX wrote it."""
    if not rows:
        return None
    if len(rows) == 1:
        return IntegrationStatus(*(getattr(rows[0], f) for f in ("name", "status", "last_success", "last_error",
                                                                 "records_processed")), rows=tuple(rows))
    down = [r for r in rows if r.status != "UP"]
    judged = down or list(rows)
    successes = [r.last_success for r in judged if r.last_success]
    errors = [f"{r.name}: {r.last_error}" for r in rows if r.last_error]
    counts = [r.records_processed for r in rows if r.records_processed is not None]
    return IntegrationStatus(name=", ".join(r.name for r in rows), status=down[0].status if down else "UP",
                             last_success=min(successes) if successes else None,
                             last_error="; ".join(errors) or None, records_processed=sum(counts) if counts else None,
                             rows=tuple(rows))


def said(resp: Any) -> tuple[str, bool]:
    """What an error answer says, as one line, and whether it was a web page (a proxy's, not PX's)."""
    text = resp.text or ""
    ctype = resp.headers.get("content-type", "").lower()
    if "html" in ctype or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.I | re.S)
        words = (title or heading).group(1) if (title or heading) else ""
        return _line(re.sub(r"<[^>]+>", " ", words)), True
    try:
        body = resp.json()
    except ValueError:
        return _line(text), False
    if isinstance(body, dict):
        inner = body.get("externalapierror")  # the envelope PX is known to send (the contract defines none)
        inner = inner if isinstance(inner, dict) else body
        return _line(str(inner.get("message") or inner.get("error") or inner.get("status") or "")), False
    return _line(str(body)), False


def _line(text: str, limit: int = 200) -> str:
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


class PxAPI:
    def __init__(self, http: Http, base_url: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {"X-APTRINSIC-API-KEY": api_key, "Accept": "application/json"}

    @property
    def region(self) -> str:
        """US, EU or US2 from the API's address; otherwise the address's host (a sandbox, a proxy)."""
        host = urlsplit(self.base_url).netloc.lower()
        return _REGIONS.get(host, host)

    def _get(self, path: str, params: Any = None, *, missing_ok: bool = False) -> Any:
        resp = self.http.request("GET", self.base_url + path, label="platform", headers=self._headers,
                                 params=params)
        if resp.status_code == 404 and missing_ok:
            return None
        if resp.status_code >= 400:
            raise self._refusal(resp, path)
        try:
            return resp.json()
        except ValueError:
            raise SfwizardError(f"Gainsight PX answered something that is not JSON on {self.base_url}{path}",
                                "check the API URL (region) in your settings", fix="settings.px_api_url") from None

    def _refusal(self, resp: Any, path: str) -> SfwizardError:
        status = resp.status_code
        words, page = said(resp)
        if page:
            return SfwizardError(
                f"a web page answered HTTP {status} on {path} instead of the Gainsight PX API"
                + (f" ({words!r})" if words else "") + ": a proxy or firewall in front of the API refused the call",
                f"check the region ({self.region}) and ask your network team to let {urlsplit(self.base_url).netloc} "
                "through", fix="settings.px_api_url")
        if status == 401:
            return SfwizardError("the Gainsight PX API key was refused (401)" + (f": {words}" if words else ""),
                                 "make a key under Administration → REST API in PX and set SFWIZARD_PX_API_KEY",
                                 fix="settings.px_api_key")
        if status == 429:
            return SfwizardError("the Gainsight PX API is rate-limiting us (429) after retries",
                                 "wait a minute and run the check again", fix="retry")
        return SfwizardError(f"Gainsight PX answered HTTP {status} on {self.base_url}{path}"
                             + (f": {words}" if words else ""), "check the region and the status page, then try again",
                             fix="settings.px_api_url" if status == 404 else "retry")

    # -- monitoring and the subscription ---------------------------------------------------------------
    def integrations(self) -> list[IntegrationStatus]:
        data = self._get("/admin/monitoring/integrations")
        out = []
        for row in (data or {}).get("integrationStatuses") or []:
            ms = row.get("lastSuccessfulDate")
            out.append(IntegrationStatus(
                name=str(row.get("integrationSyncName") or ""), status=str(row.get("currentStatus") or ""),
                last_success=datetime.fromtimestamp(ms / 1000, timezone.utc) if isinstance(ms, (int, float))
                and ms else None,
                last_error=row.get("lastError") or None, records_processed=row.get("numberOfRecordsProcessed"),
            ))
        return out

    def subscription(self) -> dict[str, Any] | None:
        """SubscriptionDetail (id, name, products…) of the key's subscription; None where PX has none to show."""
        data = self._get("/admin/subscription", missing_ok=True)
        return data if isinstance(data, dict) else None

    # -- accounts and users ------------------------------------------------------------------------------
    def _params(self, page_size: int, filters: Sequence[str], sort: str | None,
                scroll_id: str | None) -> list[tuple[str, Any]]:
        params: list[tuple[str, Any]] = [("pageSize", page_size)]
        params += [("filter", f) for f in filters]  # repeated: OR; ";" inside one: AND
        if sort:
            params.append(("sort", sort))
        if scroll_id:
            params.append(("scrollId", scroll_id))
        return params

    def page(self, kind: str, page_size: int = PX_PAGE, *, filters: Sequence[str] = (),
             sort: str | None = None) -> Page:
        """The first page of ``accounts`` or ``users`` with ``totalHits``: one call."""
        data = self._get(f"/{kind}", self._params(page_size, filters, sort, None)) or {}
        total = data.get("totalHits")
        return Page(list(data.get(kind) or []), int(total) if isinstance(total, (int, float)) else None)

    def _scroll(self, kind: str, page_size: int, max_rows: int | None, filters: Sequence[str],
                sort: str | None) -> Iterator[dict[str, Any]]:
        scroll_id: str | None = None
        seen = 0
        while True:
            data = self._get(f"/{kind}", self._params(page_size, filters, sort, scroll_id)) or {}
            rows = data.get(kind) or []
            for row in rows:
                yield row
                seen += 1
                if max_rows is not None and seen >= max_rows:
                    return
            scroll_id = data.get("scrollId")
            # A short page is the end; a null scrollId alone is not to be trusted.
            if len(rows) < page_size or not scroll_id:
                return

    def accounts(self, page_size: int = PX_PAGE, max_rows: int | None = None, *, filters: Sequence[str] = (),
                 sort: str | None = None) -> Iterator[dict[str, Any]]:
        return self._scroll("accounts", page_size, max_rows, filters, sort)

    def users(self, page_size: int = PX_PAGE, max_rows: int | None = None, *, filters: Sequence[str] = (),
              sort: str | None = None) -> Iterator[dict[str, Any]]:
        return self._scroll("users", page_size, max_rows, filters, sort)

    def attributes(self, kind: str) -> list[dict[str, Any]]:
        """The attribute model of ``account`` or ``user`` (a bare JSON array in the contract)."""
        data = self._get(f"/admin/model/{kind}/attributes")
        if isinstance(data, dict):
            for key in ("attributes", "results", "data"):
                if isinstance(data.get(key), list):
                    return data[key]
        return list(data or [])
