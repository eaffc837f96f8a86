"""sfwizard's Gainsight PX client and the checks that read it, to PX's contract, against the sandbox:

- the Salesforce integration recognised whatever its ``integrationSyncName``, every candidate row counting
  (one DOWN row is DOWN), ``lastError`` shown as written and never mined for words;
- the Knowledge toggle asked of the admin (no PX row shows it), in the product's current words;
- samples of matched records only (unmatched ones are normal), ``totalHits`` shown beside Salesforce's counts;
- STRING, DATE_TIME, BOOLEAN and NUMBER attributes type-checked; DISABLED or DELETED ones not counted;
- PX's error envelope and a proxy's HTML 403 read into one clear line; the subscription and region shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sfwizard.checks.base import CheckResult, Status
from sfwizard.errors import SfwizardError
from sfwizard.integrations.px import IntegrationStatus, PxAPI, combine, salesforce_rows
from sfwizard.integrations.transport import Http
from sfwizard.sandbox.faults import FaultInjector
from sfwizard.sandbox.http import Response, json_response
from sfwizard.snapshot import FieldMapping


def _scenario(tmp_path: Path, body: str = "", extends: str = "healthy") -> str:
    path = tmp_path / "px-client.yaml"
    path.write_text(f"schema: 1\nname: px-client\nextends: {extends}\n{body}")
    return str(path)


@contextmanager
def demo(scenario: str) -> Iterator[tuple[Any, Any]]:
    """A signed-in connection to a fresh sandbox, and that sandbox (to change what PX shows)."""
    from sfwizard import demo as demo_mod

    with demo_mod.open_demo(scenario) as conn:
        yield conn, demo_mod._SANDBOXES[-1]


def _run(conn, ids: list[str], snap: Any = None, **ctx: Any) -> dict[str, CheckResult]:
    context = conn.client.context(snapshot=snap or conn.snapshot, **ctx)
    return {r.id: r for r in conn.client.run_checks(context, only=ids)}


def _row(name: str, status: str = "UP", error: str | None = None, ms: int | None = 1_760_000_000_000) -> dict:
    return {"integrationSyncName": name, "currentStatus": status, "lastSuccessfulDate": ms, "lastError": error,
            "numberOfRecordsProcessed": 10}


# -- the Salesforce integration, whatever PX calls it ----------------------------------------------------------

NAMES = ["Salesforce", "SALESFORCE", "Salesforce Data Integration", "Data Integration (Salesforce)", "SFDC Sync"]


def test_the_salesforce_row_is_found_whatever_its_name() -> None:
    with demo("healthy") as (conn, sb):
        sb.state.platform.other_integrations = [_row("Segment"), _row("HubSpot", "DOWN", "token expired")]
        for name in NAMES:
            sb.state.platform.integration.sync_name = name
            res = _run(conn, ["before.platform_api", "token.platform_status"])
            assert res["before.platform_api"].status == Status.PASS, (name, res["before.platform_api"].summary)
            r = res["token.platform_status"]
            assert r.status == Status.PASS, (name, r.summary)
            assert [row["name"] for row in r.evidence["rows"]] == [name]  # HubSpot's DOWN row is not ours


def test_one_down_row_among_the_candidates_is_down() -> None:
    with demo("healthy") as (conn, sb):
        sb.state.platform.other_integrations = [_row("Salesforce - Push", "DOWN", "Something PX wrote; push: 3",
                                                     ms=1_700_000_000_000)]
        res = _run(conn, ["token.platform_status", "before.platform_api"])
    r = res["token.platform_status"]
    assert (r.status, r.reason) == (Status.FAIL, "token.platform_down")
    assert {row["name"] for row in r.evidence["rows"]} == {"Salesforce", "Salesforce - Push"}
    assert r.evidence["last_error"] == "Salesforce - Push: Something PX wrote; push: 3"  # as written
    assert r.evidence["last_success"].startswith("2023-11-14")  # the DOWN row's, not the healthy one's
    assert res["before.platform_api"].status == Status.PASS


def test_no_candidate_row_names_what_was_listed() -> None:
    with demo("healthy") as (conn, sb):
        sb.state.platform.integration.sync_name = "Data Integration"
        sb.state.platform.other_integrations = [_row("Segment")]
        r = _run(conn, ["before.platform_api"])["before.platform_api"]
    assert (r.status, r.reason) == (Status.FAIL, "platform.no_integration")
    assert "'Data Integration', 'Segment'" in r.summary  # a person can tell whether one of them is it


def test_combine_unit() -> None:
    up = IntegrationStatus("Salesforce", "UP", None, None, 5)
    down = IntegrationStatus("SFDC push", "DOWN", None, "INVALID_SESSION_ID", 2)
    other = IntegrationStatus("Marketo", "DOWN", None, "x", 1)
    rows = salesforce_rows([up, other, down])
    assert rows == [up, down]
    both = combine(rows)
    assert both is not None and (both.status, both.last_error, both.records_processed) == (
        "DOWN", "SFDC push: INVALID_SESSION_ID", 7)
    assert combine([]) is None and combine([up]) == up


# -- lastError is shown, never read for words -------------------------------------------------------------------

def test_a_push_word_in_last_error_decides_nothing() -> None:
    with demo("healthy") as (conn, sb):
        sb.state.platform.integration.last_error = "Push failed: something about a push"
        r = _run(conn, ["flow.platform_to_salesforce"])["flow.platform_to_salesforce"]
    assert r.status == Status.PASS
    assert r.evidence["platform_last_error"] == "Push failed: something about a push"


def test_push_failures_are_judged_from_salesforce(tmp_path) -> None:
    """push-missing-prefix without its lastError: the unprefixed target alone names the failure."""
    scenario = _scenario(tmp_path, "platform:\n  last_error: null\n", extends="push-missing-prefix")
    with demo(scenario) as (conn, _):
        res = _run(conn, ["flow.platform_to_salesforce", "ts.push_without_prefix"])
    r = res["flow.platform_to_salesforce"]
    assert (r.status, r.reason) == (Status.FAIL, "flow.push_failed")
    assert r.evidence["unwritable"] == [{"target": "Account.Health_Score__c", "why": "no_prefix"}]
    assert r.evidence["platform_last_error"] is None
    assert res["ts.push_without_prefix"].status == Status.FAIL


def test_the_down_summary_quotes_last_error_as_written() -> None:
    with demo("revoked-token") as (conn, sb):
        sb.state.platform.integration.last_error = "Ärger:\tunexpected  words"
        r = _run(conn, ["token.platform_status"])["token.platform_status"]
    assert r.evidence["last_error"] == "Ärger:\tunexpected  words" and "Ärger:" in r.summary


# -- Knowledge: asked, in today's words ---------------------------------------------------------------------------

def test_the_knowledge_toggle_is_asked_with_in_app_hub_named() -> None:
    with demo("healthy") as (conn, sb):
        for enabled in (True, False):  # no API shows it either way
            sb.state.platform.knowledge.enabled = enabled
            res = _run(conn, ["knowledge.toggle", "knowledge.categories", "knowledge.search"])
            t = res["knowledge.toggle"]
            assert (t.status, t.reason) == (Status.MANUAL, "ask.knowledge_toggle")
            assert "In-App Hub" in t.summary and "formerly Knowledge Center Bot" in t.summary
            assert res["knowledge.categories"].status == res["knowledge.search"].status == Status.PASS  # Salesforce


# -- samples: matched records only ----------------------------------------------------------------------------------

def test_samples_skip_unmatched_records_and_totals_are_shown(tmp_path) -> None:
    scenario = _scenario(tmp_path, "platform:\n  unmatched: {accounts: 1200, users: 1500}\n", extends="revoked-token")
    with demo(scenario) as (conn, _):
        res = _run(conn, ["identity.right_org", "flow.salesforce_to_platform", "before.platform_api"])
    org = res["identity.right_org"]
    assert org.status == Status.PASS
    assert org.evidence["accounts_sampled"] == 150 and org.evidence["contacts_sampled"] == 200
    flow = res["flow.salesforce_to_platform"]
    assert (flow.status, flow.reason) == (Status.FAIL, "flow.stale")  # the stale accounts are in the sample
    assert flow.evidence["sampled_platform_accounts"] == 150
    api = res["before.platform_api"]
    assert api.evidence["matched_in_platform"] == {"accounts": 150, "users": 420}


def test_the_sample_asks_for_matched_records_with_the_contracts_filter() -> None:
    with demo("healthy") as (conn, _):
        calls: list[Any] = []
        http = conn.client.http
        real = http.request

        def spy(method: str, url: str, **kw: Any):
            calls.append((url, kw.get("params")))
            return real(method, url, **kw)

        http.request = spy  # type: ignore[method-assign]
        ctx = conn.client.context(snapshot=conn.snapshot)
        assert len(ctx.px_sample("accounts")) == 150 and ctx.px_total("users") == 420
    params = {url.rsplit("/", 1)[1]: dict(p) for url, p in calls if url.endswith(("/accounts", "/users"))}
    assert params == {"accounts": {"pageSize": 1000, "filter": "sfdcId~?*"},
                      "users": {"pageSize": 1000, "filter": "sfdcContactId~?*"}}


# -- attribute types and states ------------------------------------------------------------------------------------

ATTRIBUTES = """platform:
  attributes:
    account:
      - {api_name: isTrial, type: BOOLEAN}
      - {api_name: seatCount, type: NUMBER}
      - {api_name: renewedAt, type: DATE_TIME}
      - {api_name: segment, type: STRING}
      - {api_name: customerTier, type: STRING, state: DISABLED}
      - {api_name: oldScore, type: NUMBER, state: DELETED}
"""


TYPE_CASES = [  # (Salesforce field, PX attribute, whether their types fit)
    ("Account.Name", "account.isTrial", False), ("Account.NumberOfEmployees", "account.isTrial", False),
    ("Account.NumberOfEmployees", "account.seatCount", True), ("Account.Name", "account.seatCount", False),
    ("Account.PX_Last_Seen__c", "account.renewedAt", True), ("Account.Industry", "account.renewedAt", False),
    ("Account.CreatedDate", "account.renewedAt", True), ("Account.Industry", "account.segment", True),
    ("Account.AnnualRevenue", "account.segment", False),
]


def test_every_contract_type_is_checked_against_the_salesforce_field(tmp_path) -> None:
    with demo(_scenario(tmp_path, ATTRIBUTES)) as (conn, _):
        for sf_field, attribute, fits in TYPE_CASES:
            snap = dataclasses.replace(conn.snapshot, mappings=(FieldMapping(sf_field, attribute, "sf_to_px"),))
            r = _run(conn, ["mapping.salesforce_fields"], snap=snap)["mapping.salesforce_fields"]
            wanted = (Status.PASS, "") if fits else (Status.WARN, "mapping.type_mismatch")
            assert (r.status, r.reason) == wanted, (sf_field, attribute, r.summary)


def test_a_disabled_or_deleted_attribute_does_not_count_as_existing(tmp_path) -> None:
    with demo(_scenario(tmp_path, ATTRIBUTES)) as (conn, _):
        maps = (FieldMapping("Account.Customer_Tier__c", "account.customerTier", "sf_to_px"),
                FieldMapping("Account.AnnualRevenue", "account.oldScore", "sf_to_px"),
                FieldMapping("Account.NumberOfEmployees", "account.seatCount", "sf_to_px"))
        r = _run(conn, ["mapping.platform_attributes"],
                 snap=dataclasses.replace(conn.snapshot, mappings=maps))["mapping.platform_attributes"]
    assert (r.status, r.reason) == (Status.FAIL, "mapping.attribute_missing")
    assert r.evidence["missing"] == ["account.customerTier", "account.oldScore"]
    assert r.evidence["not_enabled"] == {"account.customerTier": "DISABLED", "account.oldScore": "DELETED"}
    assert "(it is DISABLED)" in r.summary


# -- errors read into one line; the subscription and region --------------------------------------------------------

@pytest.fixture
def scripted(monkeypatch):
    answers: dict[str, Response] = {}
    real = FaultInjector.before

    def before(self, req):
        return answers.get(req.path) or real(self, req)

    monkeypatch.setattr(FaultInjector, "before", before)
    return answers


def _px_api(info: dict) -> tuple[PxAPI, Http]:
    http = Http(info["ca_cert"])
    return PxAPI(http, info["px_api_url"], info["px_api_key"]), http


PROXY_PAGE = ("<!DOCTYPE html><html><head><title>Access Denied | Corporate Web Gateway</title></head>"
              "<body><h1>Blocked</h1><p>Policy 42</p></body></html>")


def test_a_proxys_html_403_is_one_clear_line(sandbox, scripted) -> None:
    scripted["/px/v1/admin/monitoring/integrations"] = Response(403, PROXY_PAGE.encode(), "text/html; charset=utf-8")
    api, http = _px_api(sandbox.info())
    try:
        with pytest.raises(SfwizardError) as err:
            api.integrations()
    finally:
        http.close()
    e = err.value
    assert e.message == ("a web page answered HTTP 403 on /admin/monitoring/integrations instead of the Gainsight PX "
                         "API ('Access Denied | Corporate Web Gateway'): a proxy or firewall in front of the API "
                         "refused the call")
    assert "network team" in e.hint and "\n" not in str(e) and "<" not in str(e)


@pytest.mark.parametrize("body,expected", [
    ({"externalapierror": {"status": "NOT_FOUND", "message": "Type not found", "debugMessage": None,
                           "subErrors": None}}, ": Type not found"),
    ({"message": "No such thing"}, ": No such thing"),
    (None, ""),  # the contract defines no error body at all
])
def test_error_bodies_are_read_whatever_their_shape(sandbox, scripted, body: Any, expected: str) -> None:
    path = "/px/v1/admin/model/account/attributes"
    scripted[path] = json_response(body, 404) if body is not None else Response(404, b"", "")
    api, http = _px_api(sandbox.info())
    try:
        with pytest.raises(SfwizardError) as err:
            api.attributes("account")
    finally:
        http.close()
    assert err.value.message == (f"Gainsight PX answered HTTP 404 on {sandbox.info()['px_api_url']}"
                                 f"/admin/model/account/attributes{expected}")


def test_the_sandboxs_own_envelope_reaches_the_person(sandbox) -> None:
    api, http = _px_api(sandbox.info())
    try:
        with pytest.raises(SfwizardError, match="HTTP 404 on https://[^ ]*/engagement/attributes: Type not found"):
            api.attributes("engagement")
        bad = PxAPI(http, sandbox.info()["px_api_url"], "wrong-key")
        with pytest.raises(SfwizardError, match=r"key was refused \(401\): Unauthorized or bad API Key"):
            bad.integrations()
    finally:
        http.close()


def test_the_subscription_and_region_are_shown() -> None:
    with demo("healthy") as (conn, _):
        r = _run(conn, ["before.platform_api"])["before.platform_api"]
    assert r.evidence["subscription"]["name"] == "Northwind Traders" and r.evidence["subscription"]["id"]
    assert r.evidence["region"].startswith("127.0.0.1:")  # the sandbox; US, EU or US2 for PX's own hosts
    assert "Northwind Traders" in r.summary


def test_a_missing_subscription_detail_is_not_an_error(sandbox, scripted) -> None:
    scripted["/px/v1/admin/subscription"] = json_response({"externalapierror": {"status": "NOT_FOUND",
                                                                                "message": "Account not found"}}, 404)
    api, http = _px_api(sandbox.info())
    try:
        assert api.subscription() is None
    finally:
        http.close()


@pytest.mark.parametrize("url,region", [("https://api.aptrinsic.com/v1", "US"),
                                        ("https://api-eu.aptrinsic.com/v1", "EU"),
                                        ("https://api-us2.aptrinsic.com/v1/", "US2")])
def test_the_region_comes_from_the_api_address(url: str, region: str) -> None:
    assert PxAPI(None, url, "k").region == region  # type: ignore[arg-type]
