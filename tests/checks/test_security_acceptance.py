"""Issue 22's acceptance, through the wizard's core against a sandbox in this process: a stray token revoked (its
OauthToken row gone, the token dead), each hardening step applied on the sandbox's Setup pages turning its own
row green and nothing else, and the proposed permission set deployed leaving every mapping check green."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import tls_verify
from sfwizard.sandbox.salesforce.tokens import token_store


@pytest.fixture
def reviewed(start_sandbox) -> Iterator[Callable[[str], tuple[Any, Any]]]:
    """``reviewed(scenario)`` → (the running sandbox, a signed-in Recovery on it)."""
    from sfwizard.demo import demo_environment
    from sfwizard.recovery.session import RecoverySession
    from sfwizard.recovery.wizard import Recovery

    stack = contextlib.ExitStack()

    def make(scenario: str, snapshot: bool = True) -> tuple[Any, Any]:
        sb = start_sandbox(scenario)
        env = demo_environment(sb.info(), scenario, None, stack)
        rec = Recovery(env.profile, env.setup, RecoverySession.new(env.profile, demo_scenario=scenario),
                       demo=env.info, vendor=env.vendor)
        stack.callback(rec.close)
        rec.sign_in_browser(lambda url: threading.Thread(target=env.vendor.approve, args=(url,), daemon=True).start(),
                            timeout=60)
        if snapshot:  # the Mappings step comes before the review: the snapshot names the integration user
            if rec.pending_click("mappings"):
                rec.perform_click("mappings")  # the platform admin reads the mapping screens
            rec.save_snapshot(rec.snapshot_draft())
        return sb, rec

    yield make
    stack.close()


def _statuses(rec: Any) -> dict[str, tuple[str, str]]:
    return {r.id: (r.status.value, r.reason) for r in rec.run_security_review()}


def _admin(sb: Any, action: str, body: dict[str, Any]) -> dict[str, Any]:
    info = sb.info()
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
        resp = c.post(f"{sb.base_url}/__sandbox__/security/{action}", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


# -- revoking a stray token ---------------------------------------------------------------------------------------

def test_revoking_a_stray_token_removes_its_row_and_kills_it(reviewed) -> None:
    sb, rec = reviewed("diagnosis/sec-stray-tokens")
    org = sb.state.default_org
    rep = org.user_by_username("nadia.reyes@larkspur.example")
    client_id = sb.state.app_keys["gainsight"]
    live = [t.token for t in token_store(sb.state).access.values()
            if (t.grant.user_id, t.grant.client_id) == (rep["Id"], client_id) and not t.revoked]
    assert live
    before = _statuses(rec)
    assert before["sec.tokens"] == ("fail", "sec.tokens_other_users")
    offered = rec.revocable_tokens()
    assert {t["user"] for t in offered} == {"nadia.reyes@larkspur.example", "owen.brooks@larkspur.example"}
    assert all("DeleteToken" not in t and "delete_token" not in t for t in offered)
    target = next(t for t in offered if t["user"] == "nadia.reyes@larkspur.example")

    with pytest.raises(SfwizardError, match="confirmation"):
        rec.revoke_token(target["user_id"], target["app"], who="Avery Admin")
    record = rec.revoke_token(target["user_id"], target["app"], who="Avery Admin", confirmed=True)

    assert record["who"] == "Avery Admin" and record["at"]
    assert [t["user"] for t in record["tokens"]] == ["nadia.reyes@larkspur.example"]
    assert rec.session.facts["security_revocations"]["value"][-1] == record  # who, when, which
    rows = [r for r in org.table("OauthToken").scan() if r["UserId"] == rep["Id"] and r["AppName"] == "Gainsight PX"]
    assert rows == []  # the sandbox's OauthToken row is gone
    info = sb.info()
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
        resp = c.get(f"{sb.base_url}/services/data/v60.0/limits", headers={"Authorization": f"Bearer {live[0]}"})
    assert resp.status_code == 401
    assert resp.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    after = rec.run_security_review()
    tokens = next(r for r in after if r.id == "sec.tokens")
    assert tokens.evidence["other_holders"] == ["owen.brooks@larkspur.example"]  # the other one still shown
    with pytest.raises(SfwizardError, match="no Gainsight PX token"):  # revoked once: nothing left to revoke
        rec.revoke_token(target["user_id"], target["app"], who="Avery Admin", confirmed=True)


def test_without_a_snapshot_several_token_holders_are_a_question_not_a_guess(reviewed) -> None:
    _, rec = reviewed("diagnosis/sec-stray-tokens", snapshot=False)
    rows = {r.id: r for r in rec.run_security_review()}
    for cid in ("sec.tokens", "sec.logins", "sec.api_only", "sec.ip_ranges", "sec.api_volume"):
        assert (rows[cid].status.value, rows[cid].reason) == ("manual", "ask.integration_user"), cid
    assert rows["sec.tokens"].evidence["candidates"] == ["nadia.reyes@larkspur.example", "owen.brooks@larkspur.example"]
    assert rec.revocable_tokens() == []  # nothing offered to revoke while the integration user is not known


# -- each hardening step, applied on the Setup pages ---------------------------------------------------------------

def test_each_hardening_step_turns_its_own_row_green_and_nothing_else(reviewed, tmp_path) -> None:
    sb, rec = reviewed("skilljar-recent")
    now = _statuses(rec)
    want_warn = ("sec.reach", "sec.api_only", "sec.ip_ranges", "sec.app_access", "sec.refresh_policy")
    assert all(now[c][0] == "warn" for c in want_warn), now
    integration = rec.connection.context().integration_user()
    user = integration["Username"]
    profile = integration["Profile"]["Name"]

    written: list[str] = []

    def deploy() -> None:
        path = rec.write_permission_set(tmp_path / "least-privilege")
        written.append(path.name.split(".", 1)[0])
        _admin(sb, "permission-set", {"name": written[0], "xml": path.read_text(), "assign_to": user, "replace": True})

    # The least-privilege set first: the app is then approved for it (approving the old set, then taking it away
    # with the deploy, would lock the integration out — the review says so: the next test).
    steps = [
        ("sec.reach", deploy),
        ("sec.app_access", lambda: _admin(sb, "connected-app", {"app": "Skilljar", "admin_approved": True,
                                                                "approved": written})),
        ("sec.refresh_policy", lambda: _admin(sb, "refresh-policy", {"app": "Skilljar", "policy": "expire_if_unused",
                                                                     "period": 90, "unit": "days"})),
        ("sec.ip_ranges", lambda: _admin(sb, "login-ip-ranges", {"profile": profile, "ranges": ["34.201.12.0/24"]})),
        ("sec.api_only", lambda: _admin(sb, "api-only", {"user": user})),
    ]
    for row, apply in steps:
        apply()
        later = _statuses(rec)
        assert later[row] == ("pass", ""), (row, later[row])
        changed = {c for c in later if later[c] != now[c]}
        assert changed == {row}, f"{row}: also changed {changed - {row}}"
        now = later


def test_an_approval_that_leaves_the_integration_user_out_is_named_before_it_bites(reviewed, tmp_path) -> None:
    sb, rec = reviewed("skilljar-recent")
    _admin(sb, "connected-app", {"app": "Skilljar", "admin_approved": True, "approved": ["Skilljar Integration"]})
    assert _statuses(rec)["sec.app_access"] == ("pass", "")
    # The least-privilege set deployed in place of the approved one: the integration user is no longer approved.
    path = rec.write_permission_set(tmp_path / "p")
    user = rec.connection.context().integration_user()["Username"]
    _admin(sb, "permission-set", {"name": path.name.split(".", 1)[0], "xml": path.read_text(), "assign_to": user,
                                  "replace": True})
    row = next(r for r in rec.run_security_review() if r.id == "sec.app_access")
    assert (row.status.value, row.reason) == ("fail", "sec.integration_user_not_approved")
    assert "OAUTH_APP_ACCESS_DENIED" in row.summary


# -- the proposed permission set, deployed -------------------------------------------------------------------------

def test_the_proposed_permission_set_deployed_leaves_every_mapping_check_green(reviewed, tmp_path) -> None:
    sb, rec = reviewed("diagnosis/sec-over-privileged")
    before = _statuses(rec)
    assert before["sec.reach"] == ("warn", "sec.over_privileged")
    mapping_ids = rec.step_checks("mappings")
    mappings_before = {r.id: r.status.value for r in rec.run_checks(mapping_ids)}
    path = rec.write_permission_set(tmp_path / "proposal")
    assert path.name.endswith(".permissionset-meta.xml")
    assert rec.session.facts["permission_set_written"]["value"] == str(path)
    user = rec.connection.context().integration_user()["Username"]
    answer = _admin(sb, "permission-set", {"name": path.name.split(".", 1)[0], "xml": path.read_text(),
                                           "assign_to": user, "replace": True})
    assert answer["assigned_to"] == user
    after = _statuses(rec)
    assert after["sec.reach"] == ("pass", ""), after
    mappings_after = {r.id: r.status.value for r in rec.run_checks(mapping_ids)}
    assert all(s == "pass" for s in mappings_after.values()), mappings_after
    assert set(mappings_after) == set(mappings_before)
