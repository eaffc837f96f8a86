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
        results = client.run_checks(client.context(**ctx_kwargs))
        calls = dict(client.counter.counts)
    wall = time.perf_counter() - t0
    return {"scenario": scenario, "checks": len(results), "calls": calls, "wall": wall}


def main() -> None:
    import sfwizard.sandbox.server as server

    shares = {}
    original_stop = server.Sandbox.stop

    def stop(self):  # note the sandbox's busy time when the demo ends
        shares["busy"], shares["requests"] = self.busy_seconds, self.requests
        original_stop(self)

    server.Sandbox.stop = stop
    for scenario in ("healthy", "large-tenant"):
        r = run(scenario)
        busy = shares["busy"]
        print(f"{scenario:13} {r['checks']} checks, API calls {r['calls']}, wall {r['wall']:.2f} s: "
              f"sandbox {busy:.2f} s ({busy / r['wall']:.0%}) over {shares['requests']} requests, "
              f"ours {r['wall'] - busy:.2f} s")


if __name__ == "__main__":
    main()
