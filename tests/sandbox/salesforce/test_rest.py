"""The sandbox's Salesforce REST API through simple-salesforce: versions and resources, limits and the
Sforce-Limit-Info header, error shapes, API access, the limit and token faults, and describe."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sfwizard.sandbox.salesforce import tokens


def _errors(exc: pytest.ExceptionInfo) -> list[dict[str, Any]]:
    return exc.value.content


# -- versions, resources, limits, auth -------------------------------------------------------------

def test_version_list_and_resource_map(env) -> None:
    versions = env.session.get(f"{env.base_url}/services/data/").json()
    by_version = {v["version"]: v for v in versions}
    assert by_version["60.0"] == {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"}
    assert versions[-1]["version"] == "62.0"
    assert by_version["62.0"]["label"] == "Winter '25"
    resources = env.sf().restful("")
    assert resources["sobjects"] == "/services/data/v60.0/sobjects"
    assert resources["query"] == "/services/data/v60.0/query"
    assert resources["identity"].endswith(f"/id/{env.org.id}/{env.users['integration']}")
    r = env.session.get(f"{env.base_url}/services/data/v99.0/limits",
                        headers={"Authorization": f"Bearer {env.token('integration')}"})
    assert r.status_code == 404
    assert r.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_limits_header_on_every_response_and_limits_endpoint(env) -> None:
    sf = env.sf()
    limits = sf.limits()
    used = env.org.api_used
    assert used == 1_001
    assert limits["DailyApiRequests"] == {"Max": 50_000, "Remaining": 50_000 - used}
    assert limits["DailyBulkV2QueryJobs"]["Max"] == 10_000
    assert "DailyBulkV2QueryFileStorageMB" in limits
    assert sf.api_usage["api-usage"].used == used
    assert sf.api_usage["api-usage"].total == 50_000
    for path, status in (("sobjects/Nope/describe", 404), ("sobjects/Account/001000000000000AAA", 404),
                         ("search?q=FIND", 400), ("sobjects/Lead", 404)):
        r = env.get(path)
        assert r.status_code == status, path
        assert r.headers["Sforce-Limit-Info"] == f"api-usage={env.org.api_used}/50000"
    r = env.get("limits", role="noapi")
    assert r.status_code == 403
    assert r.headers["Sforce-Limit-Info"].startswith("api-usage=")
    r = env.session.get(f"{env.data_url}/limits", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert "Sforce-Limit-Info" in r.headers
    assert env.org.api_used == used + 4  # refused calls are not counted


def test_error_shapes_surface_as_simple_salesforce_exceptions(env) -> None:
    sf = env.sf()
    with pytest.raises(SalesforceResourceNotFound) as nf:
        sf.Lead.describe()
    assert _errors(nf) == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.Account.create({"Nope__c": 1})
    assert bad.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceRefusedRequest) as refused:
        env.sf("reader").Account.create({"Name": "x"})
    assert refused.value.content[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    expired = Salesforce(instance_url=env.base_url, session_id="00D!bogus", session=env.session, version="60.0")
    with pytest.raises(SalesforceExpiredSession) as exp:
        expired.limits()
    assert exp.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_api_disabled_user_is_refused(env) -> None:
    with pytest.raises(SalesforceRefusedRequest) as exc:
        env.sf("noapi").describe()
    assert exc.value.content[0]["errorCode"] == "API_CURRENTLY_DISABLED"


def test_request_limit_fault_then_refused(env_factory, caplog: pytest.LogCaptureFixture, assert_no_leak) -> None:
    env = env_factory(faults=["request-limit=3"])
    sf = env.sf()
    caplog.set_level(logging.WARNING, logger="sfwizard.sandbox")
    for _ in range(3):
        sf.limits()
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.limits()
    assert exc.value.content == [{"message": "TotalRequests Limit exceeded.",
                                  "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    assert "REQUEST_LIMIT_EXCEEDED" in caplog.text
    assert_no_leak({"the log": caplog.text}, {"access token": env.token("integration")})


def test_org_daily_limit_exhausted(env_factory) -> None:
    def tune(state) -> None:
        state.orgs["main"].api_used = state.orgs["main"].api_max - 1
    env = env_factory(tune=tune)
    sf = env.sf()
    sf.limits()
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.limits()
    assert exc.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    r = env.get("limits")
    assert r.headers["Sforce-Limit-Info"] == "api-usage=50000/50000"


def test_expire_token_fault(env_factory) -> None:
    env = env_factory(faults=["expire-token=2"])
    sf = env.sf()
    sf.limits()
    sf.limits()
    with pytest.raises(SalesforceExpiredSession):
        sf.limits()


# -- describe --------------------------------------------------------------------------------------

def test_global_describe_lists_only_readable_objects(env) -> None:
    desc = env.sf().describe()
    assert desc["encoding"] == "UTF-8"
    assert desc["maxBatchSize"] == 200
    names = {o["name"]: o for o in desc["sobjects"]}
    assert {"Account", "Contact", "Organization", "User"} <= names.keys()
    assert "Lead" not in names
    assert "skilljar__Student__c" not in names
    acct = names["Account"]
    assert acct["keyPrefix"] == "001"
    assert acct["createable"]
    assert acct["urls"]["describe"] == "/services/data/v60.0/sobjects/Account/describe"
    reader = {o["name"]: o for o in env.sf("reader").describe()["sobjects"]}
    assert "Contact" not in reader
    assert reader["Account"]["createable"] is False
    assert "Lead" in {o["name"] for o in env.sf("admin").describe()["sobjects"]}


def test_object_describe_hides_fields_without_read_and_marks_read_only(env) -> None:
    fields = {f["name"]: f for f in env.sf().Account.describe()["fields"]}
    assert "Secret__c" not in fields
    px = fields["PX_Score__c"]
    assert px["custom"]
    assert px["type"] == "double"
    assert px["soapType"] == "xsd:double"
    assert px["updateable"] is False
    assert px["createable"] is False
    name = fields["Name"]
    assert name["updateable"]
    assert name["nillable"] is False
    assert name["nameField"]
    assert name["length"] == 255
    assert fields["OwnerId"]["referenceTo"] == ["User"]
    assert fields["OwnerId"]["relationshipName"] == "Owner"
    assert fields["Id"]["type"] == "id"
    assert fields["Id"]["updateable"] is False
    admin = {f["name"]: f for f in env.sf("admin").Account.describe()["fields"]}
    assert admin["Secret__c"]["updateable"]
    assert admin["PX_Score__c"]["updateable"]
    describe = env.sf().Account.describe()
    assert {"childSObject": "Contact", "field": "AccountId", "relationshipName": "Contacts"}.items() <= \
        next(c for c in describe["childRelationships"] if c["childSObject"] == "Contact").items()
    info = env.sf().Account.metadata()
    assert info["objectDescribe"]["name"] == "Account"
    assert info["recentItems"] == []


# -- the healthy scenario, as the rest of the suite sees it ----------------------------------------

def test_healthy_scenario_through_simple_salesforce(start_sandbox, ca_session) -> None:
    sb = start_sandbox("healthy")
    state = sb.state
    org = state.default_org
    with state.lock:
        user = next(u for u in org.table("User").scan() if u["IsActive"] and org.access(u["Id"]).api_enabled)
        client_id = next(iter(state.connected_apps))
        token = tokens.token_store(state).issue(state, tokens.Grant(org.key, user["Id"], client_id),
                                                with_refresh=False)[0].token
    sf = Salesforce(instance_url=sb.base_url, session_id=token, session=ca_session, version="60.0")
    assert sf.query("SELECT Id, Name FROM Organization")["records"][0]["Id"] == org.id
    assert any(o["name"] == "Account" for o in sf.describe()["sobjects"])
    assert sf.limits()["DailyApiRequests"]["Max"] == org.api_max
    assert sf.api_usage["api-usage"].used == org.api_used
