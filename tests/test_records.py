"""Snapshots, the recovery session, and what leaves the machine (report, bundle, log) — redacted."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sfwizard import report, snapshot
from sfwizard.errors import SfwizardError
from sfwizard.session import Session


@pytest.fixture
def snap() -> snapshot.Snapshot:
    from sfwizard.sandbox.admin import state_json
    from sfwizard.sandbox.scenario import load_scenario

    return snapshot.from_sandbox_state(state_json(load_scenario("healthy")))


# -- snapshots -------------------------------------------------------------------------------------------

def test_snapshot_round_trips(tmp_path: Path, snap) -> None:
    path = tmp_path / "s.yaml"
    snapshot.save(snap, path)
    assert snapshot.load(path) == snap and path.read_text().startswith("# sfwizard mapping snapshot")


@pytest.mark.parametrize("edit,where,words", [
    (lambda t: t.replace("profile: gainsight-px", "profile: gainsight-px\nprofile: skilljar"), ":8:1:",
     "duplicate key"),
    (lambda t: t.replace("  sandbox: false", "  sandbox: false\n  colour: blue"), ":13:3:", "unknown key 'colour'"),
    (lambda t: t.replace("  sandbox: false", "  sandbox: maybe"), ":12:3:", "expected true or false"),
    (lambda t: t.replace("direction: sf_to_px", "direction: sideways", 1), ":", "expected one of sf_to_px"),
    (lambda t: t.replace("schema_version: 1\n", ""), ":", "missing required key 'schema_version'"),
    (lambda t: t.replace("profile: gainsight-px", "profile: !!python/object:os.system x"), ":", "could not"),
    (lambda t: t + "\n\tbad: tab\n", ":", "'\\t'"),
    (lambda t: "- just\n- a list\n", ":1:1:", "expected a mapping"),
])
def test_snapshot_errors_are_one_positioned_line(tmp_path: Path, snap, edit, where: str, words: str) -> None:
    path = tmp_path / "s.yaml"
    snapshot.save(snap, path)
    path.write_text(edit(path.read_text()))
    with pytest.raises(SfwizardError) as err:
        snapshot.load(path)
    message = err.value.message
    assert "\n" not in message and f"{path}{where}" in message and words in message, message


def test_diff_names_what_changed_and_the_command_exits_accordingly(tmp_path: Path, snap) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    snapshot.save(snap, a)
    snapshot.save(snap, b)
    run = [sys.executable, "-m", "sfwizard", "diff", str(a), str(b)]
    assert subprocess.run(run, capture_output=True, text=True).returncode == 0
    b.write_text(b.read_text().replace("platform: account.industry", "platform: account.sector"))
    changed = subprocess.run(run, capture_output=True, text=True)
    assert changed.returncode == 1
    assert "mappings[Account.Industry].platform: 'account.industry' → 'account.sector'" in changed.stdout
    b.write_text("mappings: [")
    broken = subprocess.run(run, capture_output=True, text=True)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr and str(b) in broken.stderr


# -- the session -------------------------------------------------------------------------------------------

def test_session_saves_every_step_and_resumes() -> None:
    s = Session.new("gainsight-px")
    s.complete_step("before", "impact")
    s.confirm("before", "both admins present", "Avery Admin", "Salesforce admin")
    s.record_run([{"id": "identity.org", "status": "pass", "title": "Connected org", "summary": "ok"}])
    s.release()
    again = Session.load(s.id)
    assert again.step == "impact" and again.completed == ["before"] and again.confirmations[0]["who"] == "Avery Admin"
    assert len(again.history()) == 1
    assert oct((s.dir / "session.json").stat().st_mode & 0o777) == "0o600"
    again.release()


def test_a_second_process_cannot_take_the_same_session(sfwizard_home: Path) -> None:
    s = Session.new("gainsight-px")
    s.release()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from sfwizard.session import Session; s = Session.load({s.id!r}); "
                               "print('held', flush=True); input()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "SFWIZARD_HOME": str(sfwizard_home)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SfwizardError) as err:
            Session.load(s.id)
        assert s.id in err.value.message and str(holder.pid) in err.value.message
    finally:
        holder.communicate("\n", timeout=10)
    Session.load(s.id).release()  # free again once the other process is gone


_LOOP = """
import os, sys
from sfwizard.session import Session
s = Session.load(sys.argv[1])
for i in range(10_000):
    s.complete_step(f"{os.getpid()}-{i}", f"{os.getpid()}-{i + 1}")
    s.record_run([{"id": "x", "status": "pass", "title": "t", "summary": "s" * 200}])
    print(i, flush=True)
"""


def test_kill_9_loses_at_most_the_step_under_way(sfwizard_home: Path) -> None:
    s = Session.new("skilljar")
    s.release()
    env = {**os.environ, "SFWIZARD_HOME": str(sfwizard_home)}
    done = 0
    for kill_after in (1, 3, 7, 2, 11, 5, 13, 4, 9, 6, 8, 12):
        proc = subprocess.Popen([sys.executable, "-c", _LOOP, s.id], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(kill_after):
            proc.stdout.readline()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done += kill_after
        loaded = Session.load(s.id)
        assert len(loaded.completed) >= done - 1  # every reported save survived, bar the one under way
        done = len(loaded.completed)
        assert loaded.history()  # a torn last line is skipped, not fatal
        loaded.release()


def test_corrupt_session_falls_back_to_the_last_good_copy() -> None:
    s = Session.new("gainsight-px")
    s.complete_step("before", "impact")
    s.complete_step("impact", "mappings")
    s.release()
    (s.dir / "session.json").write_text("{torn")
    assert Session.load(s.id).step in ("impact", "mappings")
    Session.load(s.id, lock=False)
    (s.dir / "session.json.bak").write_text("{torn")
    with pytest.raises(SfwizardError) as err:
        Session.load(s.id, lock=False)
    assert "\n" not in err.value.message and "new" in err.value.hint


# -- what leaves the machine --------------------------------------------------------------------------------

def test_planted_secrets_never_leave_through_report_bundle_or_log(tmp_path: Path, sfwizard_home: Path) -> None:
    import httpx

    from sfwizard import redact
    from sfwizard.demo import _current_info, demo_client
    from sfwizard.transport import tls_verify

    with demo_client("revoked-token") as (client, ctx_kwargs):
        info = _current_info()
        results = client.run_checks(client.context(**ctx_kwargs), only=["identity.org", "token.fresh"])
        with httpx.Client(verify=tls_verify(info["ca_cert"])) as c:
            token = c.post(info["login_url"] + "/services/oauth2/token", data={
                "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
                "username": info["username"], "password": info["password"]}).json()["access_token"]
    refresh_token = "5Aep861" + "Q" * 80
    code = "aPrxN9UhHxR8ynks4puHiJeNW2DE0VUB"
    planted = [token, refresh_token, code, info["client_secret"], info["password"], info["px_api_key"]]
    log_file = tmp_path / "sfwizard.log"
    handler = logging.FileHandler(log_file)
    redact.install_log_redaction(handler)
    log = logging.getLogger("sfwizard.test")
    log.addHandler(handler)
    log.warning("token %s refresh %s", token, refresh_token)
    log.warning("GET http://localhost:1717/OauthRedirect?code=%s&state=abc", code)
    log.warning("form client_secret=%s&password=%s px key %s", info["client_secret"], info["password"],
                info["px_api_key"])
    log.removeHandler(handler)
    handler.close()
    s = Session.new("gainsight-px")
    s.notes.append(f"tried with token {token} and Bearer {token}")
    rows = [r.to_dict() for r in results]
    rows[0]["evidence"]["leak"] = {"access_token": token, "text": f"refresh_token={refresh_token}&code={code}"}
    s.record_run(rows)
    md = report.write_report(s, tmp_path)
    bundle = report.write_bundle(s, tmp_path, log_file=log_file)
    s.release()
    texts = [md.read_text(), log_file.read_text()]
    with zipfile.ZipFile(bundle) as zf:
        assert {"report.md", "checks.json", "history.jsonl", "sfwizard.log"} <= set(zf.namelist())
        texts += [zf.read(n).decode() for n in zf.namelist()]
    for text in texts:
        for secret in planted:
            assert secret not in text


def test_report_escapes_server_text(tmp_path: Path) -> None:
    s = Session.new("gainsight-px")
    s.record_run([{"id": "x", "title": "T", "status": "fail", "step": "validate",
                   "summary": "`rm -rf` | <b>x</b> [link](http://evil)", "cause": "c", "resolution": "r",
                   "evidence": {}}])
    text = report.render(s)
    s.release()
    assert "\\`rm -rf\\` \\| \\<b\\>x\\</b\\> \\[link\\](http://evil)" in text


def test_report_command_writes_both_files(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "sfwizard", "report", "--demo", "-o", str(tmp_path)],
                       capture_output=True, text=True, env={**os.environ}, timeout=120)
    assert r.returncode == 1, r.stderr  # revoked-token has failures to report
    zips = list(tmp_path.glob("*.zip"))
    assert list(tmp_path.glob("*.md")) and zips
    with zipfile.ZipFile(zips[0]) as zf:
        names = set(zf.namelist())
    assert {"report.md", "checks.json", "history.jsonl", "snapshot.yaml", "sfwizard.log"} <= names
    assert json.loads(zipfile.ZipFile(zips[0]).read("checks.json"))
