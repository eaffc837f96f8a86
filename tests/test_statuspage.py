"""The sandbox's status page in Statuspage v2 shape: status, summary, components, incidents, the HTML page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx

from sfwizard.integrations.statuspage import StatusPageAPI
from sfwizard.integrations.transport import Http, tls_verify
from sfwizard.sandbox.scenarios.loader import load_scenario
from sfwizard.sandbox.statuspage.state import Incident

PAGE_KEYS = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT_KEYS = {"id", "name", "status", "created_at", "updated_at", "position", "description", "showcase",
                  "start_date", "group_id", "page_id", "group", "only_show_if_degraded"}
INCIDENT_KEYS = {"id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
                 "shortlink", "started_at", "page_id", "incident_updates", "components"}
UPDATE_KEYS = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at",
               "affected_components", "deliver_notifications", "custom_tweet", "tweet_id"}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")


def _fetch(info: dict[str, Any], *names: str) -> dict[str, Any]:
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
        return {n: c.get(f"{info['status_url']}/api/v2/{n}.json").json() for n in names}


def test_all_operational(sandbox) -> None:
    got = _fetch(sandbox.info(), "status", "summary", "components", "incidents/unresolved")
    status, summary = got["status"], got["summary"]
    assert status["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert set(status["page"]) == PAGE_KEYS and ISO_MS.match(status["page"]["updated_at"])
    assert status["page"]["name"] == "Gainsight" and status["page"]["url"].startswith("https://")
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    comps = summary["components"]
    assert all(set(c) == COMPONENT_KEYS and c["page_id"] == status["page"]["id"] for c in comps)
    assert [c["position"] for c in comps] == list(range(1, len(comps) + 1))
    assert {c["status"] for c in comps} == {"operational"}
    assert got["components"]["components"] == comps and got["incidents/unresolved"]["incidents"] == []


def test_unresolved_incident_shape(start_sandbox) -> None:
    got = _fetch(start_sandbox("status-incident").info(), "status", "summary", "incidents/unresolved", "incidents")
    assert got["status"]["status"] == {"indicator": "major", "description": "Partial System Outage"}
    comps = {c["name"]: c["status"] for c in got["summary"]["components"]}
    assert comps["Salesforce Integration"] == "partial_outage" and comps["Gainsight PX"] == "operational"
    [inc] = got["incidents/unresolved"]["incidents"]
    assert set(inc) == INCIDENT_KEYS and inc["status"] == "identified" and inc["impact"] == "major"
    assert inc["resolved_at"] is None and inc["shortlink"].startswith("https://")
    assert [c["name"] for c in inc["components"]] == ["Salesforce Integration"]
    ups = inc["incident_updates"]
    assert [u["status"] for u in ups] == ["identified", "investigating"]  # newest first
    assert all(set(u) == UPDATE_KEYS and u["incident_id"] == inc["id"] and ISO_MS.match(u["created_at"])
               for u in ups)
    assert inc["updated_at"] == ups[0]["created_at"] and "re-authorize" in ups[0]["body"]
    assert got["summary"]["incidents"] == got["incidents/unresolved"]["incidents"]
    assert got["incidents"]["incidents"][0]["id"] == inc["id"]


def test_resolved_incidents_leave_summary_but_stay_in_history(start_sandbox) -> None:
    state = load_scenario("status-incident")
    now = state.loaded_at
    state.status_page.incidents.append(Incident(
        name="Delayed syncs last week", status="resolved", impact="minor", created_at=now - timedelta(days=7),
        id="old1", shortlink="https://stspg.io/old1", components=["Salesforce Integration"],
        updates=[{"status": "investigating", "body": "Looking", "created_at": now - timedelta(days=7)},
                 {"status": "monitoring", "body": "Fixed", "created_at": now - timedelta(days=7, hours=-1)},
                 {"status": "resolved", "body": "Done", "created_at": now - timedelta(days=7, hours=-2)}]))
    got = _fetch(start_sandbox(state).info(), "summary", "incidents/unresolved", "incidents")
    assert [i["name"] for i in got["incidents/unresolved"]["incidents"]] == \
        ["Salesforce integration sync failures after OAuth token revocation"]
    assert len(got["summary"]["incidents"]) == 1
    history = {i["id"]: i for i in got["incidents"]["incidents"]}
    assert list(history)[-1] == "old1"  # newest first
    old = history["old1"]
    assert old["resolved_at"] == old["incident_updates"][0]["created_at"]
    assert old["monitoring_at"] == old["incident_updates"][1]["created_at"]


def test_our_status_client_reads_it(start_sandbox) -> None:
    info = start_sandbox("status-incident").info()
    http = Http(ca_cert=info["ca_cert"])
    try:
        summary = StatusPageAPI(http, info["status_url"]).summary()
    finally:
        http.close()
    assert summary.indicator == "major" and ("Salesforce Integration", "partial_outage") in summary.components
    assert summary.incidents[0].status == "identified"


def test_html_page_escapes_incident_text(start_sandbox) -> None:
    state = load_scenario("status-incident")
    state.status_page.incidents[0].name = "<script>alert('x')</script> sync failures"
    info = start_sandbox(state).info()
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
        page = c.get(info["status_url"] + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "Partial System Outage" in page.text and "partial outage" in page.text
