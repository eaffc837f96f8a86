"""``sfwizard diff`` and ``sfwizard report`` as a person runs them."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path

from sfwizard import snapshot, yamlspec

# A hand-made snapshot whose line 12, column 3 holds a direction that does not exist.
BROKEN = """\
schema_version: 1
profile: gainsight-px
org:
  id: 00D000000000001
  sandbox: false
mappings:
- salesforce: Account.Name
  platform: account.name
  direction: sf_to_px
- salesforce: Account.PX_Score__c
  platform: account.score
  direction: sideways
"""


def _healthy_snapshot() -> snapshot.Snapshot:
    from sfwizard.sandbox.admin.routes import state_json
    from sfwizard.sandbox.scenarios.loader import load_scenario

    return snapshot.from_sandbox_state(state_json(load_scenario("healthy")))


def test_diff_command_exit_codes(tmp_path: Path, run_cli) -> None:
    before = _healthy_snapshot()
    a, b, c, broken, binary = (tmp_path / n for n in ("a.yaml", "b.yaml", "c.yaml", "broken.yaml", "bin.yaml"))
    snapshot.save(before, a)
    snapshot.save(dataclasses.replace(before, taken_at="2020-01-01T00:00:00+00:00"), b)
    changed = tuple(dataclasses.replace(m, platform="account.sector") if m.salesforce == "Account.Industry"
                    else m for m in before.mappings)
    snapshot.save(dataclasses.replace(before, mappings=changed), c)
    broken.write_text(BROKEN)
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff")

    same = run_cli("diff", str(a), str(b))
    assert same.returncode == 0, same.stderr
    assert "No differences." in same.stdout

    diff = run_cli("diff", str(a), str(c))
    assert diff.returncode == 1, diff.stderr
    assert "~ mappings[Account.Industry].platform: 'account.industry' → 'account.sector'" in diff.stdout

    for bad, where in ((broken, "12:3:"), (binary, "1:")):
        run = run_cli("diff", str(a), str(bad))
        assert run.returncode == 2
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        assert lines[0].startswith(f"sfwizard: {bad}:{where}"), run.stderr
        assert "Traceback" not in run.stderr
        assert "unexpected error" not in run.stderr


def test_report_demo_command_writes_markdown_and_bundle(tmp_path: Path, run_cli, assert_no_leak) -> None:
    out = tmp_path / "out"
    run = run_cli("report", "--demo", "-o", str(out))
    assert run.returncode == 1, run.stderr  # revoked-token has failing checks
    assert "Traceback" not in run.stderr
    mds, zips = sorted(out.glob("*.md")), sorted(out.glob("*.zip"))
    assert (len(mds), len(zips)) == (1, 1), list(out.iterdir())
    texts = assert_no_leak([mds[0], zips[0]])  # both private (0600)
    assert texts[mds[0].name].startswith("# Gainsight PX ↔ Salesforce recovery report\n\n> **DEMO**")
    with zipfile.ZipFile(zips[0]) as zf:
        names = set(zf.namelist())
        assert {"report.md", "checks.json", "history.jsonl", "snapshot.yaml", "sfwizard.log"} <= names
        checks = json.loads(zf.read("checks.json"))
        assert any(c["status"] == "fail" for c in checks)
        assert snapshot.SCHEMA_VERSION == yamlspec.load_text(zf.read("snapshot.yaml").decode(), "s")["schema_version"]
