"""The sandbox under concurrent clients: every answer right, a latency fault that waits without holding the
state lock, and faults that strike the same requests whatever order the threads run in."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from sfwizard.integrations.transport import tls_verify
from sfwizard.sandbox import faults as faults_module
from sfwizard.sandbox.faults import FaultInjector, apply_spec
from sfwizard.sandbox.http import Request
from sfwizard.sandbox.state import Faults

CLIENTS = 16


def _token(info: dict, http: httpx.Client) -> str:
    return http.post(info["login_url"] + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
        "username": info["username"], "password": info["password"]}).json()["access_token"]


def test_concurrent_clients_get_the_answers_one_client_gets(start_sandbox) -> None:
    info = start_sandbox("healthy").info()
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=30) as http:
        token = _token(info, http)
        sf = {"Authorization": f"Bearer {token}"}
        px = {"X-APTRINSIC-API-KEY": info["px_api_key"]}
        asks = [(info["instance_url"] + "/services/data/v60.0/query", sf,
                 {"q": f"SELECT COUNT() FROM Account WHERE Name LIKE '{letter}%'"}) for letter in "ABCDEFGHLMNPRSTW"]
        asks += [(info["px_api_url"] + "/accounts", px, {"pageSize": str(n)}) for n in (1, 5, 50, 500)]
        asks += [(info["status_url"] + "/api/v2/summary.json", {}, {})] * 4

        def ask(a: tuple) -> tuple[int, str]:
            r = http.get(a[0], headers=a[1], params=a[2])
            return r.status_code, r.text if "status" not in a[0] else r.json()["status"]["indicator"]

        alone = [ask(a) for a in asks]
        with ThreadPoolExecutor(CLIENTS) as pool:
            together = list(pool.map(ask, asks * 4))
    assert {status for status, _ in alone} == {200}
    assert together == alone * 4


def test_a_latency_fault_waits_without_holding_the_state_lock(start_sandbox, monkeypatch) -> None:
    sandbox = start_sandbox("healthy", faults=["latency=5"])
    lock_free: list[bool] = []

    def sleep(seconds: float) -> None:
        # Another thread tries the state lock while this request waits: it must get it (nothing else is in flight).
        got: list[bool] = []

        def try_lock() -> None:
            got.append(sandbox.state.lock.acquire(blocking=False))
            if got[0]:
                sandbox.state.lock.release()

        probe = threading.Thread(target=try_lock)
        probe.start()
        probe.join()
        lock_free.append(got[0])

    monkeypatch.setattr(faults_module.time, "sleep", sleep)
    info = sandbox.info()
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=30) as http:
        token = _token(info, http)
        r = http.get(info["instance_url"] + "/services/data/v60.0/limits", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert lock_free and all(lock_free)


def _request(path: str, body: bytes = b"") -> Request:
    return Request(method="POST" if body else "GET", path=path, query={}, headers={}, body=body)


def test_faults_strike_the_same_requests_whatever_order_threads_send_them() -> None:
    f = Faults()
    apply_spec(f, "error=0.3:503")
    apply_spec(f, "drop=0.2")
    paths = [f"/services/data/v60.0/sobjects/Account/{i:03d}" for i in range(60)]
    reqs = [_request(p) for p in paths] + [_request(p) for p in paths[:20]]  # twenty sent twice (retries)

    def outcomes(order: list[int], threads: int) -> dict[tuple[str, int], str]:
        inj = FaultInjector(f, seed=7)
        seen: dict[str, int] = {}
        lock = threading.Lock()
        out: dict[tuple[str, int], str] = {}

        def send(i: int) -> None:
            r = reqs[i]
            with lock:
                seen[r.path] = seen.get(r.path, 0) + 1
                nth = seen[r.path]
            resp = inj.before(r)
            with lock:
                out[(r.path, nth)] = "ok" if resp is None else "drop" if resp.drop else str(resp.status)

        # A request and its retry are never in flight together (a retry follows its answer): rounds apart.
        for round_ in (order[:60], order[60:]):
            if threads == 1:
                for i in round_:
                    send(i)
            else:
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(send, round_))
        return out

    forward = list(range(len(reqs)))
    first = outcomes(forward, 1)
    assert set(first.values()) == {"ok", "503", "drop"}  # the faults do strike
    assert outcomes(list(reversed(forward[:60])) + list(reversed(forward[60:])), 1) == first
    assert outcomes(forward, 8) == first
