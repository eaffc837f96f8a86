"""``sfwizard snapshot``, ``diff`` and ``report``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_record_commands(sub: Any) -> None:
    p = sub.add_parser("snapshot", help="write the mapping snapshot (YAML) pre-filled from the APIs")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--profile", choices=("gainsight-px", "skilljar"))
    p.add_argument("--demo", action="store_true", help="take it from the bundled sandbox")
    p.add_argument("--scenario", default="revoked-token")
    p.set_defaults(func=_snapshot)
    p = sub.add_parser("diff", help="what changed between two snapshots (exit 1 when something did)")
    p.add_argument("before")
    p.add_argument("after")
    p.set_defaults(func=_diff)
    p = sub.add_parser("report", help="run the checks, then write the Markdown report and the support bundle")
    p.add_argument("-o", "--output-dir", default=".", metavar="DIR")
    p.add_argument("--profile", choices=("gainsight-px", "skilljar"))
    p.add_argument("--demo", action="store_true")
    p.add_argument("--scenario", default="revoked-token")
    p.add_argument("--snapshot", metavar="FILE")
    p.set_defaults(func=_report)


def _snapshot(args: argparse.Namespace) -> int:
    from sfwizard import snapshot
    from sfwizard.cli.connection import open_for
    from sfwizard.recovery.prefill import snapshot_from_apis

    out = _output_file(Path(args.output))  # checked before anything runs
    with open_for(args) as conn:
        # the demo's snapshot stands for what the admin documented; a real org's is pre-filled from the APIs
        snap = conn.snapshot if conn.demo is not None and conn.snapshot is not None else snapshot_from_apis(conn)
    snapshot.save(snap, out)
    print(f"Wrote {out} ({len(snap.mappings)} mappings); complete what it lists under to_complete.")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from sfwizard import snapshot

    changes = snapshot.diff(snapshot.load(args.before), snapshot.load(args.after))
    for c in changes:
        print(c)
    if not changes:
        print("No differences.")
    return 1 if changes else 0


def _output_file(path: Path) -> Path:
    from sfwizard.errors import SfwizardError

    if path.is_dir():
        raise SfwizardError(f"-o {path}: a folder, not a file", f"give a file name, like {path / 'snapshot.yaml'}")
    if path.parent.exists() and not path.parent.is_dir():
        raise SfwizardError(f"-o {path}: {path.parent} is a file, not a folder", "choose another path")
    return path


def _report(args: argparse.Namespace) -> int:
    from sfwizard import paths
    from sfwizard.cli.connection import open_for
    from sfwizard.fileio import output_dir
    from sfwizard.recovery import report
    from sfwizard.recovery.session import RecoverySession

    out_dir = output_dir(Path(args.output_dir))
    with open_for(args) as conn:
        # a demo's report never lands in a real recovery's session (nor a real one in a demo's): DEMO on top
        scenario = (conn.demo.scenario or "demo") if conn.demo is not None else None
        session = RecoverySession.latest(conn.profile, demo=scenario is not None) or \
            RecoverySession.new(conn.profile, demo_scenario=scenario)
        try:
            if getattr(args, "snapshot", None):
                session.snapshot_path = str(Path(args.snapshot).resolve())
            elif conn.snapshot is not None and not session.snapshot_path:
                from sfwizard import snapshot

                snap_path = session.dir / "snapshot.yaml"
                snapshot.save(conn.snapshot, snap_path)
                session.snapshot_path = str(snap_path)
            results = conn.client.run_checks(conn.context())
            session.identity = conn.identity.to_dict()
            session.record_run([r.to_dict() for r in results], dict(conn.client.counter.counts))
            md_path = report.write_report(session, out_dir)
            zip_path = report.write_bundle(session, out_dir, log_file=paths.data_dir() / "sfwizard.log")
        finally:
            session.release()
    print(f"Report: {md_path}\nSupport bundle: {zip_path}", file=sys.stdout)
    return 1 if any(r.status.value == "fail" for r in results) else 0
