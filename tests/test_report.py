"""The report and the support bundle: what the Markdown shows (UTC and local times, ticks, people, notes,
partial results) and secrets planted everywhere — session, results, history, snapshot, log — found in no
output. Fast: no sandbox (test_client_records.py plants the sandbox's own secrets)."""

from __future__ import annotations

import logging
import re
import secrets
import stat
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sfwizard import redact, snapshot
from sfwizard.recovery import report
from sfwizard.recovery.session import RecoverySession


def _result(cid: str, status: str, step: str = "before", **extra) -> dict:
    return {"id": cid, "title": f"Check {cid}", "status": status, "summary": f"{cid} is {status}", "evidence": {},
            "cause": "", "resolution": "", "step": step, **extra}


@pytest.fixture
def session():
    s = RecoverySession.new("gainsight-px")
    yield s
    s.release()


def test_report_shows_times_in_utc_and_local_ticks_people_and_notes(session: RecoverySession,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        session.identity = {"org_name": "Northwind *Prod*", "org_id": "00D000000000001EAA", "is_sandbox": False,
                            "username": "avery_admin@northwind.example"}
        session.snapshot_path = "/tmp/snap.yaml"
        session.confirmations.append({"step": "before", "item": "Both admins present", "who": "Avery <Admin>",
                                      "role": "Salesforce admin", "at": "2026-11-20T15:04:05+00:00"})
        session.notes.append("called support, ticket #123 `urgent`")
        session.record_run([_result("a", "pass"), _result("b", "fail", "reauthorize", cause="token *revoked*",
                                                          resolution="re-authorize"),
                            _result("c", "warn", "someday"),
                            {"id": "partial", "status": "manual"}])  # an older session's thinner result
        text = report.render(session)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

    assert "- Salesforce user: avery\\_admin@northwind.example" in text
    assert "- Salesforce org: Northwind \\*Prod\\* (00D000000000001EAA, production)" in text
    assert re.search(r"- Written: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T local\)", text)
    assert ("- Both admins present — Avery \\<Admin\\> (Salesforce admin), 2026-11-20 15:04:05 UTC "
            "(2026-11-20 10:04 EST local)") in text
    checklist = text.split("## Final checklist")[1].split("\n## ")[0]
    # the runbook's items, not the checks' titles: nothing proven yet by checks "a", "b" and "c"
    assert "- [ ] Salesforce card shows Authorized — waiting: not checked yet" in checklist
    assert "Check a" not in checklist
    assert "## Re-authorize" in text and "**Check b** — cause: token \\*revoked\\*; what to do: re-authorize" in text
    assert "## Other checks" in text and "| ⚠️ | Check c | c is warn |" in text
    assert "## Notes\n\n- called support, ticket \\#123 \\`urgent\\`" in text
    assert re.search(r"## Steps tried \(check runs\)\n\n- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC .*: 1 fail, 1 manual, "
                     r"1 pass, 1 warn", text)


def test_every_output_is_free_of_planted_secrets(session: RecoverySession, tmp_path: Path) -> None:
    # Real shapes, none registered: the shapes alone must catch them.
    access = "00D5g000004C92E!AQ4AQ" + secrets.token_urlsafe(72)
    refresh = "5Aep861" + secrets.token_urlsafe(60)
    code = "aPrx" + secrets.token_urlsafe(60) + "=="
    # No telling shape: registered, as sign-in and the demo do.
    client_secret, password = secrets.token_hex(32).upper(), secrets.token_urlsafe(12)
    api_key = secrets.token_urlsafe(24)
    redact.default().add(client_secret, kind="client_secret")
    redact.default().add(password, kind="password")
    redact.default().add(api_key, kind="api_key")
    planted = {"access": access.split("!")[1], "refresh": refresh, "code": code.rstrip("="),
               "client_secret": client_secret, "password": password, "api_key": api_key}
    everything = (f"token {access} refresh {refresh} cb http://localhost:1717/cb?code={code}&state=s "
                  f"secret {client_secret} pw {password} key {api_key}")

    log_path = tmp_path / "sfwizard.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    redact.install_log_redaction(handler)
    log = logging.getLogger("sfwizard.test_report")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("everything: %s", everything)
        log.info("token response %s", {"access_token": access, "refresh_token": refresh})
    finally:
        log.removeHandler(handler)
        handler.close()

    snap = snapshot.build({"profile": "gainsight-px", "org": {"id": "00D5g000004C92E", "name": f"Org {password}"},
                           "integration_user": {"username": "px@northwind.example"},
                           "knowledge": {"known_article": f"https://x/articles/1?access_token={access}"},
                           "to_complete": [f"admin pasted: {everything}"]})
    snap_path = tmp_path / "snapshot.yaml"
    snapshot.save(snap, snap_path)
    session.snapshot_path = str(snap_path)
    session.identity = {"org_name": f"Org {api_key}", "username": "px@northwind.example", "access_token": access}
    session.notes.append(everything)
    session.confirm("reauthorize", f"Allowed {everything}", f"Avery {password}", "admin")
    session.record_run([_result("x", "fail", summary=everything, cause=everything, resolution=everything,
                                evidence={"echo": everything, "nested": [{"client_secret": client_secret}],
                                          "headers": {"X-APTRINSIC-API-KEY": api_key}})])

    out = tmp_path / "out"
    md_path = report.write_report(session, out)
    zip_path = report.write_bundle(session, out, log_file=log_path)
    outputs = {"report": md_path.read_text(encoding="utf-8"), "log": log_path.read_text(encoding="utf-8")}
    with zipfile.ZipFile(zip_path) as zf:
        outputs.update({f"bundle/{n}": zf.read(n).decode("utf-8") for n in zf.namelist()})
    assert {"bundle/report.md", "bundle/snapshot.yaml", "bundle/checks.json", "bundle/history.jsonl",
            "bundle/sfwizard.log", "bundle/session.json"} <= set(outputs)
    assert stat.S_IMODE(zip_path.stat().st_mode) == 0o600

    leaks = [f"{what} in {where}" for what, secret in planted.items() for where, text in outputs.items()
             for piece in {secret[i:i + 12] for i in range(len(secret) - 11)}
             if piece in text or piece in text.replace("\\", "")]
    assert not leaks, sorted(set(leaks))
    for where, text in outputs.items():  # the redaction happened, not an empty file
        if where != "bundle/checklist.json":  # the runbook's items: nothing planted reaches them
            assert "[REDACTED:" in text, where
    assert "[REDACTED:refresh_token]" in outputs["bundle/snapshot.yaml"]


def test_bundle_survives_a_snapshot_that_is_not_utf8(session: RecoverySession, tmp_path: Path) -> None:
    bad = tmp_path / "snap.yaml"
    bad.write_bytes(b"org: \xff\xfe\n")
    session.snapshot_path = str(bad)
    zip_path = report.write_bundle(session, tmp_path, log_file=tmp_path / "missing.log")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert "snapshot.yaml" in names and "sfwizard.log" not in names
        assert "\ufffd" in zf.read("snapshot.yaml").decode("utf-8")


@pytest.mark.parametrize(("value", "shown"), [
    ("2026-11-20T10:00:00Z", "2026-11-20 10:00:00 UTC (2026-11-20 10:00 UTC local)"),
    (datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc), "2026-11-20 10:00:00 UTC (2026-11-20 10:00 UTC local)"),
    ("2026-11-20T10:00:00", "2026-11-20 10:00:00 UTC (2026-11-20 10:00 UTC local)"),  # naive: ours are UTC
    ("not a *time*", "not a \\*time\\*"),
])
def test_when_formats_times_and_escapes_anything_else(value, shown, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert report.when(value) == shown
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
