"""Every built-in scenario's recovery, walked headless to a green checklist through the demo's clicks alone.

The clicks are the ones the results call for (``SandboxVendor.pending``: derived from reason codes), made on
the sandbox's stand-in pages — a permission granted, a push remapped, the right org chosen, the vendor's
all-clear — then Authorize / Reconnect, Synchronize / Backfill, the Knowledge toggle. A person confirms only what
no API shows. The one step skipped is the one the runbook sends to Support (Skilljar past 21 days).
"""

from __future__ import annotations

import pytest
from walker import sign_in, start, walk_to_the_end

from sfwizard.recovery.checklist import Mark
from sfwizard.sandbox.scenarios.loader import builtin_scenarios

BUILT_IN = [name for name, _ in builtin_scenarios() if "/" not in name]  # the diagnosis suite has its own tests
# What each scenario's diagnosis asks people to fix, as clicks (a prefix of each click's words).
FIXES = {
    "missing-permissions": ["granted api enabled to px.integration", "edit/read on Account",
                            "edit/read on field Account.PX_Health_Score__c", "Authorized", "Synchronize"],
    "push-missing-prefix": ["the push into Account.Health_Score__c now goes to Account.PX_Health_Score__c"],
    "wrong-org": ["signed sfwizard in again: Northwind Traders (PRODUCTION)", "Authorized"],
    "status-incident": ["status page: all clear", "Authorized"],
    "knowledge-off": ["Salesforce Knowledge Base toggle turned on"],
    "revoked-token": ["Authorized", "Synchronize clicked"],
    "skilljar-recent": ["Reconnected", "Backfill clicked: Backfill pushed"],
    "stale-data": ["Synchronize clicked"],
}


def test_the_walks_cover_every_built_in_scenario() -> None:
    assert set(BUILT_IN) == {p.id.split("[")[-1].rstrip("]") for p in PARAMS} | {"large-tenant"}


PARAMS = [pytest.param(name, id=name) for name in BUILT_IN if name != "large-tenant"]


def _walk(scenario: str):
    walk = start(scenario)
    try:
        return walk_to_the_end(walk)
    finally:
        walk.rec.close()
        walk.env.stop()


@pytest.mark.parametrize("scenario", PARAMS)
def test_each_built_in_scenario_walks_green_through_clicks(scenario: str) -> None:
    walk = _walk(scenario)
    said = " | ".join(what for _step, what in walk.clicks)
    for words in FIXES.get(scenario, []):
        assert words.lower() in said.lower(), (scenario, said)
    if scenario == "skilljar-expired":  # past 21 days: the runbook's Support route, and nothing else open
        # the checklist too: its Backfill item fails until Support backfills (the gate is the items themselves)
        assert walk.skipped == [("sync", "skilljar.backfill_window_passed"),
                                ("validate", "skilljar.backfill_window_passed"),
                                ("checklist", "skilljar.backfill_window_passed")]
        left = {i.item.item for i in walk.not_done()}
        assert left <= {"The disconnect is within the 21-day Backfill window",
                        "Missed records arrived in Salesforce"}, left
        return
    assert walk.skipped == []
    assert walk.not_done() == [], [(i.item.item, i.mark.value, i.why) for i in walk.not_done()]
    assert walk.rec.navigator.finished


@pytest.mark.slow
def test_large_tenant_walks_green_through_clicks() -> None:
    walk = _walk("large-tenant")
    assert walk.not_done() == []


def test_the_clicks_follow_the_results_not_the_scenario_name() -> None:
    """missing-permissions: at Re-authorize the click is what the gate names first (API Enabled), then the next
    thing the fresh results name (Edit on Account), and Authorize only once nothing else is wrong."""
    walk = start("missing-permissions")
    try:
        sign_in(walk)
        rec = walk.rec
        rec.perform_click("mappings")  # the snapshot names the push targets the edit access is judged on
        rec.save_snapshot(rec.snapshot_draft())
        rec.navigator.session.step = "reauthorize"
        rec.run_step("reauthorize")
        assert rec.navigator.gate("reauthorize").check_id == "perm.api_enabled"
        assert "API Enabled" in (rec.pending_click("reauthorize") or "")
        rec.perform_click("reauthorize")
        assert "API Enabled" in (rec.pending_click("reauthorize") or "")  # the results are not fresh yet
        rec.run_step("reauthorize")
        assert rec.navigator.results["perm.api_enabled"].status.value == "pass"
        assert "Edit on object Account" in (rec.pending_click("reauthorize") or "")
        assert not rec.session.reauthorized_at  # nobody clicked Authorize: the token is judged from that click
        assert [i.mark for i in rec.checklist()][0] != Mark.PASS  # nothing proven by clicking alone
    finally:
        walk.rec.close()
        walk.env.stop()


# The diagnosis suite's tenants were written from the runbooks by others, for the checks: walked by the same
# clicks, as a measure of how general the remedies are. Those left out cannot end green by a click: a service
# that stays unreachable, a Skilljar that was never disconnected (nothing to backfill: a person skips), and one
# whose Knowledge search is refused by the checks themselves (a one-character term; reported, not a click).
NOT_BY_CLICKS = {"diagnosis/pinecrest-unreachable", "diagnosis/quill-skilljar-connected",
                 "diagnosis/acme-kb-empty-category"}
# Not yet: tenants the demo's stand-in does not walk to green by its clicks — gaps in the stand-in, not in the
# diagnosis (each is named right by the suite). Found when the diagnosis suite grew to 37; strict, so a walk that
# starts passing says so and leaves this list.
NOT_YET = {"diagnosis/juniper-expired-password", "diagnosis/keystone-locked-out", "diagnosis/nimbus-limit-used-up",
           "diagnosis/onyx-admin-password-expired", "diagnosis/sequoia-skilljar-current-package",
           "diagnosis/tessera-formula-push-target", "diagnosis/verdant-skilljar-courses",
           "diagnosis/xylem-expired-password-in-wrong-org", "diagnosis/yarrow-locked-and-missing-edit"}
DIAGNOSIS = [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="the demo's stand-in cannot click it "
                                                                              "green yet"))
             if name in NOT_YET else name
             for name, _ in builtin_scenarios() if "/" in name and name not in NOT_BY_CLICKS]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", DIAGNOSIS)
def test_the_diagnosis_suites_tenants_walk_green_through_clicks(scenario: str) -> None:
    walk = _walk(scenario)
    assert walk.skipped == []
    assert walk.not_done() == [], [(i.item.item, i.mark.value, i.why) for i in walk.not_done()]
