"""Every fault the sandbox and the machine can produce, injected, with the outcome asserted.

Survived means: a transient fault is ridden out (retries, a refresh) and the run ends as it would have without
it; a persistent one ends the run with exit 2 and one line that names it and says what to do; nothing already
saved is lost; no secret reaches an output (the leak scan checks the files afterwards).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import threading
from pathlib import Path

import pytest
from _support import Ran, one_line_error

from sfwizard.errors import SfwizardError


def _scenario(tmp_path: Path, faults: dict[str, object], base: str = "healthy", **extra: str) -> str:
    lines = ["schema: 1", "name: faulty", f"extends: {base}", "faults:"]
    lines += [f"  {k}: {v}" for k, v in faults.items()]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path = tmp_path / "faulty.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _json(ran: Ran) -> dict:
    doc = json.loads(ran.out)
    assert doc["exit_code"] == ran.code
    return doc


def _statuses(doc: dict) -> dict[str, str]:
    return {r["id"]: r["status"] for r in doc["results"]}


@pytest.fixture(scope="module")
def healthy_baseline(tmp_path_factory) -> dict[str, str]:
    """What ``check --demo --scenario healthy`` answers with no fault: the outcome a survived fault keeps."""
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("baseline-home")
    out = subprocess.run([sys.executable, "-m", "sfwizard", "check", "--demo", "--scenario", "healthy", "--json"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "SFWIZARD_HOME": str(home)})
    assert out.returncode == 0, out.stderr
    return {r["id"]: r["status"] for r in json.loads(out.stdout)["results"]}


# -- transient faults: ridden out ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,faults,logged", [
    ("latency", {"latency": "15~10"}, ""),
    ("http 500", {"error": "0.15:500"}, "fault: 500 on"),
    ("http 503", {"error": "0.15:503"}, "fault: 503 on"),
    ("dropped connections", {"drop": 0.15}, "fault: dropped connection"),
    ("token expiring mid-run", {"expire-token": 4}, "fault: access token expired after 4 calls"),
])
def test_transient_faults_are_ridden_out(name, faults, logged, tmp_path, fault, sfwizard_cli, healthy_baseline,
                                         caplog) -> None:
    with fault(name), caplog.at_level(logging.INFO):
        ran = sfwizard_cli("check", "--demo", "--scenario", _scenario(tmp_path, faults), "--json")
        assert ran.code == 0, ran.err
        assert _statuses(_json(ran)) == healthy_baseline  # the same diagnosis as without the fault
        assert "sfwizard login" not in ran.err  # an expired token is refreshed, nobody is told to sign in
        assert logged in caplog.text  # the fault did strike


def test_429_with_retry_after_is_waited_out(tmp_path, fault, sfwizard_cli, healthy_baseline, quick_retries,
                                            caplog) -> None:
    with fault("platform 429 with Retry-After"), caplog.at_level(logging.INFO):
        ran = sfwizard_cli("check", "--demo", "--scenario", _scenario(tmp_path, {"px-429": 0.4}), "--json")
        assert ran.code == 0, ran.err
        assert _statuses(_json(ran)) == healthy_baseline
        assert "fault: 429 on" in caplog.text
        assert 1.0 in quick_retries  # the wait asked for was the server's Retry-After: 1


def test_timeouts_are_retried_then_named(monkeypatch, fault, sfwizard_cli, quick_retries) -> None:
    """Answers slower than the client waits: each call is tried four times, then the run is no diagnosis."""
    from sfwizard import demo
    from sfwizard.integrations import transport

    monkeypatch.setattr(transport, "READ_TIMEOUT", 0.25)
    real_connect = demo.connect

    def slow_after_sign_in(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        demo._SANDBOXES[-1].state.faults.latency_ms = 600  # every answer from now on outlasts the client's wait
        return conn

    monkeypatch.setattr(demo, "connect", slow_after_sign_in)
    with fault("timeouts"):
        ran = sfwizard_cli("check", "--demo", "--scenario", "healthy", "--only",
                           "identity.org,before.platform_api,before.status_page")
        assert ran.code == 2, ran.err
        line = _last_line(ran)  # whichever call met it first: the demo's own reads, or a check
        assert "did not answer in time" in line or ("could not check" in line and "timed-out" in line), line
        assert len(quick_retries) >= 3  # each call was tried again before giving up


# -- persistent faults: one line, exit 2 ----------------------------------------------------------------------------

def _last_line(ran: Ran) -> str:
    assert "Traceback" not in ran.err + ran.out
    return [ln for ln in ran.err.splitlines() if ln.startswith("sfwizard:")][-1]


@pytest.mark.parametrize("service,check", [("salesforce:3", None), ("platform", "before.platform_api"),
                                           ("status", "before.status_page")])
def test_an_unreachable_service_is_no_diagnosis(service, check, tmp_path, fault, sfwizard_cli) -> None:
    with fault(f"unreachable {service.split(':')[0]}"):
        ran = sfwizard_cli("check", "--demo", "--scenario", _scenario(tmp_path, {"unreachable": service}), "--json")
        assert ran.code == 2
        failed = {r["id"] for r in _json(ran)["results"] if r["status"] == "fail"}
        # The checks run concurrently: which one meets a service that stops answering mid-run is the
        # scheduler's choice; the one that did is named, and the run is called no diagnosis.
        assert failed and (check is None or check in failed)
        line = _last_line(ran)
        assert line.startswith("sfwizard: could not check") and "run it again" in line
        assert any(f in line for f in failed), line


def test_a_persistent_503_is_named_after_the_retries(tmp_path, fault, sfwizard_cli, caplog) -> None:
    with fault("persistent 503"), caplog.at_level(logging.INFO):
        ran = sfwizard_cli("check", "--demo", "--scenario", _scenario(tmp_path, {"error": "1.0:503"}))
        one_line_error(ran)
        assert caplog.text.count("fault: 503 on") >= 3  # it was retried before giving up


def test_request_limit_exceeded_is_diagnosed(tmp_path, fault, sfwizard_cli) -> None:
    with fault("REQUEST_LIMIT_EXCEEDED"):
        ran = sfwizard_cli("check", "--demo", "--scenario", _scenario(tmp_path, {"request-limit": 4}), "--json")
        assert ran.code == 1, ran.err
        doc = _json(ran)
        assert _statuses(doc)["ts.api_limit"] == "fail"
        assert "Traceback" not in ran.err


# -- the saved sign-in: rotation, invalid_grant ---------------------------------------------------------------------

SF_ONLY = "identity.org,perm.api_enabled,perm.read_sources,proactive.api_headroom,proactive.dedicated_user"


def test_refresh_token_rotation_mid_run_is_saved_first(sandbox, sign_in, fault, sfwizard_cli, monkeypatch,
                                                       sfwizard_home) -> None:
    from sfwizard.integrations import credentials
    from sfwizard.sandbox.salesforce.tokens import token_store

    info = sandbox.info()
    monkeypatch.setenv("SFWIZARD_CA_CERT", info["ca_cert"])
    first = sign_in(info)
    credentials.save(first)  # no keychain in tests: the 0600 file
    sandbox.state.connected_apps[info["client_id"]].rotate_refresh_tokens = True
    sandbox.state.faults.token_expires_after = 2
    with fault("refresh-token rotation"):
        ran = sfwizard_cli("check", "--only", SF_ONLY)
        assert ran.code in (0, 1), ran.err
        assert "sfwizard login" not in ran.err
        saved = credentials.load()
        assert saved is not None and saved.refresh_token != first.refresh_token  # the rotated one, saved
        store = token_store(sandbox.state)
        assert store.refresh[first.refresh_token].revoked  # the old one is dead: only the saved one works
        assert not store.refresh[saved.refresh_token].revoked
        assert oct((sfwizard_home / "data" / "signin.json").stat().st_mode & 0o777) == "0o600"


def test_invalid_grant_asks_to_sign_in_again_and_keeps_the_file(sandbox, sign_in, fault, sfwizard_cli,
                                                                monkeypatch, sfwizard_home) -> None:
    from sfwizard.integrations import credentials
    from sfwizard.sandbox.salesforce.tokens import token_store

    info = sandbox.info()
    monkeypatch.setenv("SFWIZARD_CA_CERT", info["ca_cert"])
    tokens = sign_in(info)
    credentials.save(tokens)
    token_store(sandbox.state).revoke(tokens.refresh_token)  # a security advisory: refresh answers invalid_grant
    with fault("invalid_grant"):
        ran = sfwizard_cli("check", "--only", "identity.org")
        line = one_line_error(ran, "sfwizard login")
        assert "invalid_grant" in line or "no longer valid" in line
        assert (sfwizard_home / "data" / "signin.json").exists()


# -- the keychain -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["hangs", "fails"])
def test_a_keychain_that_hangs_or_fails_falls_back_to_the_private_file(how, fake_keyring, make_tokens, monkeypatch,
                                                                       capsys, fault, sfwizard_home) -> None:
    from sfwizard.integrations import credentials

    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.2)
    if how == "hangs":
        fake_keyring.hang = threading.Event()
    else:
        fake_keyring.down = True
    with fault(f"keychain {how}"):
        where = credentials.save(make_tokens())
        assert where == str(sfwizard_home / "data" / "signin.json")
        assert oct(Path(where).stat().st_mode & 0o777) == "0o600"
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "no working OS keychain" in err
        assert credentials.load() == make_tokens()


# -- the disk -------------------------------------------------------------------------------------------------------

@pytest.fixture
def full_disk(monkeypatch, sfwizard_home):
    """ENOSPC from every write and fsync to a file under the test's SFWIZARD_HOME (elsewhere: the real ones)."""
    home = str(sfwizard_home)
    real_write, real_fsync = os.write, os.fsync
    struck: list[str] = []

    def ours(fd: int) -> bool:
        try:
            return os.readlink(f"/proc/self/fd/{fd}").startswith(home)
        except OSError:
            return False

    def write(fd, data):
        if ours(fd):
            struck.append("write")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    def fsync(fd):
        if ours(fd):
            struck.append("fsync")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    def on() -> list[str]:
        monkeypatch.setattr(os, "write", write)
        monkeypatch.setattr(os, "fsync", fsync)
        return struck

    return on


def test_a_full_disk_while_saving_a_run_prints_it_and_keeps_the_last_save(full_disk, fault, sfwizard_cli) -> None:
    from sfwizard.recovery.session import RecoverySession

    s = RecoverySession.new("gainsight-px")
    s.record_run([{"id": "before.people", "status": "manual"}])
    s.release()
    before = {p.name: p.read_bytes() for p in s.dir.iterdir() if p.is_file()}
    with fault("full disk while saving"):
        struck = full_disk()
        ran = sfwizard_cli("check", "--demo", "--scenario", "healthy")
        assert ran.code == 0, ran.err
        assert "PASS" in ran.out and "identity.org" in ran.out  # the run is printed
        lines = [ln for ln in ran.err.splitlines() if ln.startswith("sfwizard:")]
        assert len(lines) == 1 and "not saved" in lines[0] and "No space left on device" in lines[0], ran.err
        assert "Traceback" not in ran.err and struck
        after = {p.name: p.read_bytes() for p in s.dir.iterdir() if p.is_file()}
        assert after["session.json"] == before["session.json"]  # the last good save is untouched
        assert after["history.jsonl"] == before["history.jsonl"]
        assert not [n for n in after if n.endswith(".tmp")]


def test_a_full_disk_while_writing_a_snapshot_keeps_the_old_file(full_disk, fault, sfwizard_cli, sfwizard_home) -> None:
    target = sfwizard_home / "snap.yaml"
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    assert sfwizard_cli("snapshot", "--demo", "-o", str(target)).code == 0
    old = target.read_bytes()
    with fault("full disk while writing a snapshot"):
        full_disk()
        line = one_line_error(sfwizard_cli("snapshot", "--demo", "-o", str(target)), "No space left on device")
        assert "free some space" in line
        assert target.read_bytes() == old
        assert not list(target.parent.glob(".*.tmp"))


def test_a_data_folder_that_is_a_file_still_prints_the_run(monkeypatch, tmp_path, fault, sfwizard_cli) -> None:
    home = tmp_path / "blocked-home"
    home.mkdir(mode=0o700)
    (home / "data").write_text("a file where the data folder should be\n")
    monkeypatch.setenv("SFWIZARD_HOME", str(home))
    with fault("data folder is a file"):
        ran = sfwizard_cli("check", "--demo", "--scenario", "healthy", "--json")
        assert ran.code == 0, ran.err
        assert _json(ran)["results"]  # printed anyway
        lines = [ln for ln in ran.err.splitlines() if ln.startswith("sfwizard:")]
        assert len(lines) == 1 and "not saved" in lines[0] and str(home / "data") in lines[0], ran.err
        assert (home / "data").read_text() == "a file where the data folder should be\n"


def test_a_read_only_data_folder_still_prints_the_run(monkeypatch, fault, sfwizard_cli, sfwizard_home) -> None:
    """Read-only as the kernel says it to a user who is not root (root writes anyway: EACCES is simulated)."""
    real_open = os.open
    data = str(sfwizard_home / "data")

    def refusing(path, flags, *args, **kwargs):
        if str(path).startswith(data) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args, **kwargs)

    (sfwizard_home / "data").mkdir(parents=True, mode=0o700)
    monkeypatch.setattr(os, "open", refusing)
    with fault("read-only data folder"):
        ran = sfwizard_cli("check", "--demo", "--scenario", "healthy")
        assert ran.code == 0, ran.err
        assert "PASS" in ran.out
        lines = [ln for ln in ran.err.splitlines() if ln.startswith("sfwizard:")]
        assert len(lines) == 1 and "not saved" in lines[0] and "Permission denied" in lines[0], ran.err


# -- the session: damaged, held by a second wizard -----------------------------------------------------------------

def test_a_truncated_session_with_no_backup_is_named_and_left_alone(fault, sfwizard_cli, caplog) -> None:
    from _support import plant

    from sfwizard.recovery.session import RecoverySession, sessions_dir

    d = sessions_dir() / "20260101-000000-dead"
    plant(d / "session.json", b'{"id": "20260101-000000-dead", "profile": "gainsight-px", "resul')
    with fault("truncated session, no backup"), caplog.at_level(logging.WARNING):
        ran = sfwizard_cli("check", "--demo", "--scenario", "healthy", "--only", "identity.org")
        assert ran.code == 0, ran.err
        assert "20260101-000000-dead cannot be read" in caplog.text and "a new session is started" in caplog.text
        assert (d / "session.json").read_bytes().endswith(b'"resul')  # untouched: a person can repair it
        fresh = RecoverySession.latest("gainsight-px")
        assert fresh is not None and fresh.id != "20260101-000000-dead"
        assert [r["id"] for r in fresh.results] == ["identity.org"]
        fresh.release()


def test_a_session_with_wrong_types_keeps_the_run(fault, sfwizard_cli, caplog) -> None:
    """Today: ``completed: 5`` in session.json ended ``check`` with a TypeError and the run's results lost."""
    from sfwizard.recovery.session import RecoverySession

    s = RecoverySession.new("gainsight-px", demo_scenario="healthy")  # the demo run below records into demo sessions
    s.record_run([{"id": "before.people", "status": "manual"}])
    s.release()
    data = json.loads((s.dir / "session.json").read_text())
    data.update(completed=5, results={"a": 1}, confirmations="x")
    (s.dir / "session.json").write_text(json.dumps(data))
    (s.dir / "session.json.bak").unlink()
    with fault("session with wrong types"), caplog.at_level(logging.WARNING):
        ran = sfwizard_cli("check", "--demo", "--scenario", "healthy")
        assert ran.code == 0, ran.err
        assert "PASS" in ran.out and "Traceback" not in ran.err
        assert "fields of the wrong type" in caplog.text
        t = RecoverySession.load(s.id)
        t.release()
        assert t.completed == [] and "identity.org" in {r["id"] for r in t.results}
        assert len(t.history()) == 2  # the earlier run and this one
        assert json.loads((s.dir / "session.json.damaged").read_text())["completed"] == 5  # kept aside


_HOLDER = """
import sys, time
from sfwizard.recovery.session import RecoverySession
s = RecoverySession.load(sys.argv[1])
print("held", flush=True)
sys.stdin.readline()
"""


def test_a_second_wizard_on_the_same_session_is_refused_by_name(fault, sfwizard_cli) -> None:
    import subprocess
    import sys

    from sfwizard.recovery.session import RecoverySession

    s = RecoverySession.new("gainsight-px")
    s.release()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, s.id], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with fault("second wizard on the same session"):
            with pytest.raises(SfwizardError) as err:
                RecoverySession.load(s.id)
            assert f"pid {holder.pid}" in err.value.message and err.value.hint
            ran = sfwizard_cli("check", "--demo", "--scenario", "healthy", "--only", "identity.org")
            assert ran.code == 0 and "identity.org" in ran.out  # check still answers; the wizard keeps its session
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    t = RecoverySession.load(s.id)  # free again once the first wizard is gone
    t.release()
