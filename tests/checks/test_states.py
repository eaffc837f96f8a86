"""Every check, one id at a time, in its passing and its non-passing state against the sandbox.

test_scenarios_end_to_end.py judges whole scenarios; here each state is made on purpose (the SandboxState
mutated before the sandbox starts, the snapshot replaced, or a person's click played) and only the
checks under test run (``client.run_checks(ctx, only=[...])``). The last section drives the client's
resilience: retries on 5xx, 429 after retries, a refresh on an expired token, and server text in tables.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from sfwizard import snapshot
from sfwizard.checks import reasons
from sfwizard.checks.base import CheckResult, CheckSpec, Status, ok
from sfwizard.checks.context import CheckContext
from sfwizard.checks.runner import REGISTRY, run_checks, specs_for
from sfwizard.checks.troubleshoot import SYMPTOMS
from sfwizard.cli.check import render_table
from sfwizard.demo import approve_in_sandbox
from sfwizard.errors import SfwizardError
from sfwizard.integrations import signin, transport
from sfwizard.profiles import load_profile
from sfwizard.recovery.client import Endpoints, IntegrationClient
from sfwizard.sandbox.admin.routes import state_json
from sfwizard.sandbox.faults import apply_spec
from sfwizard.sandbox.scenarios.loader import load_scenario
from sfwizard.sandbox.server import Sandbox

_SAME: Any = object()
LOOKS_AT = {s.id: s.looks_at for s in SYMPTOMS}


# -- helpers -------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Live:
    """A running sandbox, a client signed in to it, and the snapshot its admin would have documented."""

    client: IntegrationClient
    snap: Any
    sb: Sandbox
    info: dict[str, Any]
    tokens: signin.TokenSet
    saved: list[signin.TokenSet]  # refreshed token sets, in order (``refresh=True`` only)

    @property
    def state(self):
        return self.sb.state

    def run(self, ids: list[str], snap: Any = _SAME, **ctx: Any) -> dict[str, CheckResult]:
        context = self.client.context(snapshot=self.snap if snap is _SAME else snap, **ctx)
        results = self.client.run_checks(context, only=ids)
        assert [r.id for r in results] == [s.id for s in specs_for(self.client.profile.name, ids)]
        for r in results:  # every result's reason is catalogued and fits its status
            assert not reasons.problem(r.status.value, r.reason), (r.id, reasons.problem(r.status.value, r.reason))
        return {r.id: r for r in results}

    def one(self, cid: str, snap: Any = _SAME, **ctx: Any) -> CheckResult:
        return self.run([cid], snap, **ctx)[cid]

    def user(self, role: str) -> dict[str, Any]:
        return next(u for u in self.info["users"] if u["role"] == role and u["org"] == self.state.default_org_key)

    def click_authorize(self, kind: str, role: str) -> str:
        """The platform admin clicks Authorize/Reconnect; the Salesforce user of ``role`` logs in and allows.

        Returns "" when the flow finished, else what stopped it (Salesforce's own error page).
        """
        with httpx.Client(verify=transport.tls_verify(self.info["ca_cert"]), timeout=10) as http:
            r = http.get(self.info["admin_url"] + f"__sandbox__/{kind}/authorize")
            assert r.status_code == 302
            try:
                approve_in_sandbox(self.info["login_url"] + r.headers["location"], {**self.info, **self.user(role)})
            except SfwizardError as exc:
                return exc.message
        return ""

    def admin_post(self, path: str) -> httpx.Response:
        with httpx.Client(verify=transport.tls_verify(self.info["ca_cert"]), timeout=10) as http:
            return http.post(self.info["admin_url"] + path)


@contextlib.contextmanager
def live(state, certs, *, role: str = "admin", px_key: str | None = "",
         refresh: bool = False) -> Iterator[Live]:
    """Start ``state`` on a free port and sign in through the PKCE flow as the user of ``role``.

    ``px_key=""`` uses the sandbox's key, ``None`` leaves the platform API out.
    """
    sb = Sandbox(state, port=0, certs=certs).start()
    client = None
    try:
        info = sb.info()
        who = next(u for u in info["users"] if u["role"] == role and u["org"] == state.default_org_key)
        session = signin.demo_sign_in(info, approve=lambda url: approve_in_sandbox(url, {**info, **who}))
        saved: list[signin.TokenSet] = []
        current = [session["tokens"]]

        def do_refresh() -> str:
            current[0] = signin.refresh(current[0], save=saved.append, ca_cert=info["ca_cert"])
            return current[0].access_token

        client = IntegrationClient(state.profile, Endpoints(
            instance_url=session["instance_url"], access_token=session["access_token"],
            api_version=info["api_version"], px_api_url=info["px_api_url"],
            px_api_key=info["px_api_key"] if px_key == "" else px_key, status_url=info["status_url"],
            ca_cert=info["ca_cert"]), refresh=do_refresh if refresh else None)
        snap = snapshot.from_sandbox_state(state_json(state))
        yield Live(client, snap, sb, info, session["tokens"], saved)
    finally:
        if client is not None:
            client.close()
        sb.stop()


def _perm_set(org, name: str) -> dict[str, Any]:
    return next(p for p in org.table("PermissionSet").scan() if p["Name"] == name)


def _field_perm(org, perm_set: str, field: str) -> dict[str, Any]:
    ps = _perm_set(org, perm_set)
    return next(fp for fp in org.table("FieldPermissions").scan()
                if fp["ParentId"] == ps["Id"] and fp["Field"] == field)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _not_passing(r: CheckResult, status: Status, reason: str) -> None:
    """A non-passing result carries its reason code and names its cause and what to do (manual/skipped
    ones need not)."""
    assert r.status == status, (r.id, r.status, r.reason, r.summary)
    assert r.reason == reason, (r.id, r.summary)
    if status in (Status.FAIL, Status.WARN):
        assert r.cause, r.id
        assert r.resolution, r.id
    assert "\n" not in r.summary, r.id


def _symptom_seen(r: CheckResult, *seen_in: str) -> None:
    """A troubleshooting symptom failed, named after itself, citing the checks that showed it."""
    _not_passing(r, Status.FAIL, r.id)
    assert r.evidence["seen_in"] == list(seen_in), r.id


@pytest.fixture(scope="module")
def healthy(tls_certs) -> Iterator[Live]:
    """One healthy Gainsight PX sandbox for the read-only passing states (every run gets a fresh context)."""
    with live(load_scenario("healthy"), tls_certs) as lv:
        yield lv


# -- every check passes where it should ------------------------------------------------------------------------

PX_IDS = [s.id for s in specs_for("gainsight-px")]
# before.people and knowledge.toggle are asked of a person; so is sec.logins where no vendor ranges are declared
# (healthy declares none; the security review's states: tests/checks/test_security.py)
PX_PASSING = [cid for cid in PX_IDS if cid not in ("before.people", "knowledge.toggle", "sec.logins")]


def test_the_id_list_is_what_the_brief_names() -> None:
    """Guard: a new check shows up here and must get its own states in this file."""
    specs_for("gainsight-px")
    assert set(REGISTRY) == set(PX_IDS) | {"skilljar.package", "skilljar.backfill_window",
                                           "skilljar.backfill_arrived", "skilljar.package_upgrade"}


@pytest.mark.parametrize("cid", PX_PASSING)
def test_each_gainsight_check_passes_on_the_healthy_org(healthy: Live, cid: str) -> None:
    ids = [*LOOKS_AT.get(cid, ()), cid]
    r = healthy.run(ids)[cid]
    assert r.status == Status.PASS, (cid, r.reason, r.summary, r.cause)
    assert r.reason == ""
    assert r.summary
    assert "\n" not in r.summary
    assert r.elapsed_ms >= 0
    if cid.startswith("ts."):
        assert r.evidence["looks_at"] == list(LOOKS_AT[cid])


def test_people_is_always_asked(healthy: Live) -> None:
    r = healthy.one("before.people")
    _not_passing(r, Status.MANUAL, "ask.people_present")
    assert set(r.evidence["roles"]) == {"Platform admin", "Salesforce admin"}


def test_troubleshooting_is_skipped_when_what_it_reads_did_not_run(healthy: Live) -> None:
    res = healthy.run([s.id for s in SYMPTOMS])
    assert {r.status for r in res.values()} == {Status.SKIPPED}
    assert {r.reason for r in res.values()} == {"skip.depends_on"}


# -- before you begin ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("component,status,expected,reason", [
    ("Salesforce Integration", "major_outage", Status.FAIL, "status.integration_affected"),  # a watched one is down
    ("Knowledge Center", "degraded_performance", Status.WARN, "status.incident_elsewhere"),  # trouble elsewhere
])
def test_status_page_fails_or_warns(tls_certs, component: str, status: str, expected: Status, reason: str) -> None:
    state = load_scenario("healthy")
    for c in state.status_page.components:
        if c.name == component:
            c.status = status
    state.status_page.indicator, state.status_page.description = "major", "Partial System Outage"
    with live(state, tls_certs) as lv:
        r = lv.one("before.status_page")
    _not_passing(r, expected, reason)
    assert f"{component}: {status}" in r.evidence["affected_components"]


def test_a_standard_user_is_warned_they_cannot_fix_permissions(tls_certs) -> None:
    with live(load_scenario("healthy"), tls_certs, role="rep") as lv:
        r = lv.one("before.salesforce_admin")
    _not_passing(r, Status.WARN, "admin.cannot_manage_users")
    assert r.evidence["user"] == "jordan.rep@northwind.example"
    assert r.evidence["manage_users"] is False
    assert r.evidence["api_enabled"] is True


def test_a_wrong_platform_key_fails_in_one_line(tls_certs) -> None:
    with live(load_scenario("healthy"), tls_certs, px_key="not-the-key") as lv:
        res = lv.run(["before.platform_api", "token.platform_status"])
    for r in res.values():
        _not_passing(r, Status.FAIL, "service.error")
        assert "401" in r.summary  # one line that says what the platform answered
        assert "Traceback" not in r.cause
    assert "SFWIZARD_PX_API_KEY" in res["before.platform_api"].resolution  # what to set


# -- schedule and the checks that need no API --------------------------------------------------------------------

def test_schedule_passes_for_px_and_is_skipped_for_skilljar(healthy: Live, tls_certs) -> None:
    px = healthy.one("flow.schedule")
    assert px.status == Status.PASS
    assert len(px.evidence["schedule"]) == 5
    assert len(px.evidence["next_runs"]) == 5
    with live(load_scenario("skilljar-recent"), tls_certs) as lv:
        res = lv.run(["flow.schedule", "before.people"], snap=None)
    _not_passing(res["flow.schedule"], Status.SKIPPED, "skip.no_schedule")
    _not_passing(res["before.people"], Status.MANUAL, "ask.people_present")


# -- mappings -----------------------------------------------------------------------------------------------------

def test_salesforce_fields_fail_on_a_missing_field_and_warn_on_a_type_mismatch(healthy: Live) -> None:
    snap = healthy.snap
    gone = dataclasses.replace(snap, mappings=(*snap.mappings, snapshot.FieldMapping(
        "Contact.Gone__c", "user.title", "sf_to_px")))
    r = healthy.one("mapping.salesforce_fields", snap=gone)
    _not_passing(r, Status.FAIL, "mapping.field_missing")
    assert r.evidence["missing"] == ["Contact.Gone__c"]
    assert "Contact.Gone__c" in r.summary  # the one line names the field
    typed = dataclasses.replace(snap, mappings=(*snap.mappings, snapshot.FieldMapping(
        "Account.Name", "account.isPartner", "sf_to_px", type="BOOLEAN")))
    r = healthy.one("mapping.salesforce_fields", snap=typed)
    _not_passing(r, Status.WARN, "mapping.type_mismatch")
    assert r.evidence["type_mismatches"] == ["Account.Name is string, the platform expects BOOLEAN"]


def test_push_targets_fail_without_prefix_and_when_read_only(tls_certs) -> None:
    state = load_scenario("healthy")
    account = state.default_org.sobject("Account")
    account.add_field(dataclasses.replace(account.field("PX_Last_Seen__c"), updateable=False))
    with live(state, tls_certs) as lv:
        read_only = lv.run(["mapping.push_targets", "ts.push_without_prefix"])
        extra = snapshot.FieldMapping("Account.Description", "account.healthScore", "px_to_sf")
        no_prefix = lv.run(["mapping.push_targets", "ts.push_without_prefix"],
                           snap=dataclasses.replace(lv.snap, mappings=(*lv.snap.mappings, extra)))
    _not_passing(read_only["mapping.push_targets"], Status.FAIL, "mapping.push_read_only")
    assert read_only["mapping.push_targets"].evidence["not_updateable"] == ["Account.PX_Last_Seen__c"]
    assert read_only["ts.push_without_prefix"].status == Status.PASS  # read-only is not the prefix symptom
    _not_passing(no_prefix["mapping.push_targets"], Status.FAIL, "mapping.push_without_prefix")
    assert no_prefix["mapping.push_targets"].evidence["without_prefix"] == ["Account.Description"]
    _symptom_seen(no_prefix["ts.push_without_prefix"], "mapping.push_targets")


def test_platform_attributes_fail_on_an_unknown_attribute(healthy: Live) -> None:
    extra = snapshot.FieldMapping("Contact.Title", "user.jobFunction", "sf_to_px")
    r = healthy.one("mapping.platform_attributes",
                    snap=dataclasses.replace(healthy.snap, mappings=(*healthy.snap.mappings, extra)))
    _not_passing(r, Status.FAIL, "mapping.attribute_missing")
    assert r.evidence["missing"] == ["user.jobFunction"]
    assert r.evidence["attributes_known"] > 10


def test_live_vs_snapshot_fails_on_a_gone_object_and_warns_on_an_undocumented_push_field(healthy: Live) -> None:
    snap = healthy.snap
    gone = healthy.one("mapping.live_vs_snapshot",
                       snap=dataclasses.replace(snap, custom_objects=(*snap.custom_objects, "Renewal__c")))
    _not_passing(gone, Status.FAIL, "mapping.custom_object_missing")
    assert gone.evidence["custom_objects_missing"] == ["Renewal__c"]
    fewer = tuple(m for m in snap.mappings if m.salesforce != "Account.PX_Active_Users__c")
    undocumented = healthy.one("mapping.live_vs_snapshot", snap=dataclasses.replace(snap, mappings=fewer))
    _not_passing(undocumented, Status.WARN, "mapping.undocumented_push_field")
    assert undocumented.evidence["undocumented_push_fields"] == ["Account.PX_Active_Users__c"]


# -- identity -----------------------------------------------------------------------------------------------------

def test_a_sandbox_org_is_warned(tls_certs) -> None:
    state = load_scenario("healthy")
    org = state.default_org
    org.is_sandbox = True
    for row in org.table("Organization").scan():
        row["IsSandbox"] = True
    with live(state, tls_certs) as lv:
        r = lv.one("identity.org")
    _not_passing(r, Status.WARN, "org.sandbox")
    assert r.evidence["kind"] == "SANDBOX"
    assert "SANDBOX" in r.summary  # shouted on purpose: no one should re-authorize the wrong org


def test_right_org_fails_against_another_orgs_snapshot_and_is_skipped_with_nothing_to_compare(
        healthy: Live, tls_certs) -> None:
    other = dataclasses.replace(healthy.snap, org=dataclasses.replace(healthy.snap.org, id="00D5g0000009ZZZEAE"))
    res = healthy.run(["identity.right_org", "ts.wrong_org"], snap=other)
    _not_passing(res["identity.right_org"], Status.FAIL, "org.snapshot_mismatch")
    assert res["identity.right_org"].evidence["snapshot_org_id"] == "00D5g0000009ZZZEAE"
    assert res["identity.right_org"].evidence["accounts_found"] == res["identity.right_org"].evidence[
        "accounts_sampled"] > 0  # the platform's records do match: only the snapshot disagrees
    _symptom_seen(res["ts.wrong_org"], "identity.right_org")
    with live(load_scenario("healthy"), tls_certs, px_key=None) as lv:
        r = lv.one("identity.right_org", snap=None)
    _not_passing(r, Status.SKIPPED, "skip.nothing_to_compare")
    assert "snapshot" in r.summary  # the words say what to take


# -- permissions --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how,reason,symptom", [("api-disabled", "perm.api_disabled", "ts.access_denied"),
                                                ("deactivated", "perm.user_inactive", "ts.login_refused")])
def test_api_enabled_fails(tls_certs, how: str, reason: str, symptom: str) -> None:
    """A missing permission is "Access Denied"; a deactivated user is no missing permission: its logins are
    refused (ts.login_refused), and "Access Denied" is not named."""
    state = load_scenario("healthy")
    org = state.default_org
    if how == "api-disabled":
        _perm_set(org, "Gainsight_PX_Integration")["PermissionsApiEnabled"] = False
    else:
        org.user(state.platform.integration.user_id)["IsActive"] = False
    with live(state, tls_certs) as lv:
        res = lv.run(["perm.api_enabled", "ts.access_denied", "ts.login_refused"])
    r = res["perm.api_enabled"]
    _not_passing(r, Status.FAIL, reason)
    assert r.evidence["user"] == "px.integration@northwind.example"
    assert r.evidence["active"] is (how != "deactivated")
    _symptom_seen(res[symptom], "perm.api_enabled")
    other = ({"ts.access_denied", "ts.login_refused"} - {symptom}).pop()
    assert res[other].status == Status.PASS


def test_read_sources_names_the_object_without_read_access(healthy: Live) -> None:
    broken = dataclasses.replace(healthy.snap, custom_objects=(*healthy.snap.custom_objects, "Lead"))
    r = healthy.one("perm.read_sources", snap=broken)
    _not_passing(r, Status.FAIL, "perm.object_read_missing")
    assert r.evidence["missing_objects"] == ["Lead"]
    assert "Read on object Lead" in r.evidence["missing"]  # named as Setup names it


def test_read_sources_names_the_field_without_read_access(tls_certs) -> None:
    state = load_scenario("healthy")
    fp = _field_perm(state.default_org, "Gainsight_PX_Integration", "Account.Customer_Tier__c")
    fp["PermissionsRead"] = fp["PermissionsEdit"] = False
    with live(state, tls_certs) as lv:
        res = lv.run(["perm.read_sources", "perm.edit_targets", "ts.access_denied"])
    r = res["perm.read_sources"]
    _not_passing(r, Status.FAIL, "perm.field_read_missing")
    assert r.evidence["missing_fields"] == ["Account.Customer_Tier__c"]
    assert r.evidence["missing_objects"] == []
    assert r.evidence["missing"] == ["Read access on field Account.Customer_Tier__c (field-level security)"]
    assert "Account.Customer_Tier__c" in r.resolution  # what to grant, named as Setup names it
    assert res["perm.edit_targets"].status == Status.PASS  # a pulled field is not a push target
    _symptom_seen(res["ts.access_denied"], "perm.read_sources")


def test_edit_targets_names_the_push_field_without_edit_access(tls_certs) -> None:
    state = load_scenario("healthy")
    _field_perm(state.default_org, "Gainsight_PX_Integration", "Account.PX_Health_Score__c")["PermissionsEdit"] = False
    with live(state, tls_certs) as lv:
        res = lv.run(["perm.read_sources", "perm.edit_targets"])
    assert res["perm.read_sources"].status == Status.PASS
    r = res["perm.edit_targets"]
    _not_passing(r, Status.FAIL, "perm.field_edit_missing")
    assert r.evidence["missing_fields"] == ["Account.PX_Health_Score__c"]
    assert r.evidence["missing"] == ["Edit access on field Account.PX_Health_Score__c (field-level security)"]


# -- the integration's token --------------------------------------------------------------------------------------

TOKEN_TS = ["token.fresh", "ts.authorization_incomplete", "ts.app_blocked", "ts.wrong_org", "ts.access_denied",
            "ts.login_refused"]


def _symptoms(res: dict[str, CheckResult]) -> set[str]:
    return {cid for cid, r in res.items() if cid.startswith("ts.") and r.status == Status.FAIL}


def test_token_blocked_when_the_app_is_not_installed(tls_certs) -> None:
    state = load_scenario("healthy")
    state.connected_apps[state.app_keys["gainsight"]].installed_in = set()
    with live(state, tls_certs) as lv:
        since = _now() - timedelta(seconds=1)
        # The integration user lacks Approve Uninstalled Connected Apps: Salesforce stops on its error page.
        assert "without a form" in lv.click_authorize("px", "integration")
        res = lv.run(TOKEN_TS, reauthorized_at=since)
    r = res["token.fresh"]
    _not_passing(r, Status.FAIL, "token.app_blocked")
    assert "Connected App Not Installed" in r.summary  # Salesforce's own words, quoted
    assert r.evidence["recent_logins"][0]["status"] == "Failed: Connected App Not Installed"
    assert _symptoms(res) == {"ts.app_blocked"}


def test_token_belongs_to_another_user_when_the_admin_authorized(tls_certs) -> None:
    with live(load_scenario("healthy"), tls_certs) as lv:
        since = _now() - timedelta(seconds=1)
        assert lv.click_authorize("px", "admin") == ""  # the admin approved in their own session
        res = lv.run(TOKEN_TS, reauthorized_at=since)  # the snapshot still names the integration user
    r = res["token.fresh"]
    _not_passing(r, Status.FAIL, "token.other_user")
    assert "avery.admin@northwind.example" in r.summary  # names who approved instead
    assert r.evidence["integration_user"] == "px.integration@northwind.example"
    assert r.evidence["tokens"][0]["user"] == "avery.admin@northwind.example"
    assert _symptoms(res) == {"ts.wrong_org"}
    _symptom_seen(res["ts.wrong_org"], "token.fresh")


def test_token_fresh_passes_after_the_integration_user_authorizes(tls_certs) -> None:
    with live(load_scenario("healthy"), tls_certs) as lv:
        since = _now() - timedelta(seconds=1)
        stale = lv.run(TOKEN_TS, reauthorized_at=since)
        assert lv.click_authorize("px", "integration") == ""
        fresh = lv.run(TOKEN_TS, reauthorized_at=since)
    _not_passing(stale["token.fresh"], Status.FAIL, "token.not_granted")
    assert _symptoms(stale) == {"ts.authorization_incomplete"}
    assert fresh["token.fresh"].status == Status.PASS
    assert _symptoms(fresh) == set()


def test_token_fresh_fails_on_a_refused_login(tls_certs) -> None:
    """The platform logs in with a stale password: LoginHistory says so, the check quotes it."""
    state = load_scenario("healthy")
    app = state.connected_apps[state.app_keys["gainsight"]]
    with live(state, tls_certs) as lv:
        since = _now() - timedelta(seconds=1)
        with httpx.Client(verify=transport.tls_verify(lv.info["ca_cert"]), timeout=10) as http:
            r = http.post(lv.info["login_url"] + "/services/oauth2/token", data={
                "grant_type": "password", "client_id": app.client_id, "client_secret": app.client_secret,
                "username": lv.user("integration")["username"], "password": "an-old-password"})
        assert r.status_code == 400
        res = lv.run(TOKEN_TS, reauthorized_at=since)
    r = res["token.fresh"]
    _not_passing(r, Status.FAIL, "token.invalid_password")  # the status's own cause, not "check permissions"
    assert r.summary == "the last Gainsight PX login failed: Invalid Password"  # Salesforce's reason, quoted
    assert "API Enabled" not in r.resolution and "authorize again" in r.resolution
    assert _symptoms(res) == {"ts.login_refused"}
    _symptom_seen(res["ts.login_refused"], "token.fresh")


@pytest.mark.parametrize("how", ["down", "no-sync-since"])
def test_platform_status_fails_when_down_and_warns_without_a_recent_sync(tls_certs, how: str) -> None:
    state = load_scenario("healthy")
    integ = state.platform.integration
    if how == "down":
        integ.status, integ.last_error = "DOWN", "INVALID_SESSION_ID: Session expired or invalid"
    else:
        integ.last_success = state.now() - timedelta(hours=30)
    with live(state, tls_certs) as lv:
        r = lv.one("token.platform_status")
    if how == "down":
        _not_passing(r, Status.FAIL, "token.platform_down")
        assert r.evidence["status"] == "DOWN"
        assert r.evidence["last_error"].startswith("INVALID_SESSION_ID")
    else:
        _not_passing(r, Status.WARN, "token.no_sync_since")
        assert r.evidence["status"] == "UP"


# -- data flow ----------------------------------------------------------------------------------------------------

def test_salesforce_to_platform_fails_on_a_stale_account_and_skips_without_account_mappings(tls_certs) -> None:
    state = load_scenario("healthy")
    account = next(iter(state.default_org.table("Account").scan()))
    state.platform.synced[account["Id"]] = {"name": "Northwind (old name)"}  # PX still holds the old value
    with live(state, tls_certs) as lv:
        res = lv.run(["flow.salesforce_to_platform", "ts.stale_data"])
        contacts_only = tuple(m for m in lv.snap.mappings if not m.salesforce.startswith("Account."))
        skipped = lv.one("flow.salesforce_to_platform",
                         snap=dataclasses.replace(lv.snap, mappings=contacts_only))
    r = res["flow.salesforce_to_platform"]
    _not_passing(r, Status.FAIL, "flow.stale")
    assert r.evidence["stale"] == 1
    assert r.evidence["examples"][0]["platform"] == "Northwind (old name)"
    assert r.evidence["examples"][0]["sfdcId"] == account["Id"]
    _symptom_seen(res["ts.stale_data"], "flow.salesforce_to_platform")
    _not_passing(skipped, Status.SKIPPED, "skip.no_mappings")


def test_platform_to_salesforce_fails_without_pushes_since_and_on_a_push_error(tls_certs) -> None:
    state = load_scenario("healthy")
    with live(state, tls_certs) as lv:
        none_since = lv.one("flow.platform_to_salesforce", reauthorized_at=_now())
        no_pushes = lv.one("flow.platform_to_salesforce", snap=dataclasses.replace(
            lv.snap, mappings=tuple(m for m in lv.snap.mappings if m.direction != "px_to_sf")))
        state.platform.integration.last_error = "push failed: INVALID_FIELD_FOR_INSERT_UPDATE on Account.Score__c"
        words_only = lv.one("flow.platform_to_salesforce")  # the platform's words decide nothing
        unprefixed = snapshot.FieldMapping("Account.Industry", "account.industry", "px_to_sf")
        push_error = lv.run(["flow.platform_to_salesforce", "ts.push_without_prefix"],
                            snap=dataclasses.replace(lv.snap, mappings=(*lv.snap.mappings, unprefixed)))
    _not_passing(none_since, Status.FAIL, "flow.no_push")
    assert none_since.evidence["Account"]["written_by_integration"] == 0
    _not_passing(no_pushes, Status.SKIPPED, "skip.no_mappings")
    assert words_only.status == Status.PASS and words_only.evidence["platform_last_error"].startswith("push failed")
    _not_passing(push_error["flow.platform_to_salesforce"], Status.FAIL, "flow.push_failed")
    assert push_error["flow.platform_to_salesforce"].evidence["unwritable"] == [
        {"target": "Account.Industry", "why": "no_prefix"}]
    _symptom_seen(push_error["ts.push_without_prefix"], "flow.platform_to_salesforce")


# -- proactive ----------------------------------------------------------------------------------------------------

def test_password_age_warns_near_expiry(tls_certs) -> None:
    state = load_scenario("healthy")
    integ = state.default_org.user(state.platform.integration.user_id)
    integ["LastPasswordChangeDate"] = state.now() - timedelta(days=85)
    with live(state, tls_certs) as lv:
        r = lv.one("proactive.password_age")
    _not_passing(r, Status.WARN, "proactive.password_expiring")
    assert r.evidence["age_days"] == 85
    assert r.evidence["expiry_days"] - r.evidence["age_days"] == 5  # the org's 90-day policy, as the API shows it


@pytest.mark.parametrize("used_share,expected,reason", [(0.9, Status.WARN, "proactive.api_high_usage"),
                                                        (1.0, Status.FAIL, "proactive.api_exhausted")])
def test_api_headroom_warns_then_fails(tls_certs, used_share: float, expected: Status, reason: str) -> None:
    state = load_scenario("healthy")
    org = state.default_org
    # The limits read itself costs one: at 1.0 it takes the org's very last call. (The Organization read that
    # tells the org is the integration's — a bare client has not read it yet — travels in the same
    # composite/batch request, which the sandbox counts as one call.)
    org.api_used = int(org.api_max * used_share) - (1 if used_share == 1.0 else 0)
    with live(state, tls_certs) as lv:
        res = lv.run(["proactive.api_headroom", "ts.api_limit"])
    r = res["proactive.api_headroom"]
    _not_passing(r, expected, reason)
    if expected == Status.FAIL:
        assert r.evidence["remaining"] == 0
        _symptom_seen(res["ts.api_limit"], "proactive.api_headroom")
    else:
        assert r.evidence["used"] > 0.8 * r.evidence["max"]
        assert res["ts.api_limit"].status == Status.PASS


def test_a_used_up_limit_stops_the_salesforce_checks_and_keeps_the_rest(tls_certs) -> None:
    state = load_scenario("healthy")
    state.default_org.api_used = state.default_org.api_max  # every Salesforce call now answers REQUEST_LIMIT_EXCEEDED
    with live(state, tls_certs) as lv:
        res = lv.run(["before.status_page", "before.platform_api", "flow.schedule", "identity.org",
                      "perm.api_enabled", "proactive.api_headroom", "ts.api_limit"])
    assert res["before.status_page"].status == res["before.platform_api"].status == Status.PASS
    assert res["flow.schedule"].status == Status.PASS  # earlier results are kept
    first = res["identity.org"]
    _not_passing(first, Status.FAIL, "salesforce.limit_exceeded")
    assert first.evidence["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    for cid in ("perm.api_enabled", "proactive.api_headroom"):  # no further Salesforce calls
        _not_passing(res[cid], Status.SKIPPED, "skip.limit_exceeded")
    _symptom_seen(res["ts.api_limit"], "identity.org")  # it reads results only, so it still names the symptom
    assert res["ts.api_limit"].evidence["reasons"] == ["salesforce.limit_exceeded"]


def test_dedicated_user_warns_when_the_integration_runs_as_the_signed_in_admin(healthy: Live) -> None:
    admin = snapshot.IntegrationUser("avery.admin@northwind.example")
    r = healthy.one("proactive.dedicated_user", snap=dataclasses.replace(healthy.snap, integration_user=admin))
    _not_passing(r, Status.WARN, "proactive.personal_user")
    assert r.evidence["integration_user"] == r.evidence["signed_in_user"] == "avery.admin@northwind.example"
    assert "dedicated integration user" in r.resolution  # the way out is the point


# -- knowledge ----------------------------------------------------------------------------------------------------

def test_knowledge_toggle_is_asked_on_or_off_and_skips_when_unused(tls_certs) -> None:
    """No PX API shows the toggle (no Knowledge row in its monitoring): the admin is asked, whatever its state."""
    state = load_scenario("healthy")
    state.platform.knowledge.enabled = False
    with live(state, tls_certs) as lv:
        res = lv.run(["knowledge.toggle", "ts.knowledge_no_results"])
        unused = lv.one("knowledge.toggle", snap=dataclasses.replace(
            lv.snap, knowledge=snapshot.Knowledge(used=False, enabled=False)))
    _not_passing(res["knowledge.toggle"], Status.MANUAL, "ask.knowledge_toggle")
    assert "In-App Hub" in res["knowledge.toggle"].summary
    _not_passing(unused, Status.SKIPPED, "skip.not_used")
    with live(load_scenario("healthy"), tls_certs, px_key=None) as lv:
        asked = lv.one("knowledge.toggle")
    _not_passing(asked, Status.MANUAL, "ask.knowledge_toggle")
    assert "Knowledge Center" in asked.summary  # the words say where to look: no API shows it


def test_knowledge_categories_fail_on_a_missing_category(healthy: Live) -> None:
    k = dataclasses.replace(healthy.snap.knowledge, categories=("Products.Analytics", "Products.Onboarding"))
    r = healthy.one("knowledge.categories", snap=dataclasses.replace(healthy.snap, knowledge=k))
    _not_passing(r, Status.FAIL, "knowledge.category_missing")
    assert r.evidence["missing"] == ["Products.Onboarding"]
    assert set(r.evidence["groups"]) == {"Products", "Regions"}


def test_knowledge_visibility_fails_when_no_article_is_in_the_chosen_channel(tls_certs) -> None:
    state = load_scenario("healthy")
    for article in state.default_org.table("KnowledgeArticleVersion").scan():
        article["IsVisibleInPrm"] = False
    with live(state, tls_certs) as lv:
        k = dataclasses.replace(lv.snap.knowledge, accessibility=("Public", "Partner"))
        res = lv.run(["knowledge.visibility", "ts.knowledge_no_results"],
                     snap=dataclasses.replace(lv.snap, knowledge=k))
    r = res["knowledge.visibility"]
    _not_passing(r, Status.FAIL, "knowledge.not_visible")
    assert r.evidence["counts"]["Partner"] == 0
    assert r.evidence["counts"]["Public"] > 0
    _symptom_seen(res["ts.knowledge_no_results"], "knowledge.visibility")


def test_knowledge_search_fails_for_an_unknown_article_and_passes_for_a_known_one(healthy: Live) -> None:
    missing = healthy.run(["knowledge.search", "ts.knowledge_no_results"], known_article="No such article zzz")
    _not_passing(missing["knowledge.search"], Status.FAIL, "knowledge.article_not_found")
    assert missing["knowledge.search"].evidence["searched"] == "No such article zzz"
    _symptom_seen(missing["ts.knowledge_no_results"], "knowledge.search")
    found = healthy.one("knowledge.search", known_article="Reset your password")  # in the chosen categories
    assert found.status == Status.PASS
    assert found.evidence["link"].endswith("/view")


def test_knowledge_search_warns_when_nothing_is_online(tls_certs) -> None:
    state = load_scenario("healthy")
    for article in state.default_org.table("KnowledgeArticleVersion").scan():
        article["PublishStatus"] = "Draft"
    with live(state, tls_certs) as lv:
        r = lv.one("knowledge.search")
    _not_passing(r, Status.WARN, "knowledge.no_articles")


# -- Skilljar -----------------------------------------------------------------------------------------------------

SKILLJAR_IDS = ["skilljar.package", "skilljar.backfill_window", "skilljar.backfill_arrived", "token.fresh"]


def test_skilljar_package_fails_when_its_objects_are_gone(tls_certs) -> None:
    state = load_scenario("skilljar-recent")
    org = state.default_org
    for name in [n for n in org.schema if n.startswith("skilljar__")]:  # the managed package uninstalled
        del org.schema[name], org._schema_lower[name.lower()], org.tables[name]
    with live(state, tls_certs) as lv:
        r = lv.one("skilljar.package", snap=None)
    _not_passing(r, Status.FAIL, "skilljar.package_missing")
    assert sorted(r.evidence["missing"]) == ["skilljar__Course_Progress__c", "skilljar__Student__c"]  # confirmed ones


def test_skilljar_reconnect_then_backfill_turns_the_checks_green(tls_certs) -> None:
    with live(load_scenario("skilljar-recent"), tls_certs) as lv:
        not_yet = lv.run(SKILLJAR_IDS, snap=None)
        since = _now() - timedelta(seconds=1)
        assert lv.click_authorize("skilljar", "integration") == ""
        reconnected = lv.run(SKILLJAR_IDS, snap=None, reauthorized_at=since)
        assert lv.admin_post("__sandbox__/skilljar/backfill").status_code == 200
        backfilled = lv.run(SKILLJAR_IDS, snap=None, reauthorized_at=since)
    assert not_yet["skilljar.package"].status == Status.PASS
    _not_passing(not_yet["skilljar.backfill_window"], Status.MANUAL, "ask.disconnect_date")  # no API shows it
    _not_passing(not_yet["skilljar.backfill_arrived"], Status.SKIPPED, "skip.not_reconnected")
    _not_passing(not_yet["token.fresh"], Status.FAIL, "token.not_granted")
    assert reconnected["token.fresh"].status == Status.PASS
    _not_passing(reconnected["skilljar.backfill_arrived"], Status.WARN, "skilljar.backfill_not_arrived")
    assert "Backfill" in reconnected["skilljar.backfill_arrived"].resolution  # names the button to click
    assert sum(reconnected["skilljar.backfill_arrived"].evidence["records"].values()) == 0
    r = backfilled["skilljar.backfill_arrived"]
    assert r.status == Status.PASS
    assert sum(r.evidence["records"].values()) >= 35


def test_backfill_window_fails_past_21_days_and_asks_when_the_disconnect_is_unknown(tls_certs) -> None:
    with live(load_scenario("skilljar-expired"), tls_certs) as lv:
        expired = lv.one("skilljar.backfill_window", snap=None, disconnected_at=lv.state.skilljar.disconnected_at)
    _not_passing(expired, Status.FAIL, "skilljar.backfill_window_passed")
    assert expired.evidence["days_disconnected"] > 21
    assert "Skilljar Support" in expired.resolution  # the only way left is the point
    state = load_scenario("skilljar-recent")
    history = state.default_org.table("LoginHistory")
    for row in list(history.scan()):  # nothing tells who the integration user is, so no Last Sync Date
        history.delete(row["Id"])
    with live(state, tls_certs) as lv:
        unknown = lv.one("skilljar.backfill_window", snap=None)
    _not_passing(unknown, Status.MANUAL, "ask.disconnect_date")
    assert unknown.evidence["disconnected_at"] is None


# -- states no sandbox reaches: facts given to the context directly --------------------------------------------

class _Unused:
    """Stands in for an API client whose answers are already in the context's memo."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected API call: {name}")


def _run_one(cid: str, ctx: CheckContext) -> CheckResult:
    return run_checks(ctx, [REGISTRY[cid]])[0]


@pytest.mark.parametrize("cid", ["before.platform_api", "token.platform_status"])
def test_a_platform_without_a_salesforce_integration(cid: str) -> None:
    px = type("_Px", (_Unused,), {"region": "US", "base_url": "https://api.aptrinsic.com/v1"})()
    ctx = CheckContext(load_profile("gainsight-px"), px=px, _memo={  # type: ignore[arg-type]
        "px_integration": None, "px_integrations": [], "px_subscription": None})
    r = _run_one(cid, ctx)
    assert r.status == Status.FAIL
    assert r.reason == "platform.no_integration"


def test_a_signed_in_user_without_api_enabled() -> None:
    me = {"Id": "005000000000001AAA", "Username": "nobody@example.com", "Profile": {"Name": "Standard User"}}
    profile = {"Id": "0PS000000000001AAA", "Name": "X00e", "PermissionsApiEnabled": False}  # its profile's set only
    ctx = CheckContext(load_profile("gainsight-px"), sf=_Unused(),  # type: ignore[arg-type]
                       _memo={"me": me, "psets:nobody@example.com": [profile]})
    r = _run_one("before.salesforce_admin", ctx)
    assert r.status == Status.FAIL
    assert r.reason == "admin.api_disabled"
    assert r.evidence["api_enabled"] is False


def test_an_integration_user_without_a_password_date() -> None:
    user = {"Id": "005000000000002AAA", "Username": "px@example.com", "LastPasswordChangeDate": None}
    ctx = CheckContext(load_profile("gainsight-px"), sf=_Unused(), _memo={"integration_user": user})  # type: ignore[arg-type]
    r = _run_one("proactive.password_age", ctx)
    assert r.status == Status.SKIPPED
    assert r.reason == "skip.no_password_date"


def test_a_platform_without_a_public_api_skips_what_needs_it() -> None:
    spec = CheckSpec("x.platform", "x", "validate", lambda ctx: ok("never"), ("skilljar",), ("platform",))
    r = run_checks(CheckContext(load_profile("skilljar")), [spec])[0]
    assert r.status == Status.SKIPPED
    assert r.reason == "skip.no_platform_api"


# -- resilience ---------------------------------------------------------------------------------------------------

@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry backoff in milliseconds, not seconds; records every delay the policy was asked for."""
    monkeypatch.setattr(transport.RetryPolicy.__init__, "__defaults__", (4, 0.01, 0.05))
    asked: list[float] = []
    real = transport.RetryPolicy.delay

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        wanted = real(self, attempt, retry_after)
        asked.append(wanted)
        return min(wanted, 0.02)

    monkeypatch.setattr(transport.RetryPolicy, "delay", delay)
    return asked


def test_5xx_answers_are_retried_until_the_checks_pass(tls_certs, fast_retries, caplog) -> None:
    with live(load_scenario("healthy"), tls_certs) as lv:
        apply_spec(lv.state.faults, "error=0.5:503")  # after the sign-in: half of every answer is a 503
        served = lv.sb.requests
        with caplog.at_level(logging.WARNING, logger="sfwizard.sandbox"):
            res = lv.run(["before.status_page", "before.platform_api", "identity.org"])
        served = lv.sb.requests - served
    assert {r.status for r in res.values()} == {Status.PASS}, {r.id: r.summary for r in res.values()}
    assert any("fault: 503" in m for m in caplog.messages)  # the run did meet 503s…
    assert served > 6  # …and asked again: the status page, four platform reads, the Organization query, + retries


def test_persistent_429_fails_the_platform_check_in_one_line(tls_certs, fast_retries) -> None:
    with live(load_scenario("healthy"), tls_certs) as lv:
        apply_spec(lv.state.faults, "px-429=1.0")
        r = lv.one("before.platform_api", disconnected_at=_now())  # (no PX call to infer it)
    _not_passing(r, Status.FAIL, "service.error")
    assert r.summary == "the Gainsight PX API is rate-limiting us (429) after retries"  # one line, no traceback
    assert "Traceback" not in r.cause
    assert r.resolution == "wait a minute and run the check again"
    # Bounded: each platform read the check makes (the plan sends them at once: subscription, integrations,
    # the accounts' and users' pages) gets the first try and three retries, each honouring Retry-After.
    reads = 4
    assert lv.client.counter.counts["platform"] == 4 * reads
    assert fast_retries == [1.0] * 3 * reads


def test_an_expired_token_is_refreshed_once_and_the_run_continues(tls_certs) -> None:
    with live(load_scenario("healthy"), tls_certs, refresh=True) as lv:
        # The access token dies after two API calls. The run's first round sends three at once (a composite/batch
        # and two Tooling queries): whichever threads meet the 401, the token is refreshed once.
        apply_spec(lv.state.faults, "expire-token=2")
        res = lv.run(["identity.org", "perm.api_enabled", "proactive.password_age"])
    assert {r.status for r in res.values()} == {Status.PASS}, {r.id: r.summary for r in res.values()}
    assert len(lv.saved) == 1
    assert lv.saved[0].access_token != lv.tokens.access_token


def test_an_expired_token_without_refresh_fails_without_a_traceback(tls_certs) -> None:
    with live(load_scenario("healthy"), tls_certs) as lv:
        apply_spec(lv.state.faults, "expire-token=0")
        r = lv.one("identity.org")
    _not_passing(r, Status.FAIL, "signin.required")
    assert "sfwizard login" in r.resolution  # the way back in


MARKUP = "<b>[x](y)`z`\n"


def test_server_text_is_shown_flattened_to_one_line(tls_certs) -> None:
    state = load_scenario("healthy")
    for c in state.status_page.components:
        if c.name == "Salesforce Integration":
            c.status = "major_outage"
    state.status_page.description = "Degraded " + MARKUP + "see the incident"
    with live(state, tls_certs) as lv:
        broken = dataclasses.replace(lv.snap, mappings=(*lv.snap.mappings, snapshot.FieldMapping(
            "Account.Gone__c", "account.industry", "sf_to_px")))
        results = list(lv.run(["before.status_page", "flow.salesforce_to_platform"], snap=broken).values())
    assert MARKUP in results[0].summary  # the server's text, as the server sent it
    assert results[1].reason == "salesforce.refused"
    assert results[1].evidence["errorCode"] == "INVALID_FIELD"
    assert "\n" in results[1].cause  # Salesforce's multi-line error…
    assert "No such column 'Gone__c'" in results[1].cause
    out = io.StringIO()
    render_table(results, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 + 3 + 2  # per failing result: summary, cause, fix; then a blank line and the counts
    assert lines[0].startswith("FAIL  before.status_page")
    assert "Degraded <b>[x](y)`z` see the incident" in lines[0]  # …flattened to one line, shown as text
    assert lines[3].startswith("FAIL  flow.salesforce_to_platform")
    assert "No such column 'Gone__c'" in lines[4]
    assert "ERROR at Row" in lines[4]
    assert all(ch.isprintable() for line in lines for ch in line)
