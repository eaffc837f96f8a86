"""Every speed and memory figure of sfwizard, measured in one run, as ratios and counts (the machine is shared
and noisy: a ratio of two things measured side by side holds where a time does not).

    python benchmarks/run.py

prints the table and appends it, with the date and the machine, to benchmarks/RESULTS.md (``--no-append``
only prints; ``--only startup,check,calls,memory,stall,rates,load,sandbox`` runs some sections). About five
minutes on two cores. Each measurement that could disturb another runs in a process of its own.

What is counted (benchmarks/ROUND_TRIPS.md has the minimums the ratios divide by):

- startup: from spawning ``python`` to the first screen mounted and a key handled, Textual's headless driver,
  the wizard (``WizardApp`` for ``--demo``, as ``sfwizard --demo`` builds it) against a bare Textual app started
  the same way; median of 10 each, interleaved.
- check: the check run — ``Connection.context()`` through ``run_checks`` returning, every check of the profile
  — of ``check --demo`` (sandbox in the same process, as the command runs it), the sandbox answering every call
  after the sign-in that much later; the sign-in and the sandbox's start are setup, not counted.
- calls: requests sent during that run (every service), and composite/batch sub-requests, on tenants of 1k,
  100k and 1M Accounts (large-tenant's scenario with that many generated).
- memory: the peak resident memory (VmHWM) of a process running the check against a sandbox in another
  process; and of ``check --demo`` whole (its sandbox inside) for comparison.
- stall: the wizard driven by the pilot through boot, the Before step, the browser sign-in, Mappings, Validate
  and Knowledge while the sandbox adds 2 s to every answer; a task sleeping 5 ms records its lateness, and a
  stall during which a full (generation-2) garbage collection ran is marked so.
- rates: on 1M Accounts, against a sandbox in another process.
- load: 32 clients (16 simple-salesforce, 16 httpx) in two processes for 30 s against ``sfwizard sandbox``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"

# benchmarks/ROUND_TRIPS.md: what the same answers need at the least on revoked-token (and the generated tenants
# built on it): round trips on the longest chain of reads, requests over every service.
MIN_ROUND_TRIPS = 2
MIN_REQUESTS = {"platform": 6, "status": 1, "salesforce": 5}
SECTIONS = ("startup", "switch", "check", "opening", "calls", "memory", "stall", "rates", "load", "sandbox")


@dataclass
class Row:
    figure: str
    value: str
    goal: str = ""
    met: bool | None = None  # None: no goal
    gap: str = ""  # when not met: by how much
    short: str = ""  # the figure in a few words, for the line of goals not reached


# -- plumbing ------------------------------------------------------------------------------------------------

def _env(home: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    if home:
        env["SFWIZARD_HOME"] = home
    return env


def _child(name: str, *args: str, timeout: float = 600, home: str | None = None) -> dict[str, Any]:
    """Run ``run.py --child NAME ARGS`` in a fresh interpreter; its last stdout line is its JSON answer."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, str(Path(__file__)), "--child", name, *args], capture_output=True,
                              text=True, env=_env(home or tmp), cwd=ROOT, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{name} {' '.join(args)} failed: {proc.stderr.strip().splitlines()[-3:]}")
    return json.loads(lines[-1])


def _tenant(n: int, folder: Path) -> Path:
    """large-tenant's scenario with ``n`` Accounts generated (on demand: memory stays flat)."""
    path = folder / f"tenant-{n}.yaml"
    path.write_text(f"schema: 1\nname: tenant-{n}\nextends: large-tenant\ndescription: {n} Accounts (benchmarks)\n"
                    f"orgs:\n  prod:\n    records:\n      Account: {{generate: {n}}}\n", encoding="utf-8")
    return path


@contextlib.contextmanager
def _sandbox(scenario: str, home: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``sfwizard sandbox`` in a process of its own, and its connection line."""
    proc = subprocess.Popen([sys.executable, "-m", "sfwizard", "sandbox", "--scenario", scenario],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(home), cwd=ROOT)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            raise RuntimeError(f"the sandbox ({scenario}) did not start")
        yield proc, json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _rss_mb(pid: int | str = "self", key: str = "VmRSS") -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith(key + ":"):
            return int(row.split()[1]) / 1024
    return 0.0


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


# -- startup ---------------------------------------------------------------------------------------------------

def startup(rounds: int = 5) -> list[Row]:
    """In a real terminal (tmux, 100x30): from spawning the command to the first screen a person can act on — the
    wizard's step 1 drawn with its keys (``sfwizard --demo``), against a bare Textual app's first screen started
    the same way; median of ``rounds`` each, interleaved. Polling the pane every 5 ms costs both the same."""
    import shutil

    if shutil.which("tmux") is None:
        return [Row("first actionable screen (tmux)", "not measured: tmux is not installed")]
    times: dict[str, list[float]] = {"bare": [], "wizard": []}
    for i in range(rounds):
        order = list(times) if i % 2 == 0 else list(reversed(times))
        for mode in order:
            with tempfile.TemporaryDirectory() as home:
                times[mode].append(_tmux_first_screen(mode, home))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["wizard"] / med["bare"]
    return [Row("first actionable screen in a real terminal: `sfwizard --demo` step 1 with its keys ÷ a bare "
                f"Textual app's first screen (tmux 100x30, median of {rounds}, interleaved)",
                f"{ratio:.2f} ({_fmt_ms(med['wizard'])} ÷ {_fmt_ms(med['bare'])})", "≤ 2", ratio <= 2,
                f"+{(ratio - 2) * med['bare'] * 1000:.0f} ms over the goal" if ratio > 2 else "", "first screen")]


def _compile_bytecode() -> None:
    """The bytecode a person's install has: ``pip install .`` compiles every module, as it did Textual's. (This
    machine sets PYTHONDONTWRITEBYTECODE, so an editable checkout would otherwise compile sfwizard's ~100 modules
    on every start and the bare app, whose Textual is compiled, would not.)"""
    import compileall

    for folder in ("sfwizard", "screens"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


BARE_APP = ("from textual.app import App\nfrom textual.widgets import Static, Footer\n"
            "class Bare(App):\n"
            "    BINDINGS = [('ctrl+q', 'quit', 'Quit')]\n"
            "    def compose(self):\n"
            "        yield Static('Recover a disconnected Salesforce integration, step by verified step.')\n"
            "        yield Footer()\n"
            "Bare().run()\n")


def _tmux_first_screen(mode: str, home: str) -> float:
    """Seconds from the command's spawn until its first actionable screen shows in a tmux pane."""
    name = f"sfwbench-{os.getpid()}-{mode}"
    env = " ".join(f"{k}={v}" for k, v in {"SFWIZARD_HOME": home, "HOME": home, "TERM": "xterm-256color",
                                          "PATH": os.environ.get("PATH", "")}.items())
    if mode == "wizard":
        command = f"{env} {Path(sys.executable).with_name('sfwizard')} --demo"
        ready = ("Step 1 of", "n Next", "Quit")  # step 1 drawn, with its keys in the footer
    else:
        script = Path(home) / "bare.py"
        script.write_text(BARE_APP, encoding="utf-8")
        command = f"{env} {sys.executable} {script}"
        ready = ("Recover a disconnected", "Quit")
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    t0 = time.perf_counter()
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30", command], check=True)
    try:
        deadline = t0 + 30
        while time.perf_counter() < deadline:
            shown = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                                   text=True).stdout
            if all(word in shown for word in ready):
                return time.perf_counter() - t0
            time.sleep(0.005)
        raise RuntimeError(f"startup {mode}: no first screen in 30 s")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


# -- the check run at a latency ----------------------------------------------------------------------------------

def check() -> list[Row]:
    rows = []
    base = _child("check", "revoked-token", "0")
    rows.append(Row("`check --demo` check run at 0 ms per answer (our work and the sandbox's)",
                    f"{_fmt_ms(base['run'])}; the whole command {base['command']:.2f} s"))
    for latency, goal_s in ((150, 1.5), (2000, 20.0)):
        got = _child("check", "revoked-token", str(latency))
        ratio = got["run"] / (latency / 1000 * MIN_ROUND_TRIPS)
        trips = got["run"] / (latency / 1000)
        rows.append(Row(f"`check --demo` at {latency} ms per answer: run ÷ ({latency} ms × {MIN_ROUND_TRIPS} "
                        "round trips)",
                        f"{ratio:.2f} ({got['run']:.2f} s, {trips:.1f} × latency)",
                        f"≤ {goal_s:g} s" + (" (10 × latency)" if latency == 2000 else ""), got["run"] <= goal_s,
                        f"{got['run'] - goal_s:+.2f} s" if got["run"] > goal_s else "", f"check at {latency} ms"))
    return rows


def opening() -> list[Row]:
    """Round trips of a whole `check --demo` (sign-in, connecting, the checks): the time it takes at 1 s per answer
    less the time at 0 ms, over 1 s — our own time cancels out, waiting on answers is what is left. (At 150 ms per
    answer, the issue's figure, a 50 ms wobble of our own time would read as a third of a round trip.)"""
    runs = {lat: [_child("opening", "revoked-token", str(lat)) for _ in range(3)] for lat in (0, 1000)}
    med = {lat: {k: statistics.median(r[k] for r in rs) for k in ("open", "run")} for lat, rs in runs.items()}
    open_rt = med[1000]["open"] - med[0]["open"]
    run_rt = med[1000]["run"] - med[0]["run"]
    total = open_rt + run_rt
    return [Row("round trips of `check --demo` ((time at 1 s per answer − time at 0 ms) ÷ 1 s, median of 3): the "
                "scripted browser sign-in and connecting, then the checks (before: 10.5 at 150 ms per answer)",
                f"{total:.1f} (sign-in and connecting {open_rt:.1f}, where 5 + 1 are expected; the checks "
                f"{run_rt:.1f})", "≤ 8 (5 sign-in + 1 connect + 2 checks)", total <= 8.3,
                f"+{total - 8:.1f}" if total > 8.3 else "", "round trips")]


def _child_opening(scenario: str, latency: str) -> None:
    import sfwizard.demo as demo

    with demo.demo_sandbox(scenario) as (sandbox, info):
        sandbox.state.faults.latency_ms = int(latency)
        t0 = time.perf_counter()
        with demo.open_sandbox(info) as conn:
            t1 = time.perf_counter()
            conn.client.run_checks(conn.context())
            t2 = time.perf_counter()
    print(json.dumps({"open": t1 - t0, "run": t2 - t1}))


def _child_check(scenario: str, latency: str) -> None:
    import sfwizard.demo as demo

    t0 = time.perf_counter()
    with demo.open_demo(scenario) as conn:
        demo._SANDBOXES[-1].state.faults.latency_ms = int(latency)
        before = dict(conn.client.counter.counts)
        subs = conn.client.counter.subrequests
        t1 = time.perf_counter()
        ctx = conn.context()
        results = conn.client.run_checks(ctx)
        run = time.perf_counter() - t1
        counts = {k: v - before.get(k, 0) for k, v in conn.client.counter.counts.items() if v - before.get(k, 0)}
        subs = conn.client.counter.subrequests - subs
    print(json.dumps({"run": run, "command": time.perf_counter() - t0, "calls": counts, "subrequests": subs,
                      "checks": len(results), "rss_peak": _rss_mb(key="VmHWM")}))


# -- calls per run by tenant size ------------------------------------------------------------------------------

def calls(folder: Path) -> list[Row]:
    rows = []
    minimum = sum(MIN_REQUESTS.values())
    for n in (1_000, 100_000, 1_000_000):
        got = _child("check", str(_tenant(n, folder)), "0")
        sent = sum(got["calls"].values())
        by = ", ".join(f"{k} {v}" for k, v in sorted(got["calls"].items()))
        rows.append(Row(f"requests per `check` run ÷ the minimum ({minimum}), {n:,} Accounts",
                        f"{sent / minimum:.2f} ({by}; {got['subrequests']} sub-requests in batches)",
                        "≤ 1.2, flat", sent / minimum <= 1.2, f"{sent - minimum} over" if sent / minimum > 1.2 else "",
                        f"requests at {n:,}"))
    return rows


# -- memory --------------------------------------------------------------------------------------------------

def memory(folder: Path) -> list[Row]:
    rows = []
    peaks = {}
    for n in (100_000, 1_000_000):
        with tempfile.TemporaryDirectory() as home, _sandbox(str(_tenant(n, folder)), home) as (proc, info):
            got = _child("memory", json.dumps(info), home=home)
            sandbox_rss = _rss_mb(proc.pid)
        whole = _child("check", str(_tenant(n, folder)), "0")
        peaks[n] = got["rss_peak"]
        rows.append(Row(f"peak RSS of `check`, {n:,} Accounts (the sandbox in its own process)",
                        f"{got['rss_peak']:.0f} MB (the sandbox {sandbox_rss:.0f} MB; `check --demo` whole, "
                        f"its sandbox inside: {whole['rss_peak']:.0f} MB)", "< 100 MB", got["rss_peak"] < 100,
                        f"+{got['rss_peak'] - 100:.0f} MB" if got["rss_peak"] >= 100 else "", f"memory at {n:,}"))
    ratio = peaks[1_000_000] / peaks[100_000]
    rows.append(Row("peak RSS of `check`, 1M ÷ 100k Accounts", f"{ratio:.2f}", "flat (≤ 1.1)", ratio <= 1.1,
                    f"{ratio:.2f}" if ratio > 1.1 else "", "memory 1M ÷ 100k"))
    return rows


def _child_memory(info_json: str) -> None:
    from sfwizard.demo import open_sandbox

    info = json.loads(info_json)
    with open_sandbox(info) as conn:
        results = conn.client.run_checks(conn.context())
    print(json.dumps({"rss_peak": _rss_mb(key="VmHWM"), "checks": len(results)}))


# -- event-loop stalls in the wizard ------------------------------------------------------------------------------

def stall(folder: Path) -> list[Row]:
    slow = folder / "slow-2s.yaml"
    slow.write_text("schema: 1\nname: slow-2s\nextends: revoked-token\ndescription: every answer 2 s late\n"
                    "faults: {latency: 2000}\n", encoding="utf-8")
    got = _child("stall", str(slow), timeout=1200)
    worst = got["worst"]
    causes = "; ".join(f"{ms:.0f} ms at {at:.1f} s{' (a full garbage collection)' if gc else ''}"
                       for ms, at, gc in got["top"][:3])
    return [Row("longest event-loop stall walking every step (sign-in, each pane's first visit and its work), the "
                "sandbox +2 s per answer",
                f"{worst:.0f} ms (p99 {got['p99']:.1f} ms, {got['over50']} stalls > 50 ms in {got['seconds']:.0f} s; "
                f"worst: {causes}; the worst outside a full garbage collection {got['worst_not_gc']:.0f} ms; "
                f"{got['collections']} full collections, the longest {got['collection_worst']:.0f} ms)",
                "≤ 50 ms", worst <= 50, f"+{worst - 50:.0f} ms" if worst > 50 else "", "stall")]


def _child_stall(scenario: str) -> None:
    import gc

    from sfwizard.screens.app import WizardApp

    from sfwizard.cli import WizardOptions

    app = WizardApp(WizardOptions(demo=True, scenario=scenario, new_session=True))
    lates: list[tuple[float, float]] = []
    collections: list[tuple[float, float]] = []  # (start, end) of generation-2 collections
    started = [0.0]
    t0 = time.perf_counter()

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collections.append((started[0], time.perf_counter()))

    gc.callbacks.append(on_gc)
    done = asyncio.Event()

    async def monitor() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            t = loop.time()
            await asyncio.sleep(0.005)
            lates.append((loop.time() - t - 0.005, time.perf_counter()))

    async def settle(p: Any, timeout: float = 60) -> None:
        """The pane in view built and its first work back (or a while: a watch goes on)."""
        until = time.perf_counter() + timeout
        await p.pause(0.2)
        while time.perf_counter() < until:
            pane = p.app.frame.pane
            if pane is not None and pane.ready and not pane.workers_running("checks", "signin", "mappings",
                                                                               "click", "choices", "report"):
                break
            await p.pause(0.05)

    async def pilot(p: Any) -> None:
        task = asyncio.create_task(monitor())
        while p.app.recovery is None or p.app.frame.pane is None:
            await p.pause(0.05)
        rec = p.app.recovery
        await settle(p)  # Before: its checks
        rec.session.completed.append("before")
        p.app.frame.go_to("connect")
        await settle(p)
        await p.press("1")  # the browser sign-in
        while not getattr(p.app.frame.pane, "url", ""):
            await p.pause(0.05)
        await p.press("v")  # the demo's stand-in approves
        while rec.signed_in is None:
            await p.pause(0.05)
        await settle(p)
        for step in [s.id for s in rec.navigator.steps][2:]:  # every other step, each pane built and at work
            for earlier in [s.id for s in rec.navigator.steps]:
                if earlier == step:
                    break
                if earlier not in rec.session.completed:
                    rec.session.completed.append(earlier)
            p.app.frame.go_to(step)
            await settle(p)
        done.set()
        await task
        values = sorted(late for late, _ in lates)
        top = sorted(lates, reverse=True)[:5]
        def in_gc(late: float, at: float) -> bool:
            return any(s <= at and e >= at - late for s, e in collections)

        print(json.dumps({
            "worst_not_gc": max((late for late, at in lates if not in_gc(late, at)), default=0) * 1000,
            "collections": len(collections),
            "collection_worst": max((e - s for s, e in collections), default=0) * 1000,
            "worst": values[-1] * 1000, "p99": values[int(len(values) * 0.99)] * 1000,
            "over50": sum(1 for v in values if v > 0.05), "seconds": time.perf_counter() - t0,
            "top": [(late * 1000, at - t0, any(s <= at and e >= at - late for s, e in collections))
                    for late, at in top]}))
        sys.stdout.flush()
        p.app.exit()

    app.run(headless=True, size=(120, 40), auto_pilot=pilot)
    os._exit(0)


# -- a step switch ---------------------------------------------------------------------------------------------

def switch() -> list[Row]:
    got = _child("switch", timeout=600)
    first, back = got["first"], got["return"]
    worst = max(max(first.values()), max(back.values()))
    slowest = max(first, key=first.get)
    return [Row("a step switch at 120x40, from the key to the step drawn: first visit (the pane built) and a return "
                "(median of 5 per step, canned results: the frame's own cost)",
                f"worst {worst:.0f} ms (first visits: median {statistics.median(first.values()):.0f} ms, slowest "
                f"{slowest} {first[slowest]:.0f} ms; returns: median {statistics.median(back.values()):.0f} ms)",
                "≤ 30 ms", worst <= 30, f"+{worst - 30:.0f} ms" if worst > 30 else "", "step switch")]


def _child_switch() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "wizard"))
    from canned import CannedRecovery  # the wizard's own test double: every answer canned, no network
    from sfwizard.screens.app import WizardApp

    firsts: dict[str, list[float]] = {}
    returns: dict[str, list[float]] = {}

    async def shown(p: Any, step: str) -> float:
        frame = p.app.frame
        drawn = asyncio.Event()
        t = time.perf_counter()
        frame.go(step)
        while not (frame.pane is not None and frame.pane.ready and frame.pane.STEP == step):
            await asyncio.sleep(0)
        p.app.call_after_refresh(drawn.set)
        await drawn.wait()
        return (time.perf_counter() - t) * 1000

    for _round in range(5):
        rec = CannedRecovery("gainsight-px", "report")
        app = WizardApp(recovery=rec)

        async def walk(p: Any, rec: Any = rec) -> None:
            while p.app.frame.pane is None or not p.app.frame.pane.ready:
                await p.pause(0.02)
            await p.pause(0.3)
            steps = [s.id for s in rec.navigator.steps if s.id != "report"]
            for step in steps:  # first visits
                firsts.setdefault(step, []).append(await shown(p, step))
                await p.pause(0.3)  # the pane's canned work lands between switches, as a person reads
            for step in steps:  # returns
                await shown(p, "report")
                await p.pause(0.1)
                returns.setdefault(step, []).append(await shown(p, step))
                await p.pause(0.1)
            p.app.exit()

        app.run(headless=True, size=(120, 40), auto_pilot=walk)
    print(json.dumps({"first": {k: statistics.median(v) for k, v in firsts.items()},
                      "return": {k: statistics.median(v) for k, v in returns.items()}}))
    sys.stdout.flush()
    os._exit(0)


# -- records per second on 1M ------------------------------------------------------------------------------------

def rates(folder: Path) -> list[Row]:
    with tempfile.TemporaryDirectory() as home, _sandbox(str(_tenant(1_000_000, folder)), home) as (_p, info):
        got = _child("rates", json.dumps(info), home=home)
    return [
        Row("validation's sample path on 1M (a platform page of matched accounts looked up in Salesforce by Id, "
            "one batch)", f"{got['sample_rate']:,.0f} records/s ({got['sample']:,} in {_fmt_ms(got['sample_s'])})"),
        Row("validation's count path on 1M (COUNT() of every Account, and of those changed since the disconnect)",
            f"{got['count_rate']:,.0f} records/s ({got['counted']:,} in {_fmt_ms(got['count_s'])}; changed "
            f"{got['changed']:,} in {_fmt_ms(got['changed_s'])})"),
        Row("Bulk API 2.0 query export of 1M Accounts (Id, Name)",
            f"{got['bulk_rate']:,.0f} records/s ({got['bulk']:,} in {got['bulk_s']:.1f} s, "
            f"{got['bulk_calls']} requests)"),
    ]


def _child_rates(info_json: str) -> None:
    from sfwizard.checks import dataflow
    from sfwizard.demo import open_sandbox

    info = json.loads(info_json)
    with open_sandbox(info) as conn:
        sf = conn.client.salesforce
        assert sf is not None
        ctx = conn.context()
        t = time.perf_counter()
        sample = ctx.px_sample("accounts")
        changed, rows = dataflow.current_reads(ctx)
        ctx.prefetch([*([changed] if changed else []), *rows])
        looked_up = sum(len(ctx.read(r)) for r in rows)
        sample_s = time.perf_counter() - t
        t = time.perf_counter()
        counted = sf.count("SELECT COUNT() FROM Account")
        count_s = time.perf_counter() - t
        t = time.perf_counter()
        n_changed = sf.count(changed.arg) if changed else 0
        changed_s = time.perf_counter() - t
        before = conn.client.counter.counts.get("salesforce", 0)
        t = time.perf_counter()
        bulk = sum(1 for _ in sf.extract("SELECT Id, Name FROM Account", poll_seconds=0.05))
        bulk_s = time.perf_counter() - t
        bulk_calls = conn.client.counter.counts.get("salesforce", 0) - before
    print(json.dumps({"sample": len(sample), "looked_up": looked_up, "sample_s": sample_s,
                      "sample_rate": len(sample) / sample_s, "counted": counted, "count_s": count_s,
                      "count_rate": counted / count_s, "changed": n_changed, "changed_s": changed_s,
                      "bulk": bulk, "bulk_s": bulk_s, "bulk_rate": bulk / bulk_s, "bulk_calls": bulk_calls}))


# -- the sandbox under load ------------------------------------------------------------------------------------------

LOAD_SECONDS = 30
LOAD_PROCESSES = 2
LOAD_THREADS = 16  # per process: half simple-salesforce, half httpx


def load() -> list[Row]:
    with tempfile.TemporaryDirectory() as home, _sandbox("healthy", home) as (_proc, info):
        procs = [subprocess.Popen([sys.executable, str(Path(__file__)), "--child", "load", json.dumps(info)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(home),
                                  cwd=ROOT) for _ in range(LOAD_PROCESSES)]
        outs = [json.loads(p.communicate(timeout=LOAD_SECONDS * 4)[0].strip().splitlines()[-1]) for p in procs]
    latencies = sorted(x for o in outs for x in o["latencies"])
    errors = sum(o["errors"] for o in outs)
    seconds = max(o["seconds"] for o in outs)
    p99 = latencies[int(len(latencies) * 0.99)] if latencies else 0.0
    clients = LOAD_PROCESSES * LOAD_THREADS
    kinds = ", ".join(f"{k} {v}" for k, v in sorted({k: sum(o['kinds'].get(k, 0) for o in outs)
                                                      for o in outs for k in o["kinds"]}.items()))
    return [Row(f"sandbox under load: {clients} clients (simple-salesforce and httpx) for {LOAD_SECONDS} s",
                f"{len(latencies) / seconds:,.0f} requests/s, p99 {_fmt_ms(p99)}, {errors} errors ({kinds})",
                "0 errors", errors == 0, f"{errors} errors" if errors else "")]


def _child_load(info_json: str) -> None:
    import httpx
    import requests
    from simple_salesforce import Salesforce

    info = json.loads(info_json)
    token = requests.post(info["login_url"] + "/services/oauth2/token", verify=info["ca_cert"], data={
        "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
        "username": info["username"], "password": info["password"]}, timeout=30).json()["access_token"]
    stop = time.perf_counter() + LOAD_SECONDS
    latencies: list[float] = []
    errors = [0]
    kinds: dict[str, int] = {}
    lock = threading.Lock()

    def note(kind: str, seconds: float, ok: bool) -> None:
        with lock:
            latencies.append(seconds)
            kinds[kind] = kinds.get(kind, 0) + 1
            if not ok:
                errors[0] += 1

    def sf_client(i: int) -> None:
        session = requests.Session()
        session.verify = info["ca_cert"]
        session.trust_env = False  # REQUESTS_CA_BUNDLE, where set, would replace the sandbox's CA
        sf = Salesforce(instance_url=info["instance_url"], session_id=token, session=session, version="60.0")
        asks: list[tuple[str, Callable[[], Any]]] = [
            ("soql", lambda: sf.query("SELECT Id, Name, Industry FROM Account LIMIT 50")),
            ("count", lambda: sf.query("SELECT COUNT() FROM Contact WHERE LastModifiedDate = LAST_N_DAYS:30")),
            ("describe", lambda: sf.Account.describe()),
            ("limits", lambda: sf.limits())]
        n = i
        while time.perf_counter() < stop:
            kind, ask = asks[n % len(asks)]
            n += 1
            t = time.perf_counter()
            try:
                ask()
                note(kind, time.perf_counter() - t, True)
            except Exception:  # noqa: BLE001 - an error is a count here
                note(kind, time.perf_counter() - t, False)

    def http_client(i: int) -> None:
        with httpx.Client(verify=info["ca_cert"], timeout=30) as http:
            asks = [("px accounts", info["px_api_url"] + "/accounts", {"X-APTRINSIC-API-KEY": info["px_api_key"]},
                     {"pageSize": "100"}),
                    ("px integrations", info["px_api_url"] + "/admin/monitoring/integrations",
                     {"X-APTRINSIC-API-KEY": info["px_api_key"]}, {}),
                    ("status", info["status_url"] + "/api/v2/summary.json", {}, {}),
                    ("rest", info["instance_url"] + "/services/data/v60.0/sobjects/Account/describe",
                     {"Authorization": f"Bearer {token}"}, {})]
            n = i
            while time.perf_counter() < stop:
                kind, url, headers, params = asks[n % len(asks)]
                n += 1
                t = time.perf_counter()
                try:
                    ok = http.get(url, headers=headers, params=params).status_code < 400
                except Exception:  # noqa: BLE001
                    ok = False
                note(kind, time.perf_counter() - t, ok)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=sf_client if i % 2 == 0 else http_client, args=(i,))
               for i in range(LOAD_THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(json.dumps({"latencies": latencies, "errors": errors[0], "kinds": kinds,
                      "seconds": time.perf_counter() - t0}))


# -- the sandbox itself (the figures benchmarks/bench_sandbox.py used to print) -----------------------------------

def sandbox_figures() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as home:
        def start(scenario: str) -> tuple[float, float]:
            t0 = time.perf_counter()
            with _sandbox(scenario, home) as (proc, _info):
                return time.perf_counter() - t0, _rss_mb(proc.pid)

        cold, _ = start("healthy")  # its certificates made
        warm = statistics.median(start("healthy")[0] for _ in range(3))
        _, healthy_rss = start("healthy")
        _, large_rss = start("large-tenant")
    rows.append(Row("`sfwizard sandbox` start to its JSON line: first (certificates made) ÷ later",
                    f"{cold / warm:.2f} ({_fmt_ms(cold)} ÷ {_fmt_ms(warm)})"))
    rows.append(Row("sandbox memory: large-tenant (250,000 Accounts) ÷ healthy, loaded",
                    f"{large_rss / healthy_rss:.2f} ({large_rss:.0f} MB ÷ {healthy_rss:.0f} MB)", "≤ 2",
                    large_rss <= 2 * healthy_rss))
    return rows


# -- the table --------------------------------------------------------------------------------------------------

def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = f", {int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.0f} GB"
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def table(rows: list[Row]) -> str:
    out = ["| Figure | Measured | Goal | Met |", "| --- | --- | --- | --- |"]
    for r in rows:
        met = "" if r.met is None else "yes" if r.met else f"**no** ({r.gap})" if r.gap else "**no**"
        out.append(f"| {r.figure} | {r.value} | {r.goal} | {met} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated sections: " + ",".join(SECTIONS))
    parser.add_argument("--no-append", action="store_true", help="print the table, do not append to RESULTS.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, *rest = args.child
        globals()[f"_child_{name}"](*rest)
        return 0
    chosen = [s.strip() for s in args.only.split(",")] if args.only else list(SECTIONS)
    _compile_bytecode()  # every section measures sfwizard as installed
    started = dt.datetime.now().astimezone()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs: dict[str, Callable[[], list[Row]]] = {
            "startup": startup, "switch": switch, "check": check, "opening": opening, "calls": lambda: calls(folder),
            "memory": lambda: memory(folder),
            "stall": lambda: stall(folder), "rates": lambda: rates(folder), "load": load, "sandbox": sandbox_figures}
        for name in chosen:
            t = time.perf_counter()
            print(f"… {name}", file=sys.stderr, flush=True)
            rows += runs[name]()
            print(f"  {name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    text = (f"## {started:%Y-%m-%d %H:%M %Z} — {machine()}\n\n"
            f"`python benchmarks/run.py{' --only ' + args.only if args.only else ''}` at commit {_commit()}, "
            f"{(dt.datetime.now().astimezone() - started).total_seconds() / 60:.1f} min\n\n{table(rows)}\n")
    missed = [r for r in rows if r.met is False]
    if missed:
        text += "\nGoals not reached: " + "; ".join(f"{r.short or r.figure} ({r.gap or r.value})" for r in missed) \
            + ". Why: the notes below the table of the run that first showed it.\n"
    print(text)
    if not args.no_append:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + text)
    return 0


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
