"""The scenario format describes real tenants: each key the issue asked for loads into the sandbox, and
each mistake is one ``file:line:column`` line naming exactly what is wrong."""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sfwizard import ids, snapshot
from sfwizard.errors import SfwizardError
from sfwizard.sandbox.admin.view import state_json
from sfwizard.sandbox.scenarios.loader import load_expectation, load_scenario


def _write(tmp_path: Path, body: str, name: str = "tenant.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip())
    return str(path)


def _error(tmp_path: Path, body: str) -> str:
    path = _write(tmp_path, body)
    with pytest.raises(SfwizardError) as err:
        load_scenario(path)
    message = err.value.message
    assert "\n" not in message and message.startswith(path + ":"), message
    return message.removeprefix(path + ":")


def _line_of(body: str, text: str) -> int:
    return next(n for n, line in enumerate(textwrap.dedent(body).lstrip().splitlines(), 1) if text in line)


# -- identity: org Id, My Domain, a full-copy sandbox -----------------------------------------------------

FULL_COPY = """
    schema: 1
    name: copy
    extends: healthy
    orgs:
      prod:
        org_id: 00D8d000004FqhZEAS
        my_domain: contoso
      full:
        copy_of: prod
        name: Contoso (Full)
        org_id: 00D7e000000aRxYEAU
        my_domain: contoso--full.sandbox.my.salesforce.com
        users:
          admin: {username: avery.admin@northwind.example.full}
          integration: {username: px.integration@northwind.example.full}
          rep: {username: jordan.rep@northwind.example.full}
"""


def test_an_org_id_and_my_domain_are_the_orgs_own(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, FULL_COPY))
    prod, full = state.orgs["prod"], state.orgs["full"]
    assert prod.id == "00D8d000004FqhZEAS" and prod.my_domain == "contoso.my.salesforce.com"
    assert prod.table("Organization").get(prod.id)["Name"] == "Northwind Traders"
    assert full.my_domain == "contoso--full.sandbox.my.salesforce.com"
    assert state.default_org_key == "prod"
    assert {o["my_domain"] for o in state_json(state)["orgs"]} == {prod.my_domain, full.my_domain}


def test_a_full_copy_sandbox_shares_productions_record_ids(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, FULL_COPY))
    prod, full = state.orgs["prod"], state.orgs["full"]
    assert full.is_sandbox and not prod.is_sandbox and full.id != prod.id
    prod_accounts = [r["Id"] for r in prod.table("Account").scan()]
    assert prod_accounts == [r["Id"] for r in full.table("Account").scan()] and len(prod_accounts) == 150
    assert [r["Id"] for r in prod.table("Contact").scan()] == [r["Id"] for r in full.table("Contact").scan()]
    assert full.sobject("Subscription__c") is not None  # schema copied too
    users = {u["Username"] for u in full.table("User").scan()}
    assert users == {"avery.admin@northwind.example.full", "px.integration@northwind.example.full",
                     "jordan.rep@northwind.example.full"}


@pytest.mark.parametrize("value,words", [
    ("001000000000001", "expected an Organization Id"),
    ("00D8d000004FqhZEAX", "expected an Organization Id"),  # a wrong checksum
])
def test_a_bad_org_id_is_refused_at_its_position(tmp_path, value: str, words: str) -> None:
    body = f"""
        schema: 1
        name: x
        orgs:
          p:
            name: A
            org_id: {value}
    """
    assert _error(tmp_path, body).startswith("6:5: orgs.p.org_id:") and words in _error(tmp_path, body)


def test_copy_of_names_another_org(tmp_path) -> None:
    body = """
        schema: 1
        name: x
        extends: healthy
        orgs:
          uat: {name: UAT, copy_of: production}
    """
    message = _error(tmp_path, body)
    assert message.startswith("5:20: orgs.uat.copy_of:") and "another org" in message


# -- Knowledge, logins, password policies ----------------------------------------------------------------

def test_knowledge_not_used_reaches_the_snapshot(tmp_path) -> None:
    path = _write(tmp_path, """
        schema: 1
        name: no-kb
        extends: healthy
        platform:
          knowledge: {used: false, enabled: false}
    """)
    state = load_scenario(path)
    assert state.platform.knowledge.used is False
    snap = snapshot.from_sandbox_state(state_json(state))
    assert snap.knowledge.used is False and snap.knowledge.enabled is False
    assert snapshot.from_sandbox_state(state_json(load_scenario("healthy"))).knowledge.used is True


def test_failed_logins_land_in_the_login_history(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, """
        schema: 1
        name: failed
        extends: healthy
        orgs:
          prod:
            login_history:
              - {user: integration, app: gainsight, at: -2h, status: "Failed: Password Expired"}
              - {user: admin, at: -1h, status: "Invalid Password"}
    """))
    org = state.default_org
    rows = {r["Status"]: r for r in org.table("LoginHistory").scan() if r["Status"] != "Success"}
    assert rows["Failed: Password Expired"]["Application"] == "Gainsight PX"
    assert rows["Failed: Password Expired"]["UserId"] == state.platform.integration.user_id
    assert rows["Invalid Password"]["LoginType"] == "Application"
    assert abs(state.loaded_at - rows["Invalid Password"]["LoginTime"] - timedelta(hours=1)) < timedelta(seconds=5)


def test_a_login_names_a_user_key_of_its_org(tmp_path) -> None:
    body = """
        schema: 1
        name: x
        extends: healthy
        orgs:
          prod:
            login_history:
              - {user: integrtion, at: -2h, status: Failed}
    """
    message = _error(tmp_path, body)
    assert message.startswith(f"{_line_of(body, 'integrtion')}:10: orgs.prod.login_history[0].user:")
    assert "unknown user key 'integrtion' in org prod (did you mean 'integration'?)" in message


def test_password_policy_per_profile_and_never_expires(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, """
        schema: 1
        name: policy
        extends: healthy
        orgs:
          prod:
            password_expiry_days: 365
            profiles:
              Minimum Access - API Only Integrations: {api_enabled: false, password_expiry_days: 0}
            permission_sets:
              Gainsight_PX_Integration: {password_never_expires: true}
    """))
    org = state.default_org
    profile = next(p for p in org.table("Profile").scan() if p["Name"].startswith("Minimum Access"))
    assert org.password_expiry_days == 365 and org.profile_password_policies == {profile["Id"]: 0}
    pset = next(p for p in org.table("PermissionSet").scan() if p["Name"] == "Gainsight_PX_Integration")
    assert pset["PermissionsPasswordNeverExpires"] is True


def test_a_password_policy_takes_salesforces_values_only(tmp_path) -> None:
    body = """
        schema: 1
        name: x
        orgs:
          p:
            name: A
            password_expiry_days: 45
    """
    message = _error(tmp_path, body)
    assert message.startswith("6:5: orgs.p.password_expiry_days:") and "0, 30, 60, 90, 180, 365" in message


# -- status page -------------------------------------------------------------------------------------------

def test_maintenance_windows_and_components_under_maintenance(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, """
        schema: 1
        name: mnt
        extends: healthy
        status_page:
          indicator: maintenance
          components:
            - {name: Salesforce Integration, status: under_maintenance, group: Integrations}
            - {name: REST API, status: operational}
          maintenances:
            - {name: Connector upgrade, status: in_progress, scheduled_for: -1h, scheduled_until: +2h,
               components: [Salesforce Integration]}
    """))
    sp = state.status_page
    assert sp.indicator == "maintenance" and sp.components[0].group == "Integrations"
    (m,) = sp.maintenances
    assert m.status == "in_progress" and m.scheduled_until - m.scheduled_for == timedelta(hours=3)


@pytest.mark.parametrize("item,line_text,words", [
    ("maintenances:\n    - {name: M, status: scheduled, scheduled_for: +1h, scheduled_until: +2h, components: [Nope]}",
     "components: [Nope]", "unknown status page component 'Nope'"),
    ("maintenances:\n    - {name: M, status: scheduled, scheduled_for: +2h, scheduled_until: +1h}",
     "scheduled_until", "ends before it starts"),
    ("incidents:\n    - {name: I, status: identified, impact: minor, created: -1h, components: [REST APi]}",
     "REST APi", "did you mean 'REST API'"),
])
def test_status_page_mistakes_are_positioned(tmp_path, item: str, line_text: str, words: str) -> None:
    body = ("schema: 1\nname: x\nextends: healthy\nstatus_page:\n  components:\n    - {name: REST API}\n  "
            + item + "\n")
    path = tmp_path / "sp.yaml"
    path.write_text(body)
    with pytest.raises(SfwizardError) as err:
        load_scenario(str(path))
    line = next(n for n, text in enumerate(body.splitlines(), 1) if line_text in text)
    assert err.value.message.startswith(f"{path}:{line}:") and words in err.value.message


# -- Skilljar's disconnect, apart from the last sync ------------------------------------------------------

def test_skilljar_disconnect_later_than_the_last_sync_and_a_reconnect(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, """
        schema: 1
        name: sj
        extends: skilljar-recent
        skilljar:
          disconnected: -20.5d
          last_sync: -21.3d
          reconnected: -1h
    """))
    sj = state.skilljar
    assert sj.last_sync_at < sj.disconnected_at and sj.status == "connected" and sj.access_token
    tokens = [t for t in state.default_org.table("OauthToken").scan() if t["AppName"] == "Skilljar"]
    assert len(tokens) == 1 and tokens[0]["CreatedDate"] > sj.disconnected_at


def test_a_last_sync_after_the_disconnect_is_refused(tmp_path) -> None:
    body = """
        schema: 1
        name: x
        extends: skilljar-recent
        skilljar:
          disconnected: -9d
          last_sync: -2d
    """
    message = _error(tmp_path, body)
    assert message.startswith(f"{_line_of(body, 'last_sync')}:3: skilljar.last_sync:")
    assert "after the disconnect" in message


# -- explicit records ------------------------------------------------------------------------------------------

RECORDS = """
    schema: 1
    name: explicit
    extends: healthy
    orgs:
      prod:
        records:
          Account:
            - {Name: Fabrikam, Industry: Retail, NumberOfEmployees: 40, BillingCity: Oslo, BillingCountry: Norway,
               CreatedDate: -90d, LastModifiedDate: -2d, LastModifiedById: rep}
            - {Name: Tailspin, BillingCity: Lyon, BillingCountry: FR, AnnualRevenue: 1200000.5}
          Contact: {generate: 4}
"""


def test_explicit_records_take_relative_times_and_user_keys(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, RECORDS))
    org = state.default_org
    accounts = {a["Name"]: a for a in org.table("Account").scan()}
    fab = accounts["Fabrikam"]
    assert isinstance(fab["LastModifiedDate"], datetime)
    assert abs(state.loaded_at - fab["LastModifiedDate"] - timedelta(days=2)) < timedelta(seconds=5)
    rep = next(u for u in org.table("User").scan() if u["Username"].startswith("jordan.rep"))
    assert fab["LastModifiedById"] == rep["Id"] and fab["NumberOfEmployees"] == 40
    assert accounts["Tailspin"]["AnnualRevenue"] == 1200000.5 and ids.is_valid(accounts["Tailspin"]["Id"])
    contacts = list(org.table("Contact").scan())
    assert len(contacts) == 4 and {c["MailingCity"] for c in contacts} <= {"Oslo", "Lyon"}


@pytest.mark.parametrize("old,new,where,words", [
    ("Industry: Retail", "Industri: Retail", "Industri",
     "field 'Industri' does not exist on Account (did you mean 'Industry'?)"),
    ("NumberOfEmployees: 40", "NumberOfEmployees: forty", "forty", "expected an integer"),
    ("LastModifiedDate: -2d", "LastModifiedDate: last tuesday", "last tuesday", "not a time"),
    ("LastModifiedById: rep", "LastModifiedById: nobody", "nobody",
     "expected a record Id or one of this org's user keys"),
])
def test_an_explicit_record_is_checked_against_its_objects_fields(tmp_path, old, new, where, words) -> None:
    body = RECORDS.replace(old, new)
    message = _error(tmp_path, body)
    assert message.startswith(f"{_line_of(body, where)}:"), message
    assert words in message and "orgs.prod.records.Account[0]" in message


def test_a_parent_field_a_generator_needs_is_named_at_its_record(tmp_path) -> None:
    body = RECORDS.replace("BillingCity: Lyon, ", "")
    message = _error(tmp_path, body)
    assert message.startswith(f"{_line_of(body, 'Tailspin')}:11: orgs.prod.records.Account[1]:"), message
    assert "generating Contact records needs BillingCity" in message and "unknown reference" not in message


def test_a_write_by_the_integration_user_after_its_token_died_is_refused(tmp_path) -> None:
    body = """
        schema: 1
        name: x
        extends: revoked-token
        orgs:
          prod:
            records:
              Lead:
                - {LastName: Late, Company: Initech, Status: Open, LastModifiedDate: -1d, LastModifiedById: integration}
    """
    message = _error(tmp_path, body)
    assert message.startswith(f"{_line_of(body, 'Initech')}:") and "after its token died" in message


# -- faults, references, the expectation block ----------------------------------------------------------------

@pytest.mark.parametrize("fault,words", [("drop: lots", "could not convert"), ("dorp: 0.5", "unknown fault 'dorp'"),
                                         ("error: 2", "a rate is a fraction")])
def test_a_faults_mistake_is_positioned(tmp_path, fault: str, words: str) -> None:
    body = f"""
        schema: 1
        name: x
        extends: healthy
        faults:
          latency: 5
          {fault}
    """
    message = _error(tmp_path, body)
    assert message.startswith(f"{_line_of(body, fault)}:3: faults.{fault.split(':')[0]}:"), message
    assert words in message


def test_a_user_with_an_unknown_profile_is_named_at_its_position(tmp_path) -> None:
    body = """
        schema: 1
        name: x
        orgs:
          p:
            name: A
            profiles: {Admin: {}}
            users:
              a: {username: a@x.example, first_name: A, last_name: B, profile: Admn}
    """
    message = _error(tmp_path, body)
    assert message.startswith(f"{_line_of(body, 'Admn')}:") and "did you mean 'Admin'" in message


def test_the_expectation_block_is_validated_and_not_inherited(tmp_path) -> None:
    parent = _write(tmp_path, """
        schema: 1
        name: parent
        extends: healthy
        expect: {exit_code: 0, fail: []}
    """, "parent.yaml")
    child = _write(tmp_path, "schema: 1\nname: child\nextends: parent.yaml\n", "child.yaml")
    assert load_expectation(parent) == {"exit_code": 0, "fail": []} and load_expectation(child) == {}
    body = "schema: 1\nname: x\nextends: healthy\nexpect: {exit_code: 1, failing: [token.fresh]}\n"
    path = tmp_path / "e.yaml"
    path.write_text(body)
    with pytest.raises(SfwizardError, match=r"e\.yaml:4:\d+: expect\.failing: unknown key 'failing'"):
        load_expectation(str(path))
