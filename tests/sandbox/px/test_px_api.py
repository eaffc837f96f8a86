"""Gainsight PX's REST API on the sandbox through httpx: the key, scroll paging, attributes, monitoring, 429."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from sfwizard.integrations.transport import tls_verify
from sfwizard.sandbox.px.api import account_id
from sfwizard.sandbox.scenarios.loader import load_scenario

ATTRIBUTE_KEYS = {"id", "name", "apiName", "internalName", "type", "state", "origin", "createdDate",
                  "modifiedDate"}


def _client(info: dict[str, Any]) -> httpx.Client:
    return httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10)


def _get(c: httpx.Client, info: dict[str, Any], path: str, **params: Any) -> httpx.Response:
    headers = {"X-APTRINSIC-API-KEY": info["px_api_key"]}
    return c.get(info["px_api_url"] + path, params=params, headers=headers)


def _scroll(c: httpx.Client, info: dict[str, Any], kind: str, size: int) -> tuple[list[dict], list[int]]:
    """Every record and each page's length, stopping on a short page as PX tells clients to."""
    rows: list[dict] = []
    pages: list[int] = []
    scroll = None
    while True:
        body = _get(c, info, f"/{kind}", pageSize=size, **({"scrollId": scroll} if scroll else {})).json()
        rows += body[kind]
        pages.append(len(body[kind]))
        scroll = body["scrollId"]
        if len(body[kind]) < size:
            return rows, pages


@pytest.mark.parametrize("path", ["/admin/monitoring/integrations", "/accounts", "/users",
                                  "/admin/model/account/attributes", "/accounts/001000000000000AAA"])
def test_every_endpoint_needs_the_key(sandbox, path: str) -> None:
    info = sandbox.info()
    with _client(info) as c:
        bare = c.get(info["px_api_url"] + path)
        wrong = c.get(info["px_api_url"] + path, headers={"X-APTRINSIC-API-KEY": info["px_api_key"] + "x"})
    assert bare.status_code == wrong.status_code == 401
    assert bare.headers["content-type"].startswith("application/json")
    assert bare.json()["externalapierror"]["status"] == "UNAUTHORIZED"


def test_accounts_scroll_across_pages_to_a_short_last_page(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        first = _get(c, info, "/accounts").json()
        rows, pages = _scroll(c, info, "accounts", 60)
        after_last = _get(c, info, "/accounts", pageSize=60, scrollId=_get(
            c, info, "/accounts", pageSize=1000).json()["scrollId"]).json()
    with sandbox.state.lock:
        sf_ids = [r["Id"] for r in sandbox.state.default_org.table("Account").scan()]
    assert len(first["accounts"]) == 25  # PX's default page is 25
    assert first["totalHits"] == 150
    assert pages == [60, 60, 30]
    assert [a["sfdcId"] for a in rows] == sf_ids  # every Account once, in a stable order
    assert all(a["id"] == account_id(a["sfdcId"]) != a["sfdcId"] and a["propertyKeys"]
               and isinstance(a["createDate"], int) for a in rows)  # PX's own id, apart from the sfdcId
    assert after_last["accounts"] == [] and after_last["scrollId"]  # a scrollId even at the end


def test_users_carry_contact_ids_emails_and_accounts(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        users, pages = _scroll(c, info, "users", 200)
        one = c.get(info["px_api_url"] + "/users/" + users[7]["identifyId"],
                    headers={"X-APTRINSIC-API-KEY": info["px_api_key"]}).json()
    with sandbox.state.lock:
        contacts = {r["Id"]: dict(r) for r in sandbox.state.default_org.table("Contact").scan()}
    assert pages == [200, 200, 20]
    assert len(users) == len(contacts) == 420
    for u in users:
        contact = contacts[u["sfdcContactId"]]
        assert (u["email"], u["firstName"], u["lastName"], u["accountId"]) == \
            (contact["Email"], contact["FirstName"], contact["LastName"], account_id(contact["AccountId"]))
        assert u["id"] == u["identifyId"] == contact["Email"] and u["type"] == "USER"
    assert one["sfdcContactId"] == users[7]["sfdcContactId"]


def test_page_size_and_scroll_id_are_validated(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        assert _get(c, info, "/accounts", pageSize=1001).status_code == 400
        assert _get(c, info, "/users", pageSize=0).status_code == 400
        assert _get(c, info, "/accounts", pageSize="ten").status_code == 400
        assert _get(c, info, "/accounts", scrollId="not-a-scroll-id").status_code == 400
        users_scroll = _get(c, info, "/users", pageSize=5).json()["scrollId"]
        assert _get(c, info, "/accounts", scrollId=users_scroll).status_code == 400  # not this list's cursor
        assert len(_get(c, info, "/accounts", pageSize=1000).json()["accounts"]) == 150


def test_a_delete_between_pages_neither_skips_nor_repeats(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        page1 = _get(c, info, "/accounts", pageSize=50).json()
        with sandbox.state.lock:
            table = sandbox.state.default_org.table("Account")
            ids = [r["Id"] for r in table.scan()]
            table.delete(ids[10])  # already seen
            table.delete(ids[70])  # not yet seen
        rest: list[dict] = []
        scroll = page1["scrollId"]
        while scroll:
            body = _get(c, info, "/accounts", pageSize=50, scrollId=scroll).json()
            rest += body["accounts"]
            scroll = body["scrollId"] if len(body["accounts"]) == 50 else None
    seen = [a["sfdcId"] for a in page1["accounts"] + rest]
    assert len(seen) == len(set(seen)) == 149
    assert ids[70] not in seen


def test_account_by_id_and_not_found(sandbox) -> None:
    info = sandbox.info()
    with sandbox.state.lock:
        row = dict(next(iter(sandbox.state.default_org.table("Account").scan())))
    with _client(info) as c:
        one = _get(c, info, f"/accounts/{account_id(row['Id'])}").json()
        missing = _get(c, info, "/accounts/001000000000000AAA")
    assert one["sfdcId"] == row["Id"]
    assert one["name"] == row["Name"]
    assert one["industry"] == row["Industry"]
    assert one["numberOfEmployees"] == row["NumberOfEmployees"]
    assert "customerTier" in one["customAttributes"]
    assert isinstance(one["healthScore"], int)  # a PX standard field, pushed to Salesforce by the mapping
    assert missing.status_code == 404


def test_attribute_model_has_px_shape_and_every_mapped_target(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        account = _get(c, info, "/admin/model/account/attributes").json()
        user = _get(c, info, "/admin/model/user/attributes").json()
        unknown = _get(c, info, "/admin/model/engagement/attributes")
    assert isinstance(account, list)
    assert all(ATTRIBUTE_KEYS <= set(a) for a in account + user)
    by_name = {a["apiName"]: a for a in account}
    mapped = {m.px_attribute for m in sandbox.state.platform.integration.mappings if m.px_object == "account"}
    assert mapped <= set(by_name)
    assert by_name["customerTier"]["origin"] == "CUSTOM"
    assert by_name["name"]["origin"] == "DEFAULT"
    assert {a["type"] for a in account + user} <= {"STRING", "DATE_TIME", "BOOLEAN", "NUMBER"}
    assert by_name["lastSeenDate"]["type"] == "DATE_TIME"
    assert all(a["state"] == "ENABLED" for a in account)
    assert {"email", "firstName", "lastName"} <= {a["apiName"] for a in user}
    assert unknown.status_code == 404


def test_monitoring_up_when_healthy(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        rows = _get(c, info, "/admin/monitoring/integrations").json()["integrationStatuses"]
    sf = rows[0]
    assert (sf["integrationSyncName"], sf["currentStatus"], sf["lastError"]) == ("Salesforce", "UP", None)
    assert 0 < time.time() * 1000 - sf["lastSuccessfulDate"] < 3 * 3600 * 1000
    assert sf["numberOfRecordsProcessed"] == 48210
    assert not [r for r in rows if "Knowledge" in r["integrationSyncName"]]  # PX's API has no such row


def test_monitoring_down_after_the_advisory_through_our_client(start_sandbox) -> None:
    from sfwizard.integrations.px import PxAPI
    from sfwizard.integrations.transport import Http

    info = start_sandbox("revoked-token").info()
    http = Http(ca_cert=info["ca_cert"])
    try:
        rows = PxAPI(http, info["px_api_url"], info["px_api_key"]).integrations()
    finally:
        http.close()
    sf = next(r for r in rows if r.name == "Salesforce")
    assert sf.status == "DOWN" and sf.last_error.startswith("INVALID_SESSION_ID")
    assert 2.9 * 86400 < time.time() - sf.last_success.timestamp() < 3.1 * 86400


def test_stale_accounts_show_what_px_last_synced(start_sandbox) -> None:
    sb = start_sandbox("revoked-token")
    info = sb.info()
    with sb.state.lock:
        stale = {k: dict(v) for k, v in sb.state.platform.synced.items() if k.startswith("001")}
        live = {k: dict(sb.state.default_org.table("Account").get(k)) for k in stale}
    with _client(info) as c:
        rows, _ = _scroll(c, info, "accounts", 1000)
    by_id = {a["sfdcId"]: a for a in rows}
    assert len(stale) == 18
    for sfdc_id, old in stale.items():
        px = by_id[sfdc_id]
        assert (px["industry"], px["numberOfEmployees"]) == (old["industry"], old["numberOfEmployees"])
        assert (px["industry"], px["numberOfEmployees"]) != (live[sfdc_id]["Industry"],
                                                             live[sfdc_id]["NumberOfEmployees"])
        assert px["lastModifiedDate"] <= sb.state.platform.synced_at.timestamp() * 1000


def test_px_429_fault_answers_retry_after(start_sandbox, caplog, assert_no_leak) -> None:
    info = start_sandbox("healthy", faults=["px-429=1.0"]).info()
    with _client(info) as c:
        r = _get(c, info, "/accounts")
        status = c.get(info["status_url"] + "/api/v2/status.json")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert status.status_code == 200  # only the platform API is limited
    assert "fault: 429" in caplog.text
    assert_no_leak({"the log": caplog.text}, {"PX API key": info["px_api_key"]})


def test_px_rate_limit_per_second(start_sandbox) -> None:
    info = start_sandbox("healthy", faults=["px-rate=3"]).info()
    with _client(info) as c:
        codes = [_get(c, info, "/admin/monitoring/integrations").status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes[3:]


def test_large_tenant_pages_without_materialising_rows(start_sandbox) -> None:
    state = load_scenario("large-tenant")
    sb = start_sandbox(state)
    info = sb.info()
    table = state.default_org.table("Account")
    changed_before = len(table._changed)
    with _client(info) as c:
        t0 = time.monotonic()
        body = _get(c, info, "/accounts", pageSize=1000).json()
        second = _get(c, info, "/accounts", pageSize=1000, scrollId=body["scrollId"]).json()
        elapsed = time.monotonic() - t0
    assert body["totalHits"] == 250_000
    assert len(body["accounts"]) == len(second["accounts"]) == 1000
    assert body["accounts"][-1]["sfdcId"] != second["accounts"][0]["sfdcId"]
    assert len(table._changed) == changed_before  # reading never turns generated rows into stored ones
    assert elapsed < 2.0
