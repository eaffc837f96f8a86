"""The Salesforce client shared by the check runner's threads: one refresh when several threads meet the same
expired token, composite/batch reads with per-read answers, and the sandbox answering them. Threads are lined up
with barriers, never with sleeps."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceExpiredSession

from sfwizard.demo import open_demo
from sfwizard.integrations.salesforce import ApiError, Read, SalesforceAPI
from sfwizard.integrations.signin import SignInRequired

THREADS = 6


class _FakeSf:
    """Stands for simple-salesforce: its token is good when it is the current one."""

    def __init__(self, token: str, good: list[str], together: threading.Barrier | None) -> None:
        self.token, self.good, self.together = token, good, together
        self.api_usage: dict[str, Any] = {}

    def query(self, soql: str, **_: Any) -> dict[str, Any]:
        if self.token != self.good[0]:
            if self.together is not None:
                self.together.wait()  # every thread has met the old token before anyone refreshes
            raise SalesforceExpiredSession("url", 401, "query", [{"errorCode": "INVALID_SESSION_ID"}])
        return {"totalSize": 1, "done": True, "records": [{"Id": "001"}]}


def _api(refresh, together: threading.Barrier | None, good: list[str]) -> SalesforceAPI:
    api = SalesforceAPI("https://example.invalid", "old-token", refresh=refresh)

    def client() -> tuple[Any, int]:  # the real _client, with the fake in place of simple-salesforce
        with api._lock:
            if api._sf is None:
                api._sf = _FakeSf(api._token, good, together)
            return api._sf, api._generation

    api._client = client  # type: ignore[method-assign]
    return api


def test_threads_meeting_one_expired_token_refresh_it_once() -> None:
    good = ["new-token"]
    refreshes: list[str] = []

    def refresh() -> str:
        refreshes.append("refresh")
        return "new-token"

    api = _api(refresh, threading.Barrier(THREADS, timeout=10), good)
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(lambda _: api.query("SELECT Id FROM Account"), range(THREADS)))
    assert refreshes == ["refresh"]  # a rotated refresh token is never used twice
    assert answers == [[{"Id": "001"}]] * THREADS


def test_a_failed_refresh_is_not_tried_again_by_the_other_threads() -> None:
    calls: list[str] = []

    def refresh() -> str:
        calls.append("refresh")
        raise SignInRequired("the refresh token was revoked")

    api = _api(refresh, threading.Barrier(THREADS, timeout=10), ["never"])
    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(lambda _: _outcome(lambda: api.query("SELECT Id FROM Account")), range(THREADS)))
    assert calls == ["refresh"]
    assert {type(o) for o in outcomes} == {SignInRequired}


def test_a_call_refreshes_once_even_when_the_new_token_is_refused_too() -> None:
    calls: list[str] = []

    def refresh() -> str:
        calls.append("refresh")
        return "also-refused"

    api = _api(refresh, None, ["never"])
    with pytest.raises(SignInRequired):
        api.query("SELECT Id FROM Account")
    assert calls == ["refresh"]


def _outcome(fn) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
        return exc


# -- composite/batch against the sandbox ------------------------------------------------------------------------

def test_batch_answers_each_read_and_counts_one_request_per_25() -> None:
    reads = [Read("count", "SELECT COUNT() FROM Account"), Read("query", "SELECT Id, Name FROM Account LIMIT 3"),
             Read("describe", "Account"), Read("describe", "No_Such_Object__c"), Read("limits"),
             Read("query", "SELECT Nope FROM Account"),
             Read("search", "FIND {Northwind} IN NAME FIELDS RETURNING Account(Id, Name)")]
    with open_demo("healthy") as conn:
        sf = conn.client.salesforce
        assert sf is not None
        before, subs = conn.client.counter.counts["salesforce"], conn.client.counter.subrequests
        answers = sf.batch(reads * 4)  # 28 reads: two requests
        requests = conn.client.counter.counts["salesforce"] - before
        direct = [sf.count("SELECT COUNT() FROM Account"), sf.query("SELECT Id, Name FROM Account LIMIT 3")]
    assert requests == 2
    assert conn.client.counter.subrequests - subs == 28  # what Salesforce counts against the API limit
    assert len(answers) == 28 and answers[21] == answers[0]  # one answer per read, in order, across requests
    count, rows, described, missing, limits, refused, found = answers[:7]
    assert (count, rows) == (direct[0], direct[1])  # the same answers as one request each
    assert described["name"] == "Account" and limits["DailyApiRequests"]["Max"] > 0
    assert isinstance(missing, ApiError) and missing.code == "NOT_FOUND"  # a read's refusal is its answer
    assert isinstance(refused, ApiError) and refused.code == "INVALID_FIELD"
    assert [r["Name"] for r in found] == ["Northwind Systems"]


def test_a_query_longer_than_its_first_page_is_read_to_the_end_through_a_batch() -> None:
    with open_demo("large-tenant") as conn:
        sf = conn.client.salesforce
        assert sf is not None
        [rows] = sf.batch([Read("query", "SELECT Id FROM Account WHERE Id != null LIMIT 4500")])
    assert len(rows) == 4500 and len({r["Id"] for r in rows}) == 4500
