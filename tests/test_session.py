"""The recovery session beyond test_client_records.py (which covers kill -9, the lock across processes,
the corrupt-file fallback and a torn history line): listing and resuming, bad ids, a failed save,
the lock given back after a failed load, and history lines that are JSON but not runs."""

from __future__ import annotations

import json
import logging
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
        assert resumed is not None and resumed.id == "20260103-000000-cccc" and resumed.completed == ["before"]
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
    assert info.value.message.startswith("no recovery session") and "\n" not in str(info.value)


def test_a_save_that_dies_half_way_keeps_the_previous_step(monkeypatch: pytest.MonkeyPatch) -> None:
    s = RecoverySession.new("gainsight-px")
    s.complete_step("before", "impact")

    def boom(path: Path, data: bytes, mode: int = 0o644) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m, pytest.raises(OSError):
        m.setattr(session_mod, "write_atomic", boom)
        s.complete_step("impact", "mappings")
    s.release()
    t = RecoverySession.load(s.id)  # session.json is gone (renamed to .bak), the .bak has the last good step
    try:
        assert t.completed == ["before"] and t.step == "impact"
    finally:
        t.release()
    assert not list(s.dir.glob(".*.tmp"))


def test_many_saves_leave_no_temp_files_and_private_files() -> None:
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
    data = json.loads((s.dir / "session.json").read_text())
    assert len(data["confirmations"]) == 30 and data["schema_version"] == session_mod.SCHEMA_VERSION
    assert {"step", "item", "who", "role", "at"} == set(data["confirmations"][0])
    assert data["identity"] == {"org_id": "00D000000000001", "username": "a@b.c"}  # never a token on disk


def test_a_failed_load_gives_the_lock_back(caplog: pytest.LogCaptureFixture) -> None:
    s = RecoverySession.new("gainsight-px")
    s.complete_step("before", "impact")
    s.release()
    good = (s.dir / "session.json").read_bytes()
    (s.dir / "session.json").write_bytes(b"{torn")
    with caplog.at_level(logging.WARNING, logger="sfwizard.recovery.session"):
        t = RecoverySession.load(s.id)  # falls back to .bak, and says so in the log
    t.release()
    assert "resuming from the previous save" in caplog.text and "session.json" in caplog.text

    (s.dir / "session.json.bak").write_bytes(b"[]")
    with pytest.raises(SfwizardError) as info:
        RecoverySession.load(s.id)
    assert str(s.dir / "session.json") in info.value.message and info.value.hint
    (s.dir / "session.json").write_bytes(good)
    u = RecoverySession.load(s.id)  # the failed load above did not keep the lock
    u.release()


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
