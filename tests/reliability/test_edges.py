"""Every argument and environment value checked at the edge: one line, exit 2, before anything runs — and the
output that cannot be encoded, the folder that cannot be written, the org that refuses."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
from _support import one_line_error


@pytest.mark.parametrize("args,says", [
    (("sandbox", "--port", "70000"), "0 to 65535"),
    (("sandbox", "--port", "-1"), "0 to 65535"),
    (("sandbox", "--port", "http"), "not a port number"),
    (("login", "--port", "99999", "--client-id", "x", "--no-browser"), "99999"),
    (("--web-port", "65536"), "0 to 65535"),
    (("sandbox", "--latency", "-20"), "0 or more"),
    (("sandbox", "--fault", "latency=-5"), "0 or more"),
    (("sandbox", "--fault", "latency=10~-3"), "0 or more"),
    (("sandbox", "--fault", "latency=999999999"), "at most"),
    (("sandbox", "--fault", "expire-token=-1"), "0 or more"),
    (("sandbox", "--fault", "request-limit=-3"), "0 or more"),
    (("sandbox", "--fault", "px-rate=-1"), "0 or more"),
    (("sandbox", "--fault", "px-429=1.5"), "between 0 and 1"),
    (("sandbox", "--fault", "drop=nan"), "between 0 and 1"),
    (("sandbox", "--fault", "error=0.5:418"), "500, 502, 503 or 504"),
    (("sandbox", "--fault", "unreachable=salesforce:-2"), "0 or more"),
    (("sandbox", "--fault", "unreachable=moon"), "unknown service"),
    (("login", "--login-url", "http://login.salesforce.com", "--client-id", "x"), "not a Salesforce login URL"),
    (("login", "--login-url", "https://[::1", "--client-id", "x"), "not a Salesforce login URL"),
    (("login", "--login-url", "https://acme.my.salesforce.com:99999", "--client-id", "x"), "not a Salesforce login"),
    (("sandbox", "--scenario", "no-such-scenario"), "unknown scenario"),
    (("sandbox", "--scenario", "../no/such"), "unknown scenario"),
    (("diff", "/no/such/before.yaml", "/no/such/after.yaml"), "No such file"),
])
def test_a_bad_argument_is_one_line(args, says, sfwizard_cli, bad_input) -> None:
    with bad_input("command line", " ".join(args)):
        one_line_error(sfwizard_cli(*args), says)


@pytest.mark.parametrize("name,value,args,says", [
    ("SFWIZARD_PORT", "70000", ("login", "--client-id", "x", "--no-browser"), "70000"),
    ("SFWIZARD_PORT", "-1", ("login", "--client-id", "x", "--no-browser"), "-1"),
    ("SFWIZARD_LOGIN_URL", "ftp://login.salesforce.com", ("login", "--client-id", "x"), "not a Salesforce login URL"),
    ("SFWIZARD_API_VERSION", "sixty", ("login", "--client-id", "x"), "not a Salesforce API version"),
    ("SFWIZARD_PX_REGION", "MARS", ("login", "--client-id", "x"), "unknown Gainsight PX region"),
    ("SFWIZARD_STATUS_URL", "http://status", ("login", "--client-id", "x"), "must be an https URL"),
])
def test_a_bad_environment_value_is_one_line(name, value, args, says, monkeypatch, sfwizard_cli, bad_input) -> None:
    monkeypatch.setenv(name, value)
    with bad_input("environment", f"{name}={value}"):
        one_line_error(sfwizard_cli(*args), says)


def test_a_port_in_use_is_one_line(sfwizard_cli, bad_input) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with bad_input("command line", "sandbox --port IN_USE"):
            one_line_error(sfwizard_cli("sandbox", "--port", str(port)), "already in use")


def test_report_to_a_file_is_one_line_before_anything_runs(tmp_path, sfwizard_cli, bad_input, monkeypatch) -> None:
    import sfwizard.demo as demo

    monkeypatch.setattr(demo, "open_demo", lambda *a, **k: pytest.fail("ran before the output was checked"))
    target = tmp_path / "report.md"
    target.write_text("not a folder\n")
    with bad_input("command line", "report -o FILE"):
        one_line_error(sfwizard_cli("report", "--demo", "-o", str(target)), "a file, not a folder")
        one_line_error(sfwizard_cli("report", "--demo", "-o", str(target / "sub")), "Not a directory")
    with bad_input("command line", "snapshot -o DIR"):
        one_line_error(sfwizard_cli("snapshot", "--demo", "-o", str(tmp_path)), "a folder, not a file")


def test_report_to_a_new_folder_is_private(report_dir, sfwizard_cli) -> None:
    ran = sfwizard_cli("report", "--demo", "--scenario", "healthy", "-o", str(report_dir / "nested"))
    assert ran.code == 0, ran.err
    assert stat.S_IMODE((report_dir / "nested").stat().st_mode) == 0o700
    files = list((report_dir / "nested").iterdir())
    assert {p.suffix for p in files} == {".md", ".zip"}
    assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}


JAPANESE = "北風トレーダーズ株式会社"


def test_a_name_the_terminal_cannot_encode_is_escaped(tmp_path, sfwizard_process, bad_input) -> None:
    """PYTHONIOENCODING=ascii and an org named in Japanese: the table and the errors print, escaped."""
    path = tmp_path / "japanese.yaml"
    path.write_text(f"schema: 1\nname: japanese\nextends: healthy\norgs:\n  prod:\n    name: {JAPANESE}\n",
                    encoding="utf-8")
    with bad_input("output encoding", "PYTHONIOENCODING=ascii"):
        env = {"PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
        ran = sfwizard_process("check", "--demo", "--scenario", str(path), env=env)
        assert ran.code == 0, ran.err
        assert "UnicodeEncodeError" not in ran.err and "Traceback" not in ran.err
        assert JAPANESE.encode("ascii", "backslashreplace").decode() in ran.out  # the name, escaped
        bad = tmp_path / f"{JAPANESE}.yaml"
        bad.write_text("schema: [\n", encoding="utf-8")
        one_line_error(sfwizard_process("sandbox", "--scenario", str(bad), env=env), "sfwizard")


def test_an_org_that_refuses_is_a_diagnosis_not_a_traceback(sfwizard_cli, bad_input) -> None:
    with bad_input("org", "missing-permissions"):
        ran = sfwizard_cli("check", "--demo", "--scenario", "missing-permissions", "--json")
        assert ran.code == 1, ran.err
        failed = {r["id"] for r in json.loads(ran.out)["results"] if r["status"] == "fail"}
        assert "perm.api_enabled" in failed
        assert "Traceback" not in ran.err


def test_the_data_folder_files_are_private(sfwizard_cli, sfwizard_home: Path) -> None:
    """Today history.jsonl, sfwizard.log, snapshot.yaml, .lock and .owner were 0644 in 0755 folders."""
    assert sfwizard_cli("report", "--demo", "--scenario", "healthy", "-o", str(sfwizard_home / "out")).code == 0
    data = sfwizard_home / "data"
    names = {p.name for p in data.rglob("*") if p.is_file()}
    assert {"history.jsonl", "sfwizard.log", "snapshot.yaml", ".lock", ".owner", "session.json"} <= names
    for p in [data, *data.rglob("*")]:
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p
    assert os.stat(sfwizard_home / "out").st_mode & 0o777 == 0o700
