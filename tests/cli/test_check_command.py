"""``sfwizard check`` as a person (or cron) runs it: the JSON document, exit codes, and one line, never a
traceback, when it cannot run."""

from __future__ import annotations

import json

from sfwizard.checks import output, reasons
from sfwizard.integrations import credentials, signin


def test_check_command_json_document_and_exit_codes(run_cli) -> None:
    from sfwizard import __version__

    ok = run_cli("check", "--demo", "--scenario", "healthy", "--json", timeout=120)
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)  # one object, nothing else on stdout
    assert doc["schema"] == output.SCHEMA == 1
    assert doc["tool"] == f"sfwizard {__version__}"
    assert doc["profile"] == "gainsight-px"
    assert doc["exit_code"] == 0
    assert doc["counts"] == {s: sum(1 for r in doc["results"] if r["status"] == s)
                             for s in ("pass", "fail", "warn", "manual", "skipped")}
    assert doc["counts"]["fail"] == 0
    assert doc["api_calls"]["salesforce"] > 0
    assert list(doc["results"][0]) == ["id", "title", "step", "status", "reason", "summary", "evidence", "cause",
                                       "resolution", "elapsed_ms"]
    assert {r["reason"] for r in doc["results"] if r["status"] == "pass"} == {""}
    assert {r["id"]: r["reason"] for r in doc["results"] if r["status"] != "pass"} == {
        "before.people": "ask.people_present", "knowledge.toggle": "ask.knowledge_toggle",  # no API shows either
        "sec.logins": "ask.vendor_egress"}  # the vendor's egress ranges are a person's word

    failing = run_cli("check", "--demo", "--json", timeout=120)
    assert failing.returncode == 1, failing.stderr
    doc = json.loads(failing.stdout)
    assert doc["exit_code"] == 1
    assert doc["counts"]["fail"] == sum(1 for r in doc["results"] if r["status"] == "fail") > 0
    by_id = {r["id"]: r for r in doc["results"]}
    assert by_id["token.fresh"]["reason"] == "token.not_granted"
    assert by_id["ts.authorization_incomplete"]["reason"] == "ts.authorization_incomplete"
    assert by_id["ts.authorization_incomplete"]["evidence"]["seen_in"] == ["token.fresh"]
    for r in doc["results"]:
        assert not reasons.problem(r["status"], r["reason"]), r["id"]

    bad = run_cli("check", "--demo", "--only", "token.fresh", timeout=120)
    assert bad.returncode == 1
    assert "FAIL" in bad.stdout
    cannot = run_cli("check", "--demo", "--only", "no.such", timeout=120)
    assert cannot.returncode == 2
    assert "unknown check" in cannot.stderr
    assert "Traceback" not in cannot.stderr


def test_check_with_a_revoked_session_is_one_line_not_a_traceback(sandbox, sign_in, run_cli,
                                                                  assert_no_leak) -> None:
    info = sandbox.info()
    tokens = sign_in(info)
    credentials.save(tokens)
    assert signin.revoke(tokens, ca_cert=info["ca_cert"])
    out = run_cli("check", "--only", "identity.org", env={"SFWIZARD_CA_CERT": info["ca_cert"]})
    assert out.returncode in (1, 2), out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert "sfwizard login" in out.stderr
    assert_no_leak({"stdout": out.stdout, "stderr": out.stderr},
                   {"access token": tokens.access_token, "refresh token": tokens.refresh_token})


def test_check_not_signed_in_says_so(run_cli) -> None:
    out = run_cli("check", "--only", "identity.org")
    assert out.returncode == 2
    assert "not signed in" in out.stderr
    assert "Traceback" not in out.stderr
