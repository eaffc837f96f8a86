"""The first real run: the settings the wizard's pane reads and writes, their tests against the services they
name, the ways to sign in (greyed with why, never offered then refused), and the wizard's sign-in options on the
command line.

Secrets never reach the settings file; saved values survive a restart (a fresh ``SetupForm.load``); a bad value
is one line with a fix code; an address that does not answer is named, with where it came from.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from sfwizard import paths
from sfwizard.errors import FIXES, SfwizardError
from sfwizard.recovery.setup_form import (
    CliLogin,
    SetupForm,
    parse_org_list,
    sign_in_choices,
)
from sfwizard.recovery.setup_help import BY_KEY, FIELDS

HERE = Path(__file__).parent
# `sf org list --json` as @salesforce/cli 2 printed it against the sandbox (after `org login access-token
# --alias sbx`): the same login under "other" and "nonScratchOrgs", its token hidden.
ORG_LIST = json.loads((HERE / "data" / "sf-org-list.json").read_text())


# -- the fields and where each comes from ---------------------------------------------------------------------------

def test_each_field_says_where_to_get_its_value() -> None:
    px = {f.key for f in SetupForm.load("gainsight-px").fields()}
    sj = {f.key for f in SetupForm.load("skilljar").fields()}
    assert px == {"sign_in", "login_url", "client_id", "port", "px_api_key", "px_api_url", "status_url", "ca_cert"}
    assert sj == px - {"px_api_key", "px_api_url"}  # no PX-only fields for Skilljar
    for f in FIELDS:
        assert f.where, f.key
    key = " ".join(BY_KEY["px_api_key"].where)
    assert "Administration → REST API → New API Key" in key and "Read" in key  # PX's own docs' path and permission
    app = " ".join(BY_KEY["client_id"].where + BY_KEY["client_id"].checklist)
    for exact in ("External Client App", "http://localhost:1717/OauthRedirect", "Proof Key for Code Exchange",
                  "(api)", "(refresh_token, offline_access)", "(id)", "Consumer Key",
                  "Require secret for Web Server Flow"):
        assert exact in app, exact


def test_a_default_says_where_it_came_from(monkeypatch) -> None:
    form = SetupForm.load("gainsight-px")
    status = form.view("status_url")
    assert status.shown == "https://status.gainsight.com"
    assert "default" in status.source and "Gainsight PX's public status page" in status.source
    assert form.view("client_id").empty and form.view("client_id").source == "not set yet"
    monkeypatch.setenv("SFWIZARD_CLIENT_ID", "3MVG9fromtheenvironment")
    form = SetupForm.load("gainsight-px", {"login_url": "test"})
    assert form.view("client_id").source.startswith("set in the environment")
    assert form.view("login_url").source == "given on the command line for this run"


def test_saved_values_survive_a_restart_and_the_key_never_reaches_the_file(fake_keyring) -> None:
    form = SetupForm.load("gainsight-px")
    form.set("client_id", "3MVG9" + "x" * 80)
    form.set("login_url", "https://acme.my.salesforce.com/")
    form.set("px_api_url", "eu")
    form.set("status_url", "https://status.example.com")
    form.set("px_api_key", "pxkey-" + "k" * 30)
    assert form.view("px_api_key").shown.startswith("set (") and "pxkey" not in form.view("px_api_key").shown
    said = form.save()
    assert any("the OS keychain" in s for s in said)
    config = paths.config_file()
    text = config.read_text()
    assert "pxkey" not in text and "px_api_key" not in text
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    again = SetupForm.load("gainsight-px")  # a restart
    assert again.value("client_id") == "3MVG9" + "x" * 80
    assert again.settings.login_url == "https://acme.my.salesforce.com"
    assert again.settings.px_api_url == "https://api-eu.aptrinsic.com/v1"
    assert again.settings.px_api_key == "pxkey-" + "k" * 30
    assert again.view("px_api_key").source == "kept in the OS keychain"
    setup = again.setup()
    assert (setup.client_id, setup.px_api_url, setup.status_url) == ("3MVG9" + "x" * 80,
                                                                     "https://api-eu.aptrinsic.com/v1",
                                                                     "https://status.example.com")


def test_without_a_keychain_the_key_goes_to_a_private_file(sfwizard_home) -> None:
    form = SetupForm.load("gainsight-px")
    form.set("px_api_key", "pxkey-" + "f" * 30)
    said = form.save()
    kept = sfwizard_home / "data" / "px-api-key"
    assert any(str(kept) in s for s in said)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    again = SetupForm.load("gainsight-px")
    assert again.settings.px_api_key == "pxkey-" + "f" * 30
    assert "mode 0600" in again.view("px_api_key").source
    again.set("px_api_key", "")
    again.save()
    assert not kept.exists() and SetupForm.load("gainsight-px").settings.px_api_key is None


@pytest.mark.parametrize(("key", "value", "fix"), [
    ("login_url", "http://acme.my.salesforce.com", "settings.login_url"),
    ("status_url", "status.example.com", "settings.status_url"),
    ("px_api_url", "http://api.example.com", "settings.px_api_url"),
    ("port", "70000", "settings.port"),
    ("client_id", "not a key!", "settings.client_id"),
    ("ca_cert", "/nowhere/ca.pem", "settings.ca_cert"),
])
def test_a_bad_value_is_one_line_with_where_to_mend_it(key: str, value: str, fix: str) -> None:
    form = SetupForm.load("gainsight-px")
    with pytest.raises(SfwizardError) as err:
        form.set(key, value)
    assert "\n" not in str(err.value)
    assert err.value.fix == fix and fix in FIXES
    assert "SFWIZARD_" not in err.value.wizard_text() and "sfwizard " not in err.value.wizard_text()
    assert not paths.config_file().exists()  # nothing saved


# -- the tests, against the sandbox -------------------------------------------------------------------------------

@pytest.fixture
def demo_form(sandbox):
    info = sandbox.info()
    form = SetupForm.load("gainsight-px", {"login_url": info["login_url"], "port": 1717})
    form.set("ca_cert", info["ca_cert"])
    return form, info


def test_the_client_id_test_asks_the_authorize_page(demo_form) -> None:
    form, info = demo_form
    form.set("client_id", info["client_id"])
    ok = form.test("client_id")
    assert (ok.ok, ok.reason) == (True, "ok") and "knows this client id" in ok.words
    form.set("client_id", "3MVG9" + "z" * 60)
    unknown = form.test("client_id")
    assert (unknown.ok, unknown.reason, unknown.fix) == (False, "client_id.unknown", "settings.client_id")
    assert "does not know this client id" in unknown.words


def test_the_px_key_test_reads_the_subscription(demo_form) -> None:
    form, info = demo_form
    form.set("px_api_url", info["px_api_url"])
    form.set("px_api_key", info["px_api_key"])
    ok = form.test("px_api_key")
    assert ok.ok and "subscription Northwind Traders" in ok.words
    form.set("px_api_key", "wrong-" + "w" * 30)
    refused = form.test("px_api_key")
    assert (refused.ok, refused.fix) == (False, "settings.px_api_key")
    assert "refused (401)" in refused.words


def test_the_status_page_test_and_an_address_that_is_no_status_page(demo_form) -> None:
    form, info = demo_form
    form.set("status_url", info["status_url"])
    ok = form.test("status_url")
    assert ok.ok and "All Systems Operational" in ok.words
    form.set("status_url", info["px_api_url"])  # answers, but is no status page
    wrong = form.test("status_url")
    assert (wrong.ok, wrong.reason, wrong.fix) == (False, "status.not_statuspage", "settings.status_url")


def test_an_address_that_does_not_answer_is_named_with_where_to_change_it() -> None:
    form = SetupForm.load("gainsight-px")
    form.set("status_url", "https://127.0.0.1:9")  # nothing listens there
    result = form.test("status_url")
    assert (result.ok, result.reason, result.fix) == (False, "net.unreachable", "settings.status_url")
    assert "https://127.0.0.1:9/api/v2/status.json" in result.words
    assert "check the URL" not in result.words


# -- the ways to sign in -------------------------------------------------------------------------------------------

def _setup(client_id: str | None = None, **kw):
    from sfwizard.recovery.wizard import SignInSetup

    return SignInSetup(login_url="https://login.salesforce.com", client_id=client_id, **kw)


def test_the_cli_listing_is_read_as_the_real_cli_prints_it() -> None:
    logins = parse_org_list(ORG_LIST)
    assert logins == [CliLogin(alias="sbx", username="avery.admin@northwind.example", org_id="00D5g0000004C92EAE",
                               instance_url="https://127.0.0.1:35485", org_name="Northwind Traders",
                               is_sandbox=False, status="Connected")]  # one, though listed twice
    assert "REDACTED" not in repr(logins)
    assert parse_org_list({"status": 0, "result": {"other": [], "nonScratchOrgs": []}}) == []
    assert parse_org_list({"status": 1, "message": "boom"}) == [] and parse_org_list(["x"]) == []


def test_choices_in_order_with_what_needs_no_setup_first() -> None:
    logins = parse_org_list(ORG_LIST)
    choices = sign_in_choices(_setup(), demo=False, cli=logins, saved=False)
    assert [c.id for c in choices] == ["sf_cli:sbx", "browser", "device", "saved"]
    assert choices[0].available and choices[0].target_org == "sbx"
    assert "avery.admin@northwind.example" in choices[0].label
    for c in choices[1:3]:  # greyed with why and where to mend it, not offered and then refused
        assert not c.available and "client id" in c.why and c.fix == "settings.client_id"
    assert not choices[3].available and choices[3].why
    ready = sign_in_choices(_setup("3MVG9abc"), demo=False, cli=None, saved=True)
    assert [(c.id, c.available) for c in ready] == [("sf_cli", False), ("browser", True), ("device", True),
                                                   ("saved", True)]
    assert ready[0].why == "the Salesforce CLI (sf) is not installed on this machine"


def test_a_chosen_method_comes_first_and_a_demo_offers_only_what_works_there() -> None:
    logins = parse_org_list(ORG_LIST)
    choices = sign_in_choices(_setup("3MVG9abc", method="device"), demo=False, cli=logins, saved=False)
    assert choices[0].id == "device"
    demo = sign_in_choices(_setup("3MVG9abc", keep=False), demo=True, cli="ask")
    assert [c.id for c in demo] == ["browser", "device"] and all(c.available for c in demo)


def test_cli_logins_runs_sf_org_list(tmp_path, monkeypatch) -> None:
    from sfwizard.recovery.setup_form import cli_logins

    monkeypatch.setenv("SFWIZARD_SF_CLI", str(tmp_path / "missing-sf"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SFWIZARD_SF_CLI")
    assert cli_logins() is None  # not installed
    sf = tmp_path / "sf"
    sf.write_text("#!/bin/sh\n[ \"$*\" = \"org list --json\" ] && exec /bin/cat "
                  + str(HERE / "data" / "sf-org-list.json") + "\n")
    sf.chmod(0o755)
    monkeypatch.setenv("SFWIZARD_SF_CLI", str(sf))
    assert [x.target for x in cli_logins() or []] == ["sbx"]


# -- the wizard takes the sign-in options `login` takes ----------------------------------------------------------

def test_the_wizard_takes_the_sign_in_options(monkeypatch) -> None:
    from sfwizard.cli import main
    from sfwizard.recovery.wizard import setup_from_settings

    seen = []
    assert main(["--client-id", "3MVG9fromtheflag", "--login-url", "test", "--port", "1818", "--sf-cli",
                 "--target-org", "acme"], wizard=lambda o: seen.append(o) or 0) == 0
    options = seen[0]
    profile, setup = setup_from_settings(options.profile, options.sign_in_flags())
    assert (setup.client_id, setup.login_url, setup.port) == ("3MVG9fromtheflag", "https://test.salesforce.com",
                                                              1818)
    assert (setup.method, setup.target_org) == ("sf_cli", "acme")
    assert not paths.config_file().exists()  # for this run only


def test_a_bad_sign_in_option_is_one_line(capsys) -> None:
    from sfwizard.cli import main

    with pytest.raises(SystemExit) as end:
        main(["--login-url", "http://evil.example"], wizard=lambda o: 0)
    assert end.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a Salesforce login URL" in err[0]


def test_no_secret_in_the_sf_listing_fixture() -> None:
    text = (HERE / "data" / "sf-org-list.json").read_text()
    assert "[REDACTED]" in text and "00D5g0000004C92!" not in text
    assert os.path.getsize(HERE / "data" / "sf-org-list.json") < 8000


# -- the real Salesforce CLI, logged in to the sandbox: listed, chosen, signed in with ------------------------------

from external_tools import real_cli  # noqa: E402 - the slow test's tools, beside it


@real_cli
def test_a_real_cli_login_is_listed_and_signs_the_wizard_in(start_sandbox, tmp_path, monkeypatch) -> None:
    """A fresh HOME, `sf org login access-token --alias sbx` (REFERENCE.md), then the Connect step's first choice
    is that login, and choosing it signs the wizard in with that alias — no client id, nothing edited by hand."""
    from external_tools import sf_env, sf_login_to_sandbox

    from sfwizard.recovery.session import RecoverySession
    from sfwizard.recovery.wizard import Recovery

    sb = start_sandbox("revoked-token")
    info = sb.info()
    home = tmp_path / "home"
    home.mkdir()
    env = sf_env(info, home)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SF_TEMP_SHOW_SECRETS", raising=False)
    sf_login_to_sandbox(info, env)
    form = SetupForm.load("gainsight-px")
    form.set("ca_cert", info["ca_cert"])
    setup = form.setup()
    choices = sign_in_choices(setup, demo=False, saved=False)
    first = choices[0]
    assert (first.id, first.available, first.target_org) == ("sf_cli:sbx", True, "sbx")
    assert info["username"] in first.label
    assert [c.available for c in choices[1:3]] == [False, False]  # no client id: greyed, with why
    session = RecoverySession.new("gainsight-px")
    rec = Recovery("gainsight-px", setup, session)
    try:
        who = rec.sign_in_sf_cli(first.target_org)
        assert who.username == info["username"] and who.org_name == "Northwind Traders"
        assert rec.signed_in is not None and rec.navigator.has_fact("signed_in")  # Connect's gate needs it
    finally:
        rec.close()
