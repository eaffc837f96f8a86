"""Sandbox figures, as ratios measured in one run (the machine is shared and noisy).

    python benchmarks/bench_sandbox.py [--quick]

- cold start (certificate creation) vs warm start of `sfwizard sandbox`, each to its JSON line;
- records/s paged through simple-salesforce on `large-tenant` vs `healthy`;
- the sandbox process's resident memory with `large-tenant` vs `healthy` loaded (the goal: large-tenant
  stays within 2x of healthy, because its 250,000 Accounts are generated on demand, not held).
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


def start(scenario: str, home: str) -> tuple[subprocess.Popen, dict, float]:
    env = {**os.environ, "SFWIZARD_HOME": home}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sfwizard", "sandbox", "--scenario", scenario],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - t0
    if not line:
        raise SystemExit(f"sandbox {scenario} did not start")
    return proc, json.loads(line), elapsed


def rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return 0.0


def page_all(info: dict, limit: int | None) -> tuple[int, float]:
    import requests
    from simple_salesforce import Salesforce

    session = requests.Session()
    session.verify = info["ca_cert"]
    session.trust_env = False
    token = session.post(info["login_url"] + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
        "username": info["username"], "password": info["password"]}).json()["access_token"]
    sf = Salesforce(instance_url=info["instance_url"], session_id=token, session=session, version="60.0")
    t0 = time.perf_counter()
    n = 0
    page = sf.query("SELECT Id, Name, Industry, LastModifiedDate FROM Account")
    while True:
        n += len(page["records"])
        if page["done"] or (limit and n >= limit):
            break
        page = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    return n, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="page only the first 50,000 large-tenant rows")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="sfwizard-bench-")
    cold_proc, _, cold = start("healthy", home)
    cold_proc.terminate(), cold_proc.wait()
    warm = []
    for _ in range(3):
        p, _, t = start("healthy", home)
        warm.append(t)
        p.terminate(), p.wait()
    healthy, h_info, _ = start("healthy", home)
    large, l_info, large_start = start("large-tenant", home)
    try:
        h_mem, l_mem_loaded = rss_mb(healthy.pid), rss_mb(large.pid)
        h_n, h_t = page_all(h_info, None)
        l_n, l_t = page_all(l_info, 50_000 if args.quick else None)
        l_mem_after = rss_mb(large.pid)
    finally:
        for p in (healthy, large):
            p.terminate(), p.wait()
    warm_med = sorted(warm)[1]
    print(f"start: cold (with certificates) {cold * 1000:.0f} ms, warm {warm_med * 1000:.0f} ms "
          f"(ratio {cold / warm_med:.2f}); large-tenant start {large_start * 1000:.0f} ms")
    print(f"paging: healthy {h_n} rows at {h_n / h_t:,.0f} rows/s; large-tenant {l_n:,} rows at "
          f"{l_n / l_t:,.0f} rows/s (ratio {(l_n / l_t) / (h_n / h_t):.2f})")
    print(f"memory: healthy {h_mem:.0f} MB, large-tenant loaded {l_mem_loaded:.0f} MB "
          f"(ratio {l_mem_loaded / h_mem:.2f}), after paging all {l_mem_after:.0f} MB "
          f"(ratio {l_mem_after / h_mem:.2f})")


if __name__ == "__main__":
    main()
