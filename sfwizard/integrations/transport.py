"""HTTP for the integration client: timeouts, bounded retries with backoff, TLS always verified.

httpx serves OAuth, the platform and the status page; a requests.Session (with the same rules)
serves simple-salesforce. Both count every request so tests can pin a run's API cost.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from sfwizard.cancel import NEVER, CancelToken
from sfwizard.errors import SfwizardError

log = logging.getLogger("sfwizard")

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
RETRY_STATUSES = (500, 502, 503, 504, 429)


@dataclass
class CallCounter:
    """Requests sent, by host label ("salesforce", "platform", "status", "oauth")."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, label: str) -> None:
        self.counts[label] = self.counts.get(label, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class RetryPolicy:
    attempts: int = 4  # the first try plus three retries
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), 60.0)
            except ValueError:
                pass
        return min(self.max_delay, self.base_delay * 2 ** attempt) * (0.5 + random.random() / 2)


def tls_verify(ca_cert: str | None) -> Any:
    """What to verify against: the sandbox's CA file in demo, the system store otherwise. Never False."""
    if ca_cert:
        import ssl

        return ssl.create_default_context(cafile=ca_cert)
    return True


class Http:
    """A small httpx wrapper: one client, retries on 5xx/429/dropped connections, cancellable."""

    def __init__(self, ca_cert: str | None = None, counter: CallCounter | None = None,
                 retry: RetryPolicy | None = None, cancel: CancelToken | None = None) -> None:
        import httpx

        self._httpx = httpx
        self.counter = counter or CallCounter()
        self.retry = retry or RetryPolicy()
        self.cancel = cancel or NEVER
        self.client = httpx.Client(
            verify=tls_verify(ca_cert),
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            headers={"User-Agent": "sfwizard"},
            follow_redirects=False,
        )

    def request(self, method: str, url: str, *, label: str, retry: bool = True, **kwargs: Any):
        """Send with bounded retries. Only idempotent calls should pass ``retry=True``."""
        httpx = self._httpx
        attempts = self.retry.attempts if retry else 1
        for attempt in range(attempts):
            self.cancel.check()
            self.counter.add(label)
            try:
                resp = self.client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError,
                    httpx.WriteError) as exc:
                if attempt + 1 >= attempts:
                    raise SfwizardError(f"cannot reach {_host(url)}: {type(exc).__name__}",
                                        "check the URL and your network, then try again",
                                        kind="unreachable") from None
                log.info("retrying %s %s after a dropped connection", method, _host(url))
                self.cancel.wait(self.retry.delay(attempt))
                continue
            except httpx.TimeoutException:
                if attempt + 1 >= attempts:
                    raise SfwizardError(f"{_host(url)} did not answer in time",
                                        "try again; if it persists, check the service's status page",
                                        kind="unreachable") from None
                self.cancel.wait(self.retry.delay(attempt))
                continue
            if resp.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                log.info("retrying %s %s after HTTP %d", method, _host(url), resp.status_code)
                self.cancel.wait(self.retry.delay(attempt, resp.headers.get("Retry-After")))
                continue
            return resp
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.client.close()


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def requests_session(ca_cert: str | None, counter: CallCounter, label: str = "salesforce",
                     retry: RetryPolicy | None = None):
    """A requests.Session for simple-salesforce: CA verification, timeouts, retries, counting.

    simple-salesforce sets no timeout and no retries of its own, so both come from here.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    policy = retry or RetryPolicy()

    class _Adapter(HTTPAdapter):
        def send(self, request, **kwargs):  # type: ignore[override]
            kwargs["timeout"] = kwargs.get("timeout") or (CONNECT_TIMEOUT, READ_TIMEOUT)
            if ca_cert:
                # requests lets REQUESTS_CA_BUNDLE override session.verify (psf/requests#3829):
                # pin the CA we were given here, where the environment cannot replace it.
                kwargs["verify"] = ca_cert
            counter.add(label)
            return super().send(request, **kwargs)

    retries = Retry(
        total=policy.attempts - 1, connect=policy.attempts - 1, read=policy.attempts - 1,
        status=policy.attempts - 1, status_forcelist=RETRY_STATUSES, backoff_factor=policy.base_delay,
        backoff_max=policy.max_delay, respect_retry_after_header=True,
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}), raise_on_status=False,
    )
    session = requests.Session()
    session.verify = ca_cert or True
    session.headers["User-Agent"] = "sfwizard"
    adapter = _Adapter(max_retries=retries)
    session.mount("https://", adapter)
    return session
