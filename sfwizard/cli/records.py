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


def _facts(client: Any) -> dict[str, Any]:
    """What the APIs show for a snapshot; mappings come from the admin (no public API lists them)."""
    sf = client.salesforce
    org = sf.query("SELECT Id, Name, IsSandbox, InstanceName FROM Organization")[0]
    ctx = client.context()
    user = ctx.integration_user()
    facts: dict[str, Any] = {
        "profile": client.profile.name,
        "org": {"id": org["Id"], "name": org["Name"], "instance": org["InstanceName"], "sandbox": org["IsSandbox"]},
        "integration_user": {"username": user["Username"], "id": user["Id"]} if user else {},
        "to_complete": ["matching: the Account and Contact matching criteria from the platform's settings"],
    }
    prefix = client.profile.push_prefix
    if prefix:
        described = sf.describe(["Account", "Contact"])
        push = [f"{obj}.{f['name']}" for obj, d in described.items() if d for f in d["fields"]
                if f["name"].startswith(prefix)]
        facts["to_complete"].append(f"mappings: which platform attribute feeds each {prefix} field "
                                    f"({', '.join(push) or 'none found'})")
    return facts


def _snapshot(args: argparse.Namespace) -> int:
    from sfwizard import snapshot

    if args.demo:
        from sfwizard.demo import demo_client

        with demo_client(args.scenario, profile=args.profile) as (_, ctx_kwargs):
            snap = ctx_kwargs["snapshot"]
    else:
        from sfwizard.recovery.connection import live_client

        with live_client(args) as (client, _):
            snap = snapshot.build(_facts(client))
    out = Path(args.output)
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


def _report(args: argparse.Namespace) -> int:
    from sfwizard.recovery import report
    from sfwizard.recovery.session import Session

    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.demo:
        from sfwizard.demo import demo_client

        cm = demo_client(args.scenario, profile=args.profile)
    else:
        from sfwizard.recovery.connection import live_client

        cm = live_client(args)
    with cm as (client, ctx_kwargs):
        session = Session.latest(client.profile.name) or Session.new(client.profile.name)
        try:
            if ctx_kwargs.get("snapshot") is not None and not session.snapshot_path:
                from sfwizard import snapshot

                snap_path = session.dir / "snapshot.yaml"
                snapshot.save(ctx_kwargs["snapshot"], snap_path)
                session.snapshot_path = str(snap_path)
            elif getattr(args, "snapshot", None):
                session.snapshot_path = str(Path(args.snapshot).resolve())
            results = client.run_checks(client.context(**ctx_kwargs))
            org = client.salesforce.query("SELECT Id, Name, IsSandbox FROM Organization")[0]
            session.identity = {"org_id": org["Id"], "org_name": org["Name"], "is_sandbox": org["IsSandbox"],
                                "username": client.salesforce.userinfo().get("preferred_username")}
            session.record_run([r.to_dict() for r in results], dict(client.counter.counts))
            md_path = report.write_report(session, out_dir)
            from sfwizard import paths

            zip_path = report.write_bundle(session, out_dir, log_file=paths.data_dir() / "sfwizard.log")
        finally:
            session.release()
    print(f"Report: {md_path}\nSupport bundle: {zip_path}", file=sys.stdout)
    return 1 if any(r.status.value == "fail" for r in results) else 0
