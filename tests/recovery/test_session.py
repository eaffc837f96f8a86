"""The recovery session: private files that persist across loads, one process at a time, kill -9 and torn
or corrupt files survived, listing and resuming, bad ids, a failed save, and history lines that are JSON but
not runs."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.recovery import session as session_mod
from sfwizard.recovery.session import RecoverySession


def _new(profile: str, sid: str) -> RecoverySession:
    s = RecoverySession(id=sid, profile=profile)
    s.dir.mkdir(parents=True)
    s.acquire()
    s.save()
    return s


def _result(cid: str, status: str = "pass", **extra) -> dict:
    return {"id": cid, "title": f"check {cid}", "status": status, "summary": f"{cid} {status}",
            "evidence": {}, "cause": "", "resolution": "", "step": "before", "elapsed_ms": 1, **extra}


# -- life cycle and lock ----------------------------------------------------------------------------

def test_session_is_created_private_and_persists_across_load(sfwizard_home: Path, assert_no_leak) -> None:
    s = RecoverySession.new("gainsight-px")
    path = sfwizard_home / "data" / "sessions" / s.id / "session.json"
    assert_no_leak(path)  # mode 0600
    s.complete_step("before", "impact")
    s.confirm("before", "Both admins present", "Avery Admin", "Salesforce admin")
    s.record_run([_result("a"), _result("b", "fail")], {"GET /query": 3})
    s.record_run([_result("b")])
    s.release()
    assert_no_leak([path, path.parent / "session.json.bak"])

    t = RecoverySession.load(s.id)
    try:
        assert t.completed == ["before"]
        assert t.step == "impact"
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
                              stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = holder.stdout.readline()
        assert line.startswith("holding"), holder.stderr.read() if not line else line
        with pytest.raises(SfwizardError) as info:
            RecoverySession.load(s.id)
        message = str(info.value)
        assert "\n" not in message
        assert s.id in message
        assert f"pid {holder.pid}" in message
    finally:
        holder.stdin.close()
        assert holder.wait(timeout=10) == 0
    again = RecoverySession.load(s.id)  # the holder is gone: the lock is free
    again.release()


# -- kill -9 while saving, torn and corrupt files --------------------------------------------------

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
                                  stderr=subprocess.PIPE, text=True, env=os.environ.copy())
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
            assert [run for run in history if not isinstance(run, dict) or "results" not in run] == []
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


@pytest.mark.parametrize("garbage", [b"", b"\x00" * 64, b'{"id": "x", "profile": "gain', b"[]", b"{}", b"null",
                                     b'"a string"'], ids=["empty", "zeros", "truncated", "list", "empty-object",
                                                          "null", "string"])
def test_corrupt_session_json_falls_back_to_bak(garbage: bytes, caplog: pytest.LogCaptureFixture) -> None:
    s = RecoverySession.new("gainsight-px")
    s.complete_step("before", "impact")  # session.json.bak now holds this state
    s.complete_step("impact", "mappings")
    s.release()
    (s.dir / "session.json").write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="sfwizard.recovery.session"):
        t = RecoverySession.load(s.id)  # falls back to .bak, and says so in the log
    try:
        assert t.id == s.id
        assert t.completed == ["before"]
        assert t.step == "impact"
        t.complete_step("impact", "mappings")  # saving over the corrupt file keeps the good .bak
    finally:
        t.release()
    assert "resuming from the previous save" in caplog.text
    assert "session.json" in caplog.text
    u = RecoverySession.load(s.id)
    assert u.completed == ["before", "impact"]
    u.release()
    good = (s.dir / "session.json").read_bytes()

    (s.dir / "session.json").write_bytes(garbage)
    (s.dir / "session.json.bak").write_bytes(garbage)
    with pytest.raises(SfwizardError) as info:
        RecoverySession.load(s.id)
    assert str(s.dir / "session.json") in info.value.message
    assert info.value.hint
    assert "\n" not in str(info.value)
    (s.dir / "session.json").write_bytes(good)
    RecoverySession.load(s.id).release()  # the failed load above did not keep the lock


# -- listing, resuming, saving ------------------------------------------------------------------------

def test_list_sessions_newest_first_and_resume_picks_the_profiles_latest() -> None:
    for sid, profile in (("20260101-000000-aaaa", "gainsight-px"), ("20260102-000000-bbbb", "skilljar"),
                         ("20260103-000000-cccc", "gainsight-px")):
        s = _new(profile, sid)
        s.complete_step("before", "impact")
        s.release()
    (session_mod.sessions_dir() / "junk").mkdir()  # a folder with no session in it is skipped
    (session_mod.sessions_dir() / "stray-file").write_text("x")
    listed = RecoverySession.list_sessions()
    assert [(i["id"], i["profile"], i["step"], i["completed"]) for i in listed] == [
        ("20260103-000000-cccc", "gainsight-px", "impact", 1),
        ("20260102-000000-bbbb", "skilljar", "impact", 1),
        ("20260101-000000-aaaa", "gainsight-px", "impact", 1)]

    resumed = RecoverySession.resume("gainsight-px")
    try:
        assert resumed is not None
        assert resumed.id == "20260103-000000-cccc"
        assert resumed.completed == ["before"]
        with pytest.raises(SfwizardError, match="another sfwizard is working on session 20260103-000000-cccc"):
            RecoverySession.load(resumed.id)  # resume holds the lock
    finally:
        assert resumed is not None
        resumed.release()
    assert RecoverySession.resume("no-such-profile") is None


@pytest.mark.parametrize("sid", ["nope", "../sessions", ".", "", "a/b"])
def test_unknown_or_unsafe_ids_are_a_one_line_error(sid: str) -> None:
    with pytest.raises(SfwizardError) as info:
        RecoverySession.load(sid)
    assert info.value.message.startswith("no recovery session")
    assert "\n" not in str(info.value)


def test_a_save_that_dies_half_way_keeps_the_previous_step(monkeypatch: pytest.MonkeyPatch) -> None:
    s = RecoverySession.new("gainsight-px")
    s.complete_step("before", "impact")

    def boom(path: Path, data: bytes, mode: int = 0o644) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m, pytest.raises(SfwizardError) as info:
        m.setattr(session_mod, "write_atomic", boom)
        s.complete_step("impact", "mappings")
    assert "No space left on device" in info.value.message and info.value.hint  # one line, a way forward
    s.release()
    assert (s.dir / "session.json").exists()  # the last good copy was put back where load() looks first
    t = RecoverySession.load(s.id)
    try:
        assert t.completed == ["before"]
        assert t.step == "impact"
    finally:
        t.release()
    assert not list(s.dir.glob(".*.tmp"))


def test_many_saves_leave_no_temp_files_and_private_files(assert_no_leak) -> None:
    s = RecoverySession.new("skilljar")
    s.identity = {"org_id": "00D000000000001", "username": "a@b.c", "access_token": "00Dx!secret",
                  "refresh_token": "5Aep-secret"}
    try:
        for i in range(30):
            s.confirm("before", f"item {i}", "Avery", "admin")
    finally:
        s.release()
    names = sorted(p.name for p in s.dir.iterdir())
    assert names == [".lock", ".owner", "session.json", "session.json.bak"]
    assert_no_leak([s.dir / "session.json", s.dir / "session.json.bak"],
                   {"access token": "00Dx!secret", "refresh token": "5Aep-secret"})  # never a token on disk
    data = json.loads((s.dir / "session.json").read_text())
    assert len(data["confirmations"]) == 30
    assert data["schema_version"] == session_mod.SCHEMA_VERSION
    assert {"step", "item", "who", "role", "at"} == set(data["confirmations"][0])
    assert data["identity"] == {"org_id": "00D000000000001", "username": "a@b.c"}


def test_history_skips_lines_that_are_not_runs() -> None:
    s = RecoverySession.new("gainsight-px")
    try:
        s.record_run([{"id": "a", "status": "pass"}])
        with open(s.dir / "history.jsonl", "ab") as fh:
            fh.write(b'1\n"text"\n{"at": "x"}\n{"results": "no"}\n\xff\xfe not utf-8\n')
        s.record_run([{"id": "b", "status": "fail"}], {"GET /query": 2})
        runs = s.history()
        assert [r["results"][0]["id"] for r in runs] == ["a", "b"]
        assert runs[1]["api_calls"] == {"GET /query": 2}
        assert {r["id"]: r["status"] for r in s.results} == {"a": "pass", "b": "fail"}
    finally:
        s.release()


# -- damaged files: nothing saved is lost, nothing unreadable is passed over in silence ---------------------

def test_wrong_types_with_no_backup_are_repaired_and_the_damaged_file_kept(caplog: pytest.LogCaptureFixture) -> None:
    s = RecoverySession.new("gainsight-px")
    s.complete_step("before", "impact")
    s.record_run([_result("a")])
    s.release()
    data = json.loads((s.dir / "session.json").read_text())
    data.update(completed=5, results={"a": 1}, skips=[1, 2])
    damaged = json.dumps(data).encode()
    (s.dir / "session.json").write_bytes(damaged)
    (s.dir / "session.json.bak").unlink()
    with caplog.at_level(logging.WARNING, logger="sfwizard.recovery.session"):
        t = RecoverySession.load(s.id)
    try:
        assert (t.completed, t.results, t.skips) == ([], [], [])  # the wrong fields start again
        assert t.step == "impact" and t.created_at == s.created_at  # the rest is kept
        t.record_run([_result("b")])  # and the session works again
    finally:
        t.release()
    assert "completed: expected a list" in caplog.text and "results: expected a list" in caplog.text
    assert (s.dir / "session.json.damaged").read_bytes() == damaged
    assert [r["results"][0]["id"] for r in t.history()] == ["a", "b"]


def test_latest_names_a_session_it_cannot_read_and_leaves_it_alone(caplog: pytest.LogCaptureFixture) -> None:
    older = _new("gainsight-px", "20260101-000000-aaaa")
    older.release()
    broken = session_mod.sessions_dir() / "20260102-000000-bbbb"
    broken.mkdir()
    (broken / "session.json").write_bytes(b'{"id": "20260102-000000-bbbb", "profile": "gainsight-px", "st')
    (broken / "session.json.bak").write_bytes(b"\x00" * 10)
    with caplog.at_level(logging.WARNING, logger="sfwizard.recovery.session"):
        found = RecoverySession.latest("gainsight-px")
    assert found is not None and found.id == older.id
    found.release()
    assert "20260102-000000-bbbb cannot be read" in caplog.text and "using session 20260101-000000-aaaa" in caplog.text
    assert (broken / "session.json").read_bytes().endswith(b'"st')  # left exactly as it was
    assert RecoverySession.damaged_sessions()[0][0] == "20260102-000000-bbbb"


def test_keys_of_a_newer_version_are_kept_and_secrets_never_reach_the_disk() -> None:
    from sfwizard import redact

    s = RecoverySession.new("gainsight-px")
    s.release()
    data = json.loads((s.dir / "session.json").read_text())
    (s.dir / "session.json").write_text(json.dumps({**data, "added_later": [1, 2]}))
    token = "00D5g0000004C92!" + "Q" * 60
    redact.default().add("s3cr3t-api-key-value", kind="api_key")
    t = RecoverySession.load(s.id)
    try:
        t.notes.append("pasted by the admin: s3cr3t-api-key-value")
        t.record_run([_result("a", "fail", summary=f"server said: Bearer {token}")])
    finally:
        t.release()
    saved = (s.dir / "session.json").read_text() + (s.dir / "history.jsonl").read_text()
    assert json.loads((s.dir / "session.json").read_text())["added_later"] == [1, 2]
    assert "s3cr3t-api-key-value" not in saved and token[16:] not in saved
    assert "[REDACTED:" in saved


def test_a_save_while_a_worker_records_results_never_fails() -> None:
    """The wizard saves from its UI while a worker records results (found by the CI run: "dictionary changed size
    during iteration" in the save): every save reads a copy, each level taken in one step."""
    import threading

    s = RecoverySession.new("gainsight-px")
    stop = threading.Event()

    def record() -> None:
        i = 0
        while not stop.is_set():
            s.results.append({"id": f"check.{i}", "status": "pass", "evidence": {f"k{j}": j for j in range(i % 7)}})
            s.facts[f"fact.{i % 300}"] = {"at": i, "seen": {f"k{j}": j for j in range(i % 5)}}
            if i % 350 == 0:
                s.results.clear()
                s.facts.clear()
            i += 1

    worker = threading.Thread(target=record, daemon=True)
    worker.start()
    try:
        for _ in range(300):
            data = s.to_dict()  # what save() writes
            assert isinstance(data["results"], list) and isinstance(data["facts"], dict)
        s.save()
    finally:
        stop.set()
        worker.join()
