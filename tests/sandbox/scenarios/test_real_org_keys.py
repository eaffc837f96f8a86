"""What real orgs do, said in a scenario and spoken by the sandbox as Salesforce speaks it: formula fields, expired
and locked passwords and frozen users, time zones (org, user, status page, PX), sandbox types, free-form Skilljar
histories and custom objects — and ``validate`` refusing what Salesforce would refuse, at its line and column."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import ssl_context
from sfwizard.sandbox.scenarios.loader import load_scenario


def _write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "tenant.yaml"
    path.write_text(textwrap.dedent(body).lstrip())
    return str(path)


def _error(tmp_path: Path, body: str) -> str:
    path = _write(tmp_path, body)
    with pytest.raises(SfwizardError) as err:
        load_scenario(path)
    assert err.value.message.startswith(path + ":"), err.value.message
    return err.value.message.removeprefix(path + ":")


class Api:
    """A running sandbox and REST calls as one of its users (password grant through the wizard's own app)."""

    def __init__(self, sb: Any) -> None:
        self.sb, self.info = sb, sb.info()
        self.http = httpx.Client(verify=ssl_context(self.info["ca_cert"]), timeout=10)

    def token(self, role: str = "admin") -> httpx.Response:
        user = next(u for u in self.info["users"] if u["role"] == role and u["org"] == self.sb.state.default_org_key)
        return self.http.post(self.info["login_url"] + "/services/oauth2/token", data={
            "grant_type": "password", "client_id": self.info["client_id"], "client_secret": self.info["client_secret"],
            "username": user["username"], "password": user["password"]})

    def get(self, path: str, role: str = "admin", **params: str) -> httpx.Response:
        token = self.token(role).json()["access_token"]
        return self.http.get(f"{self.info['instance_url']}/services/data/v60.0/{path}", params=params,
                             headers={"Authorization": f"Bearer {token}"})

    def query(self, soql: str, role: str = "admin") -> list[dict[str, Any]]:
        r = self.get("query/", role, q=soql)
        assert r.status_code == 200, r.text
        return r.json()["records"]


@pytest.fixture
def api(start_sandbox):
    opened: list[Api] = []

    def make(path_or_name: str) -> Api:
        opened.append(Api(start_sandbox(path_or_name)))
        return opened[-1]

    yield make
    for a in opened:
        a.http.close()


# -- formula fields ----------------------------------------------------------------------------------------------

FORMULA = """
    schema: 1
    name: formula
    extends: healthy
    orgs:
      prod:
        custom_fields:
          Account:
            Size_Band__c:
              type: string
              formula: "IF(NumberOfEmployees >= 1000, 'Enterprise', 'Growth') & ' / ' & BillingCountry"
"""


def test_a_formula_field_is_described_computed_and_never_written(api, tmp_path) -> None:
    a = api(_write(tmp_path, FORMULA))
    field = next(f for f in a.get("sobjects/Account/describe").json()["fields"] if f["name"] == "Size_Band__c")
    assert (field["calculated"], field["createable"], field["updateable"], field["type"]) == (True, False, False,
                                                                                            "string")
    assert field["calculatedFormula"].startswith("IF(NumberOfEmployees >= 1000")
    rows = a.query("SELECT Id, NumberOfEmployees, BillingCountry, Size_Band__c FROM Account LIMIT 20")
    for row in rows:
        band = "Enterprise" if (row["NumberOfEmployees"] or 0) >= 1000 else "Growth"
        assert row["Size_Band__c"] == f"{band} / {row['BillingCountry'] or ''}"
    token = a.token().json()["access_token"]
    url = f"{a.info['instance_url']}/services/data/v60.0/sobjects/Account/{rows[0]['Id']}"
    headers = {"Authorization": f"Bearer {token}"}
    refused = a.http.patch(url, json={"Size_Band__c": "Huge"}, headers=headers)
    assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert a.http.patch(url, json={"NumberOfEmployees": 5000, "BillingCountry": "DE"}, headers=headers
                        ).status_code == 204
    again = a.query(f"SELECT Size_Band__c FROM Account WHERE Id = '{rows[0]['Id']}'")
    assert again[0]["Size_Band__c"] == "Enterprise / DE"  # recomputed from the new values


@pytest.mark.parametrize("formula,message", [
    ("Employees__c * 2", "Field Employees__c does not exist. Check spelling. (at character 1 of the formula)"),
    ("IF(NumberOfEmployees > 1, 'a')", "Incorrect number of parameters for function 'IF()'"),
])
def test_a_formula_salesforce_would_refuse_is_refused_at_its_line(tmp_path, formula: str, message: str) -> None:
    body = FORMULA.replace(
        "\"IF(NumberOfEmployees >= 1000, 'Enterprise', 'Growth') & ' / ' & BillingCountry\"", f'"{formula}"')
    msg = _error(tmp_path, body)
    assert msg.startswith("10:11: orgs.prod.custom_fields.Account.Size_Band__c.formula: "), msg
    assert message in msg


@pytest.mark.parametrize("extra,message", [
    ("              updateable: true\n", "a formula field is never updateable"),
    ("", "a formula returns"),
])
def test_a_formula_field_cannot_be_writable_or_of_a_non_formula_type(tmp_path, extra: str, message: str) -> None:
    body = FORMULA.replace("              type: string\n", "              type: picklist\n" if not extra
                           else "              type: string\n" + extra)
    assert message in _error(tmp_path, body)


# -- expired and locked passwords, frozen users --------------------------------------------------------------------

EXPIRED = """
    schema: 1
    name: expired
    extends: healthy
    orgs:
      prod:
        users:
          rep: {password_expired: true, password_changed: -120d}
"""


def test_an_expired_password_answers_every_call_as_salesforce_does(api, tmp_path) -> None:
    a = api(_write(tmp_path, EXPIRED))
    r = a.get("limits", role="rep")
    assert r.status_code == 401
    assert r.json() == [{"message": "Your password has expired. Please reset your password.",
                         "errorCode": "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"}]
    assert a.get("limits").status_code == 200  # another user's calls are unaffected


def test_a_platform_syncing_as_an_expired_user_records_salesforces_code(tmp_path) -> None:
    from sfwizard.sandbox.integration import token_identity

    state = load_scenario(_write(tmp_path, EXPIRED.replace("rep:", "integration:")))
    assert token_identity(state, state.platform.integration.access_token).startswith(
        "INVALID_OPERATION_WITH_EXPIRED_PASSWORD: ")


@pytest.mark.parametrize("user,message", [
    ("{password_expired: true, password_changed: -10d}", "a 90-day policy has not expired it yet"),
    ("{password_expired: true, permission_sets: [Never_Expires]}", "Salesforce cannot have expired it"),
])
def test_an_expired_password_the_policy_could_not_expire_is_refused(tmp_path, user: str, message: str) -> None:
    body = EXPIRED.replace("{password_expired: true, password_changed: -120d}", user) + textwrap.indent(
        "permission_sets:\n  Never_Expires: {label: Never Expires, password_never_expires: true}\n", " " * 8)
    assert message in _error(tmp_path, body)


def test_locked_and_frozen_users_are_refused_with_their_login_status(api, tmp_path) -> None:
    a = api(_write(tmp_path, """
        schema: 1
        name: locked
        extends: healthy
        orgs:
          prod:
            users:
              rep: {locked: true}
              integration: {frozen: true}
    """))
    locked, frozen = a.token("rep"), a.token("integration")
    assert (locked.status_code, locked.json()["error"]) == (400, "invalid_grant")
    assert frozen.json() == {"error": "invalid_grant", "error_description": "inactive user"}
    statuses = {r["Status"] for r in a.query("SELECT Status FROM LoginHistory WHERE LoginTime = TODAY")}
    assert {"Password Lockout", "User Is Frozen"} <= statuses
    rows = a.query("SELECT UserId, IsFrozen, IsPasswordLocked FROM UserLogin")
    assert sorted((r["IsFrozen"], r["IsPasswordLocked"]) for r in rows) == [(False, False), (False, True),
                                                                            (True, False)]


def test_user_login_rows_need_manage_users(api) -> None:
    a = api("healthy")
    assert len(a.query("SELECT UserId FROM UserLogin")) == 3  # the admin has Manage Users
    refused = a.get("query/", role="rep", q="SELECT Id FROM UserLogin")  # a standard user has not
    assert refused.status_code >= 400, refused.text


# -- time zones ----------------------------------------------------------------------------------------------------

ZONES = """
    schema: 1
    name: zones
    extends: healthy
    orgs:
      prod:
        time_zone: Europe/Berlin
        users:
          rep: {time_zone: Asia/Tokyo}
    platform:
      time_zone: Australia/Sydney
    status_page:
      time_zone: America/Chicago
"""


def test_time_zones_are_kept_per_org_user_status_page_and_platform(api, tmp_path) -> None:
    a = api(_write(tmp_path, ZONES))
    assert a.query("SELECT TimeZoneSidKey FROM Organization")[0]["TimeZoneSidKey"] == "Europe/Berlin"
    users = {u["Username"].split(".")[0]: u["TimeZoneSidKey"] for u in a.query("SELECT Username, TimeZoneSidKey "
                                                                                 "FROM User")}
    assert users["jordan"] == "Asia/Tokyo" and users["avery"] == "Europe/Berlin"  # the org's, unless its own
    page = a.http.get(a.info["status_url"] + "/api/v2/status.json").json()["page"]
    assert page["time_zone"] == "America/Chicago"
    assert page["updated_at"][-6:] in ("-05:00", "-06:00")  # Statuspage writes times in the page's zone
    sub = a.http.get(a.info["px_api_url"] + "/admin/subscription",
                     headers={"X-APTRINSIC-API-KEY": a.info["px_api_key"]}).json()
    assert sub["timeZone"] == "Australia/Sydney"


def test_a_time_zone_salesforce_does_not_know_is_refused_with_a_suggestion(tmp_path) -> None:
    msg = _error(tmp_path, ZONES.replace("Europe/Berlin", "Europe/Berln"))
    assert msg.startswith("6:5: orgs.prod.time_zone:") and "did you mean 'Europe/Berlin'" in msg


# -- sandbox types -------------------------------------------------------------------------------------------------

COPY = """
    schema: 1
    name: copies
    extends: healthy
    orgs:
      dev:
        copy_of: prod
        sandbox_type: {kind}
        name: Northwind Dev
        users:
          admin: {{username: avery.admin@northwind.example.dev}}
          integration: {{username: px.integration@northwind.example.dev}}
          rep: {{username: jordan.rep@northwind.example.dev}}
"""


@pytest.mark.parametrize("kind,accounts", [("full", 150), ("developer", 0), ("developer_pro", 0)])
def test_a_sandbox_copies_what_its_kind_copies_with_productions_ids(tmp_path, kind: str, accounts: int) -> None:
    state = load_scenario(_write(tmp_path, COPY.format(kind=kind)))
    prod, dev = state.orgs["prod"], state.orgs["dev"]
    assert len(dev.table("Account")) == accounts
    assert len(dev.table("User")) == len(prod.table("User"))  # users are copied into every kind
    assert dev.sobject("Subscription__c") is not None  # and the metadata
    if accounts:
        assert {r["Id"] for r in dev.table("Account").scan()} == {r["Id"] for r in prod.table("Account").scan()}


def test_a_partial_copy_samples_each_object_with_productions_ids(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, COPY.format(kind="partial") + "        copied_records: 25\n"))
    prod_ids = {r["Id"] for r in state.orgs["prod"].table("Account").scan()}
    dev_ids = {r["Id"] for r in state.orgs["dev"].table("Account").scan()}
    assert len(dev_ids) == 25 and dev_ids <= prod_ids


@pytest.mark.parametrize("body,message", [
    ("    orgs:\n      prod:\n        sandbox_type: full\n", "only a sandbox has a sandbox type"),
    ("    orgs:\n      prod:\n        is_sandbox: true\n        copied_records: 5\n",
     "give sandbox_type: partial"),
])
def test_a_sandbox_type_where_salesforce_has_none_is_refused(tmp_path, body: str, message: str) -> None:
    assert message in _error(tmp_path, "schema: 1\nname: t\nextends: healthy\n" + textwrap.dedent(body))


# -- free-form Skilljar histories and custom objects -------------------------------------------------------------

def test_skilljar_history_takes_any_courses_in_any_language(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, """
        schema: 1
        name: courses
        extends: skilljar-recent
        skilljar:
          courses: ["Einführung", "データ分析の基礎", "Formation avancée"]
          students: 7
    """))
    org = state.default_org
    titles = {r["skilljar__Course_Title__c"] for r in org.table("skilljar__Published_Course__c").scan()}
    assert titles == {"Einführung", "データ分析の基礎", "Formation avancée"}
    assert len(org.table("skilljar__Student__c")) == 7
    assert {p["course"] for p in state.skilljar.pending} <= titles  # what a backfill pushes names them too


def test_a_course_title_longer_than_its_field_is_refused(tmp_path) -> None:
    msg = _error(tmp_path, "schema: 1\nname: c\nextends: skilljar-recent\nskilljar:\n  courses: ['" + "x" * 256
                 + "']\n")
    assert msg.startswith("5:") and "1 to 255 characters" in msg


def test_custom_object_records_are_made_whatever_their_fields_are_called(tmp_path) -> None:
    state = load_scenario(_write(tmp_path, """
        schema: 1
        name: custom
        extends: healthy
        orgs:
          prod:
            custom_objects:
              Renewal__c:
                label: Renewal
                prefix: a0R
                fields:
                  Holder__c: {type: reference, reference_to: Account}
                  Stage__c: {type: picklist, values: [Quoted, Bound]}
                  Term__c: {type: double}
                  Auto__c: {type: boolean}
                  Due__c: {type: date}
            records:
              Renewal__c: {generate: 12}
    """))
    org = state.default_org
    rows = list(org.table("Renewal__c").scan())
    accounts = {r["Id"] for r in org.table("Account").scan()}
    assert len(rows) == 12
    for r in rows:
        assert r["Holder__c"] in accounts and r["Stage__c"] in ("Quoted", "Bound")
        assert isinstance(r["Term__c"], float) and isinstance(r["Auto__c"], bool) and r["Due__c"] is not None
    assert rows[0]["CreatedDate"] <= state.loaded_at - timedelta(days=1)


# -- the README says every key ------------------------------------------------------------------------------------

def test_every_key_of_an_org_a_user_a_platform_and_a_status_page_is_documented() -> None:
    """The README's "The keys, in short" names each key the loader accepts (a key added without a word fails)."""
    from sfwizard.sandbox.scenarios import loader

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("#### The keys, in short"):readme.index("### Holding it against other clients")]
    specs = {"orgs": loader.ORG, "users": loader.USER, "platform": loader.PLATFORM, "skilljar": loader.SKILLJAR,
             "status_page": loader.STATUS, "custom_fields": loader.FIELD}
    import re

    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", section))
    missing = [f"{part}.{key}" for part, spec in specs.items() for key in spec.fields if key not in words]
    assert missing == []
