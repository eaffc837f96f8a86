"""The leak scan as a test: representative runs first (the commands, a saved sign-in refreshed and revoked, the
wizard's report with a screen dump, faults and --debug logs), then every file they and the earlier reliability
tests wrote is searched for every secret the sandbox issued, and every file's mode checked.

The session's end scans again, over every test's SFWIZARD_HOME (``conftest.pytest_sessionfinish``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from _support import LEDGER, leak_scan, mode_scan, plant


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    """A scan that could never match proves nothing: a planted secret is found as is, escaped, and zipped."""
    import zipfile

    secret = "Zq3" + "x7-_Kp2" * 6
    plant(tmp_path / "plain" / "a.log", f"token={secret}\n")
    plant(tmp_path / "md" / "r.md", "code: " + secret.replace("_", "\\_"))
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as zf:
        zf.writestr("inner.txt", f"... {secret[10:30]} ...")
    matches, scanned = leak_scan([tmp_path], {secret})
    assert scanned == 3 and len(matches) == 3, matches
    assert leak_scan([tmp_path], {"an-unrelated-secret-of-length"})[0] == []


def test_no_issued_secret_is_in_any_file_and_every_file_is_private(
        sfwizard_cli, sfwizard_process, report_dir, sfwizard_home, start_sandbox, sign_in, monkeypatch,
        tmp_path) -> None:
    from sfwizard.integrations import credentials
    from sfwizard.sandbox.salesforce.tokens import token_store

    # The commands, as a person runs them (children record what their sandboxes issue).
    assert sfwizard_process("check", "--demo", "--json", "--debug").code == 1
    assert sfwizard_process("report", "--demo", "-o", str(report_dir / "cli")).code == 1
    assert sfwizard_process("snapshot", "--demo", "-o", str(sfwizard_home / "snapshot.yaml")).code == 0
    faults = tmp_path / "faults.yaml"
    faults.write_text("schema: 1\nname: faults\nextends: revoked-token\nfaults: {expire-token: 3, drop: 0.1}\n")
    assert sfwizard_cli("check", "--demo", "--debug", "--scenario", str(faults)).code in (1, 2)
    assert sfwizard_cli("login", "--demo").code == 0

    # A saved sign-in (the 0600 file: no keychain in tests), refreshed with rotation, then revoked.
    sandbox = start_sandbox("healthy")
    info = sandbox.info()
    monkeypatch.setenv("SFWIZARD_CA_CERT", info["ca_cert"])
    tokens = sign_in(info)
    credentials.save(tokens)
    sandbox.state.connected_apps[info["client_id"]].rotate_refresh_tokens = True
    sandbox.state.faults.token_expires_after = 1
    assert sfwizard_cli("check", "--debug", "--only", "identity.org,perm.api_enabled").code in (0, 1)
    token_store(sandbox.state).revoke(credentials.load().refresh_token)
    assert sfwizard_cli("check", "--only", "identity.org").code == 2
    assert sfwizard_cli("logout").code == 0

    # The wizard's facade: a demo walked to its report, with a screen dump that shows a secret on screen.
    from sfwizard.demo import start_demo
    from sfwizard.recovery.session import RecoverySession
    from sfwizard.recovery.wizard import Recovery

    env = start_demo("revoked-token")
    rec = Recovery(env.profile, env.setup, RecoverySession.new(env.profile, demo_scenario="revoked-token"),
                   demo=env.info, vendor=env.vendor)
    try:
        rec.sign_in_browser(lambda url: threading.Thread(target=env.vendor.approve, args=(url,), daemon=True).start(),
                            timeout=60)
        rec.run_step("before")
        rec.perform_click("reauthorize")
        rec.run_step("reauthorize")
        screen = f"<svg><text>access_token={rec.connection.client.endpoints.access_token}</text></svg>"
        files = rec.write_report(report_dir / "wizard", screenshot_svg=screen)
        assert files.report.exists() and files.bundle.exists() and files.screenshot.exists()
    finally:
        rec.close()
        env.stop()

    secrets = LEDGER.secrets()
    assert len(secrets) > 50  # passwords, client secrets, API keys, access and refresh tokens, codes
    matches, scanned = leak_scan(LEDGER.roots, secrets)
    assert matches == [], matches
    assert scanned > 20
    wrong, files_checked, folders_checked = mode_scan(LEDGER.private)
    assert wrong == [], wrong
    assert files_checked > 10 and folders_checked > 3
    signin = sfwizard_home / "data" / "signin.json"
    assert not signin.exists()  # logout deleted it
