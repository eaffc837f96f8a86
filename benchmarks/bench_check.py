"""`sfwizard check --demo --json` figures, in one run: API calls per check run and where the time goes.

    python benchmarks/bench_check.py

For healthy and large-tenant: API calls (Salesforce, platform, status) per run — the goal is that
large-tenant costs no more than healthy (aggregates and samples, never rows) — and the wall time of a
whole check run split into the sandbox's share (time spent answering) and ours (everything else:
sign-in, client, checks, TLS on our side).
"""

from __future__ import annotations

import time

from sfwizard.demo import demo_client


def run(scenario: str) -> dict:
    t0 = time.perf_counter()
    with demo_client(scenario) as (client, ctx_kwargs):
        t1 = time.perf_counter()
        import sfwizard.demo as demo

        sandbox = demo._SANDBOXES[-1]
        busy0 = sandbox.busy_seconds
        results = client.run_checks(client.context(**ctx_kwargs))
        run = time.perf_counter() - t1
        busy = sandbox.busy_seconds - busy0
        calls = dict(client.counter.counts)
    return {"scenario": scenario, "checks": len(results), "calls": calls, "setup": t1 - t0, "run": run,
            "busy": busy}


def main() -> None:
    for scenario in ("healthy", "large-tenant"):
        r = run(scenario)
        print(f"{scenario:13} {r['checks']} checks, API calls {r['calls']}; setup (sandbox start, scenario, "
              f"PKCE sign-in, snapshot) {r['setup']:.2f} s; check run {r['run']:.2f} s = sandbox "
              f"{r['busy']:.2f} s ({r['busy'] / r['run']:.0%}) + ours {r['run'] - r['busy']:.2f} s")


if __name__ == "__main__":
    main()
