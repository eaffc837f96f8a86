"""HTTP for the integration client: timeouts, bounded retries with backoff, TLS always verified.

httpx serves OAuth, the platform and the status page; a requests.Session (with the same rules)
serves simple-salesforce. Both count every request so tests can pin a run's API cost.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from sfwizard.cancel import NEVER, CancelToken
from sfwizard.errors import SfwizardError

log = logging.getLogger("sfwizard")

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
# Connections kept per host: the check runner sends up to this many requests at once (sfwizard.checks.runner's
# IO_WORKERS); a smaller pool would open and drop a connection (and a TLS handshake) per extra request.
POOL_SIZE = 16
RETRY_STATUSES = (500, 502, 503, 504, 429)


@dataclass
class CallCounter:
    """Requests sent, by host label ("salesforce", "platform", "status", "oauth"); safe from many threads.

    ``subrequests`` counts the reads carried inside Salesforce composite/batch requests: Salesforce counts
    each of them against the org's API limits, so they are the run's cost in API allowance, where
    ``counts`` is its cost in requests (round trips).
    """

    counts: dict[str, int] = field(default_factory=dict)
    subrequests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, label: str) -> None:
        with self._lock:
            self.counts[label] = self.counts.get(label, 0) + 1

    def add_subrequests(self, n: int) -> None:
        with self._lock:
            self.subrequests += n

    @property
    def total(self) -> int:
        with self._lock:
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


# Where Linux distributions keep their CA bundle, when OpenSSL's compiled-in default is absent (the list
# truststore uses: Alpine/Arch/Fedora/RHEL/BSD, newer Fedora/RHEL, older Fedora/RHEL, Debian/Ubuntu, SUSE).
_LINUX_CA_FILES = ("/etc/ssl/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/pki/tls/cert.pem",
                   "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/ca-bundle.pem")


_CONTEXTS: dict[tuple[Any, ...], Any] = {}
_CONTEXTS_LOCK = threading.Lock()


def ssl_context(extra_ca: str | None = None) -> Any:
    """What TLS trusts, as ``sf`` and ``gh`` do: the operating system's trust store, so a company proxy that
    inspects TLS works once its CA is in the system store; ``extra_ca`` (the bundled sandbox's CA in demo,
    or SFWIZARD_CA_CERT) is trusted IN ADDITION to it. Verification is never off.

    On macOS and Windows that is ``truststore`` (the native verifier: Keychain, the Windows store). On
    Linux truststore itself is OpenSSL over the distribution's CA bundle, re-read at every handshake
    (about 30 ms each); the same bundle is loaded here once per process instead (a context is shared by
    the clients that trust the same things).
    """
    import sys

    key = (sys.platform, extra_ca, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    with _CONTEXTS_LOCK:
        if key not in _CONTEXTS:
            _CONTEXTS[key] = _new_ssl_context(extra_ca)
        return _CONTEXTS[key]


def _new_ssl_context(extra_ca: str | None) -> Any:
    import ssl
    import sys

    if sys.platform in ("darwin", "win32"):
        import truststore

        ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        ctx = ssl.create_default_context()  # OpenSSL's default paths (SSL_CERT_FILE / SSL_CERT_DIR honoured)
        defaults = ssl.get_default_verify_paths()
        if not defaults.cafile and not (defaults.capath and _has_hashed_certs(defaults.capath)):
            found = next((f for f in _LINUX_CA_FILES if os.path.isfile(f)), None)
            if found:
                ctx.load_verify_locations(cafile=found)
    if extra_ca:
        try:
            ctx.load_verify_locations(cafile=extra_ca)
        except (OSError, ssl.SSLError) as exc:
            why = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or type(exc).__name__
            raise SfwizardError(f"the extra CA certificate {extra_ca} cannot be loaded ({why})",
                                "point SFWIZARD_CA_CERT at a PEM file holding your company's CA certificate",
                                kind="tls", fix="settings.ca_cert") from None
    return ctx


def _has_hashed_certs(capath: str) -> bool:
    import re

    try:
        return any(re.fullmatch(r"[0-9a-fA-F]{8}\.\d", name) for name in os.listdir(capath))
    except OSError:
        return False


tls_verify = ssl_context  # the older name (tests and the demo's stand-in browser use it)


def certificate_failure(exc: BaseException) -> Any:
    """The ``ssl.SSLCertVerificationError`` behind an httpx or requests error, or None.

    httpx keeps it as the ``__context__`` of its ``__cause__``; requests inside ``args`` and ``.reason``
    of urllib3's errors: walk all of them, a bounded number of steps.
    """
    import ssl

    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo and len(seen) < 50:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return e
        todo += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return None


def tls_error(host: str, failure: Any, address_fix: str = "retry") -> SfwizardError:
    """A certificate failure, named as such with the way forward (never: switch verification off).
    ``address_fix``: where the address is set, for a certificate made out to another host."""
    detail = str(getattr(failure, "verify_message", "") or "").strip()
    reason = f"CERTIFICATE_VERIFY_FAILED{': ' + detail if detail else ''}"
    if "hostname mismatch" in detail.lower() or "ip address mismatch" in detail.lower():
        hint = f"the certificate is for another host: check the URL ({host})"
    elif "expired" in detail.lower() or "not yet valid" in detail.lower():
        hint = "check this machine's clock; if it is right, the service's certificate has expired"
    else:
        hint = ("if your company inspects TLS, give sfwizard its CA: SFWIZARD_CA_CERT=/path/ca.pem "
                "(trusted in addition to the system's trust store; verification stays on)")
    fix = "retry" if "clock" in hint else address_fix if "another host" in hint else "settings.ca_cert"
    return SfwizardError(f"the certificate of {host} is not trusted ({reason})", hint, kind="tls", fix=fix)


# -- where a token may go -----------------------------------------------------------------------------------

# The domains Salesforce serves orgs from, the only hosts (with the login host itself) a token is sent to when a
# server names them (a token answer's instance_url and id, a query's nextRecordsUrl). Sources:
# - Salesforce's own CLI library, sfdx-core src/util/sfdcUrl.ts ``isSalesforceDomain`` (citing Salesforce Help
#   000003652): .salesforce.com, .force.com, .cloudforce.com, .content.force.com, .secure.force.com,
#   .salesforceliveagent.com (not an org host: left out) and crmforce.mil.
# - Salesforce Help, "My Domain URL Formats" (domain_name_url_formats_what_determines): production logins on
#   MyDomainName.my.salesforce.com; sandboxes, Developer Edition, scratch and demo orgs on
#   *.sandbox.my.salesforce.com, *.develop.my.salesforce.com, *.scratch.my.salesforce.com … (all below
#   salesforce.com); Lightning and Visualforce on *.lightning.force.com / *.vf.force.com.
# - Government Cloud Plus – Defense serves its orgs below salesforce.mil (MyDomainName.my.salesforce.mil),
#   as the review names it; crmforce.mil as sfdx-core lists it.
# A custom domain (https://login.example.com) or an Experience Cloud site is trusted as the login host the
# person typed; anything else a server names is refused.
SALESFORCE_DOMAINS = ("salesforce.com", "force.com", "cloudforce.com", "salesforce.mil", "crmforce.mil")


class UntrustedUrl(SfwizardError):
    """A server named a place to send a token that is not Salesforce (nor the login host, nor the sandbox)."""


def _host(url: str) -> tuple[str, str, bool]:
    """(scheme, lower-case host without a trailing dot, whether the URL carries user info)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url).strip())
        host = (parts.hostname or "").rstrip(".").lower()
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return "", "", False
    return parts.scheme.lower(), host, "@" in parts.netloc


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_salesforce_host(host: str) -> bool:
    host = host.rstrip(".").lower()
    return any(host == d or host.endswith("." + d) for d in SALESFORCE_DOMAINS)


def token_destination(url: str, login_url: str, what: str = "instance_url") -> str:
    """``url`` when a token may be sent there: https, and a Salesforce host, the login host itself (a My Domain,
    a custom domain), or — for a sign-in the person started against the bundled sandbox on this machine — a
    loopback host. Anything else is one clear ``UntrustedUrl``: the token is not sent."""
    from sfwizard.inert import inert

    scheme, host, userinfo = _host(url)
    _, login_host, _ = _host(login_url)
    shown = inert(str(url)[:200], keep_newlines=False)
    if scheme != "https" or not host or userinfo:
        raise UntrustedUrl(f"refused: the {what} a server sent ({shown}) is not an https URL, and a token is never "
                           "sent over plain http", "sign in through login.salesforce.com, test.salesforce.com or "
                           "your My Domain (--login-url)")
    trusted = is_salesforce_host(host) or (host == login_host and bool(login_host)) \
        or (is_loopback(host) and is_loopback(login_host))
    if not trusted:
        raise UntrustedUrl(f"refused: the {what} the login server at {inert(login_host or '?')} sent points at "
                           f"{inert(host)}, which is not a Salesforce host; the token is not sent there",
                           "sign in through login.salesforce.com, test.salesforce.com or your My Domain "
                           "(--login-url); if this is your own login server, its answer is wrong")
    return str(url).strip()


def next_records_path(value: object) -> str:
    """A query's ``nextRecordsUrl``: a path on the same instance (simple-salesforce appends it to
    ``https://<instance>``, so anything else — ``@evil.example/…``, ``.evil.example/…`` — would move the host)."""
    text = str(value or "")
    if not text.startswith("/") or text.startswith("//") or any(ch.isspace() or ch in "@\\" for ch in text):
        from sfwizard.inert import inert

        raise UntrustedUrl(f"refused: the next page of a query is not a path on this org "
                           f"({inert(text[:200], keep_newlines=False)})",
                           "the org's answer is not what Salesforce sends; run again, and report it if it repeats")
    return text


class Http:
    """A small httpx wrapper: one client, retries on 5xx/429/dropped connections, cancellable.

    Shared by the check runner's threads: an httpx.Client "can be shared between threads" (its docstring);
    its pool keeps up to 100 connections, 20 of them alive between requests."""

    def __init__(self, ca_cert: str | None = None, counter: CallCounter | None = None,
                 retry: RetryPolicy | None = None, cancel: CancelToken | None = None) -> None:
        import httpx

        self._httpx = httpx
        self.counter = counter or CallCounter()
        self.retry = retry or RetryPolicy()
        self.cancel = cancel or NEVER
        self.client = httpx.Client(
            verify=ssl_context(ca_cert),
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            headers={"User-Agent": "sfwizard"},
            follow_redirects=False,
        )

    def request(self, method: str, url: str, *, label: str, retry: bool = True, **kwargs: Any):
        """Send with bounded retries. Only idempotent calls should pass ``retry=True``."""
        httpx = self._httpx
        if not url.lower().startswith("https://"):  # keys, tokens and codes travel only over TLS
            from sfwizard.inert import inert

            raise UntrustedUrl(f"refused to send a request over plain http ({inert(host_of(url))})",
                               "use an https URL")
        attempts = self.retry.attempts if retry else 1
        for attempt in range(attempts):
            self.cancel.check()
            self.counter.add(label)
            try:
                resp = self.client.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError,
                    httpx.WriteError) as exc:
                failure = certificate_failure(exc)
                if failure is not None:  # no retry mends a certificate
                    raise tls_error(host_of(url), failure, ADDRESS_FIX.get(label, "retry")) from None
                if attempt + 1 >= attempts:
                    raise SfwizardError(f"cannot reach {address_of(url)} ({type(exc).__name__})",
                                        "check your network; if the address is wrong, change it in the settings",
                                        kind="unreachable", fix=ADDRESS_FIX.get(label, "retry")) from None
                log.info("retrying %s %s after a dropped connection", method, host_of(url))
                self.cancel.wait(self.retry.delay(attempt))
                continue
            except httpx.TimeoutException:
                if attempt + 1 >= attempts:
                    raise SfwizardError(f"{address_of(url)} did not answer in time",
                                        "try again; if it persists, check the service's status page",
                                        kind="unreachable", fix="retry") from None
                self.cancel.wait(self.retry.delay(attempt))
                continue
            if resp.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                log.info("retrying %s %s after HTTP %d", method, host_of(url), resp.status_code)
                self.cancel.wait(self.retry.delay(attempt, resp.headers.get("Retry-After")))
                continue
            return resp
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.client.close()


def host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


def address_of(url: str) -> str:
    """The address a request went to, without its query (which may carry a code): scheme, host and path."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url


# What a request's label says about where its address is set (the fix code of an unreachable service).
ADDRESS_FIX = {"status": "settings.status_url", "platform": "settings.px_api_url", "oauth": "settings.login_url",
               "salesforce": "connect.sign_in"}


def requests_session(ca_cert: str | None, counter: CallCounter, label: str = "salesforce",
                     retry: RetryPolicy | None = None):
    """A requests.Session for simple-salesforce: the same trust as httpx (the OS store plus ``ca_cert``),
    timeouts, retries, counting.

    simple-salesforce sets no timeout and no retries of its own, so both come from here. Idempotent calls
    are retried by urllib3 (GET and friends); simple-salesforce's POSTs that only read (composite/batch of
    GET sub-requests) are retried by ``SalesforceAPI``, which knows what they carry.
    """
    import requests
    from requests.adapters import BaseAdapter, HTTPAdapter
    from urllib3.util.retry import Retry

    policy = retry or RetryPolicy()
    context = ssl_context(ca_cert)

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):  # type: ignore[override]
            kwargs["ssl_context"] = context
            return super().init_poolmanager(*args, **kwargs)

        def proxy_manager_for(self, *args, **kwargs):  # type: ignore[override]
            kwargs["ssl_context"] = context
            return super().proxy_manager_for(*args, **kwargs)

        def send(self, request, **kwargs):  # type: ignore[override]
            kwargs["timeout"] = kwargs.get("timeout") or (CONNECT_TIMEOUT, READ_TIMEOUT)
            # The context above holds every CA we trust. requests would otherwise load REQUESTS_CA_BUNDLE
            # or certifi over it (psf/requests#3829); True keeps our context and verification on.
            kwargs["verify"] = True
            counter.add(label)
            return super().send(request, **kwargs)

    class _PlainHttpRefused(BaseAdapter):
        """Mounted on http://: a URL without TLS is refused before anything (the bearer token) is sent."""

        def send(self, request, **kwargs):  # type: ignore[override]
            from sfwizard.inert import inert

            raise UntrustedUrl(f"refused to send the Salesforce token over plain http ({inert(host_of(request.url))})",
                               "the instance URL must be https")

        def close(self) -> None:
            pass

    retries = Retry(
        total=policy.attempts - 1, connect=policy.attempts - 1, read=policy.attempts - 1,
        status=policy.attempts - 1, other=0,  # "other" is a certificate failure among others: no retry mends it
        status_forcelist=RETRY_STATUSES, backoff_factor=policy.base_delay,
        backoff_max=policy.max_delay, respect_retry_after_header=True,
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}), raise_on_status=False,
    )
    # One Session is shared by the check runner's threads: requests' Session holds no per-request state that
    # simple-salesforce changes, urllib3's pool is thread-safe, and the pool keeps POOL_SIZE connections.
    session = requests.Session()
    session.headers["User-Agent"] = "sfwizard"
    adapter = _Adapter(max_retries=retries, pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", _PlainHttpRefused())  # a bearer token never travels in clear text
    return session
