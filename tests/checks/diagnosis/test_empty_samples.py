"""A comparison over nothing is never a pass: it says why nothing was compared and how to get a sample."""

from __future__ import annotations

import dataclasses

import pytest

from sfwizard.demo import open_demo
from sfwizard.sandbox.scenarios.loader import diagnosis_suite

SUITE = {p.stem: p for p in diagnosis_suite()}


def test_nothing_changed_since_the_disconnect_is_not_a_match(check_json) -> None:
    r = check_json(SUITE["orbit-nothing-changed"], "--only", "flow.salesforce_to_platform,ts.stale_data")["by_id"]
    flow = r["flow.salesforce_to_platform"]
    assert (flow["status"], flow["reason"]) == ("skipped", "skip.empty_sample")
    assert flow["evidence"]["compared"] == 0 and flow["evidence"]["sampled_platform_accounts"] > 0
    assert "changed in Salesforce since the disconnect" in flow["summary"]
    assert "Synchronize" in flow["evidence"]["how_to_get_a_sample"]
    assert r["ts.stale_data"]["status"] == "pass"


def test_platform_records_from_another_org_are_no_match_either(check_json) -> None:
    flow = check_json(SUITE["contoso-token-in-dev-sandbox"], "--only",
                      "flow.salesforce_to_platform")["by_id"]["flow.salesforce_to_platform"]
    assert (flow["status"], flow["reason"]) == ("skipped", "skip.empty_sample")
    assert "exists in this org" in flow["summary"] and flow["evidence"]["how_to_get_a_sample"]


@pytest.mark.parametrize("cid", ["mapping.salesforce_fields", "mapping.push_targets", "mapping.platform_attributes",
                                 "perm.read_sources", "perm.edit_targets"])
def test_no_mapping_documented_is_nothing_to_compare(cid: str) -> None:
    with open_demo("healthy") as conn:
        empty = dataclasses.replace(conn.snapshot, mappings=(), custom_objects=())
        (r,) = conn.client.run_checks(conn.context(snapshot=empty), only=[cid])
    assert (r.status.value, r.reason) == ("skipped", "skip.no_mappings"), r.summary


def test_knowledge_with_no_channel_chosen_is_nothing_to_compare() -> None:
    with open_demo("healthy") as conn:
        k = dataclasses.replace(conn.snapshot.knowledge, accessibility=(), categories=())
        snap = dataclasses.replace(conn.snapshot, knowledge=k)
        res = {r.id: r for r in conn.client.run_checks(conn.context(snapshot=snap),
                                                       only=["knowledge.visibility", "knowledge.categories"])}
    assert (res["knowledge.visibility"].status.value, res["knowledge.visibility"].reason) == \
        ("skipped", "skip.not_configured")
    assert (res["knowledge.categories"].status.value, res["knowledge.categories"].reason) == \
        ("skipped", "skip.not_configured")


def test_a_platform_that_matched_nothing_says_so(check_json, scenario_file, monkeypatch) -> None:
    import dataclasses

    from sfwizard.integrations import px

    real = px.PxAPI.page

    def nothing_matched(self, kind, *a, **kw):  # what the API answers a filter on sfdcId when nothing matched
        return dataclasses.replace(real(self, kind, *a, **kw), records=[], total_hits=0)

    monkeypatch.setattr(px.PxAPI, "page", nothing_matched)
    r = check_json("revoked-token", "--only", "flow.salesforce_to_platform,identity.right_org")["by_id"]
    flow = r["flow.salesforce_to_platform"]
    assert (flow["status"], flow["reason"]) == ("skipped", "skip.empty_sample")
    assert "carries a Salesforce Id" in flow["summary"] and "matching" in flow["evidence"]["how_to_get_a_sample"]
    assert r["identity.right_org"]["evidence"]["accounts_sampled"] == 0
