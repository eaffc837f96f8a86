"""Each scenario's diagnosis through the real client, the recovery turning checks green, and API economy."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest

from sfwizard.checks import output, reasons
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
    "wrong-org": {"identity.right_org": "org.mismatch"},
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
        assert {r.status for r in results.values()} <= {Status.PASS, Status.MANUAL}
    for cid in EXPECTED[scenario]:
        r = results[cid]
        assert r.cause, cid  # named with cause, resolution and evidence
        assert r.resolution, cid
        assert r.evidence, cid
        assert r.reason == (cid if cid.startswith("ts.") else EXPECTED_REASONS[scenario][cid]), cid


def test_skilljar_recent_offers_the_backfill_window() -> None:
    results, _ = _run("skilljar-recent")
    window = results["skilljar.backfill_window"]
    assert window.status == Status.PASS
    assert window.evidence["backfill_window"].endswith("→ now")
    assert 8.5 < window.evidence["days_disconnected"] < 9.5


def test_expired_skilljar_names_the_support_route() -> None:
    results, _ = _run("skilljar-expired")
    r = results["skilljar.backfill_window"]
    assert r.reason == "skilljar.backfill_window_passed"
    assert "Skilljar Support" in r.resolution  # the only way left is the point


def test_wrong_org_evidence_names_both_orgs() -> None:
    results, _ = _run("wrong-org")
    r = results["identity.right_org"]
    assert r.evidence["snapshot_org_id"] != r.evidence["org_id"]
    assert "private" in r.resolution  # the fix: a private window, so no other session answers
    assert results["identity.org"].status == Status.WARN
    assert results["identity.org"].reason == "org.sandbox"
    assert results["identity.org"].evidence["kind"] == "SANDBOX"
    assert results["mapping.live_vs_snapshot"].status == Status.FAIL
    assert results["mapping.live_vs_snapshot"].reason == "mapping.custom_object_missing"
    assert results["ts.wrong_org"].evidence["seen_in"] == ["identity.right_org"]


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
    _, healthy = _run("healthy")
    _, large = _run("large-tenant")
    assert healthy["salesforce"] <= 35
    assert healthy["platform"] <= 8
    assert large["salesforce"] <= healthy["salesforce"] + 5
    assert large["platform"] <= healthy["platform"]


def test_check_command_json_document_and_exit_codes(tmp_path) -> None:
    from sfwizard import __version__

    env = {**os.environ, "SFWIZARD_HOME": str(tmp_path)}
    ok = subprocess.run([sys.executable, "-m", "sfwizard", "check", "--demo", "--scenario", "healthy", "--json"],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)  # one object, nothing else on stdout
    assert doc["schema"] == output.SCHEMA == 1
    assert doc["tool"] == f"sfwizard {__version__}"
    assert doc["profile"] == "gainsight-px"
    assert doc["exit_code"] == 0
    assert doc["counts"] == {s: sum(1 for r in doc["results"] if r["status"] == s)
                             for s in ("pass", "fail", "warn", "manual", "skipped")}
    assert doc["counts"]["fail"] == 0
    assert doc["api_calls"]["salesforce"] > 0
    assert list(doc["results"][0]) == ["id", "title", "step", "status", "reason", "summary", "evidence", "cause",
                                       "resolution", "elapsed_ms"]
    assert {r["reason"] for r in doc["results"] if r["status"] == "pass"} == {""}
    assert {r["id"]: r["reason"] for r in doc["results"] if r["status"] != "pass"} == {
        "before.people": "ask.people_present", "knowledge.toggle": "ask.knowledge_toggle"}  # no API shows either

    failing = subprocess.run([sys.executable, "-m", "sfwizard", "check", "--demo", "--json"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert failing.returncode == 1, failing.stderr
    doc = json.loads(failing.stdout)
    assert doc["exit_code"] == 1
    assert doc["counts"]["fail"] == sum(1 for r in doc["results"] if r["status"] == "fail") > 0
    by_id = {r["id"]: r for r in doc["results"]}
    assert by_id["token.fresh"]["reason"] == "token.not_granted"
    assert by_id["ts.authorization_incomplete"]["reason"] == "ts.authorization_incomplete"
    assert by_id["ts.authorization_incomplete"]["evidence"]["seen_in"] == ["token.fresh"]
    for r in doc["results"]:
        assert not reasons.problem(r["status"], r["reason"]), r["id"]

    bad = subprocess.run([sys.executable, "-m", "sfwizard", "check", "--demo", "--only", "token.fresh"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout
    cannot = subprocess.run([sys.executable, "-m", "sfwizard", "check", "--demo", "--only", "no.such"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert cannot.returncode == 2
    assert "unknown check" in cannot.stderr
    assert "Traceback" not in cannot.stderr


def _symptoms(results: dict[str, Any]) -> dict[str, Status]:
    return {cid: r.status for cid, r in results.items() if cid.startswith("ts.")}


@pytest.mark.parametrize("scenario", ["revoked-token", "missing-permissions", "push-missing-prefix", "wrong-org"])
def test_symptoms_do_not_depend_on_the_checks_wording(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check's words replaced, its status, reason and evidence kept: troubleshooting sees the same."""
    from sfwizard.checks.runner import REGISTRY

    with demo_client(scenario) as (client, ctx_kwargs):
        plain = {r.id: r for r in client.run_checks(client.context(**ctx_kwargs))}
        for cid, spec in list(REGISTRY.items()):
            if not cid.startswith("ts."):
                def reworded(ctx, _func=spec.func):
                    return dataclasses.replace(_func(ctx), summary="reworded", cause="reworded",
                                               resolution="reworded")
                monkeypatch.setitem(REGISTRY, cid, dataclasses.replace(spec, func=reworded))
        again = {r.id: r for r in client.run_checks(client.context(**ctx_kwargs))}
    assert {r.summary for cid, r in again.items() if not cid.startswith("ts.")} == {"reworded"}
    assert Status.FAIL in _symptoms(plain).values()
    assert _symptoms(again) == _symptoms(plain)
    for cid in _symptoms(plain):
        assert again[cid].evidence == plain[cid].evidence, cid


def test_large_extracts_take_the_bulk_path_in_few_calls() -> None:
    with demo_client("large-tenant") as (client, _):
        before = client.counter.counts.get("salesforce", 0)
        n = sum(1 for _ in client.salesforce.extract("SELECT Id, Name FROM Account", poll_seconds=0.01))
        calls = client.counter.counts["salesforce"] - before
    assert n >= 250_000
    assert calls <= 12  # a job, two polls and five 50,000-row pages, where query paging takes 125 calls
