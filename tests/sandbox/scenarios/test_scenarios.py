"""Scenarios: every built-in loads, data is deterministic and valid, bad files get positioned errors."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sfwizard import ids
from sfwizard.errors import SfwizardError
from sfwizard.sandbox.salesforce.tokens import token_store
from sfwizard.sandbox.scenarios.loader import builtin_scenarios, load_scenario

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
    assert integ.status == "DOWN"
    assert integ.access_token is None


def test_same_seed_same_data() -> None:
    a, b = load_scenario("healthy"), load_scenario("healthy")
    rows_a = [(r["Id"], r["Name"], r["Industry"]) for r in a.default_org.table("Account").scan()]
    rows_b = [(r["Id"], r["Name"], r["Industry"]) for r in b.default_org.table("Account").scan()]
    assert rows_a == rows_b
    assert len(rows_a) == 150


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
    assert state.orgs[org_key].is_sandbox
    assert state.orgs[org_key].user(user_id)["Username"].endswith(".uat")


def test_missing_permissions_user_lacks_api_and_edit() -> None:
    state = load_scenario("missing-permissions")
    org = state.default_org
    access = org.access(state.platform.integration.user_id)
    account = org.sobject("Account")
    assert not access.api_enabled
    assert not access.field_perm(account, account.field("PX_Health_Score__c"), "edit")


def test_skilljar_windows() -> None:
    recent, expired = load_scenario("skilljar-recent"), load_scenario("skilljar-expired")
    assert recent.profile == "skilljar"
    assert recent.skilljar.status == "disconnected"
    assert (recent.loaded_at - recent.skilljar.disconnected_at).days == 9
    assert (expired.loaded_at - expired.skilljar.disconnected_at).days == 30
    assert recent.skilljar.pending
    assert all(p["updated_at"] >= recent.skilljar.last_sync_at for p in recent.skilljar.pending)


def test_large_tenant_generates_accounts_on_demand() -> None:
    tracemalloc.start()
    state = load_scenario("large-tenant")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    table = state.default_org.table("Account")
    assert len(table) >= 250_000
    assert peak < 40 * 1024 * 1024  # a dict per row would be hundreds of MB
    last = table.row_at(table.generated_count - 1)
    assert table.get(last["Id"])["Name"] == last["Name"]
    assert ids.is_valid(last["Id"])


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
    assert "\n" not in message
    assert words in message
    assert not where or f"{path}{where}" in message


@pytest.mark.slow  # the full scan it compares against reads 250,000 rows (~3 s)
def test_large_tenant_date_index_gives_the_same_answer_as_a_scan() -> None:
    from datetime import timedelta

    from sfwizard.sandbox.salesforce.soql.engine import run_query
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
    assert fast == slow
    assert len(fast) >= 300  # the 300 records changed since the disconnect (and pushes)


# -- connection line, tokens, platform state ------------------------------------------------------

CONNECTION_KEYS = {"instance_url", "login_url", "ca_cert", "client_id", "client_secret", "username", "password",
                   "px_api_url", "px_api_key", "status_url", "admin_url", "scenario", "profile", "org_id",
                   "api_version", "integration_username", "users"}


def _info(name: str) -> tuple[Any, dict[str, Any]]:
    from sfwizard.sandbox.scenarios.loader import connection_info
    from sfwizard.sandbox.tls import CertPaths

    state = load_scenario(name)
    state.base_url = "https://127.0.0.1:8443"
    certs = CertPaths(Path("/x/ca.pem"), Path("/x/ca.key"), Path("/x/cert.pem"), Path("/x/key.pem"))
    return state, connection_info(state, certs)


def test_connection_line_has_every_key_and_secrets_only_where_meant() -> None:
    state, info = _info("wrong-org")
    assert CONNECTION_KEYS <= set(info)
    base = "https://127.0.0.1:8443"
    assert info["instance_url"] == info["login_url"] == base
    assert info["admin_url"] == base + "/"
    assert info["px_api_url"] == base + "/px/v1"
    assert info["status_url"] == base + "/status"
    assert info["ca_cert"] == "/x/ca.pem"
    assert info["org_id"] == state.default_org.id
    wizard = state.connected_apps[info["client_id"]]
    assert wizard.name == "sfwizard"
    assert info["client_secret"] == wizard.client_secret
    assert info["integration_username"] == "px.integration@northwind.example"
    # Every login a trainee may need, with the role key the scenario gave it; wrong-org needs the UAT admin.
    logins = {(u["org"], u["username"]): u for u in info["users"]}
    assert len(logins) == len(state.passwords)
    assert logins[("prod", "jordan.rep@northwind.example")]["role"] == "rep"
    assert logins[("uat", "avery.admin@northwind.example.uat")]["role"] == "admin"
    assert info["password"] == logins[("prod", info["username"])]["password"]
    # Secrets appear only in the fields that exist to carry them.
    secrets = {info["client_secret"], info["px_api_key"], *state.passwords.values()}
    allowed = {"password", "client_secret", "px_api_key"}
    for key, value in info.items():
        if key == "users":
            for u in value:
                assert not any(s in str(v) for s in secrets for k, v in u.items() if k != "password")
        elif key not in allowed:
            assert not any(s in str(value) for s in secrets), key


def test_healthy_integration_has_working_tokens_and_login_history() -> None:
    state = load_scenario("healthy")
    integ, org = state.platform.integration, state.default_org
    store = token_store(state)
    assert integ.status == "UP"
    assert integ.disconnected_at is None
    assert not store.access[integ.access_token].revoked
    assert not store.refresh[integ.refresh_token].revoked
    app = state.connected_apps[integ.client_id]
    tokens = [r for r in org.table("OauthToken").scan() if r["AppName"] == app.name]
    assert len(tokens) == 1
    assert tokens[0]["UserId"] == integ.user_id
    assert tokens[0]["UseCount"] > 0
    assert tokens[0]["CreatedDate"] < tokens[0]["LastUsedDate"] <= state.loaded_at
    logins = [r for r in org.table("LoginHistory").scan() if r["UserId"] == integ.user_id]
    assert len(logins) > 20
    assert {(r["LoginType"], r["Application"], r["Status"]) for r in logins} == \
        {("Remote Access 2.0", app.name, "Success")}
    assert not state.platform.synced  # nothing changed since the last sync: PX shows live values


def test_revoked_token_has_no_usable_token_and_an_error() -> None:
    state = load_scenario("revoked-token")
    integ, org = state.platform.integration, state.default_org
    assert integ.status == "DOWN"
    assert integ.refresh_token is None
    assert "INVALID_SESSION_ID" in integ.last_error
    app = state.connected_apps[integ.client_id]
    assert not [r for r in org.table("OauthToken").scan() if r["AppName"] == app.name]
    live = [t for t in token_store(state).refresh.values() if t.grant.client_id == integ.client_id and not t.revoked]
    assert live == []
    last_login = max(r["LoginTime"] for r in org.table("LoginHistory").scan() if r["UserId"] == integ.user_id)
    assert last_login <= integ.disconnected_at


def test_healthy_permission_set_grants_what_the_mappings_need() -> None:
    state = load_scenario("healthy")
    org, integ = state.default_org, state.platform.integration
    access = org.access(integ.user_id)
    assert access.api_enabled
    assert not access.modify_all
    for m in integ.mappings:
        sobject = org.sobject(m.sf_object)
        f = sobject.field(m.sf_field)
        assert access.field_perm(sobject, f, "read"), m
        if f.custom:  # exactly what the mappings need: edit on push targets, read on the rest
            assert access.field_perm(sobject, f, "edit") == (m.direction == "px_to_sf"), m
    pushes = [m for m in integ.mappings if m.direction == "px_to_sf"]
    assert pushes
    assert all(m.sf_field.startswith("PX_") for m in pushes)
    assert "Subscription__c" in integ.custom_objects
    assert org.sobject("Subscription__c").key_prefix == "a05"


def test_px_has_an_attribute_for_every_mapped_target() -> None:
    px = load_scenario("healthy").platform
    for m in px.integration.mappings:
        names = {a.api_name for a in px.attributes[m.px_object]}
        assert m.px_attribute in names, m


@pytest.mark.parametrize("name,check", [
    ("push-missing-prefix", lambda s: any(m.direction == "px_to_sf" and not m.sf_field.startswith("PX_")
                                          for m in s.platform.integration.mappings)),
    ("knowledge-off", lambda s: not s.platform.knowledge.enabled
     and len(s.default_org.table("KnowledgeArticleVersion")) > 0),
    ("status-incident", lambda s: any(i.status != "resolved" and "Salesforce Integration" in i.components
                                      for i in s.status_page.incidents)),
    ("stale-data", lambda s: s.platform.integration.status == "UP" and len(s.platform.synced) >= 50
     and s.loaded_at - s.platform.integration.last_success >= timedelta(days=2)),
])
def test_each_scenario_shows_its_problem(name: str, check) -> None:
    assert check(load_scenario(name))


def test_generated_people_are_plausible() -> None:
    state = load_scenario("healthy")
    org = state.default_org
    accounts = {r["Id"]: r for r in org.table("Account").scan()}
    contacts = list(org.table("Contact").scan())
    assert len({a["Name"] for a in accounts.values()}) > 100  # real variety, not "Account 1"
    for c in contacts[:50]:
        domain = accounts[c["AccountId"]]["Website"].removeprefix("https://www.")
        assert c["Email"].endswith("@" + domain)
        assert c["Title"]
        assert c["CreatedDate"] <= c["LastModifiedDate"] <= state.loaded_at
    created = sorted(a["CreatedDate"] for a in accounts.values())
    assert created[-1] - created[0] > timedelta(days=180)  # spread over the past year or more


def test_extends_by_relative_path_and_loops(tmp_path) -> None:
    (tmp_path / "base.yaml").write_text("schema: 1\nname: base\nextends: healthy\nseed: 5\n")
    (tmp_path / "child.yaml").write_text("schema: 1\nname: child\nextends: base.yaml\nplatform: {status: DOWN}\n")
    state = load_scenario(str(tmp_path / "child.yaml"))
    assert state.scenario_name == "child"
    assert state.seed == 5
    assert state.platform.integration.status == "DOWN"
    assert len(state.platform.integration.mappings) == 13  # inherited through two levels
    (tmp_path / "a.yaml").write_text("schema: 1\nname: a\nextends: b.yaml\norgs: {}\n")
    (tmp_path / "b.yaml").write_text("schema: 1\nname: b\nextends: a.yaml\norgs: {}\n")
    with pytest.raises(SfwizardError, match="loop"):
        load_scenario(str(tmp_path / "a.yaml"))


def test_healthy_loads_fast() -> None:
    import time

    load_scenario("healthy")
    start = time.perf_counter()
    load_scenario("healthy")
    assert time.perf_counter() - start < 0.3
