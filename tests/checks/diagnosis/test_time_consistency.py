"""Time stays consistent in every scenario: no write by the integration user once its token died, the push
history only where the sync engine writes, and the changes since the disconnect made by people."""

from __future__ import annotations

import pytest

from sfwizard.sandbox.px.sync import push_error
from sfwizard.sandbox.scenarios.loader import builtin_scenarios, load_scenario

SCENARIOS = [name for name, _ in builtin_scenarios() if name != "large-tenant"]


def _dead_spans(state) -> list[tuple[str, str, object, object]]:
    """(org key, user Id, from, until) for each integration user without a live token."""
    spans = []
    if state.platform is not None:
        integ = state.platform.integration
        if integ.disconnected_at is not None:
            home, user = integ.home_org_key, integ.home_user_id
            again = None
            if (integ.org_key, integ.user_id) == (home, user) and integ.access_token:
                again = min((r["CreatedDate"] for r in state.orgs[home].table("OauthToken").scan()
                             if r["UserId"] == user), default=None)
            spans.append((home, user, integ.disconnected_at, again))
    if state.skilljar is not None and state.skilljar.disconnected_at is not None:
        sj = state.skilljar
        again = min((r["CreatedDate"] for r in state.orgs[sj.org_key].table("OauthToken").scan()
                     if r["UserId"] == sj.user_id), default=None)
        spans.append((sj.org_key, sj.user_id, sj.disconnected_at, again))
    return spans


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_integration_write_after_its_token_died(name: str) -> None:
    state = load_scenario(name)
    for org_key, user, dead, again in _dead_spans(state):
        org = state.orgs[org_key]
        late = [(obj, r["Id"]) for obj, table in org.tables.items() for r in table.scan()
                if r.get("LastModifiedById") == user and r.get("LastModifiedDate") is not None
                and r["LastModifiedDate"] > dead and (again is None or r["LastModifiedDate"] < again)]
        assert late == [], f"{len(late)} records written by the integration user after {dead}: {late[:3]}"


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_push_history_writes_only_where_the_engine_would(name: str) -> None:
    state = load_scenario(name)
    if state.platform is None:
        return
    integ = state.platform.integration
    org = state.orgs[integ.home_org_key]
    user = org.user(integ.home_user_id)
    for m in integ.mappings:
        if m.direction != "px_to_sf" or org.sobject(m.sf_object) is None or push_error(org, user, m) is None:
            continue
        field = org.sobject(m.sf_object).field(m.sf_field)
        if field is not None and field.formula:  # Salesforce computes a formula field: nobody writes it
            continue
        written = [r["Id"] for r in org.table(m.sf_object).scan()
                   if field is not None and r.get(field.name) is not None and r.get("LastModifiedById") == user["Id"]]
        assert written == [], f"{m.salesforce} refused by the engine ({push_error(org, user, m)}) yet written"


@pytest.mark.parametrize("name", SCENARIOS)
def test_changes_since_the_disconnect_are_made_by_people(name: str) -> None:
    state = load_scenario(name)
    if state.platform is None or not state.platform.synced:
        return
    integ = state.platform.integration
    org = state.orgs[integ.home_org_key]
    integration_users = {integ.home_user_id, integ.user_id}
    for record_id in state.platform.synced:
        table = org.table("Account" if record_id.startswith("001") else "Contact")
        assert table.get(record_id)["LastModifiedById"] not in integration_users, record_id


def test_push_missing_prefix_never_wrote_the_unprefixed_field() -> None:
    state = load_scenario("push-missing-prefix")
    org = state.default_org
    assert all(r.get("Health_Score__c") is None for r in org.table("Account").scan())
    assert any(r.get("PX_Active_Users__c") is not None for r in org.table("Account").scan())  # the valid one was


def test_a_dead_integration_shows_no_recent_push(check_json) -> None:
    r = check_json("revoked-token", "--only", "flow.platform_to_salesforce")["by_id"]["flow.platform_to_salesforce"]
    assert (r["status"], r["reason"]) == ("fail", "flow.no_push")
    assert r["evidence"]["Account"]["written_by_integration"] == 0
    assert "DOWN" in r["cause"]
