"""Gainsight PX's REST API (its published contract), through ``transport.Http``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import Http

PX_PAGE = 1000  # the API's largest page


@dataclass(frozen=True)
class IntegrationStatus:
    name: str
    status: str  # UP or DOWN
    last_success: datetime | None
    last_error: str | None
    records_processed: int | None


class PxAPI:
    def __init__(self, http: Http, base_url: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self._headers = {"X-APTRINSIC-API-KEY": api_key, "Accept": "application/json"}

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        resp = self.http.request("GET", self.base_url + path, label="platform", headers=self._headers,
                                 params=params)
        if resp.status_code == 401:
            raise SfwizardError("the Gainsight PX API key was refused (401)",
                                "make a key under Administration → REST API in PX and set SFWIZARD_PX_API_KEY")
        if resp.status_code == 429:
            raise SfwizardError("the Gainsight PX API is rate-limiting us (429) after retries",
                                "wait a minute and run the check again")
        if resp.status_code >= 400:
            raise SfwizardError(f"Gainsight PX answered HTTP {resp.status_code} on {path}",
                                "check the region and the status page, then try again")
        try:
            return resp.json()
        except ValueError:
            raise SfwizardError(f"Gainsight PX answered something that is not JSON on {path}",
                                "check the API URL (region) in your settings") from None

    def integrations(self) -> list[IntegrationStatus]:
        data = self._get("/admin/monitoring/integrations")
        out = []
        for row in data.get("integrationStatuses", []):
            ms = row.get("lastSuccessfulDate")
            out.append(IntegrationStatus(
                name=str(row.get("integrationSyncName", "")), status=str(row.get("currentStatus", "")),
                last_success=datetime.fromtimestamp(ms / 1000, timezone.utc) if ms else None,
                last_error=row.get("lastError") or None, records_processed=row.get("numberOfRecordsProcessed"),
            ))
        return out

    def _scroll(self, path: str, key: str, page_size: int, max_rows: int | None) -> Iterator[dict[str, Any]]:
        scroll_id: str | None = None
        seen = 0
        while True:
            params: dict[str, Any] = {"pageSize": page_size}
            if scroll_id:
                params["scrollId"] = scroll_id
            data = self._get(path, params)
            rows = data.get(key, [])
            for row in rows:
                yield row
                seen += 1
                if max_rows is not None and seen >= max_rows:
                    return
            scroll_id = data.get("scrollId")
            # A short page is the end; a null scrollId alone is not to be trusted.
            if len(rows) < page_size or not scroll_id:
                return

    def accounts(self, page_size: int = PX_PAGE, max_rows: int | None = None) -> Iterator[dict[str, Any]]:
        return self._scroll("/accounts", "accounts", page_size, max_rows)

    def users(self, page_size: int = PX_PAGE, max_rows: int | None = None) -> Iterator[dict[str, Any]]:
        return self._scroll("/users", "users", page_size, max_rows)

    def attributes(self, kind: str) -> list[dict[str, Any]]:
        """The attribute model of ``account`` or ``user``."""
        data = self._get(f"/admin/model/{kind}/attributes")
        if isinstance(data, dict):
            for key in ("attributes", "results", "data"):
                if isinstance(data.get(key), list):
                    return data[key]
        return list(data or [])
