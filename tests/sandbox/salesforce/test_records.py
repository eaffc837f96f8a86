"""Records through the sandbox's REST API: create, read, update, delete, the errors a write meets, computed
fields, collections and composite batches, and getUpdated / getDeleted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sfwizard import ids

UNKNOWN_ACCOUNT = ids.make_id("001", 999_999)


# -- records ---------------------------------------------------------------------------------------

def test_record_crud_round_trip(env) -> None:
    sf = env.sf()
    made = sf.Account.create({"Name": "Globex", "Industry": "Energy", "NumberOfEmployees": 40})
    assert made["success"]
    assert made["errors"] == []
    assert made["id"].startswith("001")
    assert len(made["id"]) == 18
    rec = sf.Account.get(made["id"])
    assert rec["attributes"] == {"type": "Account",
                                 "url": f"/services/data/v60.0/sobjects/Account/{made['id']}"}
    assert rec["Name"] == "Globex"
    assert rec["NumberOfEmployees"] == 40
    assert "Secret__c" not in rec
    assert rec["OwnerId"] == env.users["integration"]
    assert rec["CreatedById"] == env.users["integration"]
    created = rec["LastModifiedDate"]
    assert sf.Account.update(made["id"], {"Industry": "Media"}) == 204
    rec = env.sf("admin").Account.get(made["id"])
    assert rec["Industry"] == "Media"
    assert rec["LastModifiedById"] == env.users["integration"]
    assert rec["LastModifiedDate"] >= created
    assert rec["SystemModstamp"] == rec["LastModifiedDate"]
    only = env.get(f"sobjects/Account/{made['id']}?fields=Name").json()
    assert set(only) == {"attributes", "Name", "Id"}
    assert sf.Account.delete(made["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(made["id"])
    with pytest.raises(SalesforceResourceNotFound) as gone:
        sf.Account.delete(made["id"])
    assert gone.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_write_errors(env) -> None:
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
    r = env.session.post(f"{env.data_url}/sobjects/Account/", data="{not json",
                         headers={"Authorization": f"Bearer {env.token('integration')}",
                                  "Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceRefusedRequest) as exc:
        env.sf("reader").Account.delete(acct)
    assert exc.value.content[0]["errorCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.get(UNKNOWN_ACCOUNT)
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Lead.create({"LastName": "x", "Company": "y"})  # no read on Lead: it does not exist for them
    assert exc.value.content[0]["errorCode"] == "NOT_FOUND"
    assert len(env.org.table("Account")) == 5


def test_contact_name_is_computed_and_admin_can_write_secret(env) -> None:
    sf = env.sf()
    cid = sf.Contact.create({"FirstName": "Grace", "LastName": "Hopper"})["id"]
    assert sf.Contact.get(cid)["Name"] == "Grace Hopper"
    sf.Contact.update(cid, {"LastName": "Murray"})
    assert sf.Contact.get(cid)["Name"] == "Grace Murray"
    admin = env.sf("admin")
    aid = admin.Account.create({"Name": "Initech", "Secret__c": "ok", "PX_Score__c": 9.5})["id"]
    assert admin.Account.get(aid)["PX_Score__c"] == 9.5


# -- collections and batch -------------------------------------------------------------------------

def test_composite_sobjects(env) -> None:
    sf = env.sf()
    good = {"attributes": {"type": "Account"}, "Name": "Hooli"}
    bad = {"attributes": {"type": "Account"}, "Name": "Bad", "PX_Score__c": 1}
    res = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": [good, bad]})
    assert res[0]["success"]
    assert res[0]["id"].startswith("001")
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
    assert upd[0] == {"id": ids_[0], "success": True, "errors": []}
    assert not upd[1]["success"]
    got = sf.restful("composite/sobjects/Account",
                     params={"ids": f"{ids_[0]},{ids_[1]}", "fields": "Name,Industry"})
    assert [g["Industry"] for g in got] == ["Retail", None]
    assert got[0]["attributes"]["type"] == "Account"
    # jsforce retrieves many records with a POST of ids and fields
    posted = env.post("composite/sobjects/Account", {"ids": ids_, "fields": ["Name"]}).json()
    assert [p["Name"] for p in posted] == ["C0", "C1"]
    dele = sf.restful("composite/sobjects", method="DELETE", params={"ids": ",".join(ids_)})
    assert all(d["success"] for d in dele)
    assert env.org.table("Account").get(ids_[0]) is None


def test_composite_batch_is_one_api_call(env) -> None:
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
    assert res["results"][0]["result"]["Name"] == "Account 00000"
    assert res["results"][1]["result"] is None
    assert env.org.table("Account").get(acct)["Industry"] == "Batch"
    halted = sf.restful("composite/batch", method="POST", json={"haltOnError": True, "batchRequests": [
        {"method": "GET", "url": "v60.0/sobjects/Nope/describe"}, {"method": "GET", "url": "v60.0/limits"}]})
    assert [r["statusCode"] for r in halted["results"]] == [404, 412]
    assert halted["results"][1]["result"][0]["errorCode"] == "BATCH_PROCESSING_HALTED"
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/batch", method="POST",
                   json={"batchRequests": [{"method": "GET", "url": "v60.0/limits"}] * 26})


# -- getUpdated / getDeleted -----------------------------------------------------------------------

def test_updated_and_deleted_since(env) -> None:
    sf = env.sf()
    rows = list(env.org.table("Account").scan())
    start = datetime.now(timezone.utc) - timedelta(minutes=5)
    sf.Account.update(rows[0]["Id"], {"Industry": "Changed"})
    sf.Account.delete(rows[1]["Id"])
    end = datetime.now(timezone.utc) + timedelta(minutes=2)
    assert sf.Account.updated(start, end)["ids"] == [rows[0]["Id"]]
    deleted = sf.Account.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [rows[1]["Id"]]
    assert "latestDateCovered" in deleted
    assert "earliestDateAvailable" in deleted
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.updated(start - timedelta(days=31), end)
    assert exc.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"
