"""Scenarios: every built-in loads, data is deterministic and valid, bad files get positioned errors."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from datetime import timedelta

import pytest

from sfwizard import ids
from sfwizard.errors import SfwizardError
from sfwizard.sandbox.scenario import builtin_scenarios, load_scenario

BUILTINS = [name for name, _ in builtin_scenarios()]
REQUIRED = {"healthy", "revoked-token", "wrong-org", "missing-permissions", "stale-data", "push-missing-prefix",
            "knowledge-off", "status-incident", "skilljar-recent", "skilljar-expired", "large-tenant"}


def test_all_required_scenarios_ship_with_a_description() -> None:
    assert REQUIRED <= set(BUILTINS)
    assert all(desc.strip() for _, desc in builtin_scenarios())


@pytest.mark.parametrize("name", sorted(REQUIRED - {"large-tenant"}))
def test_builtin_loads_with_valid_prefixed_ids(name: str) -> None:
    state = load_scenario(name)
    for org in state.orgs.values():
        for obj, table in org.tables.items():
            for row in table.scan(include_deleted=True):
                assert ids.is_valid(row["Id"]), (obj, row["Id"])
                assert row["Id"].startswith(table.sobject.key_prefix), (obj, row["Id"])


def test_times_are_relative_to_now() -> None:
    state = load_scenario("revoked-token")
    integ = state.platform.integration
    assert abs((state.loaded_at - integ.disconnected_at) - timedelta(days=3)) < timedelta(seconds=5)
    assert integ.status == "DOWN" and integ.access_token is None


def test_same_seed_same_data() -> None:
    a, b = load_scenario("healthy"), load_scenario("healthy")
    rows_a = [(r["Id"], r["Name"], r["Industry"]) for r in a.default_org.table("Account").scan()]
    rows_b = [(r["Id"], r["Name"], r["Industry"]) for r in b.default_org.table("Account").scan()]
    assert rows_a == rows_b and len(rows_a) == 150


def test_secrets_are_fresh_each_load_and_not_in_the_files() -> None:
    a, b = load_scenario("healthy"), load_scenario("healthy")
    assert a.px_api_key != b.px_api_key
    assert set(a.passwords.values()).isdisjoint(b.passwords.values())


def test_stale_records_hold_old_values_in_the_platform() -> None:
    state = load_scenario("revoked-token")
    synced = state.platform.synced
    assert len(synced) == 18 + 25
    acc_id, old = next((k, v) for k, v in synced.items() if k.startswith("001"))
    live = state.default_org.table("Account").get(acc_id)
    assert live["LastModifiedDate"] > state.platform.integration.disconnected_at
    assert any(live[f] != old[a] for f, a in (("Industry", "industry"), ("NumberOfEmployees", "numberOfEmployees")))


def test_wrong_org_has_a_sandbox_org_and_a_remembered_session() -> None:
    state = load_scenario("wrong-org")
    assert {o.is_sandbox for o in state.orgs.values()} == {True, False}
    org_key, user_id = state.login_hint
    assert state.orgs[org_key].is_sandbox and state.orgs[org_key].user(user_id)["Username"].endswith(".uat")


def test_missing_permissions_user_lacks_api_and_edit() -> None:
    state = load_scenario("missing-permissions")
    org = state.default_org
    access = org.access(state.platform.integration.user_id)
    account = org.sobject("Account")
    assert not access.api_enabled
    assert not access.field_perm(account, account.field("PX_Health_Score__c"), "edit")


def test_skilljar_windows() -> None:
    recent, expired = load_scenario("skilljar-recent"), load_scenario("skilljar-expired")
    assert recent.profile == "skilljar" and recent.skilljar.status == "disconnected"
    assert (recent.loaded_at - recent.skilljar.disconnected_at).days == 9
    assert (expired.loaded_at - expired.skilljar.disconnected_at).days == 30
    assert recent.skilljar.pending and all(p["updated_at"] >= recent.skilljar.last_sync_at
                                            for p in recent.skilljar.pending)


def test_large_tenant_generates_accounts_on_demand() -> None:
    tracemalloc.start()
    state = load_scenario("large-tenant")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    table = state.default_org.table("Account")
    assert len(table) >= 250_000
    assert peak < 40 * 1024 * 1024  # a dict per row would be hundreds of MB
    last = table.row_at(table.generated_count - 1)
    assert table.get(last["Id"])["Name"] == last["Name"] and ids.is_valid(last["Id"])


@pytest.mark.parametrize("body,where,words", [
    ("schema: 1\nname: x\norgs:\n  p:\n    name: A\n    bogus: 1\n", ":6:5:", "unknown key 'bogus'"),
    ("schema: 1\nname: x\nname: y\norgs: {}\n", ":3:1:", "duplicate key 'name'"),
    ("schema: 1\nname: x\nseed: many\norgs: {}\n", ":3:1:", "expected an integer"),
    ("schema: 1\nname: x\norgs: {}\nplatform: {org: p, integration_user: i, connected_app: a, disconnected: "
     "yesterday}\n", ":4:", "not a time"),
    ("schema: 1\nname: x\nextends: no-such-thing\norgs: {}\n", "", "unknown scenario 'no-such-thing'"),
    ("schema: 1\nname: x\norgs: [\n", ":4:1:", "expected"),
    ("name: x\norgs: {}\n", ":1:1:", "missing required key 'schema'"),
])
def test_bad_files_get_one_positioned_line(tmp_path, body: str, where: str, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(SfwizardError) as err:
        load_scenario(str(path))
    message = err.value.message
    assert "\n" not in message and words in message and (not where or f"{path}{where}" in message)


def test_scenarios_command_lists_one_line_each() -> None:
    out = subprocess.run([sys.executable, "-m", "sfwizard", "scenarios"], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(out) == len(BUILTINS) and out[0].split()[0] == BUILTINS[0]


def test_large_tenant_date_index_gives_the_same_answer_as_a_scan() -> None:
    from datetime import timedelta

    from sfwizard.sandbox.soql import run_query
    from sfwizard.sftime import format_datetime

    state = load_scenario("large-tenant")
    org = state.default_org
    table = org.table("Account")
    since = format_datetime(state.loaded_at - timedelta(days=3, hours=1))
    soql = f"SELECT Id FROM Account WHERE LastModifiedDate > {since} ORDER BY Id"
    with state.lock:
        fast = [r["Id"] for r in run_query(state, org, None, soql).rows[:]]
        bounds, table.field_max = table.field_max, {}
        slow = [r["Id"] for r in run_query(state, org, None, soql).rows[:]]
        table.field_max = bounds
    assert fast == slow and len(fast) >= 300  # the 300 records changed since the disconnect (and pushes)
