"""Every error a wizard user can meet carries a fix code — a pane or a key of the wizard — and the words the
wizard shows for it never send the person to a shell (a command, an environment variable); the command line
keeps its hints. Held two ways: every raise site in the modules the wizard runs is read (AST), and the errors
people meet most are made for real."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sfwizard.errors import FIXES, SfwizardError

ROOT = Path(__file__).resolve().parents[2] / "sfwizard"
# The modules whose errors reach the wizard's screens (sign-in, the services, the connection, the demo, the
# settings pane, the Recovery object). Reading config.yaml at start-up is left out: it fails before the wizard.
WIZARD_MODULES = ["integrations/signin.py", "integrations/transport.py", "integrations/px.py",
                  "integrations/statuspage.py", "recovery/connection.py", "recovery/setup_form.py",
                  "recovery/wizard.py", "demo.py", "fileio.py"]
SHELL = re.compile(r"\bsfwizard (login|logout|check|report|snapshot)\b|SFWIZARD_|--[a-z]|\bsf org\b|\bnpm\b")


def _raises(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "SfwizardError":
            yield node


@pytest.mark.parametrize("module", WIZARD_MODULES)
def test_every_error_a_wizard_user_meets_has_a_fix_code(module: str) -> None:
    path = ROOT / module
    missing = []
    for call in _raises(path):
        fix = next((k.value for k in call.keywords if k.arg == "fix"), None)
        if fix is None:
            if module == "fileio.py" and call.lineno > 60:  # reading a file the person named: its path is the fix
                continue
            if module == "recovery/wizard.py" and "only a demo" in ast.unparse(call):
                continue  # a programming error (a click asked for outside a demo): no person meets it
            missing.append(f"{module}:{call.lineno}")
        elif isinstance(fix, ast.Constant):
            assert fix.value in FIXES, f"{module}:{call.lineno}: unknown fix code {fix.value!r}"
    assert not missing, "errors without a fix code: " + ", ".join(missing)


def test_every_fix_code_in_the_source_is_in_the_catalogue() -> None:
    used = set()
    for path in ROOT.rglob("*.py"):
        used |= set(re.findall(r'\bfix="([a-z_.]+)"', path.read_text(encoding="utf-8")))
        used |= set(re.findall(r'"(settings\.[a-z_]+|connect\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert used - set(FIXES) == set()


def _met() -> list[SfwizardError]:
    """Errors people meet, made for real."""
    from sfwizard.integrations import settings, signin
    from sfwizard.integrations.transport import Http, RetryPolicy

    out = []
    for make in (lambda: settings.resolve().require_client_id(),
                 lambda: signin.sf_cli_login(),
                 lambda: Http(retry=RetryPolicy(attempts=1)).request("GET", "https://127.0.0.1:9/api/v2/summary.json",
                                                                     label="status"),
                 lambda: Http(retry=RetryPolicy(attempts=1)).request("GET", "https://127.0.0.1:9/v1/x",
                                                                     label="platform"),
                 lambda: settings.login_url("http://nope")):
        try:
            make()
        except SfwizardError as exc:
            out.append(exc)
    return out


def test_the_wizard_words_never_send_a_person_to_a_shell(monkeypatch) -> None:
    monkeypatch.setenv("SFWIZARD_SF_CLI", "")
    monkeypatch.setenv("PATH", "/nonexistent")
    met = _met()
    assert len(met) == 5
    for exc in met:
        assert exc.fix in FIXES, exc
        assert not SHELL.search(exc.wizard_text()), exc.wizard_text()
    by_fix = {e.fix for e in met}
    assert {"settings.client_id", "connect.choose", "settings.status_url", "settings.px_api_url",
            "settings.login_url"} == by_fix
    unreachable = next(e for e in met if e.fix == "settings.status_url")
    assert "https://127.0.0.1:9/api/v2/summary.json" in unreachable.message  # the address it tried
    assert "check the URL" not in str(unreachable)
    assert SHELL.search(str(met[0]))  # the command line keeps its shell hint


def test_a_check_row_points_at_the_wizard_too() -> None:
    from sfwizard.checks.base import CheckResult, Status
    from sfwizard.recovery.remedies import fix_for_result

    def row(reason: str, status: Status = Status.SKIPPED, **ev) -> CheckResult:
        return CheckResult("x", "x", status, "s", ev, reason=reason)

    assert fix_for_result(row("skip.no_platform_key")) == "settings.px_api_key"
    assert fix_for_result(row("skip.no_salesforce")) == "connect.sign_in"
    assert fix_for_result(row("net.unreachable", Status.FAIL, fix="settings.status_url")) == "settings.status_url"
    assert fix_for_result(row("perm.api_disabled", Status.FAIL, user="u"), demo=True) == "demo.click"
    assert fix_for_result(row("perm.api_disabled", Status.FAIL, user="u")) == ""  # a person, in Salesforce


@pytest.mark.parametrize("scenario", ["revoked-token", "wrong-org", "missing-permissions", "skilljar-expired",
                                      "diagnosis/pinecrest-unreachable"])
def test_a_check_rows_words_in_the_wizard_name_no_shell(scenario: str) -> None:
    """Whatever the checks found, the row the wizard shows says it without a command or a variable, and its way
    forward is a pane or a key (a fix code) or what a person does in a vendor's UI."""
    from sfwizard.demo import demo_client
    from sfwizard.recovery.remedies import wizard_words

    with demo_client(scenario) as (client, ctx_kwargs):
        results = client.run_checks(client.context(**ctx_kwargs))
    for r in results:
        finding, way = wizard_words(r, demo=True)
        assert not SHELL.search(finding) and not SHELL.search(way), (r.id, finding, way)
        assert finding, r.id


def test_before_the_sign_in_and_without_a_key_the_rows_point_at_the_wizard() -> None:
    from sfwizard.checks.context import CheckContext
    from sfwizard.checks.runner import run_checks, specs_for
    from sfwizard.profiles import load_profile
    from sfwizard.recovery.remedies import wizard_words

    ctx = CheckContext(load_profile("gainsight-px"))  # no Salesforce, no platform key, no status page
    results = run_checks(ctx, specs_for("gainsight-px"))
    words = {r.id: wizard_words(r) for r in results}
    assert words["before.platform_api"] == ("no platform API key set yet", FIXES["settings.px_api_key"])
    assert words["identity.org"] == ("not signed in to Salesforce yet", FIXES["connect.sign_in"])
    for finding, way in words.values():
        assert not SHELL.search(finding + " " + way)


def test_a_platform_down_for_an_expired_password_asks_for_a_reset_not_another_sync() -> None:
    """PX relays INVALID_OPERATION_WITH_EXPIRED_PASSWORD: a new Synchronize or token cannot help until the integration
    user's password is reset — the remedy says so (then authorize again), with the user from token.fresh."""
    from sfwizard.checks.base import CheckResult, Status
    from sfwizard.recovery.remedies import first_remedy

    down = CheckResult("token.platform_status", "Platform reports the integration UP", Status.FAIL, "DOWN",
                       {"salesforce_error_code": "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
                        "cause_reason": "token.password_expired"}, reason="token.platform_down")
    fresh = CheckResult("token.fresh", "A fresh token", Status.PASS, "ok", {"integration_user": "px.sync@x.example"},
                        reason="token.fresh")
    got = first_remedy([fresh, down], all_results={"token.fresh": fresh, "token.platform_status": down})
    assert got is not None and got.kind == "sf.reset_password"
    assert got.details["user"] == "px.sync@x.example" and "authorize again" in got.words.lower()
    other = CheckResult("token.platform_status", "x", Status.FAIL, "DOWN", {}, reason="token.platform_down")
    assert first_remedy([fresh, other], all_results={"token.fresh": fresh}).kind == "platform.sync"
