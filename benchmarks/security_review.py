"""What a security review costs, and whether it stays flat as the org's login history grows (issue 22).

    python benchmarks/security_review.py [--rows 1000,1000000]

For each size: ``sec-clean-integration`` (or ``--base``) with that many LoginHistory rows of the integration
user generated over 180 days (``security: login_volume``), run in a process of its own (the sandbox in the same
process, as ``sfwizard review --demo`` runs it). Counted, not timed as a goal: requests by service, composite/batch
sub-requests, round trips (the read plan's waves, plus any request a check sends after the plan), the review's
verdicts (status, reason) — and, for scale, the review's time and the process's peak memory. Then the same for
the whole ``check`` (every step), to show what the security rows add to one diagnosis. Prints a Markdown table
(benchmarks/ROUND_TRIPS.md quotes it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _scenario(rows: int, folder: Path, base: str) -> Path:
    path = folder / f"sec-logins-{rows}.yaml"
    path.write_text(f"schema: 1\nname: sec-logins-{rows}\nextends: {base}\n"
                    f"description: {rows} LoginHistory rows of the integration user (benchmarks)\n"
                    f"security:\n  login_volume: {{generate: {rows}, days: 180}}\n", encoding="utf-8")
    return path


def _child(scenario: str, steps: str) -> None:
    """One run in this process: the review (steps=security) or the whole check (steps=all)."""
    import threading

    from sfwizard.checks import prefetch
    from sfwizard.demo import open_demo
    from sfwizard.integrations import transport

    sent: list[tuple[str, bool]] = []
    waves: list[int] = []
    planned = threading.Event()
    real_add, real_plan = transport.CallCounter.add, prefetch.plan_and_fetch

    def add(self: transport.CallCounter, label: str) -> None:
        sent.append((label, planned.is_set()))
        real_add(self, label)

    def plan(*args: Any) -> int:
        waves.append(real_plan(*args))
        planned.set()
        return waves[-1]

    with open_demo(scenario) as conn:
        transport.CallCounter.add = add  # type: ignore[method-assign]
        prefetch.plan_and_fetch = plan  # type: ignore[assignment]
        subs = conn.client.counter.subrequests
        t0 = time.perf_counter()
        results = conn.client.run_checks(conn.context(), steps=["security"] if steps == "security" else None)
        took = time.perf_counter() - t0
        subs = conn.client.counter.subrequests - subs
        transport.CallCounter.add, prefetch.plan_and_fetch = real_add, real_plan  # type: ignore[method-assign]
    by: dict[str, int] = {}
    for label, _ in sent:
        by[label] = by.get(label, 0) + 1
    after = sum(1 for _, late in sent if late)
    peak = 0.0
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    rows = {r.id: [r.status.value, r.reason] for r in results if r.step == "security"}
    print(json.dumps({"requests": by, "subrequests": subs, "waves": waves[0] if waves else 0, "after_plan": after,
                      "seconds": took, "peak_mb": peak, "rows": rows, "checks": len(results)}))


def _run(scenario: Path, steps: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    with tempfile.TemporaryDirectory() as home:
        env["SFWIZARD_HOME"] = home
        proc = subprocess.run([sys.executable, __file__, "--child", str(scenario), steps], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-3:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="1000,1000000", help="LoginHistory sizes, comma-separated")
    ap.add_argument("--base", default="diagnosis/sec-clean-integration",
                    help="the scenario the rows are added to (diagnosis/sec-no-event-monitoring: the LoginHistory "
                         "path of the API volume)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return 0
    sizes = [int(x) for x in args.rows.split(",") if x.strip()]
    print("| LoginHistory rows | run | requests (by service) | sub-requests | round trips | "
          "requests after the plan | time | peak memory |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    verdicts: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = _scenario(n, Path(tmp), args.base)
            for steps in ("security", "all"):
                got = _run(path, steps)
                if steps == "security":
                    verdicts[n] = got["rows"]
                total = sum(got["requests"].values())
                by = ", ".join(f"{k} {v}" for k, v in sorted(got["requests"].items()))
                trips = got["waves"] + (1 if got["after_plan"] else 0)
                label = "review (the security step)" if steps == "security" else f"check (all {got['checks']} checks)"
                print(f"| {n:,} | {label} | {total} ({by}) | {got['subrequests']} | {trips} | {got['after_plan']} | "
                      f"{got['seconds']:.2f} s | {got['peak_mb']:.0f} MB |")
    same = len({json.dumps(v, sort_keys=True) for v in verdicts.values()}) == 1
    print(f"\nThe review's rows are the same at every size: {'yes' if same else 'NO'}")
    for n, rows in verdicts.items():
        print(f"- {n:,}: " + ", ".join(f"{cid} {s}{' ' + r if r else ''}" for cid, (s, r) in sorted(rows.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
