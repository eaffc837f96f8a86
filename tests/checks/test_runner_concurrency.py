"""The runner's concurrency: results in registry order while they stream in finishing order, one on_result
call at a time, troubleshooting after the rest, a stop that stops the Salesforce checks whatever the timing,
and facts computed once when threads ask together. Threads are ordered with events, never with sleeps."""

from __future__ import annotations

import threading

import pytest

from sfwizard.checks.base import CheckSpec, Status, ok
from sfwizard.checks.context import CheckContext
from sfwizard.checks.runner import run_checks
from sfwizard.integrations.salesforce import ApiLimitExceeded, SalesforceUnreachable
from sfwizard.integrations.signin import SignInRequired
from sfwizard.profiles import load_profile

WAIT = 10  # seconds an event may take before the test calls it a hang (never reached when the code is right)


def _ctx() -> CheckContext:
    return CheckContext(load_profile("gainsight-px"), sf=object())  # type: ignore[arg-type]


def _spec(cid: str, func, needs=("salesforce",), reads_results: bool = False) -> CheckSpec:
    return CheckSpec(cid, cid, "validate", func, ("gainsight-px",), tuple(needs), reads_results)


def _after(event: threading.Event | None, then: threading.Event, summary: str):
    """A check that finishes only after ``event`` is set, then sets ``then``."""
    def run(ctx):
        if event is not None:
            assert event.wait(WAIT), "the check it waits for never finished: the checks do not run concurrently"
        then.set()
        return ok(summary)
    return run


def test_results_stream_as_they_finish_and_come_back_in_registry_order() -> None:
    done = {c: threading.Event() for c in "abcd"}
    # d finishes first, then c, b, a: each waits for the one after it
    specs = [_spec("a", _after(done["b"], done["a"], "a")), _spec("b", _after(done["c"], done["b"], "b")),
             _spec("c", _after(done["d"], done["c"], "c")), _spec("d", _after(None, done["d"], "d"))]
    streamed: list[str] = []
    results = run_checks(_ctx(), specs, on_result=lambda r: streamed.append(r.id), workers=4)
    assert streamed == ["d", "c", "b", "a"]  # as each finished, once each
    assert [r.id for r in results] == ["a", "b", "c", "d"]  # the registry's order


def test_on_result_and_progress_are_never_called_twice_at_once() -> None:
    inside = 0
    most = 0
    calls: list[str] = []
    guard = threading.Lock()

    def enter_leave(what: str) -> None:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        calls.append(what)
        with guard:
            inside -= 1

    specs = [_spec(f"c{i}", lambda ctx: ok("x"), needs=()) for i in range(40)]
    run_checks(_ctx(), specs, on_result=lambda r: enter_leave(r.id), progress=lambda p: enter_leave("p"),
               workers=8)
    assert most == 1
    assert sorted(c for c in calls if c != "p") == sorted(s.id for s in specs)  # each result handed over once
    assert calls.count("p") == len(specs) + 1  # one progress per result, and "Checks done"


def test_troubleshooting_judges_every_other_result_even_the_slowest() -> None:
    slow_may_finish = threading.Event()
    slow_done = threading.Event()
    seen: list[list[str]] = []

    def symptom(ctx):
        seen.append(list(ctx.results))  # in registry order, though "fast" finished first
        return ok("judged")

    def fast(ctx):
        slow_may_finish.set()
        return ok("fast")

    specs = [_spec("slow", _after(slow_may_finish, slow_done, "slow")), _spec("fast", fast),
             _spec("ts.x", symptom, needs=(), reads_results=True)]
    results = run_checks(_ctx(), specs, workers=4)
    assert seen == [["slow", "fast"]]
    assert [r.id for r in results] == ["slow", "fast", "ts.x"]


@pytest.mark.parametrize("exc,fail_reason,skip_reason", [
    (SignInRequired("expired access/refresh token"), "signin.required", "skip.signin_required"),
    (ApiLimitExceeded("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403), "salesforce.limit_exceeded",
     "skip.limit_exceeded"),
    (SalesforceUnreachable("cannot reach x: ConnectionError"), "net.unreachable", "skip.unreachable"),
], ids=["signin", "limit", "unreachable"])
def test_a_stop_met_by_checks_at_the_same_time_fails_one_and_skips_the_rest(exc, fail_reason, skip_reason) -> None:
    together = threading.Barrier(4, timeout=WAIT)

    def meets_it(ctx):
        together.wait()  # all four are under way before any meets the stop
        raise exc

    ctx = _ctx()
    specs = [_spec(f"sf{i}", meets_it) for i in range(4)] + [_spec("px", lambda c: ok("platform"), needs=())]
    results = run_checks(ctx, specs, workers=8)
    by = [(r.status, r.reason) for r in results[:4]]
    assert by.count((Status.FAIL, fail_reason)) == 1
    assert by.count((Status.SKIPPED, skip_reason)) == 3
    assert results[4].status == Status.PASS  # what needs no Salesforce still runs


def test_a_stop_found_by_the_plan_fails_the_first_salesforce_check_in_registry_order() -> None:
    """When the plan's first round meets the stop, every Salesforce answer is already in: the checks are judged
    in order, so the same check fails whatever the timing (the one a person reads first)."""
    ctx = _ctx()
    ctx.note_stop(ApiLimitExceeded("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403))
    ran: list[str] = []

    def reads(cid: str):
        def run(c):
            ran.append(cid)
            c.query("SELECT Id FROM Organization")  # answered from the stop, without a call
            return ok("never")
        return run

    specs = [_spec(f"sf{i}", reads(f"sf{i}")) for i in range(6)]
    results = run_checks(ctx, specs, workers=8)
    assert [(r.status, r.reason) for r in results] == \
        [(Status.FAIL, "salesforce.limit_exceeded")] + [(Status.SKIPPED, "skip.limit_exceeded")] * 5
    assert ran == ["sf0"]


def test_checks_that_have_not_started_when_a_stop_is_met_never_run() -> None:
    ran: list[str] = []

    def stop(ctx):
        ran.append("a")
        raise SignInRequired("expired")

    def later(ctx):
        ran.append("later")
        return ok("x")

    results = run_checks(_ctx(), [_spec("a", stop), *[_spec(f"b{i}", later) for i in range(5)]], workers=1)
    assert ran == ["a"]
    assert {r.reason for r in results[1:]} == {"skip.signin_required"}


# -- the memo -----------------------------------------------------------------------------------------------

def test_a_fact_asked_by_two_threads_at_once_is_computed_once() -> None:
    ctx = _ctx()
    entered, release = threading.Event(), threading.Event()
    computed: list[int] = []
    got: list[object] = []

    def slow_fact() -> dict:
        computed.append(1)
        entered.set()
        assert release.wait(WAIT)
        return {"answer": 42}

    first = threading.Thread(target=lambda: got.append(ctx.memo("fact", slow_fact)))
    first.start()
    assert entered.wait(WAIT)  # the first asker is computing it…
    asking = threading.Event()

    def second_asker() -> None:
        asking.set()
        got.append(ctx.memo("fact", slow_fact))

    second = threading.Thread(target=second_asker)
    second.start()
    assert asking.wait(WAIT)  # …and the second asks meanwhile
    release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert computed == [1]
    assert got == [{"answer": 42}, {"answer": 42}] and got[0] is got[1]


def test_a_facts_error_is_its_answer_for_every_asker() -> None:
    ctx = _ctx()
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ApiLimitExceeded("REQUEST_LIMIT_EXCEEDED", "used up", 403)

    for _ in range(3):
        with pytest.raises(ApiLimitExceeded):
            ctx.memo("fact", failing)
    assert calls == [1]


def test_a_fact_that_asks_for_itself_is_a_clear_error_not_a_hang() -> None:
    ctx = _ctx()

    def loops() -> int:
        return ctx.memo("fact", loops)

    with pytest.raises(RuntimeError, match="asked for itself"):
        ctx.memo("fact", loops)


def test_seeded_facts_are_answers() -> None:
    ctx = CheckContext(load_profile("gainsight-px"), _memo={"org": {"Id": "00D"}})
    assert ctx.organization() == {"Id": "00D"}


def test_ctrl_c_stops_the_salesforce_reads_and_does_not_wait_for_checks_in_flight() -> None:
    import os
    import signal

    ctx = _ctx()
    release, started, finished = threading.Event(), threading.Event(), threading.Event()

    def in_flight(c):
        started.set()
        release.wait(WAIT)  # a request that has not answered yet
        finished.set()
        return ok("late")

    def presses_ctrl_c(c):
        assert started.wait(WAIT)
        os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread, waiting in run_checks
        return ok("pressed")

    try:
        with pytest.raises(KeyboardInterrupt):
            run_checks(ctx, [_spec("slow", in_flight, needs=()), _spec("ctrl-c", presses_ctrl_c, needs=())],
                       workers=4)
        assert not finished.is_set()  # run_checks did not wait for the check in flight
    finally:
        release.set()
    assert ctx.stopped is not None  # and no Salesforce read is sent after it
