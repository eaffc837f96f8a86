"""A full run makes the fewest requests in the fewest round trips (benchmarks/ROUND_TRIPS.md): the run's read
plan sends them in two rounds, and no check asks for a read of its own once the plan is done (which would be a
round trip more) — counted, not timed. (A check may send a planned read itself, when it asks for the fact
before the plan's thread got to it: the same request, at the same time.)"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sfwizard.checks import prefetch
from sfwizard.demo import open_demo
from sfwizard.integrations import transport


def _run(scenario: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    sent: list[tuple[str, str, bool]] = []  # (service, the thread that sent it, the plan done by then)
    waves: list[int] = []
    planned = threading.Event()
    real_add = transport.CallCounter.add
    real_plan = prefetch.plan_and_fetch

    def add(self: transport.CallCounter, label: str) -> None:
        sent.append((label, threading.current_thread().name, planned.is_set()))
        real_add(self, label)

    def plan(*args: Any) -> int:
        waves.append(real_plan(*args))
        planned.set()
        return waves[-1]

    with open_demo(scenario) as conn:
        monkeypatch.setattr(transport.CallCounter, "add", add)
        monkeypatch.setattr(prefetch, "plan_and_fetch", plan)
        results = conn.client.run_checks(conn.context())
        monkeypatch.undo()
    by_service: dict[str, int] = {}
    for label, _, _ in sent:
        by_service[label] = by_service.get(label, 0) + 1
    return {"requests": by_service, "after_the_plan": [s for s in sent if s[2]],
            "waves": waves, "checks": len(results)}


@pytest.mark.parametrize("scenario,salesforce,platform", [
    ("revoked-token", 5, 6), ("healthy", 5, 6), ("large-tenant", 5, 6), ("skilljar-recent", 5, 0),
    ("wrong-org", 2, 6)])
def test_a_full_run_is_two_rounds_of_planned_requests(scenario: str, salesforce: int, platform: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    got = _run(scenario, monkeypatch)
    assert got["waves"] == [2]  # what the platform's answers allow: its Ids and its disconnect, then Salesforce's
    assert got["after_the_plan"] == []  # no check waited for a read of its own after the plan's rounds
    expected = {"salesforce": salesforce, "status": 1, **({"platform": platform} if platform else {})}
    assert got["requests"] == expected  # Salesforce: two composite/batch, two Tooling queries, the category groups


# -- every check, alone: what it reads is what it declares ------------------------------------------------------------

# Scenarios where every check of a profile reaches its reads (a token, a user, pushes, Knowledge, a backfill).
ALONE = {"gainsight-px": ("revoked-token", "healthy"), "skilljar": ("skilljar-recent", "skilljar-expired")}


@pytest.fixture(scope="module")
def demos() -> Any:
    """One sandbox per scenario for the module: each check runs alone in a context of its own."""
    import contextlib

    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(open_demo(name)) for names in ALONE.values() for name in names}


def _alone(conn: Any, cid: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], int]:
    """The requests sent after the plan's waves while the check ran alone, and the waves."""
    after: list[str] = []
    planned = threading.Event()
    waves: list[int] = []
    real_add = transport.CallCounter.add
    real_plan = prefetch.plan_and_fetch

    def add(self: transport.CallCounter, label: str) -> None:
        if planned.is_set():
            after.append(f"{label} from {threading.current_thread().name}")
        real_add(self, label)

    def plan(*args: Any) -> int:
        waves.append(real_plan(*args))
        planned.set()
        return waves[-1]

    monkeypatch.setattr(transport.CallCounter, "add", add)
    monkeypatch.setattr(prefetch, "plan_and_fetch", plan)
    try:
        conn.client.run_checks(conn.context(), only=[cid])
    finally:
        monkeypatch.undo()
    return after, waves[0]


def _every_check() -> list[tuple[str, str]]:
    from sfwizard.checks.runner import REGISTRY

    return [(cid, scenario) for cid, spec in sorted(REGISTRY.items()) for profile in spec.profiles
            for scenario in ALONE[profile]]


@pytest.mark.parametrize("cid,scenario", _every_check())
def test_every_check_alone_reads_only_what_it_declares(cid: str, scenario: str, demos: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that reads something its ``reads=`` leaves out still answers, but sends the read itself after
    the plan (a round trip more): run alone, every registered check — today's and any added later — sends
    nothing once the plan is done."""
    after, waves = _alone(demos[scenario], cid, monkeypatch)
    assert after == [], f"{cid} read what it does not declare (@check(reads=…)): {after}"
    assert waves <= 2
