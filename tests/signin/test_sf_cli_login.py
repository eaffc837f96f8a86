"""Reusing a Salesforce CLI login (``sf org display --json``): its own words reach the person, a broken CLI is
one line, and a target org is passed through."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations import signin


def _fake_sf(tmp_path: Path, monkeypatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sf = bin_dir / "sf"
    sf.write_text(script)
    sf.chmod(sf.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_the_cli_own_error_reaches_the_person(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, "#!/bin/sh\ncat <<'EOF'\n"
                                    '{"status": 1, "name": "NoDefaultEnvError", '
                                    '"message": "No default environment found.\\nUse -o to pick one."}\nEOF\nexit 1\n')
    with pytest.raises(SfwizardError) as err:
        signin.sf_cli_login()
    assert err.value.message.endswith("No default environment found. Use -o to pick one.")  # one line
    assert "sf org login web" in err.value.hint


def test_a_broken_cli_is_one_line_not_a_crash(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, "not a program\x00\x01")
    with pytest.raises(SfwizardError, match="could not be run"):
        signin.sf_cli_login()


def test_a_cli_login_is_read_with_its_target_org(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, '#!/bin/sh\ncase "$*" in *"--target-org prod"*) ;; *) exit 3;; esac\n'
                                    'echo \'{"status": 0, "result": {"accessToken": "00Dx!tok", "instanceUrl": '
                                    '"https://x.my.salesforce.com", "username": "a@x", "id": "00Dx"}}\'\n')
    tokens = signin.sf_cli_login("prod")
    assert (tokens.access_token, tokens.instance_url, tokens.username, tokens.org_id, tokens.source) == (
        "00Dx!tok", "https://x.my.salesforce.com", "a@x", "00Dx", "sf-cli")
    assert tokens.refresh_token is None  # the CLI keeps its own; ours is marked as having none
