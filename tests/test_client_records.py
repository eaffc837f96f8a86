"""Records the admin keeps: the mapping snapshot (YAML), the recovery session, the report and bundle.

Snapshot errors read ``file:line:column: message``; a session survives kill -9 and refuses a second
process; every byte of the report, the bundle and the log passes the redaction layer.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import secrets
import signal
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sfwizard import redact, snapshot, yamlspec
from sfwizard.errors import SfwizardError
from sfwizard.recovery import report
from sfwizard.recovery.session import RecoverySession

REPO = Path(__file__).resolve().parents[1]


def _run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy(), cwd=REPO)


def _healthy_snapshot() -> snapshot.Snapshot:
    from sfwizard.sandbox.admin.routes import state_json
    from sfwizard.sandbox.scenarios.loader import load_scenario

    return snapshot.from_sandbox_state(state_json(load_scenario("healthy")))


# -- 1. snapshot YAML errors ------------------------------------------------------------------------

# Line numbers below are the file's own (1-based); every case is a small, hand-made document.
MINIMAL = """\
schema_version: 1
profile: gainsight-px
org:
  id: 00D000000000001
  sandbox: false
mappings:
- salesforce: Account.Name
  platform: account.name
  direction: sf_to_px
- salesforce: Account.PX_Score__c
  platform: account.score
  direction: px_to_sf
"""

BAD_YAML = {
    "duplicate-key": (MINIMAL.replace("profile: gainsight-px\n", "profile: gainsight-px\nprofile: skilljar\n"),
                      3, 1, "duplicate key 'profile' (first at line 2)"),
    "duplicate-nested-key": (MINIMAL.replace("  sandbox: false\n", "  sandbox: false\n  id: 00D000000000002\n"),
                             6, 3, "duplicate key 'id' (first at line 4)"),
    "unknown-key": (MINIMAL.replace("  sandbox: false\n", "  sandbox: false\n  colour: red\n"),
                    6, 3, "org.colour: unknown key 'colour'"),
    "wrong-type-scalar": (MINIMAL.replace("sandbox: false", "sandbox: yes-please"),
                          5, 3, "org.sandbox: expected true or false, got the string 'yes-please'"),
    "mapping-where-list-belongs": (MINIMAL.split("mappings:")[0] + "mappings:\n  salesforce: Account.Name\n",
                                   6, 1, "mappings: expected a list, got a mapping"),
    "missing-required-org": ("schema_version: 1\nprofile: gainsight-px\nmappings: []\n",
                             1, 1, "missing required key 'org'"),
    "missing-required-nested": (MINIMAL.replace("  id: 00D000000000001\n", ""),
                                3, 1, "org: missing required key 'id'"),
    "bad-enum": (MINIMAL.replace("direction: px_to_sf", "direction: sideways"),
                 12, 3, "mappings[1].direction: expected one of sf_to_px, px_to_sf; got 'sideways'"),
    "tab-scanner-error": (MINIMAL.replace("  sandbox: false\n", "\tsandbox: false\n"),
                          5, 1, "found character '\\t' that cannot start any token"),
    "list-document": ("# a snapshot?\n- a\n- b\n", 2, 1, "expected a mapping, got a list"),
    "scalar-document": ("just some words\n", 1, 1, "expected a mapping, got the string 'just some words'"),
    "empty-document": ("", 1, 1, "expected a mapping, got nothing (null)"),
    "unhashable-key": (MINIMAL.replace("profile: gainsight-px\n", "profile: gainsight-px\n? [a, b]\n: c\n"),
                       3, 3, "unhashable key"),
}


def _assert_one_line_error(exc: SfwizardError, path: Path, line: int, col: int, message: str) -> None:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    m = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): (.*)$", exc.message)
    assert m, exc.message
    assert (int(m.group(1)), int(m.group(2))) == (line, col), exc.message
    assert not m.group(3).startswith(":"), f"an empty path left a stray colon: {exc.message}"
    assert message in m.group(3), exc.message


def test_minimal_snapshot_loads(tmp_path: Path) -> None:
    p = tmp_path / "ok.yaml"
    p.write_text(MINIMAL)
    s = snapshot.load(p)
    assert s.org.id == "00D000000000001" and [m.direction for m in s.mappings] == ["sf_to_px", "px_to_sf"]
    assert s.push["fields"] == ["Account.PX_Score__c"]


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_snapshot_yaml_errors_point_at_file_line_column(tmp_path: Path, case: str) -> None:
    text, line, col, message = BAD_YAML[case]
    p = tmp_path / f"{case}.yaml"
    p.write_text(text)
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, line, col, message)


def test_snapshot_that_is_not_utf8_is_a_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "binary.yaml"
    p.write_bytes(b"schema_version: 1\nprofile: \xff\xfe garbage\n")
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, 2, 10, "UTF-8")


def test_python_tags_are_refused_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    p = tmp_path / "evil.yaml"
    p.write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, 1, 1, "could not determine a constructor")
    assert not marker.exists()

    p.write_text(MINIMAL.replace("profile: gainsight-px", "profile: !!python/name:os.system"))
    with pytest.raises(SfwizardError) as info:
        snapshot.load(p)
    _assert_one_line_error(info.value, p, 2, 10, "python/name:os.system")
    with pytest.raises(SfwizardError, match="python/object:sfwizard.snapshot.OrgIdentity"):
        yamlspec.load_text("org: !!python/object:sfwizard.snapshot.OrgIdentity {id: x}\n", "t.yaml")


# -- 2. round trip and diff -------------------------------------------------------------------------

def _skilljar_snapshot() -> snapshot.Snapshot:
    from sfwizard.sandbox.admin.routes import state_json
    from sfwizard.sandbox.scenarios.loader import load_scenario

    return snapshot.from_sandbox_state(state_json(load_scenario("skilljar-recent")))


@pytest.mark.parametrize("make", [_healthy_snapshot, _skilljar_snapshot], ids=["healthy", "skilljar"])
def test_snapshot_dump_load_round_trip(tmp_path: Path, make) -> None:
    original = make()
    p = tmp_path / "snap.yaml"
    snapshot.save(original, p)
    loaded = snapshot.load(p)
    assert loaded == original
    # and again: loading and saving a snapshot never grows it (to_complete used to double up)
    snapshot.save(loaded, p)
    assert snapshot.load(p) == original
    assert snapshot.dump(snapshot.load(p)) == snapshot.dump(original)


def test_snapshot_diff_reports_changed_added_removed_and_nothing_when_same() -> None:
    before = _healthy_snapshot()
    assert snapshot.diff(before, before) == []
    reordered = dataclasses.replace(before, mappings=tuple(reversed(before.mappings)), taken_at="2020-01-01")
    assert snapshot.diff(before, reordered) == []

    by_sf = {m.salesforce: m for m in before.mappings}
    assert {"Account.Industry", "Contact.Title"} <= set(by_sf)
    mappings = [dataclasses.replace(m, platform="account.sector") if m.salesforce == "Account.Industry" else m
                for m in before.mappings if m.salesforce != "Contact.Title"]
    mappings.append(snapshot.FieldMapping("Account.Phone", "account.phone", "sf_to_px"))
    after = dataclasses.replace(before, mappings=tuple(mappings))
    changes = {(c.path, c.kind): c for c in snapshot.diff(before, after)}
    assert set(changes) == {
        ("mappings[Account.Industry].platform", "changed"),
        ("mappings[Contact.Title].platform", "removed"), ("mappings[Contact.Title].direction", "removed"),
        ("mappings[Account.Phone].platform", "added"), ("mappings[Account.Phone].direction", "added"),
    }
    changed = changes[("mappings[Account.Industry].platform", "changed")]
    assert (changed.before, changed.after) == ("account.industry", "account.sector")
    assert str(changed) == "~ mappings[Account.Industry].platform: 'account.industry' → 'account.sector'"
    assert str(changes[("mappings[Account.Phone].platform", "added")]).startswith("+ ")
    assert str(changes[("mappings[Contact.Title].platform", "removed")]).startswith("- ")


def test_diff_command_exit_codes(tmp_path: Path) -> None:
    before = _healthy_snapshot()
    a, b, c, broken, binary = (tmp_path / n for n in ("a.yaml", "b.yaml", "c.yaml", "broken.yaml", "bin.yaml"))
    snapshot.save(before, a)
    snapshot.save(dataclasses.replace(before, taken_at="2020-01-01T00:00:00+00:00"), b)
    changed = tuple(dataclasses.replace(m, platform="account.sector") if m.salesforce == "Account.Industry"
                    else m for m in before.mappings)
    snapshot.save(dataclasses.replace(before, mappings=changed), c)
    broken.write_text(MINIMAL.replace("direction: px_to_sf", "direction: sideways"))
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")

    same = _run_cli("diff", str(a), str(b))
    assert same.returncode == 0, same.stderr
    assert "No differences." in same.stdout

    diff = _run_cli("diff", str(a), str(c))
    assert diff.returncode == 1, diff.stderr
    assert "~ mappings[Account.Industry].platform: 'account.industry' → 'account.sector'" in diff.stdout

    for bad, where in ((broken, "12:3:"), (binary, "1:")):
        run = _run_cli("diff", str(a), str(bad))
        assert run.returncode == 2
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        assert lines[0].startswith(f"sfwizard: {bad}:{where}"), run.stderr
        assert "Traceback" not in run.stderr and "unexpected error" not in run.stderr


# -- 3. session life cycle and lock -----------------------------------------------------------------

def _result(cid: str, status: str = "pass", **extra) -> dict:
    return {"id": cid, "title": f"check {cid}", "status": status, "summary": f"{cid} {status}",
            "evidence": {}, "cause": "", "resolution": "", "step": "before", "elapsed_ms": 1, **extra}


def test_session_is_created_private_and_persists_across_load(sfwizard_home: Path) -> None:
    s = RecoverySession.new("gainsight-px")
    path = sfwizard_home / "data" / "sessions" / s.id / "session.json"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    s.complete_step("before", "impact")
    s.confirm("before", "Both admins present", "Avery Admin", "Salesforce admin")
    s.record_run([_result("a"), _result("b", "fail")], {"GET /query": 3})
    s.record_run([_result("b")])
    s.release()
    for name in ("session.json", "session.json.bak"):
        assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name

    t = RecoverySession.load(s.id)
    try:
        assert t.completed == ["before"] and t.step == "impact"
        assert [(c["item"], c["who"], c["role"]) for c in t.confirmations] == \
            [("Both admins present", "Avery Admin", "Salesforce admin")]
        assert {r["id"]: r["status"] for r in t.results} == {"a": "pass", "b": "pass"}
        runs = t.history()
        assert [len(r["results"]) for r in runs] == [2, 1]
        assert runs[0]["api_calls"] == {"GET /query": 3}
    finally:
        t.release()


_HOLD = ("import os, sys\n"
         "from sfwizard.recovery.session import RecoverySession\n"
         "s = RecoverySession.load(sys.argv[1])\n"
         "print('holding', os.getpid(), flush=True)\n"
         "sys.stdin.read()\n")


def test_second_process_is_refused_while_the_lock_is_held() -> None:
    s = RecoverySession.new("gainsight-px")
    s.release()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, s.id], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=os.environ.copy(), cwd=REPO)
    try:
        line = holder.stdout.readline()
        assert line.startswith("holding"), holder.stderr.read() if not line else line
        with pytest.raises(SfwizardError) as info:
            RecoverySession.load(s.id)
        message = str(info.value)
        assert "\n" not in message
        assert s.id in message and f"pid {holder.pid}" in message
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=10) == 0
    again = RecoverySession.load(s.id)  # the holder is gone: the lock is free
    again.release()


# -- 4. kill -9 while saving ------------------------------------------------------------------------

_WRITER = ("import sys\n"
           "from sfwizard.recovery.session import RecoverySession\n"
           "sid, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
           "s = RecoverySession.load(sid)\n"
           "for i in range(n):\n"
           "    s.record_run([{'id': f'{tag}-{i}', 'title': 't', 'status': 'pass', 'summary': 'x' * 300,\n"
           "                   'step': 'before'}], {'GET': i})\n"
           "    s.complete_step(f'{tag}-{i}', f'{tag}-{i + 1}')\n"
           "    print(i, flush=True)\n")


def test_kill_9_loses_at_most_the_step_under_way() -> None:
    s = RecoverySession.new("gainsight-px")
    s.release()
    kills = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 2, 7, 20, 1, 9]
    survived: dict[str, int] = {}
    for round_no, k in enumerate(kills):
        tag = f"r{round_no}"
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, s.id, tag, "100000"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=os.environ.copy(), cwd=REPO)
        try:
            for _ in range(k):
                line = writer.stdout.readline()
                assert line, f"writer ended early: {writer.stderr.read()}"
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=10)
            writer.stdout.close()
            writer.stderr.close()
        assert writer.returncode == -signal.SIGKILL

        t = RecoverySession.load(s.id)  # session.json or its .bak; the dead writer's lock is gone
        try:
            mine = [c for c in t.completed if c.startswith(f"{tag}-")]
            assert len(mine) >= k - 1, (k, mine)
            assert mine == [f"{tag}-{i}" for i in range(len(mine))]
            for old_tag, n in survived.items():  # earlier rounds are never lost later
                assert sum(c.startswith(f"{old_tag}-") for c in t.completed) >= n
            history = t.history()
            assert all(isinstance(run, dict) and "results" in run for run in history)
            ran = [run["results"][0]["id"] for run in history if run["results"][0]["id"].startswith(f"{tag}-")]
            assert len(ran) >= k - 1, (k, ran)
            survived[tag] = len(mine)
        finally:
            t.release()


def test_a_torn_history_line_loses_only_itself() -> None:
    s = RecoverySession.new("gainsight-px")
    s.record_run([_result("first")])
    with open(s.dir / "history.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"at": "2024-01-01T00:00:00+00:00", "results": [{"id": "to')  # killed mid-write
    s.release()
    t = RecoverySession.load(s.id)
    try:
        assert [r["results"][0]["id"] for r in t.history()] == ["first"]
        t.record_run([_result("after-crash")])
        assert [r["results"][0]["id"] for r in t.history()] == ["first", "after-crash"]
    finally:
        t.release()


# -- 5. corrupt session files -----------------------------------------------------------------------

@pytest.mark.parametrize("garbage", [b"", b"\x00" * 64, b'{"id": "x", "profile": "gain', b"[]", b"{}", b"null",
                                     b'"a string"'], ids=["empty", "zeros", "truncated", "list", "empty-object",
                                                          "null", "string"])
def test_corrupt_session_json_falls_back_to_bak(garbage: bytes) -> None:
    s = RecoverySession.new("gainsight-px")
    s.complete_step("before", "impact")  # session.json.bak now holds this state
    s.complete_step("impact", "mappings")
    s.release()
    (s.dir / "session.json").write_bytes(garbage)
    t = RecoverySession.load(s.id)
    try:
        assert t.id == s.id and t.completed == ["before"] and t.step == "impact"
        t.complete_step("impact", "mappings")  # saving over the corrupt file keeps the good .bak
    finally:
        t.release()
    u = RecoverySession.load(s.id)
    assert u.completed == ["before", "impact"]
    u.release()

    (s.dir / "session.json").write_bytes(garbage)
    (s.dir / "session.json.bak").write_bytes(b"{not json")
    with pytest.raises(SfwizardError) as info:
        RecoverySession.load(s.id)
    assert s.id in info.value.message and "\n" not in str(info.value)


# -- 6. redaction across every output ---------------------------------------------------------------

def _password_grant_token(info: dict) -> str:
    """A real access token from the sandbox (username-password flow), one with an ``_`` after the ``!``."""
    import httpx

    from sfwizard.integrations.transport import tls_verify

    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as http:
        for _ in range(60):
            resp = http.post(info["login_url"] + "/services/oauth2/token", data={
                "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
                "username": info["username"], "password": info["password"]})
            assert resp.status_code == 200, resp.text
            token = resp.json()["access_token"]
            if "_" in token.split("!", 1)[1][:30]:
                return token
    raise AssertionError("no access token with an underscore in 60 tries")


def _leaks(secret: str, text: str, window: int = 12) -> list[str]:
    """Pieces of ``secret`` (12 characters or more) found in ``text``, Markdown escapes ignored."""
    plain = text.replace("\\", "")
    return [secret[i:i + window] for i in range(max(1, len(secret) - window + 1))
            if secret[i:i + window] in text or secret[i:i + window] in plain]


def test_no_secret_reaches_the_report_bundle_or_log(tmp_path: Path) -> None:
    from sfwizard import demo

    log_path = tmp_path / "logs" / "sfwizard.log"
    log_path.parent.mkdir()
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    redact.install_log_redaction(handler)
    log = logging.getLogger("sfwizard.test_client_records")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)

    with demo.demo_client("revoked-token") as (client, ctx_kwargs):
        info = demo._current_info()
        access = _password_grant_token(info)
        results = [r.to_dict() for r in client.run_checks(client.context(**ctx_kwargs))]
        calls = dict(client.counter.counts)
    refresh = "5Aep861" + "Q" * 9 + "_" + secrets.token_urlsafe(60)[:63]
    assert len(refresh) == 80
    code, state = "aPrx" + secrets.token_urlsafe(60) + "==", secrets.token_urlsafe(16)
    callback = f"http://localhost:1717/OauthRedirect?code={code}&state={state}"
    planted = {"password": info["password"], "client_secret": info["client_secret"],
               "px_api_key": info["px_api_key"], "access_token": access, "refresh_token": refresh, "code": code}
    everything = (f"password {info['password']} secret {info['client_secret']} key {info['px_api_key']} "
                  f"token {access} refresh {refresh} callback {callback}")

    # the server echoing secrets into what the report shows, and the admin pasting them into notes
    results[0] = {**results[0], "status": "fail", "summary": f"server said: {everything}",
                  "cause": f"Authorization: Bearer {access}; {everything}", "resolution": everything,
                  "evidence": {"echo": everything, "token": access, "refresh": refresh, "callback": callback,
                               "password": info["password"], "key": info["px_api_key"],
                               "nested": [{"secret": info["client_secret"]}]}}
    session = RecoverySession.new("gainsight-px")
    try:
        session.notes.append(everything)
        session.identity = {"org_name": "Northwind", "org_id": info["org_id"], "username": info["username"]}
        session.confirm("reauthorize", f"Allowed with {callback}", f"Avery {info['password']}", "admin")
        session.record_run(results, calls)

        log.info("token answer %s", json.dumps({"access_token": access, "refresh_token": refresh}))
        log.info("callback %s", callback)
        log.warning("signing in as %s with %s (key %s, secret %s)", info["username"], info["password"],
                    info["px_api_key"], info["client_secret"])
        try:
            raise RuntimeError(f"request failed: {everything}")
        except RuntimeError:
            log.exception("sign-in failed")
        handler.close()
        log.removeHandler(handler)

        out = tmp_path / "out"
        out.mkdir()
        md_path = report.write_report(session, out)
        zip_path = report.write_bundle(session, out, log_file=log_path)
    finally:
        log.removeHandler(handler)
        session.release()

    outputs = {"report": md_path.read_text(encoding="utf-8"), "log file": log_path.read_text(encoding="utf-8")}
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        outputs.update({f"bundle/{n}": zf.read(n).decode("utf-8") for n in names})
    assert {"report.md", "checks.json", "session.json", "history.jsonl", "sfwizard.log"} <= set(names)
    assert "sign-in failed" in outputs["bundle/sfwizard.log"] and "RuntimeError" in outputs["log file"]
    assert "server said" in outputs["report"] and "[REDACTED" in outputs["report"]

    found = {}
    for what, secret in planted.items():
        body = secret.split("!", 1)[1] if what == "access_token" else secret  # the org id part is no secret
        for where, text in outputs.items():
            pieces = _leaks(body, text)
            if pieces:
                found[f"{what} in {where}"] = pieces[0]
    assert not found, "; ".join(f"{k} ({v!r})" for k, v in sorted(found.items()))

    shown = redact.default().text("Authorization: Bearer 00D5g0000004C92!AQ" + "x" * 60)
    assert "AQ" not in shown and "xxxxxxxx" not in shown and "00D5g0000004C92!" not in shown


# -- 7. Markdown from the server stays text ---------------------------------------------------------

def test_report_escapes_server_provided_markdown() -> None:
    nasty = "`rm -rf` | <b>x</b> [link](http://evil)"
    session = RecoverySession.new("gainsight-px")
    try:
        session.record_run([_result("nasty", "fail", title=f"Title {nasty}", summary=nasty,
                                    cause=f"because\n\n# {nasty}", resolution=nasty)])
        text = report.render(session)
    finally:
        session.release()
    escaped = r"\`rm -rf\` \| \<b\>x\</b\> \[link\](http://evil)"
    row = next(line for line in text.splitlines() if line.startswith("| ") and "rm -rf" in line)
    assert row == f"| ❌ | Title {escaped} | {escaped} |"
    assert len(re.findall(r"(?<!\\)\|", row)) == 4  # the table keeps its three columns
    assert f"cause: because \\# {escaped}" in text  # one line: no heading smuggled in
    for raw in ("<b>", "</b>", "[link]", "`rm -rf`"):
        assert raw not in text


# -- 8. the report command --------------------------------------------------------------------------

def test_report_demo_command_writes_markdown_and_bundle(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = _run_cli("report", "--demo", "-o", str(out))
    assert run.returncode == 1, run.stderr  # revoked-token has failing checks
    assert "Traceback" not in run.stderr
    mds, zips = sorted(out.glob("*.md")), sorted(out.glob("*.zip"))
    assert len(mds) == 1 and len(zips) == 1, list(out.iterdir())
    assert mds[0].read_text(encoding="utf-8").startswith("# sfwizard recovery report")
    with zipfile.ZipFile(zips[0]) as zf:
        names = set(zf.namelist())
        assert {"report.md", "checks.json", "history.jsonl", "snapshot.yaml", "sfwizard.log"} <= names
        checks = json.loads(zf.read("checks.json"))
        assert any(c["status"] == "fail" for c in checks)
        assert snapshot.SCHEMA_VERSION == yamlspec.load_text(zf.read("snapshot.yaml").decode(), "s")["schema_version"]
    assert stat.S_IMODE(zips[0].stat().st_mode) == 0o600
