"""Demo and real never mix: side by side in one data folder, a demo run reads and writes only demo sessions and a real
run only real ones (the review saw a real run appended to a demo session and a real report built on the demo's
snapshot, unmarked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sfwizard.integrations import credentials
from sfwizard.recovery.session import RecoverySession, sessions_dir

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=180)


def _sessions() -> dict[str, dict]:
    out = {}
    for path in sessions_dir().glob("*/session.json"):
        data = json.loads(path.read_text())
        history = path.with_name("history.jsonl")
        data["_runs"] = len(history.read_text().splitlines()) if history.exists() else 0
        out[data["id"]] = data
    return out


def test_a_demo_and_a_real_session_side_by_side(sandbox, sign_in, tmp_path: Path) -> None:
    info = sandbox.info()
    credentials.save(sign_in(info))
    real_env = {"SFWIZARD_CA_CERT": info["ca_cert"], "SFWIZARD_STATUS_URL": info["status_url"]}

    first = _run("check", "--only", "identity.org", env=real_env)
    assert first.returncode in (0, 1), first.stderr
    (real_id,) = _sessions()
    demo = _run("check", "--demo", "--only", "identity.org")
    assert demo.returncode in (0, 1), demo.stderr
    after_demo = _sessions()
    assert len(after_demo) == 2  # the demo did not append to the real session
    (demo_id,) = set(after_demo) - {real_id}
    assert after_demo[demo_id]["demo_scenario"] == "revoked-token"
    assert after_demo[real_id]["demo_scenario"] is None and after_demo[real_id]["_runs"] == 1

    again = _run("check", "--only", "identity.org", env=real_env)  # the real run finds the real session
    assert again.returncode in (0, 1), again.stderr
    assert _sessions()[real_id]["_runs"] == 2 and _sessions()[demo_id]["_runs"] == 1

    demo_report = _run("report", "--demo", "-o", str(tmp_path / "demo"))
    assert demo_report.returncode in (0, 1), demo_report.stderr
    real_report = _run("report", "-o", str(tmp_path / "real"), env=real_env)
    assert real_report.returncode in (0, 1), real_report.stderr
    final = _sessions()
    assert set(final) == {real_id, demo_id}
    assert final[demo_id]["_runs"] == 2 and final[real_id]["_runs"] == 3
    assert final[demo_id]["snapshot_path"]  # the demo's snapshot went to the demo session …
    assert final[real_id]["snapshot_path"] is None  # … and never into the real one
    assert (tmp_path / "demo" / f"sfwizard-report-{demo_id}.md").exists() or \
        any(demo_id in p.name for p in (tmp_path / "demo").iterdir())
    assert any(real_id in p.name for p in (tmp_path / "real").iterdir())
    assert RecoverySession.latest("gainsight-px", demo=False).id == real_id
    assert RecoverySession.latest("gainsight-px", demo=True, scenario="revoked-token").id == demo_id
    assert RecoverySession.latest("gainsight-px", demo=True, scenario="healthy") is None
