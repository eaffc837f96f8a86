"""The report and the support bundle: what the Markdown shows (UTC and local times, ticks, people, notes,
partial results), server text kept as text, and secrets planted everywhere — results, notes, confirmations,
identity, snapshot, log — found in no output."""

from __future__ import annotations

import json
import logging
import re
import secrets
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


def test_report_shows_times_local_with_utc_ticks_people_and_notes(session: RecoverySession,
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
        text = report.render(session, now=datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

    head, appendix = text.split("\n## Appendix\n")
    assert text.startswith("# Gainsight PX ↔ Salesforce recovery report\n")  # the vendor, not the profile id
    assert "gainsight-px" not in head
    assert "- **Org:** Northwind \\*Prod\\* (00D000000000001EAA, production)" in head
    assert "the wizard signed in as avery\\_admin@northwind.example" in head
    assert "- **Written:** 2026-11-20 11:00 EST (16:00 UTC)" in head  # one form: local, UTC beside it
    assert "UTC local" not in text and ":05 UTC" not in text  # never doubled, never to the second
    assert "- 2026-11-20 10:04 EST (15:04 UTC) — Avery \\<Admin\\> (Salesforce admin) confirmed: Both admins " \
           "present" in head
    # the summary names what failed when first seen, with its code; the fix is in what is left
    assert "  - Check b: b is fail (`token.not\\_granted`)" not in head  # reasons come from the result, not guessed
    assert "- Check b: b is fail — what to do: re-authorize" in head
    checklist = head.split("## Final checklist")[1]
    # the runbook's items, not the checks' titles: nothing proven yet by checks "a", "b" and "c"
    assert "- [ ] Authorized: PX reports the Salesforce integration UP, with a fresh token for the integration " \
           "user — waiting: not checked yet" in checklist
    assert "Check a" not in checklist
    assert "**Check b** — cause: token \\*revoked\\*; what to do: re-authorize" in appendix
    assert "| ⚠️ | Check c | someday | c is warn |" in appendix
    assert "### D. Notes\n\n- called support, ticket \\#123 \\`urgent\\`" in appendix
    assert re.search(r"### C. Check runs\n\n- 2026-\d\d-\d\d \d\d:\d\d E[SD]T \(\d\d:\d\d UTC\): 1 fail, 1 manual, "
                     r"1 pass, 1 warn", appendix)


def test_report_escapes_server_provided_markdown(session: RecoverySession) -> None:
    nasty = "`rm -rf` | <b>x</b> [link](http://evil)"
    session.record_run([_result("nasty", "fail", title=f"Title {nasty}", summary=nasty,
                                cause=f"because\n\n# {nasty}", resolution=nasty)])
    text = report.render(session)
    escaped = r"\`rm -rf\` \| \<b\>x\</b\> \[link\](http://evil)"
    row = next(line for line in text.splitlines() if line.startswith("| ") and "rm -rf" in line)
    assert row == f"| ❌ | Title {escaped} | before | {escaped} |"
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # the table keeps its four columns
    assert f"cause: because \\# {escaped}" in text  # one line: no heading smuggled in
    for raw in ("<b>", "</b>", "[link]", "`rm -rf`"):
        assert raw not in text


# -- no secret in any output ------------------------------------------------------------------------

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


def test_no_secret_reaches_the_report_the_bundle_or_the_log(tmp_path: Path, assert_no_leak) -> None:
    """The sandbox's own secrets (registered, as the demo and sign-in do) and real-shaped tokens nobody
    registered (the shapes alone must catch them), echoed by the server into results, pasted by the admin into
    notes, the snapshot and a confirmation, and logged: the report, every file of the bundle and the log."""
    from sfwizard import demo

    log_path = tmp_path / "logs" / "sfwizard.log"
    log_path.parent.mkdir()
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    redact.install_log_redaction(handler)
    log = logging.getLogger("sfwizard.test_report")
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
                               "nested": [{"secret": info["client_secret"]}],
                               "headers": {"X-APTRINSIC-API-KEY": info["px_api_key"]}}}
    snap_path = tmp_path / "snapshot.yaml"
    snapshot.save(snapshot.build({
        "profile": "gainsight-px", "org": {"id": info["org_id"], "name": f"Org {info['password']}"},
        "integration_user": {"username": "px@northwind.example"},
        "knowledge": {"known_article": f"https://x/articles/1?access_token={access}"},
        "to_complete": [f"admin pasted: {everything}"]}), snap_path)
    session = RecoverySession.new("gainsight-px")
    try:
        session.snapshot_path = str(snap_path)
        session.notes.append(everything)
        session.identity = {"org_name": f"Org {info['px_api_key']}", "org_id": info["org_id"],
                            "username": info["username"], "access_token": access}
        session.confirm("reauthorize", f"Allowed with {callback}", f"Avery {info['password']}", "admin")
        session.record_run(results, calls)

        log.info("token answer %s", json.dumps({"access_token": access, "refresh_token": refresh}))
        log.info("token response %s", {"access_token": access, "refresh_token": refresh})
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
        md_path = report.write_report(session, out)
        zip_path = report.write_bundle(session, out, log_file=log_path)
    finally:
        log.removeHandler(handler)
        session.release()

    # The log file is the test's own handler's (its mode is not sfwizard's doing): read as text.
    outputs = assert_no_leak([md_path, zip_path, ("log file", log_path.read_text(encoding="utf-8"))], planted)
    bundle = {name.split("/", 1)[1]: text for name, text in outputs.items() if name.startswith(f"{zip_path.name}/")}
    assert {"report.md", "checks.json", "session.json", "history.jsonl", "snapshot.yaml", "sfwizard.log"} <= \
        set(bundle)
    assert "sign-in failed" in bundle["sfwizard.log"]
    assert "RuntimeError" in outputs["log file"]
    assert "server said" in outputs[md_path.name]
    for where, text in outputs.items():  # the redaction happened, not an empty file
        if where != f"{zip_path.name}/checklist.json":  # the runbook's items: nothing planted reaches them
            assert "[REDACTED:" in text, where
    assert "[REDACTED:refresh_token]" in bundle["snapshot.yaml"]


def test_bundle_survives_a_snapshot_that_is_not_utf8(session: RecoverySession, tmp_path: Path) -> None:
    bad = tmp_path / "snap.yaml"
    bad.write_bytes(b"org: \xff\xfe\n")
    session.snapshot_path = str(bad)
    zip_path = report.write_bundle(session, tmp_path, log_file=tmp_path / "missing.log")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        assert "snapshot.yaml" in names
        assert "sfwizard.log" not in names
        assert "\ufffd" in zf.read("snapshot.yaml").decode("utf-8")


@pytest.mark.parametrize(("tz", "value", "shown"), [
    ("UTC", "2026-11-20T10:00:00Z", "2026-11-20 10:00 UTC"),  # local is UTC: once
    ("UTC", datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc), "2026-11-20 10:00 UTC"),
    ("UTC", "2026-11-20T10:00:00", "2026-11-20 10:00 UTC"),  # naive: ours are UTC
    ("Europe/Paris", "2026-11-20T10:00:00+00:00", "2026-11-20 11:00 CET (10:00 UTC)"),
    ("Pacific/Auckland", "2026-11-20T13:30:00+00:00", "2026-11-21 02:30 NZDT (2026-11-20 13:30 UTC)"),
    ("UTC", "not a *time*", "not a \\*time\\*"),
])
def test_when_shows_a_time_once_local_with_utc_beside_it(tz, value, shown, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", tz)
    time.tzset()
    try:
        assert report.when(value) == shown
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
