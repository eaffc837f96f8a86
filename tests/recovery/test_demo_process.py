"""The demo's sandbox in a process of its own (what the wizard should use: its work then never stalls the
screen), and a connection to a sandbox that runs elsewhere."""

from __future__ import annotations

import httpx
import pytest

from sfwizard.demo import open_sandbox, sandbox_process, start_demo
from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import ssl_context


def test_start_demo_in_a_process_of_its_own_serves_until_stopped() -> None:
    env = start_demo("healthy", process=True)
    try:
        state = httpx.get(env.info.admin_url.rstrip("/") + "/__sandbox__/state", verify=ssl_context(env.info.ca_cert))
        assert state.status_code == 200 and env.info.scenario == "healthy"
    finally:
        env.stop()
    with pytest.raises(httpx.TransportError):  # stopped with the demo
        httpx.get(env.info.admin_url, verify=ssl_context(env.info.ca_cert), timeout=5)


def test_a_connection_to_a_sandbox_running_elsewhere_runs_the_checks() -> None:
    with sandbox_process("healthy") as info, open_sandbox(info) as conn:
        results = conn.client.run_checks(conn.context(), only=["identity.org", "token.fresh"])
    assert conn.identity.org_name == "Northwind Traders"
    assert {r.status.value for r in results} == {"pass"}


def test_a_sandbox_that_cannot_start_says_why_in_one_line(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: 1\nname: bad\nextends: no-such-scenario\n")
    with pytest.raises(SfwizardError) as err, sandbox_process(str(bad)):
        pass
    assert "the sandbox did not start" in err.value.message and "\n" not in err.value.message


def test_the_sandbox_starts_from_a_folder_holding_another_sfwizard(tmp_path, monkeypatch) -> None:
    """From a clone's root after `pip install .` the folder holds a source tree named sfwizard: the child must
    run the sfwizard this process runs, not whatever its working folder holds; a relative scenario path is
    still the person's."""
    decoy = tmp_path / "sfwizard"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy sfwizard was imported')\n")
    (tmp_path / "mine.yaml").write_text("schema: 1\nname: mine\nextends: healthy\ndescription: a relative path\n")
    monkeypatch.chdir(tmp_path)
    with sandbox_process("mine.yaml") as info:
        assert info["scenario"] == "mine"


def test_the_child_sandbox_stops_when_its_parent_goes() -> None:
    """The wizard's sandbox must not outlive the wizard, even one killed with -9: it stops when its stdin (a
    pipe from the wizard) closes, as it does when the wizard's process ends however it ends."""
    import subprocess
    import sys

    code = "import sys; from sfwizard.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-I", "-c", code, "sandbox", "--scenario", "healthy",
                             "--until-stdin-closes"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert '"instance_url"' in proc.stdout.readline()  # serving
        proc.stdin.close()  # what the kernel does when the parent dies
        assert proc.wait(timeout=20) == 0  # stopped as by Ctrl-C, cleanly
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
