"""The wrong org caught where it starts: at Connect Salesforce, the signed-in org against where the platform's data
lives — the snapshot's org, else the platform's records' Ids looked up here — before anything is read from it,
with words that fit the kind of sandbox the records show."""

from __future__ import annotations

from typing import Any

import pytest

from sfwizard.demo import open_demo
from sfwizard.sandbox.scenarios.loader import diagnosis_suite

SUITE = {p.stem: str(p) for p in diagnosis_suite()}


def _signed_in_org(scenario: str, *, snapshot: bool) -> Any:
    with open_demo(scenario) as conn:
        ctx = conn.context() if snapshot else conn.context(snapshot=None)
        return {r.id: r for r in conn.client.run_checks(ctx, only=["identity.signed_in_org", "ts.wrong_org"])}


@pytest.mark.parametrize("scenario,found,words", [
    ("pacific-dev-sandbox-signin", "none", "Developer"),
    ("quarry-partial-copy-signin", "some", "Partial Copy"),
])
def test_a_sandbox_without_the_platforms_records_fails_at_connect_without_a_snapshot(
        scenario: str, found: str, words: str) -> None:
    res = _signed_in_org(SUITE[scenario], snapshot=False)
    r = res["identity.signed_in_org"]
    assert (r.status.value, r.reason, r.step) == ("fail", "org.mismatch", "connect")
    sampled = r.evidence["accounts_sampled"] + r.evidence["contacts_sampled"]
    got = r.evidence["accounts_found"] + r.evidence["contacts_found"]
    assert sampled > 0 and (got == 0 if found == "none" else 0 < got < sampled)
    assert words in r.cause and "full-copy" not in r.cause
    assert r.evidence["signed_in_org"]["kind"] == "SANDBOX"
    assert "before documenting the mappings" in r.resolution  # before anything is read from the wrong org
    assert res["ts.wrong_org"].status.value == "fail"


def test_production_holding_the_records_passes_without_a_snapshot() -> None:
    res = _signed_in_org("healthy", snapshot=False)
    r = res["identity.signed_in_org"]
    assert r.status.value == "pass" and r.evidence["accounts_found"] == r.evidence["accounts_sampled"] > 0


def test_a_full_copy_sandbox_signed_in_is_warned(scenario_file_path) -> None:
    res = _signed_in_org(scenario_file_path, snapshot=False)
    r = res["identity.signed_in_org"]
    assert (r.status.value, r.reason) == ("warn", "org.sandbox_copy")
    assert "full-copy sandbox keeps production's record Ids" in r.cause


def test_with_a_snapshot_both_orgs_are_named(check_json) -> None:
    r = check_json(SUITE["pacific-dev-sandbox-signin"], "--only", "identity.signed_in_org")["by_id"][
        "identity.signed_in_org"]
    assert r["evidence"]["signed_in_org"]["name"] == "Pacific Dev"
    assert r["evidence"]["data_org"]["name"] == "Pacific Outfitters"
    assert "Pacific Dev" in r["summary"] and "Pacific Outfitters" in r["summary"]


def test_the_right_org_passes_at_connect(check_json) -> None:
    r = check_json("healthy", "--only", "identity.signed_in_org")["by_id"]["identity.signed_in_org"]
    assert r["status"] == "pass" and r["step"] == "connect"


@pytest.fixture
def scenario_file_path(tmp_path) -> str:
    """A full copy of production ("copy_of", every record and its Id) where the wizard's browser is signed in."""
    path = tmp_path / "full.yaml"
    path.write_text("""schema: 1
name: full-copy-signin
extends: healthy
orgs:
  full:
    copy_of: prod
    sandbox_type: full
    name: Northwind Full
    instance_name: CS47
    users:
      admin: {username: avery.admin@northwind.example.full}
      integration: {username: px.integration@northwind.example.full}
      rep: {username: jordan.rep@northwind.example.full}
connected_apps:
  sfwizard: {name: sfwizard, installed_in: [prod, full]}
  gainsight: {name: Gainsight PX, installed_in: [prod, full], rotate_refresh_tokens: true}
login:
  remembered_session: full.admin
""")
    return str(path)
