"""Fault injection: latency, 5xx answers, dropped connections, expiring tokens, API limits, 429s.

``--fault`` specs (repeatable; the scenario's ``faults:`` block takes the same keys):
  latency=MS[~JITTER]   every answer waits MS (± JITTER) milliseconds
  error=RATE[:STATUS]   that fraction of requests answers STATUS (500 or 503; default 503)
  drop=RATE             that fraction of requests has its connection closed unanswered
  expire-token=N        an access token dies after N API calls (INVALID_SESSION_ID)
  request-limit=N       the org answers REQUEST_LIMIT_EXCEEDED after N API calls
  px-rate=N             the platform API answers 429 above N requests a second
  px-429=RATE           that fraction of platform API calls answers 429
  unreachable=SERVICE[:AFTER]  SERVICE (salesforce = its REST API, platform, status) stops answering: every
                        connection after its first AFTER requests (default 0) is closed unanswered; repeatable
                        with a comma: unreachable=salesforce:3,platform
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

from sfwizard.errors import SfwizardError
from sfwizard.sandbox.http import Request, Response, json_response, sf_error
from sfwizard.sandbox.state import Faults

log = logging.getLogger("sfwizard.sandbox")

FAULT_KEYS = ("latency", "error", "drop", "expire-token", "request-limit", "px-rate", "px-429", "unreachable")
# The path each service answers under (the Salesforce login server stays reachable: a lost REST API is the
# case worth showing, since with no sign-in nothing runs at all).
SERVICE_PATHS = {"salesforce": "/services/data", "platform": "/px/", "status": "/status"}


MAX_LATENCY_MS = 600_000  # ten minutes: longer than any client waits


def _rate(text: str, spec: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise ValueError("a rate is a fraction between 0 and 1")
    return value


def _count(text: str, what: str = "a count", most: int | None = None) -> int:
    """A whole number, 0 or more (and at most ``most``)."""
    value = int(text.strip())
    if value < 0:
        raise ValueError(f"{what} is 0 or more, not {value}")
    if most is not None and value > most:
        raise ValueError(f"{what} is at most {most}, not {value}")
    return value


def apply_spec(faults: Faults, spec: str) -> None:
    """Apply one ``key=value`` spec; raise SfwizardError naming the bad part."""
    key, sep, value = spec.partition("=")
    key = key.strip().lower()
    try:
        if not sep or key not in FAULT_KEYS:
            raise ValueError(f"unknown fault {key!r}")
        if key == "latency":
            base, _, jitter = value.partition("~")
            latency = _count(base, "a latency (ms)", MAX_LATENCY_MS)
            jitter_ms = _count(jitter or "0", "a jitter (ms)", MAX_LATENCY_MS)
            faults.latency_ms, faults.jitter_ms = latency, jitter_ms
        elif key == "error":
            rate, _, status = value.partition(":")
            error_rate, error_status = _rate(rate, spec), int(status or 503)
            if error_status not in (500, 502, 503, 504):
                raise ValueError("the status is 500, 502, 503 or 504")
            faults.error_rate, faults.error_status = error_rate, error_status
        elif key == "drop":
            faults.drop_rate = _rate(value, spec)
        elif key == "expire-token":
            faults.token_expires_after = _count(value, "a number of calls")
        elif key == "request-limit":
            faults.request_limit_after = _count(value, "a number of calls")
        elif key == "px-rate":
            faults.px_rate_per_second = _count(value, "a rate per second")
        elif key == "px-429":
            faults.px_429_rate = _rate(value, spec)
        elif key == "unreachable":
            services: dict[str, int] = {}
            for part in value.split(","):
                service, _, after = part.strip().partition(":")
                if service not in SERVICE_PATHS:
                    raise ValueError(f"unknown service {service[:40]!r} (salesforce, platform or status)")
                services[service] = _count(after or "0", "a number of requests")
            faults.unreachable.update(services)
    except ValueError as exc:
        raise SfwizardError(f"bad --fault {spec[:80]!r}: {str(exc)[:200]}",
                            "use one of " + ", ".join(k + "=…" for k in FAULT_KEYS)) from None


class FaultInjector:
    """Decides, per request, whether to delay, fail or drop it. Deterministic from the scenario seed and the
    request itself — its method, path, query and body, and how many times the same request came before — so
    clients sending requests concurrently meet the same faults whatever order the threads run in (a retry is a
    new occurrence, with a roll of its own)."""

    def __init__(self, faults: Faults, seed: int = 0) -> None:
        self.faults = faults
        self._seed = seed
        self._lock = threading.Lock()
        self._px_window: list[float] = []
        self._served: dict[str, int] = {}  # service → requests seen (for unreachable=SERVICE:AFTER)
        self._seen: dict[bytes, int] = {}  # request digest → times seen

    def _occurrence(self, req: Request) -> bytes:
        h = hashlib.blake2b(digest_size=16)
        for part in (req.method, req.path, repr(sorted(req.query.items()))):
            h.update(part.encode() + b"\0")
        h.update(req.body)
        digest = h.digest()
        with self._lock:
            n = self._seen[digest] = self._seen.get(digest, 0) + 1
        return digest + n.to_bytes(4, "big")

    def _roll(self, occurrence: bytes, purpose: str) -> float:
        """A number in [0, 1) for this occurrence of a request and this purpose (latency, drop, error, 429)."""
        h = hashlib.blake2b(occurrence + purpose.encode(), digest_size=8, key=str(self._seed).encode()[:64])
        return int.from_bytes(h.digest(), "big") / 2.0 ** 64

    def before(self, req: Request) -> Response | None:
        """Run before routing: sleeps for latency (holding no lock: concurrent requests wait side by side), may
        answer or drop instead of the real handler."""
        f = self.faults
        occurrence = self._occurrence(req)
        if f.latency_ms or f.jitter_ms:
            delay = f.latency_ms + (self._roll(occurrence, "latency") * 2 - 1) * f.jitter_ms
            if delay > 0:
                time.sleep(delay / 1000)
        if req.path.startswith("/__sandbox__") or req.path == "/":
            return None  # the sandbox's own control surface never fails on purpose
        for service, after in f.unreachable.items():
            if req.path.startswith(SERVICE_PATHS[service]):
                with self._lock:
                    seen = self._served[service] = self._served.get(service, 0) + 1
                if seen > after:
                    log.warning("fault: %s unreachable (%s %s)", service, req.method, req.path)
                    return Response(drop=True)
        if f.drop_rate and self._roll(occurrence, "drop") < f.drop_rate:
            log.warning("fault: dropped connection on %s %s", req.method, req.path)
            return Response(drop=True)
        if f.error_rate and self._roll(occurrence, "error") < f.error_rate:
            log.warning("fault: %d on %s %s", f.error_status, req.method, req.path)
            if req.path.startswith("/services/data"):
                return sf_error(f.error_status, "SERVER_UNAVAILABLE" if f.error_status == 503 else
                                "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please try again.")
            return json_response({"error": "server_error"}, f.error_status)
        if req.path.startswith("/px/"):
            return self._px_limit(req, occurrence)
        return None

    def _px_limit(self, req: Request, occurrence: bytes) -> Response | None:
        f = self.faults
        limited = False
        if f.px_429_rate and self._roll(occurrence, "429") < f.px_429_rate:
            limited = True
        if f.px_rate_per_second:
            now = time.monotonic()
            with self._lock:
                self._px_window = [t for t in self._px_window if now - t < 1.0]
                if len(self._px_window) >= f.px_rate_per_second:
                    limited = True
                else:
                    self._px_window.append(now)
        if limited:
            log.warning("fault: 429 on %s %s", req.method, req.path)
            from sfwizard.sandbox.px.errors import px_error

            return px_error(429, "Rate limit exceeded", headers=[("Retry-After", "1")])
        return None
