"""The status page as Statuspage means it: a maintenance is a maintenance with its window, an incident
counts against the integration only on the components it names, a resolved one is not raised."""

from __future__ import annotations

import pytest

BASE = """
    schema: 1
    name: status
    extends: healthy
    status_page:
      indicator: {indicator}
      description: {description}
      components:
        - {{name: Gainsight PX, status: operational}}
        - {{name: Salesforce Integration, status: {sf_status}, group: Integrations}}
        - {{name: Knowledge Center, status: {kc_status}}}
        - {{name: REST API, status: operational}}
{extra}
"""


def _body(indicator="none", description="All Systems Operational", sf_status="operational",
          kc_status="operational", extra="") -> str:
    return BASE.format(indicator=indicator, description=description, sf_status=sf_status, kc_status=kc_status,
                       extra=extra)


def _status(check_json, scenario_file, body: str) -> dict:
    return check_json(scenario_file(body), "--only", "before.status_page")["by_id"]["before.status_page"]


def test_a_component_under_maintenance_is_maintenance_with_its_window(check_json, scenario_file) -> None:
    r = _status(check_json, scenario_file, _body(
        "maintenance", "Service Under Maintenance", sf_status="under_maintenance", extra="""
      maintenances:
        - {name: Salesforce connector upgrade, status: in_progress, scheduled_for: -1h, scheduled_until: +2h,
           components: [Salesforce Integration]}
"""))
    assert (r["status"], r["reason"]) == ("warn", "status.maintenance")
    assert "maintenance in progress" in r["summary"] and "Salesforce connector upgrade" in r["summary"]
    assert "→" in r["summary"] and "after the maintenance ends" in r["resolution"]
    (m,) = r["evidence"]["maintenances"]
    assert m["status"] == "in_progress" and m["components"] == ["Salesforce Integration"] and m["scheduled_until"]
    assert r["evidence"]["unresolved_incidents"] == []


def test_a_scheduled_maintenance_within_a_day_is_announced_and_a_later_one_noted(check_json, scenario_file) -> None:
    soon = _status(check_json, scenario_file, _body(extra="""
      maintenances:
        - {name: Connector patch, status: scheduled, scheduled_for: +3h, scheduled_until: +5h,
           components: [Salesforce Integration]}
"""))
    assert (soon["status"], soon["reason"]) == ("warn", "status.maintenance")
    assert "scheduled" in soon["summary"] and "before it starts" in soon["resolution"]
    later = _status(check_json, scenario_file, _body(extra="""
      maintenances:
        - {name: Connector patch, status: scheduled, scheduled_for: +3d, scheduled_until: +3.1d,
           components: [Salesforce Integration]}
"""))
    assert later["status"] == "pass" and "Connector patch" in later["summary"]


def test_maintenance_elsewhere_and_the_maintenance_indicator_pass(check_json, scenario_file) -> None:
    r = _status(check_json, scenario_file, _body("maintenance", "Service Under Maintenance",
                                                 kc_status="under_maintenance", extra="""
      maintenances:
        - {name: Knowledge index rebuild, status: in_progress, scheduled_for: -1h, scheduled_until: +1h,
           components: [Knowledge Center]}
"""))
    assert r["status"] == "pass" and "Knowledge index rebuild" in r["summary"]


@pytest.mark.parametrize("components,expected,reason", [
    ("[Salesforce Integration]", "fail", "status.integration_affected"),
    ("[Knowledge Center]", "warn", "status.incident_elsewhere"),
])
def test_an_incident_counts_on_the_components_it_names(check_json, scenario_file, components, expected,
                                                        reason) -> None:
    # Knowledge Center degraded AND an incident: before, any incident plus any watched trouble failed.
    r = _status(check_json, scenario_file, _body("minor", "Minor Service Outage", kc_status="degraded_performance",
                                                 extra=f"""
      incidents:
        - {{name: Slow article search, status: investigating, impact: minor, created: -1h,
           components: {components}}}
"""))
    assert (r["status"], r["reason"]) == (expected, reason)
    (inc,) = r["evidence"]["incidents"]
    assert inc["watched"] is (expected == "fail")


def test_an_unrelated_incident_does_not_fail_the_integration_under_maintenance(check_json, scenario_file) -> None:
    r = _status(check_json, scenario_file, _body("major", "Partial System Outage", sf_status="under_maintenance",
                                                 kc_status="major_outage", extra="""
      incidents:
        - {name: Knowledge Center down, status: identified, impact: major, created: -1h,
           components: [Knowledge Center]}
"""))
    assert (r["status"], r["reason"]) == ("warn", "status.maintenance")
    assert "no window announced" in r["summary"]


def test_a_resolved_incident_is_not_raised(check_json, scenario_file) -> None:
    r = _status(check_json, scenario_file, _body(extra="""
      incidents:
        - {name: Sync failures, status: resolved, impact: major, created: -2d, components: [Salesforce Integration],
           updates: [{status: resolved, body: Fixed., at: -1d}]}
"""))
    assert r["status"] == "pass" and r["evidence"]["unresolved_incidents"] == []


def test_the_sandbox_serves_scheduled_maintenances(start_sandbox, ca_session, scenario_file) -> None:
    sb = start_sandbox(scenario_file(_body(extra="""
      maintenances:
        - {name: Later, status: scheduled, scheduled_for: +2d, scheduled_until: +2.1d}
        - {name: Now, status: in_progress, scheduled_for: -1h, scheduled_until: +1h}
        - {name: Done, status: completed, scheduled_for: -3d, scheduled_until: -2.9d}
""")))
    base = sb.info()["status_url"] + "/api/v2"

    def names(path: str) -> list[str]:
        return [m["name"] for m in ca_session.get(f"{base}/{path}").json()["scheduled_maintenances"]]

    assert names("scheduled-maintenances/upcoming.json") == ["Later"]
    assert names("scheduled-maintenances/active.json") == ["Now"]
    assert names("scheduled-maintenances.json") == ["Later", "Now", "Done"]
    assert names("summary.json") == ["Now", "Later"]
    now = ca_session.get(f"{base}/scheduled-maintenances/active.json").json()["scheduled_maintenances"][0]
    assert {"scheduled_for", "scheduled_until", "incident_updates", "components", "shortlink"} <= set(now)
    comps = ca_session.get(f"{base}/components.json").json()["components"]
    group = next(c for c in comps if c["name"] == "Integrations")
    child = next(c for c in comps if c["name"] == "Salesforce Integration")
    assert group["group"] is True and group["components"] == [child["id"]] and child["group_id"] == group["id"]
