"""Whole scenarios through the real client: each one's diagnosis, the recovery turning the checks green, and
the same number of API calls whatever the size of the org."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sfwizard.checks import reasons
from sfwizard.checks.base import Status
from sfwizard.demo import approve_in_sandbox, demo_client


def _run(scenario: str, **kw: Any) -> tuple[dict[str, Any], dict[str, int]]:
    with demo_client(scenario) as (client, ctx_kwargs):
        results = client.run_checks(client.context(**ctx_kwargs), **kw)
        for r in results:
            assert not reasons.problem(r.status.value, r.reason), (r.id, reasons.problem(r.status.value, r.reason))
        return {r.id: r for r in results}, dict(client.counter.counts)


def _failing(results: dict[str, Any]) -> set[str]:
    return {cid for cid, r in results.items() if r.status == Status.FAIL}


EXPECTED = {
    "healthy": set(),
    "revoked-token": {"token.fresh", "token.platform_status", "flow.salesforce_to_platform",
                      "ts.authorization_incomplete", "ts.stale_data"},
    "missing-permissions": {"perm.api_enabled", "perm.edit_targets", "ts.access_denied"},
    "push-missing-prefix": {"mapping.push_targets", "flow.platform_to_salesforce", "ts.push_without_prefix"},
    "wrong-org": {"identity.right_org", "ts.wrong_org"},
    "status-incident": {"before.status_page"},
    "stale-data": {"flow.salesforce_to_platform", "ts.stale_data"},
    "skilljar-expired": {"skilljar.backfill_window"},
}

# Why each expected failure fails: the code a program (the wizard, a cron job) acts on.
EXPECTED_REASONS = {
    "revoked-token": {"token.fresh": "token.not_granted", "token.platform_status": "token.platform_down",
                      "flow.salesforce_to_platform": "flow.stale"},
    "missing-permissions": {"perm.api_enabled": "perm.api_disabled", "perm.edit_targets": "perm.object_edit_missing"},
    "push-missing-prefix": {"mapping.push_targets": "mapping.push_without_prefix",
                            "flow.platform_to_salesforce": "flow.push_failed"},
    "wrong-org": {"identity.right_org": "org.snapshot_mismatch"},
    "status-incident": {"before.status_page": "status.integration_affected"},
    "stale-data": {"flow.salesforce_to_platform": "flow.stale"},
    "skilljar-expired": {"skilljar.backfill_window": "skilljar.backfill_window_passed"},
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_scenario_gets_its_diagnosis(scenario: str) -> None:
    results, _ = _run(scenario)
    failing = _failing(results)
    assert EXPECTED[scenario] <= failing, failing
    if scenario == "healthy":
        assert failing == set()
        # (the security review's hardening recommendations are warnings in an org with Salesforce's defaults)
        assert {r.status for r in results.values() if r.step != "security"} <= {Status.PASS, Status.MANUAL}
    for cid in EXPECTED[scenario]:
        r = results[cid]
        assert r.cause, cid  # named with cause, resolution and evidence
        assert r.resolution, cid
        assert r.evidence, cid
        assert r.reason == (cid if cid.startswith("ts.") else EXPECTED_REASONS[scenario][cid]), cid


def test_wrong_org_evidence_names_both_orgs() -> None:
    results, _ = _run("wrong-org")
    r = results["identity.right_org"]
    assert r.evidence["snapshot_org_id"] != r.evidence["org_id"]
    assert "private" in r.resolution  # the fix: a private window, so no other session answers
    assert results["identity.org"].status == Status.WARN
    assert results["identity.org"].reason == "org.sandbox"
    assert results["identity.org"].evidence["kind"] == "SANDBOX"
    # what follows from the wrong org (its missing custom object) is not reported as a problem of its own
    assert results["mapping.live_vs_snapshot"].status == Status.SKIPPED
    assert results["mapping.live_vs_snapshot"].reason == "skip.wrong_org"
    # caught where it starts, at Connect Salesforce, and again where the integration's state is read
    assert results["ts.wrong_org"].evidence["seen_in"] == ["identity.signed_in_org", "identity.right_org"]
    assert results["identity.signed_in_org"].reason == "org.snapshot_mismatch"


def test_recovery_turns_the_checks_green() -> None:
    """Authorize as the integration user, Synchronize, then the same checks pass."""
    import httpx

    from sfwizard.integrations.transport import tls_verify

    with demo_client("revoked-token") as (client, ctx_kwargs):
        info = client.endpoints
        before = {r.id: r for r in client.run_checks(client.context(**ctx_kwargs))}
        assert before["token.fresh"].status == Status.FAIL
        # the person's part: click Authorize, the integration user approves, click Synchronize
        admin = info.px_api_url.rsplit("/px/", 1)[0] + "/"
        with httpx.Client(verify=tls_verify(info.ca_cert)) as http:
            state = http.get(admin + "__sandbox__/state").json()
            r = http.get(admin + "__sandbox__/px/authorize")
            from sfwizard.demo import _current_info

            sandbox_info = _current_info()
            integ = next(u for u in sandbox_info["users"] if u["username"] == state["px"]["username"])
            approve_in_sandbox(sandbox_info["login_url"] + r.headers["location"], {**sandbox_info, **integ})
            sandbox_state = http.get(admin + "__sandbox__/state").json()
            assert sandbox_state["px"]["status"] == "UP"
            http.post(admin + "__sandbox__/px/sync")
            deadline = time.monotonic() + 30
            while http.get(admin + "__sandbox__/px/sync").json()["state"] == "RUNNING":
                assert time.monotonic() < deadline
                time.sleep(0.1)  # a background job; polled with a deadline
        after = {r.id: r for r in client.run_checks(client.context(**ctx_kwargs))}
    for cid in ("token.fresh", "token.platform_status", "flow.salesforce_to_platform",
                "flow.platform_to_salesforce", "ts.authorization_incomplete", "ts.stale_data"):
        assert after[cid].status == Status.PASS, (cid, after[cid].summary)


def test_api_calls_do_not_grow_with_the_tenant() -> None:
    """The sign-in's two reads, the signed-in user read again (a bare client's context does not know it) and a
    run's twelve requests (tests/checks/test_round_trips.py: two rounds)."""
    _, healthy = _run("healthy")
    _, large = _run("large-tenant")
    assert healthy["salesforce"] <= 8
    assert healthy["platform"] == 6
    assert large["salesforce"] == healthy["salesforce"]
    assert large["platform"] == healthy["platform"]
