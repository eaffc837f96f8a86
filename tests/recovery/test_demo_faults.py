"""The demo survives the faults it teaches: a transient 503 or a dropped connection on the stand-in's Allow
click, on the token request or on a describe batch (a read-only POST) is retried; a fault that persists
ends the sign-in at once with its own words (no thread traceback, no 60 s wait, no blame on the connected
app); ``expire-token`` refreshes as production does, so no check is skipped and nobody is told to sign in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.sandbox.faults import FaultInjector
from sfwizard.sandbox.http import Response, json_response, sf_error

ROOT = Path(__file__).resolve().parents[2]
ALLOW = ("POST", "/setup/secur/RemoteAccessAuthorizationPage.apexp")
TOKEN = ("POST", "/services/oauth2/token")
BATCH = ("POST", "/services/data/v60.0/composite/batch")


def _fault(kind: str, path: str) -> Response:
    if kind == "drop":
        return Response(drop=True)
    if path.startswith("/services/data"):
        return sf_error(503, "SERVER_UNAVAILABLE", "An unexpected error occurred. Please try again.")
    return json_response({"error": "server_error"}, 503)


@pytest.fixture
def scripted(monkeypatch):
    """Faults on chosen requests, in order: {(method, path): ["503", "drop", …]} (then the real answer)."""
    script: dict[tuple[str, str], list[str]] = {}
    struck: list[tuple[str, str, str]] = []
    real = FaultInjector.before

    def before(self, req):
        queue = script.get((req.method, req.path))
        if queue:
            kind = queue.pop(0) if queue[0] != "always" else "503"
            struck.append((req.method, req.path, kind))
            return _fault(kind, req.path)
        return real(self, req)

    monkeypatch.setattr(FaultInjector, "before", before)
    return script, struck


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """The retries' waits, shortened: what is tested is that they happen."""
    from sfwizard.integrations.transport import RetryPolicy

    monkeypatch.setattr(RetryPolicy, "delay", lambda self, attempt, retry_after=None: 0.01)


@pytest.fixture
def thread_errors(monkeypatch):
    """Exceptions that escape a thread (the stand-in's) — there must be none."""
    seen: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_value))
    return seen


def test_transient_faults_on_allow_token_and_describe_are_retried(scripted, thread_errors) -> None:
    from sfwizard.demo import open_demo

    script, struck = scripted
    script.update({ALLOW: ["503", "drop"], TOKEN: ["503", "drop"], BATCH: ["503", "drop"]})
    t0 = time.monotonic()
    with open_demo("healthy") as conn:
        signed_in = time.monotonic() - t0
        ctx = conn.context()
        results = {r.id: r for r in conn.client.run_checks(ctx, only=["mapping.salesforce_fields",
                                                                      "mapping.push_targets"])}
    assert [k for *_, k in struck] == ["503", "drop"] * 3  # every scripted fault struck, then the real answer
    assert signed_in < 15 and thread_errors == []
    assert {r.status.value for r in results.values()} == {"pass"}, results


def test_a_persistent_fault_on_the_allow_click_ends_the_demo_at_once(scripted, thread_errors) -> None:
    from sfwizard.demo import open_demo

    script, _ = scripted
    script[ALLOW] = ["always"]
    t0 = time.monotonic()
    with pytest.raises(SfwizardError) as err, open_demo("healthy"):
        pass
    assert time.monotonic() - t0 < 20  # not the browser timeout of 60 s
    assert "stand-in for the Salesforce admin could not approve" in err.value.message
    assert "503" in err.value.message and "no answer from the browser" not in str(err.value)
    assert thread_errors == []


def test_a_persistent_503_on_the_token_request_is_not_blamed_on_the_connected_app(scripted) -> None:
    from sfwizard.demo import open_demo

    script, _ = scripted
    script[TOKEN] = ["always"]
    with pytest.raises(SfwizardError) as err, open_demo("healthy"):
        pass
    assert err.value.message == "the Salesforce login server is unavailable (HTTP 503, after retries)"
    assert "connected app" not in str(err.value) and err.value.kind == "unreachable"


def test_a_persistent_503_on_a_describe_batch_is_a_salesforce_error_after_retries(scripted) -> None:
    from sfwizard.demo import open_demo

    script, struck = scripted
    with open_demo("healthy") as conn:
        script[BATCH] = ["always"]
        with pytest.raises(SfwizardError):
            conn.client.salesforce.describe(["Account"])
    assert len(struck) == 4  # the first try and three retries


# -- the whole command, as a person runs it ------------------------------------------------------------------

def _scenario(tmp_path: Path, faults: dict[str, str]) -> Path:
    path = tmp_path / "faulty.yaml"
    lines = ["schema: 1", "name: faulty", "extends: healthy", "faults:"] + [f"  {k}: {v}" for k, v in faults.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _check(scenario: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sfwizard", "check", "--demo", "--scenario", scenario],
                          capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=180)


def _statuses(stdout: str) -> set[str]:
    return {line.split()[0] for line in stdout.splitlines() if line[:4] in ("PASS", "FAIL", "WARN", "ASK ", "SKIP")}


def test_check_demo_healthy_passes() -> None:
    out = _check("healthy")
    assert out.returncode == 0, out.stdout + out.stderr
    assert _statuses(out.stdout) == {"PASS", "ASK"}


def test_check_demo_with_expiring_tokens_refreshes_and_skips_nothing(tmp_path) -> None:
    out = _check(str(_scenario(tmp_path, {"expire-token": "5"})))
    assert out.returncode == 0, out.stdout + out.stderr
    assert _statuses(out.stdout) == {"PASS", "ASK"}  # no SKIP, no FAIL
    assert "refreshing once" in out.stderr  # the faults did strike
    assert "sfwizard login" not in out.stdout + out.stderr and "no longer valid" not in out.stdout + out.stderr


def test_check_demo_with_transient_errors_and_drops_passes(tmp_path) -> None:
    out = _check(str(_scenario(tmp_path, {"error": "0.1", "drop": "0.05"})))
    assert out.returncode == 0, out.stdout + out.stderr
    assert _statuses(out.stdout) == {"PASS", "ASK"}
    assert "fault: 503" in out.stderr and "fault: dropped connection" in out.stderr  # they did strike
    assert "Traceback" not in out.stderr and "no answer from the browser" not in out.stderr
