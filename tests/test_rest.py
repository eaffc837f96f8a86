"""The sandbox's Salesforce REST API, driven through simple-salesforce (and plain requests for Bulk 2.0)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sfwizard import ids
from sfwizard.sandbox.salesforce import tokens
from sfwizard.sandbox.salesforce.schema import F
from sfwizard.sandbox.salesforce.store import Org
from sfwizard.sandbox.scenarios import builder
from sfwizard.sandbox.state import SandboxState

V = "60.0"
UNKNOWN_ACCOUNT = ids.make_id("001", 999_999)
KAV_WHERE = "WHERE PublishStatus='Online' AND Language='en_US'"


@dataclass
class Env:
    state: SandboxState
    org: Org
    users: dict[str, str]  # role → user Id
    client_id: str
    base_url: str = ""
    session: Any = None
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: str) -> str:
        if role not in self.tokens:
            grant = tokens.Grant(self.org.key, self.users[role], self.client_id)
            with self.state.lock:
                issued, _ = tokens.token_store(self.state).issue(self.state, grant, with_refresh=False)
                self.tokens[role] = issued.token
        return self.tokens[role]

    def sf(self, role: str = "integration") -> Salesforce:
        return Salesforce(instance_url=self.base_url, session_id=self.token(role), session=self.session,
                          version=V)

    def get(self, path: str, role: str = "integration", **kw: Any) -> Any:
        return self.session.get(f"{self.base_url}/services/data/v{V}/{path}",
                                headers={"Authorization": f"Bearer {self.token(role)}"}, **kw)

    def post(self, path: str, body: Any, role: str = "integration") -> Any:
        return self.session.post(f"{self.base_url}/services/data/v{V}/{path}", json=body,
                                 headers={"Authorization": f"Bearer {self.token(role)}"})


def build_state(accounts: int = 5) -> tuple[SandboxState, dict[str, str], str]:
    state = builder.new_state("rest-test", seed=7)
    org = builder.add_org(state, "main", "Acme Corp", api_max=50_000, api_used=1_000)
    builder.add_field(org, "Account", F("PX_Score__c", "double"))
    builder.add_field(org, "Account", F("Secret__c", "string", 80))
    full = ["read", "create", "edit", "delete"]
    builder.add_profile(state, org, "System Administrator", modify_all=True)
    builder.add_profile(state, org, "Integration", objects={"Account": full, "Contact": full},
                        fields={"Account.PX_Score__c": ["read"]})
    builder.add_profile(state, org, "Reader", objects={"Account": ["read"]})
    builder.add_profile(state, org, "No API", api_enabled=False, objects={"Account": ["read"]})
    users = {}
    for role, profile in (("admin", "System Administrator"), ("integration", "Integration"),
                          ("reader", "Reader"), ("noapi", "No API")):
        users[role] = builder.add_user(state, org, f"{role}@acme.example", first_name=role.title(),
                                       last_name="User", profile=profile)["Id"]
    app = builder.add_connected_app(state, "Gainsight PX", installed_in=["main"])
    for i in range(accounts):
        values = {"Name": f"Account {i:05d}", "Industry": "Software", "PX_Score__c": float(i),
                  "Secret__c": "s"}
        builder.insert(state, org, "Account", values, owner=users["admin"])
    builder.insert(state, org, "Contact", {"FirstName": "Ada", "LastName": "Lovelace", "Name": "Ada Lovelace",
                                           "Email": "ada@acme.example"}, owner=users["admin"])
    articles = [("Reset your password", "Online"), ("Password policy", "Online"),
                ("Passwords in drafts", "Draft"), ("Connect Gainsight PX", "Online")]
    for n, (title, status) in enumerate(articles):
        builder.insert(state, org, "KnowledgeArticleVersion", {
            "Title": title, "UrlName": title.lower().replace(" ", "-"), "Summary": f"How to: {title}.",
            "PublishStatus": status, "Language": "en_US", "ArticleNumber": f"00000{n}", "VersionNumber": 1,
            "IsVisibleInPkb": True, "IsVisibleInCsp": True, "IsVisibleInPrm": False, "IsVisibleInApp": True})
    org.data_category_groups = [{"name": "Products", "label": "Products", "categories": [
        {"name": "All", "label": "All", "children": [
            {"name": "PX", "label": "Gainsight PX", "children": []},
            {"name": "Skilljar", "label": "Skilljar", "children": [{"name": "LMS", "label": "LMS"}]}]}]}]
    return state, users, app.client_id


@pytest.fixture
def env_factory(start_sandbox, ca_session):
    def make(accounts: int = 5, faults: list[str] | None = None, tune: Any = None) -> Env:
        state, users, client_id = build_state(accounts)
        if tune:
            tune(state)
        sb = start_sandbox(state, faults=faults)
        return Env(state, state.orgs["main"], users, client_id, sb.base_url, ca_session)
    return make


@pytest.fixture
def env(env_factory) -> Env:
    return env_factory()


def _errors(exc: pytest.ExceptionInfo) -> list[dict[str, Any]]:
    return exc.value.content


# -- versions, resources, limits, auth -------------------------------------------------------------

def test_version_list_and_resource_map(env: Env) -> None:
    versions = env.session.get(f"{env.base_url}/services/data/").json()
    by_version = {v["version"]: v for v in versions}
    assert by_version["60.0"] == {"label": "Spring '24", "url": "/services/data/v60.0", "version": "60.0"}
    assert versions[-1]["version"] == "62.0" and by_version["62.0"]["label"] == "Winter '25"
    resources = env.sf().restful("")
    assert resources["sobjects"] == "/services/data/v60.0/sobjects"
    assert resources["query"] == "/services/data/v60.0/query"
    assert resources["identity"].endswith(f"/id/{env.org.id}/{env.users['integration']}")
    r = env.session.get(f"{env.base_url}/services/data/v99.0/limits",
                        headers={"Authorization": f"Bearer {env.token('integration')}"})
    assert r.status_code == 404 and r.json() == [{"message": "The requested resource does not exist",
                                                  "errorCode": "NOT_FOUND"}]


def test_limits_header_on_every_response_and_limits_endpoint(env: Env) -> None:
    sf = env.sf()
    limits = sf.limits()
    used = env.org.api_used
    assert used == 1_001
    assert limits["DailyApiRequests"] == {"Max": 50_000, "Remaining": 50_000 - used}
    assert limits["DailyBulkV2QueryJobs"]["Max"] == 10_000 and "DailyBulkV2QueryFileStorageMB" in limits
    assert sf.api_usage["api-usage"].used == used and sf.api_usage["api-usage"].total == 50_000
    for path, status in (("sobjects/Nope/describe", 404), ("sobjects/Account/001000000000000AAA", 404),
                         ("search?q=FIND", 400), ("sobjects/Lead", 404)):
        r = env.get(path)
        assert r.status_code == status, path
        assert r.headers["Sforce-Limit-Info"] == f"api-usage={env.org.api_used}/50000"
    r = env.get("limits", role="noapi")
    assert r.status_code == 403 and r.headers["Sforce-Limit-Info"].startswith("api-usage=")
    r = env.session.get(f"{env.base_url}/services/data/v{V}/limits", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "Sforce-Limit-Info" in r.headers
    assert env.org.api_used == used + 4  # refused calls are not counted


def test_error_shapes_surface_as_simple_salesforce_exceptions(env: Env) -> None:
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
    expired = Salesforce(instance_url=env.base_url, session_id="00D!bogus", session=env.session, version=V)
    with pytest.raises(SalesforceExpiredSession) as exp:
        expired.limits()
    assert exp.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_api_disabled_user_is_refused(env: Env) -> None:
    with pytest.raises(SalesforceRefusedRequest) as exc:
        env.sf("noapi").describe()
    assert exc.value.content[0]["errorCode"] == "API_CURRENTLY_DISABLED"


def test_request_limit_fault_then_refused(env_factory, caplog: pytest.LogCaptureFixture) -> None:
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
    assert env.token("integration") not in caplog.text


def test_org_daily_limit_exhausted(env_factory) -> None:
    def tune(state: SandboxState) -> None:
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

def test_global_describe_lists_only_readable_objects(env: Env) -> None:
    desc = env.sf().describe()
    assert desc["encoding"] == "UTF-8" and desc["maxBatchSize"] == 200
    names = {o["name"]: o for o in desc["sobjects"]}
    assert {"Account", "Contact", "Organization", "User"} <= names.keys()
    assert "Lead" not in names and "skilljar__Student__c" not in names
    acct = names["Account"]
    assert acct["keyPrefix"] == "001" and acct["createable"]
    assert acct["urls"]["describe"] == "/services/data/v60.0/sobjects/Account/describe"
    reader = {o["name"]: o for o in env.sf("reader").describe()["sobjects"]}
    assert "Contact" not in reader and reader["Account"]["createable"] is False
    assert "Lead" in {o["name"] for o in env.sf("admin").describe()["sobjects"]}


def test_object_describe_hides_fields_without_read_and_marks_read_only(env: Env) -> None:
    fields = {f["name"]: f for f in env.sf().Account.describe()["fields"]}
    assert "Secret__c" not in fields
    px = fields["PX_Score__c"]
    assert px["custom"] and px["type"] == "double" and px["soapType"] == "xsd:double"
    assert px["updateable"] is False and px["createable"] is False
    name = fields["Name"]
    assert name["updateable"] and name["nillable"] is False and name["nameField"] and name["length"] == 255
    assert fields["OwnerId"]["referenceTo"] == ["User"] and fields["OwnerId"]["relationshipName"] == "Owner"
    assert fields["Id"]["type"] == "id" and fields["Id"]["updateable"] is False
    admin = {f["name"]: f for f in env.sf("admin").Account.describe()["fields"]}
    assert admin["Secret__c"]["updateable"] and admin["PX_Score__c"]["updateable"]
    describe = env.sf().Account.describe()
    assert {"childSObject": "Contact", "field": "AccountId", "relationshipName": "Contacts"}.items() <= \
        next(c for c in describe["childRelationships"] if c["childSObject"] == "Contact").items()
    info = env.sf().Account.metadata()
    assert info["objectDescribe"]["name"] == "Account" and info["recentItems"] == []


# -- records ---------------------------------------------------------------------------------------

def test_record_crud_round_trip(env: Env) -> None:
    sf = env.sf()
    made = sf.Account.create({"Name": "Globex", "Industry": "Energy", "NumberOfEmployees": 40})
    assert made["success"] and made["errors"] == [] and made["id"].startswith("001") and len(made["id"]) == 18
    rec = sf.Account.get(made["id"])
    assert rec["attributes"] == {"type": "Account",
                                 "url": f"/services/data/v60.0/sobjects/Account/{made['id']}"}
    assert rec["Name"] == "Globex" and rec["NumberOfEmployees"] == 40 and "Secret__c" not in rec
    assert rec["OwnerId"] == env.users["integration"] and rec["CreatedById"] == env.users["integration"]
    created = rec["LastModifiedDate"]
    assert sf.Account.update(made["id"], {"Industry": "Media"}) == 204
    rec = env.sf("admin").Account.get(made["id"])
    assert rec["Industry"] == "Media" and rec["LastModifiedById"] == env.users["integration"]
    assert rec["LastModifiedDate"] >= created and rec["SystemModstamp"] == rec["LastModifiedDate"]
    only = env.get(f"sobjects/Account/{made['id']}?fields=Name").json()
    assert set(only) == {"attributes", "Name", "Id"}
    assert sf.Account.delete(made["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(made["id"])
    with pytest.raises(SalesforceResourceNotFound) as gone:
        sf.Account.delete(made["id"])
    assert gone.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_write_errors(env: Env) -> None:
    sf = env.sf()
    acct = next(iter(env.org.table("Account").scan()))["Id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.update(acct, {"PX_Score__c": 3})
    assert exc.value.content == [{
        "message": "Unable to create/update fields: PX_Score__c. Please check the security settings of this "
                   "field and verify that it is read/write for your profile or permission set.",
        "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "fields": ["PX_Score__c"]}]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.update(acct, {"Secret__c": "x"})  # no field-level read: the field does not exist for them
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x" * 256})
    assert exc.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    assert exc.value.content[0]["fields"] == ["Name"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"FirstName": "No", "Email": "no@acme.example"})
    assert exc.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert exc.value.content[0]["fields"] == ["LastName"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x", "NumberOfEmployees": "many"})
    assert exc.value.content[0]["errorCode"] == "JSON_PARSER_ERROR"
    r = env.session.post(f"{env.base_url}/services/data/v{V}/sobjects/Account/", data="{not json",
                         headers={"Authorization": f"Bearer {env.token('integration')}",
                                  "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceRefusedRequest) as exc:
        env.sf("reader").Account.delete(acct)
    assert exc.value.content[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(UNKNOWN_ACCOUNT)
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Lead.create({"LastName": "x", "Company": "y"})  # no read on Lead: it does not exist for them
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"
    assert len(env.org.table("Account")) == 5


def test_contact_name_is_computed_and_admin_can_write_secret(env: Env) -> None:
    sf = env.sf()
    cid = sf.Contact.create({"FirstName": "Grace", "LastName": "Hopper"})["id"]
    assert sf.Contact.get(cid)["Name"] == "Grace Hopper"
    sf.Contact.update(cid, {"LastName": "Murray"})
    assert sf.Contact.get(cid)["Name"] == "Grace Murray"
    admin = env.sf("admin")
    aid = admin.Account.create({"Name": "Initech", "Secret__c": "ok", "PX_Score__c": 9.5})["id"]
    assert admin.Account.get(aid)["PX_Score__c"] == 9.5


# -- collections and batch -------------------------------------------------------------------------

def test_composite_sobjects(env: Env) -> None:
    sf = env.sf()
    good = {"attributes": {"type": "Account"}, "Name": "Hooli"}
    bad = {"attributes": {"type": "Account"}, "Name": "Bad", "PX_Score__c": 1}
    res = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [good, bad]})
    assert res[0]["success"] and res[0]["id"].startswith("001")
    assert res[1] == {"success": False, "errors": [{
        "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE", "message": res[1]["errors"][0]["message"],
        "fields": ["PX_Score__c"]}]}
    before = len(env.org.table("Account"))
    res = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": [good, bad]})
    assert [r["success"] for r in res] == [False, False]
    assert res[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert len(env.org.table("Account")) == before  # nothing written
    ids_ = [sf.Account.create({"Name": f"C{i}"})["id"] for i in range(2)]
    upd = sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Account"}, "Id": ids_[0], "Industry": "Retail"},
        {"attributes": {"type": "Account"}, "Id": UNKNOWN_ACCOUNT, "Industry": "Retail"}]})
    assert upd[0] == {"id": ids_[0], "success": True, "errors": []} and not upd[1]["success"]
    got = sf.restful("composite/sobjects/Account",
                     params={"ids": f"{ids_[0]},{ids_[1]}", "fields": "Name,Industry"})
    assert [g["Industry"] for g in got] == ["Retail", None] and got[0]["attributes"]["type"] == "Account"
    # jsforce retrieves many records with a POST of ids and fields
    posted = env.post("composite/sobjects/Account", {"ids": ids_, "fields": ["Name"]}).json()
    assert [p["Name"] for p in posted] == ["C0", "C1"]
    dele = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids_)})
    assert all(d["success"] for d in dele)
    assert env.org.table("Account").get(ids_[0]) is None


def test_composite_batch_is_one_api_call(env: Env) -> None:
    sf = env.sf()
    acct = next(iter(env.org.table("Account").scan()))["Id"]
    sf.limits()
    before = env.org.api_used
    res = sf.restful("composite/batch", method="POST", json={"batchRequests": [
        {"method": "GET", "url": f"v60.0/sobjects/Account/{acct}?fields=Name"},
        {"method": "PATCH", "url": f"v60.0/sobjects/Account/{acct}", "richInput": {"Industry": "Batch"}},
        {"method": "GET", "url": "v60.0/sobjects/Nope/describe"},
        {"method": "GET", "url": "v60.0/limits"},
    ]})
    assert env.org.api_used == before + 1
    assert res["hasErrors"] is True
    assert [r["statusCode"] for r in res["results"]] == [200, 204, 404, 200]
    assert res["results"][0]["result"]["Name"] == "Account 00000" and res["results"][1]["result"] is None
    assert env.org.table("Account").get(acct)["Industry"] == "Batch"
    halted = sf.restful("composite/batch", method="POST", json={"haltOnError": True, "batchRequests": [
        {"method": "GET", "url": "v60.0/sobjects/Nope/describe"}, {"method": "GET", "url": "v60.0/limits"}]})
    assert [r["statusCode"] for r in halted["results"]] == [404, 412]
    assert halted["results"][1]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/batch", method="POST",
                   json={"batchRequests": [{"method": "GET", "url": "v60.0/limits"}] * 26})


# -- search and Knowledge --------------------------------------------------------------------------

def test_sosl_search_over_knowledge(env: Env) -> None:
    sf = env.sf()
    res = sf.search(f"FIND {{password}} RETURNING KnowledgeArticleVersion(Id, Title, UrlName {KAV_WHERE})")
    titles = sorted(r["Title"] for r in res["searchRecords"])
    assert titles == ["Password policy", "Reset your password"]  # the Draft is filtered out
    rec = res["searchRecords"][0]
    assert set(rec) == {"attributes", "Id", "Title", "UrlName"}
    assert rec["attributes"]["type"] == "KnowledgeArticleVersion"
    wild = sf.search(f"FIND {{pass*}} RETURNING KnowledgeArticleVersion(Title {KAV_WHERE})")
    assert len(wild["searchRecords"]) == 2
    none = sf.search(f"FIND {{zebra}} RETURNING KnowledgeArticleVersion(Title {KAV_WHERE})")
    assert none["searchRecords"] == []
    people = sf.search("FIND {ada@acme.example} IN EMAIL FIELDS RETURNING Contact(Name, Email), "
                       "Account(Name)")
    assert [r["Name"] for r in people["searchRecords"]] == ["Ada Lovelace"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search("FIND password RETURNING Account")
    assert exc.value.content[0]["errorCode"] == "MALFORMED_SEARCH"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search("FIND {acme} RETURNING Lead(Name)")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    ps = sf.restful("parameterizedSearch", params={
        "q": "gainsight", "sobject": "KnowledgeArticleVersion",
        "KnowledgeArticleVersion.fields": "Id,Title",
        "KnowledgeArticleVersion.where": "PublishStatus='Online'"})
    assert [r["Title"] for r in ps["searchRecords"]] == ["Connect Gainsight PX"]


def test_knowledge_off_hides_search_and_categories(env: Env) -> None:
    env.org.knowledge_enabled = False
    sf = env.sf()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search(f"FIND {{password}} RETURNING KnowledgeArticleVersion(Title {KAV_WHERE})")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("support/dataCategoryGroups", params={"sObjectName": "KnowledgeArticleVersion"})


def test_data_category_groups(env: Env) -> None:
    sf = env.sf()
    groups = sf.restful("support/dataCategoryGroups", params={"sObjectName": "KnowledgeArticleVersion"})
    [group] = groups["categoryGroups"]
    assert group["name"] == "Products" and group["objectUsage"] == "KnowledgeArticleVersion"
    assert [c["name"] for c in group["topCategories"]] == ["All"]
    assert group["topCategories"][0]["childCategories"] is None
    tree = sf.restful("support/dataCategoryGroups",
                      params={"sObjectName": "KnowledgeArticleVersion", "topCategoriesOnly": "false"})
    kids = tree["categoryGroups"][0]["topCategories"][0]["childCategories"]
    assert [k["label"] for k in kids] == ["Gainsight PX", "Skilljar"]
    detail = sf.restful("support/dataCategoryGroups/Products/dataCategories/Skilljar",
                        params={"sObjectName": "KnowledgeArticleVersion"})
    assert detail["name"] == "Skilljar" and [c["name"] for c in detail["childCategories"]] == ["LMS"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("support/dataCategoryGroups")


# -- getUpdated / getDeleted -----------------------------------------------------------------------

def test_updated_and_deleted_since(env: Env) -> None:
    sf = env.sf()
    rows = list(env.org.table("Account").scan())
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    sf.Account.update(rows[0]["Id"], {"Industry": "Changed"})
    sf.Account.delete(rows[1]["Id"])
    end = datetime.now(timezone.utc) + timedelta(minutes=2)
    assert sf.Account.updated(start, end)["ids"] == [rows[0]["Id"]]
    deleted = sf.Account.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [rows[1]["Id"]]
    assert "latestDateCovered" in deleted and "earliestDateAvailable" in deleted
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.updated(start - timedelta(days=31), end)
    assert exc.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


# -- query and queryAll ----------------------------------------------------------------------------

def test_query_paging_default_page_size(env_factory) -> None:
    env = env_factory(accounts=4_500)
    sf = env.sf()
    first = sf.query("SELECT Id, Name FROM Account")
    assert first["totalSize"] == 4_500 and first["done"] is False and len(first["records"]) == 2_000
    assert first["nextRecordsUrl"].startswith("/services/data/v60.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 2_000 and second["nextRecordsUrl"].endswith("-4000")
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert third["done"] is True and len(third["records"]) == 500 and "nextRecordsUrl" not in third
    names = [r["Name"] for r in first["records"] + second["records"] + third["records"]]
    assert len(set(names)) == 4_500
    assert len(sf.query_all("SELECT Id FROM Account")["records"]) == 4_500


def test_query_batch_size_header_and_query_all_with_deleted(env_factory) -> None:
    env = env_factory(accounts=650)
    sf = env.sf()
    pages = []
    res = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})
    pages.append(len(res["records"]))
    while not res["done"]:
        res = sf.query_more(res["nextRecordsUrl"], identifier_is_url=True)
        pages.append(len(res["records"]))
    assert pages == [200, 200, 200, 50]
    victim = next(iter(env.org.table("Account").scan()))["Id"]
    sf.Account.delete(victim)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 649
    everything = sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)
    assert everything["totalSize"] == 650
    assert [r["IsDeleted"] for r in everything["records"] if r["Id"] == victim] == [True]


def test_query_errors_and_locators(env: Env) -> None:
    sf = env.sf()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELEKT Id FROM Account")
    assert exc.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Nope__c FROM Account")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id FROM Lead")  # no read on Lead
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query_more("01g5g0000000001AAA-2000")
    assert exc.value.content == [{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]


def test_query_column_metadata_for_the_sf_cli(env: Env) -> None:
    r = env.get("query", params={"q": "SELECT Id, Name, Owner.Name, Owner.Profile.Name FROM Account",
                                 "columns": "true"})
    meta = r.json()
    assert meta["entityName"] == "Account" and meta["keyPrefix"] == "001" and meta["idSelected"] is True
    cols = meta["columnMetadata"]
    assert [c["columnName"] for c in cols] == ["Id", "Name", "Owner"]
    owner = cols[2]["joinColumns"]
    assert [c["columnName"] for c in owner] == ["Name", "Profile"]
    assert owner[1]["joinColumns"][0]["displayName"] == "Owner.Profile.Name"
    agg = env.get("query", params={"q": "SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry",
                                   "columns": "true"}).json()
    assert agg["groupBy"] is True
    assert [(c["columnName"], c["aggregate"], c["displayName"]) for c in agg["columnMetadata"]] == [
        ("Industry", False, "Industry"), ("n", True, "COUNT(Id)")]


def test_query_cursor_belongs_to_its_user(env_factory) -> None:
    env = env_factory(accounts=2_100)
    first = env.sf().query("SELECT Id FROM Account")
    with pytest.raises(SalesforceMalformedRequest):
        env.sf("admin").query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert env.sf().query_more(first["nextRecordsUrl"], identifier_is_url=True)["done"] is True


def test_query_cursors_are_capped_per_user(env_factory) -> None:
    env = env_factory(accounts=2_001)
    sf = env.sf()
    first = sf.query("SELECT Id FROM Account")["nextRecordsUrl"]
    later = [sf.query("SELECT Id FROM Account")["nextRecordsUrl"] for _ in range(10)]
    with pytest.raises(SalesforceMalformedRequest) as exc:  # the 11th open cursor pushed out the oldest
        sf.query_more(first, identifier_is_url=True)
    assert exc.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert [len(sf.query_more(u, identifier_is_url=True)["records"]) for u in later] == [1] * 10


# -- Bulk API 2.0 ----------------------------------------------------------------------------------

def test_bulk_v2_query_job_pages_csv(env_factory) -> None:
    env = env_factory(accounts=1_200)
    job = env.post("jobs/query", {"operation": "query", "query": "SELECT Id, Name, Owner.Name FROM Account"})
    assert job.status_code == 200, job.text
    info = job.json()
    assert info["state"] == "UploadComplete" and info["object"] == "Account" and info["id"].startswith("750")
    early = env.get(f"jobs/query/{info['id']}/results")
    assert early.status_code == 400
    states = [env.get(f"jobs/query/{info['id']}").json()["state"] for _ in range(2)]
    assert states == ["InProgress", "JobComplete"]
    rows: list[dict[str, str]] = []
    locator, pages = None, 0
    while True:
        params = {"maxRecords": 500, **({"locator": locator} if locator else {})}
        r = env.get(f"jobs/query/{info['id']}/results", params=params)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
        assert r.headers["Sforce-Limit-Info"].startswith("api-usage=")
        page = list(csv.DictReader(io.StringIO(r.text)))
        assert int(r.headers["Sforce-NumberOfRecords"]) == len(page)
        rows += page
        pages += 1
        locator = r.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert pages == 3 and len(rows) == 1_200
    assert list(rows[0]) == ["Id", "Name", "Owner.Name"]
    assert rows[0]["Owner.Name"] == "Admin User" and rows[0]["Name"] == "Account 00000"
    assert r.text.startswith('"Id","Name","Owner.Name"\n')
    assert env.sf().limits()["DailyBulkV2QueryJobs"]["Remaining"] == 9_999


def test_bulk_v2_rejects_bad_queries(env: Env) -> None:
    r = env.post("jobs/query", {"operation": "query", "query": "SELECT COUNT() FROM Account"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALIDJOB"
    r = env.post("jobs/query", {"operation": "query", "query": "SELECT Nope__c FROM Account"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    r = env.post("jobs/query", {"operation": "upsert", "query": "SELECT Id FROM Account"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "API_ERROR"
    assert env.get("jobs/query/7505g0000000001AAA").status_code == 404


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
    sf = Salesforce(instance_url=sb.base_url, session_id=token, session=ca_session, version=V)
    assert sf.query("SELECT Id, Name FROM Organization")["records"][0]["Id"] == org.id
    assert any(o["name"] == "Account" for o in sf.describe()["sobjects"])
    assert sf.limits()["DailyApiRequests"]["Max"] == org.api_max
    assert sf.api_usage["api-usage"].used == org.api_used
