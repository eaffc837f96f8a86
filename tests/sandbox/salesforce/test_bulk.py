"""Bulk API 2.0 query jobs on the sandbox: CSV pages with locators, and the queries a job refuses."""

from __future__ import annotations

import csv
import io

# -- Bulk API 2.0 ----------------------------------------------------------------------------------

def test_bulk_v2_query_job_pages_csv(env_factory) -> None:
    env = env_factory(accounts=1_200)
    job = env.post("jobs/query", {"operation": "query", "query": "SELECT Id, Name, Owner.Name FROM Account"})
    assert job.status_code == 200, job.text
    info = job.json()
    assert info["state"] == "UploadComplete"
    assert info["object"] == "Account"
    assert info["id"].startswith("750")
    early = env.get(f"jobs/query/{info['id']}/results")
    assert early.status_code == 400
    states = [env.get(f"jobs/query/{info['id']}").json()["state"] for _ in range(2)]
    assert states == ["InProgress", "JobComplete"]
    rows: list[dict[str, str]] = []
    locator, pages = None, 0
    while True:
        params = {"maxRecords": 500, **({"locator": locator} if locator else {})}
        r = env.get(f"jobs/query/{info['id']}/results", params=params)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/csv")
        assert r.headers["Sforce-Limit-Info"].startswith("api-usage=")
        page = list(csv.DictReader(io.StringIO(r.text)))
        assert int(r.headers["Sforce-NumberOfRecords"]) == len(page)
        rows += page
        pages += 1
        locator = r.headers["Sforce-Locator"]
        if locator == "null":
            break
    assert pages == 3
    assert len(rows) == 1_200
    assert list(rows[0]) == ["Id", "Name", "Owner.Name"]
    assert rows[0]["Owner.Name"] == "Admin User"
    assert rows[0]["Name"] == "Account 00000"
    assert r.text.startswith('"Id","Name","Owner.Name"\n')
    assert env.sf().limits()["DailyBulkV2QueryJobs"]["Remaining"] == 9_999


def test_bulk_v2_rejects_bad_queries(env) -> None:
    r = env.post("jobs/query", {"operation": "query", "query": "SELECT COUNT() FROM Account"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALIDJOB"
    r = env.post("jobs/query", {"operation": "query", "query": "SELECT Nope__c FROM Account"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "INVALID_FIELD"
    r = env.post("jobs/query", {"operation": "upsert", "query": "SELECT Id FROM Account"})
    assert r.status_code == 400
    assert r.json()[0]["errorCode"] == "API_ERROR"
    assert env.get("jobs/query/7505g0000000001AAA").status_code == 404
