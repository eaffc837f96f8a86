"""SOQL through the sandbox's REST API: paging (default and batchSize), queryAll with deleted rows, errors
and locators, the column metadata the sf CLI asks for, and cursors that belong to one user and are capped.
(The engine itself, driven directly: test_soql.py.)"""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

# -- query and queryAll ----------------------------------------------------------------------------

def test_query_paging_default_page_size(env_factory) -> None:
    env = env_factory(accounts=4_500)
    sf = env.sf()
    first = sf.query("SELECT Id, Name FROM Account")
    assert first["totalSize"] == 4_500
    assert first["done"] is False
    assert len(first["records"]) == 2_000
    assert first["nextRecordsUrl"].startswith("/services/data/v60.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert len(second["records"]) == 2_000
    assert second["nextRecordsUrl"].endswith("-4000")
    third = sf.query_more(second["nextRecordsUrl"], identifier_is_url=True)
    assert third["done"] is True
    assert len(third["records"]) == 500
    assert "nextRecordsUrl" not in third
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


def test_query_errors_and_locators(env) -> None:
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


def test_query_column_metadata_for_the_sf_cli(env) -> None:
    r = env.get("query", params={"q": "SELECT Id, Name, Owner.Name, Owner.Profile.Name FROM Account",
                                 "columns": "true"})
    meta = r.json()
    assert meta["entityName"] == "Account"
    assert meta["keyPrefix"] == "001"
    assert meta["idSelected"] is True
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
