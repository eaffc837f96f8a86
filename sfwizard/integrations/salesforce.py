"""Salesforce through simple-salesforce: paging with cancel and progress, batched describes,
refresh-once on 401, and errors turned into one exception type carrying Salesforce's errorCode.

simple-salesforce is imported on first use (it costs about a quarter of a second).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

from sfwizard.cancel import NEVER, CancelToken, Progress, ProgressFn, no_progress
from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import (
    RETRY_STATUSES,
    CallCounter,
    RetryPolicy,
    certificate_failure,
    host_of,
    next_records_path,
    requests_session,
    tls_error,
)

log = logging.getLogger("sfwizard")

BATCH_MAX = 25  # composite/batch takes at most 25 sub-requests
DESCRIBE_BATCH = BATCH_MAX
IN_CHUNK = 200  # Ids per IN clause: keeps the SOQL well under its 100,000-character limit


class ApiError(SfwizardError):
    """A Salesforce REST error: ``code`` is its errorCode (INVALID_FIELD, INSUFFICIENT_ACCESS_OR_READONLY…)."""

    def __init__(self, code: str, message: str, status: int = 0, hint: str = "") -> None:
        super().__init__(f"{code}: {message.strip()}", hint, fix="connect.sign_in" if code == "INVALID_SESSION_ID"
                         else "retry")
        self.code = code
        self.status = status
        self.detail = message.strip()


class ApiLimitExceeded(ApiError):
    """REQUEST_LIMIT_EXCEEDED: stop making calls; what was found so far is kept."""


class PasswordExpired(ApiError):
    """INVALID_OPERATION_WITH_EXPIRED_PASSWORD: the signed-in user's password expired, so Salesforce refuses
    every API call of theirs (HTTP 401, which is no lost session: refreshing the token does not help)."""


class SalesforceUnreachable(SfwizardError):
    """The org did not answer (a refused, dropped or timed-out connection): nothing was learned from it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint, kind="unreachable", fix="retry")


def soql_quote(value: str) -> str:
    """A SOQL string literal (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def in_clause(values: Iterable[str]) -> str:
    return "(" + ",".join(soql_quote(v) for v in values) + ")"


def chunks(values: list[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


@dataclass
class ApiUsage:
    used: int
    max: int


@dataclass(frozen=True)
class Read:
    """One read a composite/batch request can carry (Salesforce batches limits, sObject resources, query,
    queryAll and search; not the Tooling API, not support/ resources): ``kind`` is query (every row), count
    (a ``SELECT COUNT() …``'s totalSize), search (SOSL), describe (``arg`` the object) or limits."""

    kind: str
    arg: str = ""

    def url(self, version: str) -> str:
        if self.kind in ("query", "count"):
            return f"v{version}/query?q={quote(self.arg, safe='')}"
        if self.kind == "search":
            return f"v{version}/search?q={quote(self.arg, safe='')}"
        if self.kind == "describe":
            return f"v{version}/sobjects/{self.arg}/describe"
        if self.kind == "limits":
            return f"v{version}/limits"
        raise ValueError(f"not a batchable read: {self.kind}")


class SalesforceAPI:
    """One signed-in user's access to one org, safe to share between threads (the check runner's).

    The requests.Session is shared (see ``transport.requests_session``); an expired access token is refreshed
    once however many threads meet the 401 at the same time: the first refreshes, the others replay with its
    token (``_renew``).
    """

    def __init__(self, instance_url: str, access_token: str, *, version: str = "60.0",
                 ca_cert: str | None = None, counter: CallCounter | None = None,
                 refresh: Callable[[], str] | None = None, cancel: CancelToken | None = None) -> None:
        self.instance_url = instance_url.rstrip("/")
        self.version = version
        self.counter = counter or CallCounter()
        self.cancel = cancel or NEVER
        self._token = access_token
        self._refresh = refresh  # returns a fresh access token (saving a rotated refresh token first)
        self._retry = RetryPolicy()
        self._http_session = requests_session(ca_cert, self.counter, retry=self._retry)
        self._sf: Any = None
        self._lock = threading.Lock()  # the token, its generation and the simple-salesforce client
        self._generation = 0  # bumped at every refresh: a 401 on an older token is replayed, not refreshed
        self._refresh_failed: BaseException | None = None
        self.usage: ApiUsage | None = None

    # -- plumbing ------------------------------------------------------------------------------
    def _client(self) -> tuple[Any, int]:
        """The simple-salesforce client for the current token, and that token's generation."""
        with self._lock:
            if self._sf is None:
                from simple_salesforce import Salesforce

                self._sf = Salesforce(instance_url=self.instance_url, session_id=self._token,
                                      session=self._http_session, version=self.version)
            return self._sf, self._generation

    def _renew(self, seen: int, may_refresh: bool) -> str:
        """After a 401 on the token of generation ``seen``: "other" when another thread refreshed since (replay
        with its token), "mine" when this call refreshed, "" when there is no newer token to replay with.

        Refreshes (when ``may_refresh``: a call refreshes once at most) only when no other thread did since
        ``seen``, so threads meeting the same expiry together refresh once and a rotated refresh token is never
        used twice; False when there is no way to refresh, or a refresh failed (this thread's or another's).
        """
        with self._lock:
            if self._generation != seen:
                return "other"  # another thread refreshed while this call was in flight
            if not may_refresh or self._refresh is None or self._refresh_failed is not None:
                return ""
            log.info("access token expired; refreshing once")
            try:
                self._token = self._refresh()
            except BaseException as exc:
                self._refresh_failed = exc
                raise
            self._sf = None
            self._generation += 1
            return "mine"

    def _call(self, fn: Callable[[Any], Any], *, idempotent_post: bool = False) -> Any:
        """Run ``fn(sf)``; on an expired session refresh once and replay; translate errors.

        GETs are retried on 5xx and dropped connections by the session (urllib3); a POST is not, unless
        the caller says it only reads (``idempotent_post``: a composite/batch of GETs), retried here.
        """
        from simple_salesforce import exceptions as sfe

        self.cancel.check()
        replays = 0  # after a 401: replayed with a token another thread refreshed, or after our own refresh
        refreshed = False
        transient = 0
        while True:
            sf, generation = self._client()
            try:
                result = fn(sf)
                self._note_usage()
                return result
            except (sfe.SalesforceGeneralError, OSError) as exc:
                status = int(getattr(exc, "status", 0) or 0)
                retryable = isinstance(exc, OSError) or status in RETRY_STATUSES
                if idempotent_post and retryable and transient + 1 < self._retry.attempts \
                        and certificate_failure(exc) is None:
                    log.info("retrying a read-only POST after %s", status or type(exc).__name__)
                    self.cancel.wait(self._retry.delay(transient))
                    transient += 1
                    continue
                self._fail(exc)
            except sfe.SalesforceExpiredSession as exc:
                expired = _translate(exc)
                if isinstance(expired, PasswordExpired):
                    raise expired from None
                renewed = self._renew(generation, may_refresh=not refreshed) if replays < 2 else ""
                if renewed:
                    refreshed = refreshed or renewed == "mine"
                    replays += 1
                    continue
                from sfwizard.integrations.signin import SignInRequired

                raise SignInRequired("the access token has expired and cannot be refreshed") from None
            except sfe.SalesforceError as exc:
                self._fail(exc)

    def _fail(self, exc: BaseException) -> NoReturn:
        from simple_salesforce import exceptions as sfe

        if isinstance(exc, sfe.SalesforceError):
            self._note_usage()
            raise _translate(exc) from None
        # requests' ConnectionError and friends (its SSLError among them)
        failure = certificate_failure(exc)
        if failure is not None:
            raise tls_error(host_of(self.instance_url), failure) from None
        raise SalesforceUnreachable(f"cannot reach {self.instance_url}: {type(exc).__name__}",
                                    "check the instance URL and your network") from None

    def _note_usage(self) -> None:
        usage = getattr(self._sf, "api_usage", None) or {}  # (a benign race: any recent answer's header will do)
        api = usage.get("api-usage")
        if api is not None:
            self.usage = ApiUsage(api.used, api.total)

    # -- calls ---------------------------------------------------------------------------------
    def query(self, soql: str, *, include_deleted: bool = False, limit_rows: int | None = None,
              progress: ProgressFn = no_progress, label: str = "") -> list[dict[str, Any]]:
        """All rows (or the first ``limit_rows``), page by page; cancel stops between pages."""
        rows: list[dict[str, Any]] = []
        for page in self.query_pages(soql, include_deleted=include_deleted):
            rows.extend(page["records"])
            progress(Progress(label or "Querying Salesforce", len(rows), page["totalSize"]))
            if limit_rows is not None and len(rows) >= limit_rows:
                return rows[:limit_rows]
        return rows

    def query_pages(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        page = self._call(lambda sf: sf.query(soql, include_deleted=include_deleted))
        yield page
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            next_url = next_records_path(page["nextRecordsUrl"])
            page = self._call(lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True,
                                                                     include_deleted=include_deleted))
            yield page

    def count(self, soql: str) -> int:
        """``SELECT COUNT() …`` answers in totalSize without rows."""
        return int(self._call(lambda sf: sf.query(soql))["totalSize"])

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a path below /services/data/vNN.0/ (e.g. ``limits``)."""
        return self._call(lambda sf: sf.restful(path, params=params, method="GET"))

    def tooling_query(self, soql: str) -> list[dict[str, Any]]:
        """A Tooling API query (``tooling/query``): installed packages, password policies (all pages)."""
        page = self.get("tooling/query", {"q": soql})
        rows = list(page.get("records", []))
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            url = next_records_path(page["nextRecordsUrl"])
            page = self._call(lambda sf, url=url: sf.query_more(url, identifier_is_url=True))
            rows += page.get("records", [])
        return rows

    def limits(self) -> dict[str, Any]:
        return self.get("limits")

    def search(self, sosl: str) -> list[dict[str, Any]]:
        result = self._call(lambda sf: sf.search(sosl))
        return list(result.get("searchRecords", [])) if isinstance(result, dict) else list(result or [])

    def describe(self, objects: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        """Describe many objects in as few calls as possible (composite/batch, 25 a call).

        An object this user cannot see comes back as None rather than raising.
        """
        names = list(dict.fromkeys(objects))
        answers = self.batch([Read("describe", n) for n in names])
        return {n: (None if isinstance(a, ApiError) else a) for n, a in zip(names, answers, strict=True)}

    def batch(self, reads: Sequence[Read]) -> list[Any]:
        """Many reads in composite/batch requests of up to 25: one round trip per 25 instead of one each.

        Returns one answer per read, in order: its value (a query's rows — later pages fetched as usual —, a
        count, search records, a describe, the limits), or the ApiError its sub-request answered (a describe
        of an object this user cannot see among them). A failure of the whole request (no answer, the sign-in
        lost, the API limit used up) raises, as any call does. The sub-requests only read: a dropped or 5xx
        batch is retried like a GET.
        """
        out: list[Any] = []
        for start in range(0, len(reads), BATCH_MAX):
            chunk = list(reads[start:start + BATCH_MAX])
            body = {"batchRequests": [{"method": "GET", "url": r.url(self.version)} for r in chunk]}
            result = self._call(lambda sf, body=body: sf.restful("composite/batch", method="POST", json=body),
                                idempotent_post=True)
            self.counter.add_subrequests(len(chunk))
            subs = list((result or {}).get("results") or [])
            for i, read in enumerate(chunk):
                sub = subs[i] if i < len(subs) and isinstance(subs[i], dict) else None
                out.append(self._answer(read, sub))
        return out

    def _answer(self, read: Read, sub: dict[str, Any] | None) -> Any:
        if sub is None:
            return ApiError("UNKNOWN_ERROR", "composite/batch returned no answer for this sub-request")
        status = int(sub.get("statusCode") or 0)
        body = sub.get("result")
        if status >= 300:
            return _api_error(body, status)
        if read.kind == "count":
            return int((body or {}).get("totalSize", 0))
        if read.kind == "query":
            rows = list((body or {}).get("records") or [])
            page = body or {}
            while not page.get("done", True) and page.get("nextRecordsUrl"):
                url = next_records_path(page["nextRecordsUrl"])
                page = self._call(lambda sf, url=url: sf.query_more(url, identifier_is_url=True))
                rows += page.get("records") or []
            return rows
        if read.kind == "search":
            return list(body.get("searchRecords", [])) if isinstance(body, dict) else list(body or [])
        return body

    def extract(self, soql: str, *, progress: ProgressFn = no_progress, label: str = "",
                page_rows: int = 50_000, poll_seconds: float = 1.0) -> Iterator[dict[str, str]]:
        """A large extract through the Bulk API 2.0 query path: a job, polls, then CSV pages by locator.

        Costs a few calls per 50,000 rows instead of one per 2,000; rows come back as CSV text fields.
        """
        import csv
        import io

        job = self.post("jobs/query", {"operation": "query", "query": soql})
        job_id = job["id"]
        while job.get("state") not in ("JobComplete", "Failed", "Aborted"):
            self.cancel.wait(poll_seconds)
            job = self.get(f"jobs/query/{job_id}")
        if job["state"] != "JobComplete":
            raise ApiError("BULK_JOB_FAILED", str(job.get("errorMessage") or job["state"]),
                           hint="run the query with a narrower filter, or try again later")
        locator: str | None = None
        done = 0
        while True:
            params: dict[str, Any] = {"maxRecords": page_rows}
            if locator:
                params["locator"] = locator
            resp = self._call(lambda sf, params=params: sf.session.get(
                f"{self.instance_url}/services/data/v{self.version}/jobs/query/{job_id}/results",
                headers={**sf.headers, "Accept": "text/csv"}, params=params))
            if resp.status_code >= 400:
                raise ApiError("BULK_RESULTS_FAILED", resp.text[:200], resp.status_code)
            for row in csv.DictReader(io.StringIO(resp.text)):
                done += 1
                yield row
            progress(Progress(label or "Extracting from Salesforce", done, job.get("numberRecordsProcessed")))
            locator = resp.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                return

    def userinfo(self) -> dict[str, Any]:
        """The signed-in user and org (``/services/oauth2/userinfo`` on the instance)."""
        def fetch(sf: Any) -> Any:
            from simple_salesforce.exceptions import SalesforceExpiredSession

            resp = sf.session.get(self.instance_url + "/services/oauth2/userinfo", headers=sf.headers)
            if resp.status_code in (401, 403):
                raise SalesforceExpiredSession(resp.url, resp.status_code, "userinfo", resp.text)
            resp.raise_for_status()
            return resp.json()
        return self._call(fetch)

    def post(self, path: str, body: Any) -> Any:
        return self._call(lambda sf: sf.restful(path, method="POST", json=body))

    # -- blobs: an event log file's CSV (a security review's API volume) ----------------------------------------------
    def lines(self, path: str) -> Iterator[str]:
        """A blob's text line by line as it streams in (``/services/data/vNN.0/sobjects/EventLogFile/<Id>/LogFile``):
        one GET, never held whole (a busy org's daily file runs to hundreds of megabytes)."""
        def fetch(sf: Any) -> Any:
            from simple_salesforce.exceptions import SalesforceExpiredSession

            resp = sf.session.get(self.instance_url + path, headers=sf.headers, stream=True)
            if resp.status_code == 401:
                resp.close()
                raise SalesforceExpiredSession(resp.url, resp.status_code, "blob", "")
            if resp.status_code >= 400:
                try:
                    content = resp.json()
                except ValueError:
                    content = None
                resp.close()
                raise _api_error(content, resp.status_code)
            return resp

        resp = self._call(fetch)
        try:
            for line in resp.iter_lines(decode_unicode=True):
                yield line if isinstance(line, str) else line.decode("utf-8", "replace")
        finally:
            resp.close()


def _translate(exc: Any) -> ApiError:
    """simple-salesforce exceptions carry Salesforce's error array in ``content``."""
    return _api_error(getattr(exc, "content", None), int(getattr(exc, "status", 0) or 0), str(exc))


def _api_error(content: Any, status: int, fallback: str = "") -> ApiError:
    """Salesforce's error array (or an OAuth-style error object) as an ApiError (ApiLimitExceeded for the
    limit)."""
    code, message = "UNKNOWN_ERROR", fallback or f"HTTP {status}"
    if isinstance(content, list) and content and isinstance(content[0], dict):
        code = str(content[0].get("errorCode", code))
        message = str(content[0].get("message", message))
    elif isinstance(content, dict):
        code = str(content.get("errorCode") or content.get("error") or code)
        message = str(content.get("message") or content.get("error_description") or message)
    hint = _HINTS.get(code, "")
    if code == "REQUEST_LIMIT_EXCEEDED":
        return ApiLimitExceeded(code, message, status, hint)
    if code == "INVALID_OPERATION_WITH_EXPIRED_PASSWORD":
        return PasswordExpired(code, message, status, hint)
    return ApiError(code, message, status, hint)


_HINTS = {
    "REQUEST_LIMIT_EXCEEDED": "the org's daily API limit is used up; wait for it to reset or ask Salesforce "
                              "for a temporary increase, then resume — what was checked is kept",
    "API_CURRENTLY_DISABLED": "give the user the API Enabled permission (profile or permission set)",
    "API_DISABLED_FOR_ORG": "this Salesforce edition has no API access; ask Salesforce to enable it",
    "INSUFFICIENT_ACCESS_OR_READONLY": "grant the user access to the object in a permission set",
    "INVALID_SESSION_ID": "sign in again: sfwizard login",
    "INVALID_OPERATION_WITH_EXPIRED_PASSWORD": "reset the signed-in user's password (Setup → Users → Reset "
                                               "Password, or log in once in a browser and change it), then sign "
                                               "in again: sfwizard login",
}
