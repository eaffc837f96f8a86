"""kill -9 in the middle of the work, then a resume as the wizard resumes (``RecoverySession.latest`` and a
``Navigator`` on it): during the saves of a whole walk through the steps, and during a sync watch.

The child processes are killed when they say how far they got (a line on stdout), never after a sleep.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A wizard that walks the steps: each round records a run, a confirmation and a fact, then moves on, printing
# the round's number once all of it is saved. It never ends by itself.
_WALKER = r"""
import sys
from sfwizard.profiles import load_profile
from sfwizard.recovery.navigator import Navigator
from sfwizard.recovery.session import RecoverySession

s = RecoverySession.latest("gainsight-px") or RecoverySession.new("gainsight-px")
nav = Navigator(load_profile("gainsight-px"), s, check_steps={})
i = int(s.facts.get("rounds", {}).get("value", 0))
while True:
    s.record_run([{"id": f"round-{i}", "status": "pass", "summary": "x" * 2000}])
    s.confirm(nav.current_id, f"item {i}", "Avery", "admin")
    nav.note_fact("rounds", i + 1)
    if nav.next_step is None:
        s.step = nav.steps[0].id
        s.save()
    elif nav.gate().open:
        nav.next()
    else:
        nav.skip("walking through", "Avery")
    print(i, flush=True)
    i += 1
"""


def _kill_after(lines: int, script: str, *args: str, stdin: str | None = None) -> list[str]:
    child = subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT, env=os.environ.copy())
    seen: list[str] = []
    try:
        if stdin is not None:
            child.stdin.write(stdin)
            child.stdin.flush()
        while len(seen) < lines:
            line = child.stdout.readline()
            assert line, f"the child ended early: {child.stderr.read()[-3000:]}"
            seen.append(line.strip())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        for pipe in (child.stdin, child.stdout, child.stderr):
            pipe.close()
    assert child.returncode == -signal.SIGKILL
    return seen


def test_kill_9_during_saves_then_resume_loses_at_most_the_step_under_way(fault) -> None:
    from sfwizard.profiles import load_profile
    from sfwizard.recovery.navigator import Navigator
    from sfwizard.recovery.session import RecoverySession

    done = 0
    for k in (1, 3, 7, 2, 11):
        with fault("kill -9 during a save"):
            printed = _kill_after(k, _WALKER)
            done += len(printed)
            s = RecoverySession.latest("gainsight-px")  # the resume: the dead wizard's lock is gone
            assert s is not None
            try:
                nav = Navigator(load_profile("gainsight-px"), s, check_steps={})
                rounds = s.facts["rounds"]["value"]
                assert done <= rounds <= done + 1  # every printed round is saved; at most one more got through
                # in order, none lost; a round killed after its run was appended is run again on resume
                runs = list(dict.fromkeys(r["results"][0]["id"] for r in s.history()))
                assert runs[:rounds] == [f"round-{i}" for i in range(rounds)]
                assert len(runs) <= rounds + 1
                assert {f"item {i}" for i in range(rounds)} <= {c["item"] for c in s.confirmations}
                assert nav.current_id in {st.id for st in nav.steps}
                assert nav.gate() is not None  # the navigator reads what it resumed
                done = rounds
            finally:
                s.release()


# The sync step of a demo, in a child: sign in, Authorize, Synchronize, then watch; the sandbox runs in the test.
_SYNC = r"""
import json, sys, threading
from sfwizard.demo import SandboxVendor
from sfwizard.recovery.connection import DemoInfo
from sfwizard.recovery.session import RecoverySession
from sfwizard.recovery.wizard import Recovery, SignInSetup

info = json.loads(sys.stdin.readline())
setup = SignInSetup(login_url=info["login_url"], client_id=info["client_id"], port=0, ca_cert=info["ca_cert"],
                    px_api_url=info["px_api_url"], px_api_key=info["px_api_key"], status_url=info["status_url"],
                    keep=False, open_browser=False)
vendor = SandboxVendor(info, "gainsight-px")
session = RecoverySession.new("gainsight-px", demo_scenario="slow-sync")
rec = Recovery("gainsight-px", setup, session, vendor=vendor,
               demo=DemoInfo("slow-sync", info["admin_url"], info["login_url"], info["ca_cert"]))
rec.sign_in_browser(lambda url: threading.Thread(target=vendor.approve, args=(url,), daemon=True).start(), timeout=60)
print("signed in", flush=True)
print(rec.perform_click("reauthorize"), flush=True)
print(rec.perform_click("sync"), flush=True)
rec.watch_sync(lambda st: print("watching", st.status, st.records_processed, flush=True), interval=0.05)
print("completed", flush=True)
"""


@pytest.fixture
def slow_sync(start_sandbox, tmp_path):
    path = tmp_path / "slow-sync.yaml"
    path.write_text("schema: 1\nname: slow-sync\nextends: revoked-token\nplatform:\n  sync_duration_seconds: 60\n")
    return start_sandbox(str(path))


def test_kill_9_during_a_sync_watch_then_resume_sees_the_sync_complete(slow_sync, fault) -> None:
    from sfwizard.demo import SandboxVendor
    from sfwizard.recovery.connection import DemoInfo
    from sfwizard.recovery.session import RecoverySession
    from sfwizard.recovery.wizard import Recovery, SignInSetup
    from sfwizard.sandbox.px.state import px_state
    from sfwizard.sandbox.px.sync import advance

    info = slow_sync.info()
    with fault("kill -9 during a sync watch"):
        seen = _kill_after(5, _SYNC, stdin=json.dumps(info) + "\n")
        assert seen[0] == "signed in" and seen[-1].startswith("watching"), seen
        job = px_state(slow_sync.state).integration.job
        assert job is not None and job.state == "RUNNING"  # Synchronize was clicked; it runs on without the wizard
        with slow_sync.state.lock:  # ...and finishes while no wizard is watching
            job.duration_s = 0
            advance(slow_sync.state)
        assert job.state == "COMPLETED"

        session = RecoverySession.latest("gainsight-px", demo=True, unfinished=True)  # the resume
        assert session is not None
        assert session.reauthorized_at and "signed_in" in session.facts and "sync_watch_started" in session.facts
        assert "sync_completed" not in session.facts
        setup = SignInSetup(login_url=info["login_url"], client_id=info["client_id"], port=0, ca_cert=info["ca_cert"],
                            px_api_url=info["px_api_url"], px_api_key=info["px_api_key"],
                            status_url=info["status_url"], keep=False, open_browser=False)
        vendor = SandboxVendor(info, "gainsight-px")
        rec = Recovery("gainsight-px", setup, session, vendor=vendor,
                       demo=DemoInfo("slow-sync", info["admin_url"], info["login_url"], info["ca_cert"]))
        try:
            import threading

            rec.sign_in_browser(lambda url: threading.Thread(target=vendor.approve, args=(url,), daemon=True).start(),
                                timeout=60)
            statuses = []
            final = rec.watch_sync(statuses.append, interval=0.05, max_rounds=400)
            # the sync the dead wizard started and watched counts, though it finished before this watch began
            assert final.status == "UP" and final.last_success is not None
            assert len(statuses) == 1
            assert "sync_completed" in session.facts
            assert rec.navigator.has_fact("sync_completed")
        finally:
            rec.close()
            vendor.close()
        resumed = RecoverySession.latest("gainsight-px", demo=True)
        assert resumed is not None and "sync_completed" in resumed.facts  # saved, not only in memory
        resumed.release()
