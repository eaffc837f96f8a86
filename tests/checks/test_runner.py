"""The check runner's rules, without a sandbox: errors become results, a used-up limit stops the rest."""

from __future__ import annotations

import httpx
import pytest

from sfwizard.cancel import Cancelled, CancelToken
from sfwizard.checks.base import CheckSpec, Status, ok
from sfwizard.checks.context import CheckContext
from sfwizard.checks.runner import run_checks
from sfwizard.errors import SfwizardError
from sfwizard.integrations.salesforce import ApiError, ApiLimitExceeded
from sfwizard.profiles import load_profile


def _ctx() -> CheckContext:
    return CheckContext(load_profile("gainsight-px"), sf=object())  # type: ignore[arg-type]


def _spec(cid: str, func, needs=("salesforce",)) -> CheckSpec:
    return CheckSpec(cid, cid, "validate", func, ("gainsight-px",), tuple(needs))


def _raise(exc: Exception):
    def f(ctx):
        raise exc
    return f


def test_an_api_error_becomes_that_checks_result_and_the_rest_still_run() -> None:
    specs = [_spec("a", _raise(ApiError("INVALID_FIELD", "No such column 'X'", 400))),
             _spec("b", lambda ctx: ok("fine"))]
    results = run_checks(_ctx(), specs)
    assert [r.status for r in results] == [Status.FAIL, Status.PASS]
    assert [r.reason for r in results] == ["salesforce.refused", ""]
    assert results[0].evidence["errorCode"] == "INVALID_FIELD"
    assert "No such column" in results[0].cause  # Salesforce's own words are the cause


def test_a_used_up_api_limit_stops_later_checks_but_keeps_earlier_results() -> None:
    """One check at a time, "later" is registry order (concurrently, it is "not finished yet":
    tests/checks/test_runner_concurrency.py)."""
    specs = [_spec("a", lambda ctx: ok("done before")),
             _spec("b", _raise(ApiLimitExceeded("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403))),
             _spec("c", lambda ctx: ok("never"))]
    results = run_checks(_ctx(), specs, workers=1)
    assert [r.status for r in results] == [Status.PASS, Status.FAIL, Status.SKIPPED]
    assert [r.reason for r in results] == ["", "salesforce.limit_exceeded", "skip.limit_exceeded"]
    assert results[1].evidence["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_a_crashing_check_is_reported_not_raised() -> None:
    results = run_checks(_ctx(), [_spec("a", _raise(KeyError("boom"))), _spec("b", lambda ctx: ok("x"))])
    assert results[0].status == Status.FAIL
    assert results[0].reason == "check.crashed"
    assert results[0].evidence["exception"] == "KeyError"
    assert results[1].status == Status.PASS


@pytest.mark.parametrize("need,reason", [("platform", "skip.no_platform_key"), ("status", "skip.no_status_page"),
                                         ("snapshot", "skip.no_snapshot")])
def test_missing_prerequisite_skips_with_its_reason(need: str, reason: str) -> None:
    results = run_checks(_ctx(), [_spec("a", lambda ctx: ok("x"), needs=(need,))])
    assert results[0].status == Status.SKIPPED
    assert results[0].reason == reason
    if need == "platform":
        assert "SFWIZARD_PX_API_KEY" in results[0].summary  # the words name what to set


def test_missing_salesforce_sign_in_skips_and_names_the_command() -> None:
    ctx = CheckContext(load_profile("gainsight-px"))
    r = run_checks(ctx, [_spec("a", lambda ctx: ok("x"))])[0]
    assert r.status == Status.SKIPPED
    assert r.reason == "skip.no_salesforce"
    assert "sfwizard login" in r.summary  # the words tell the person what to run


def test_cancel_stops_between_checks() -> None:
    token = CancelToken()

    def cancel_then_ok(ctx):
        token.cancel()
        return ok("first")

    with pytest.raises(Cancelled):
        run_checks(_ctx(), [_spec("a", cancel_then_ok), _spec("b", lambda ctx: ok("never"))], cancel=token)


def test_sfwizard_error_carries_its_hint_as_resolution() -> None:
    results = run_checks(_ctx(), [_spec("a", _raise(SfwizardError("no route", "check the URL")))])
    assert results[0].reason == "service.error"
    assert results[0].resolution == "check the URL"


def _raised_while_handling(cause: BaseException, error: SfwizardError):
    """What the transport does: its one-line error raised ``from None`` while handling the real one."""
    def f(ctx):
        try:
            raise cause
        except type(cause):
            raise error from None
    return f


@pytest.mark.parametrize("cause", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                                   ConnectionResetError("reset")], ids=["connect", "timeout", "socket"])
def test_a_connection_failure_is_net_unreachable(cause: BaseException) -> None:
    err = SfwizardError("cannot reach example.invalid: ConnectError", "check the URL and your network")
    r = run_checks(_ctx(), [_spec("a", _raised_while_handling(cause, err))])[0]
    assert r.status == Status.FAIL
    assert r.reason == "net.unreachable"


def test_an_error_answer_is_not_net_unreachable() -> None:
    err = SfwizardError("Gainsight PX answered something that is not JSON on /x", "check the API URL")
    r = run_checks(_ctx(), [_spec("a", _raised_while_handling(ValueError("not json"), err))])[0]
    assert r.reason == "service.error"


def test_an_explicit_kind_on_the_error_decides() -> None:
    err = SfwizardError("whatever the words", "")
    err.kind = "unreachable"  # type: ignore[attr-defined]  # what the transport may set one day
    r = run_checks(_ctx(), [_spec("a", _raise(err))])[0]
    assert r.reason == "net.unreachable"


def test_sign_in_required_stops_salesforce_checks_once() -> None:
    from sfwizard.integrations.signin import SignInRequired

    calls = []

    def needs_refresh(ctx):
        calls.append(1)
        raise SignInRequired("expired access/refresh token")

    ctx = _ctx()
    results = run_checks(ctx, [_spec("a", needs_refresh), _spec("b", needs_refresh)], workers=1)
    assert [r.status for r in results] == [Status.FAIL, Status.SKIPPED]
    assert [r.reason for r in results] == ["signin.required", "skip.signin_required"]
    assert len(calls) == 1
    assert ctx.sign_in_required
    assert "sfwizard login" in results[0].resolution


def test_the_checks_package_imports_nothing_and_base_no_check() -> None:
    """No import cycle: the package imports nothing, base imports no check (only the plain types it declares
    with: results and reads); the runner brings them all."""
    import subprocess
    import sys

    code = ("import sys; mods = lambda: sorted(m for m in sys.modules if m.startswith('sfwizard.checks.')); "
            "import sfwizard.checks; a = mods(); import sfwizard.checks.base; b = mods(); "
            "import sfwizard.checks.runner; print(a, b, 'sfwizard.checks.troubleshoot' in mods())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[] ['sfwizard.checks.base', 'sfwizard.checks.reads', 'sfwizard.checks.results'] True"
