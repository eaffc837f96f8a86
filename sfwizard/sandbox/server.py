"""The HTTPS server: one port on 127.0.0.1 serving login, REST, platform, status page and admin."""

from __future__ import annotations

import errno
import json
import logging
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sfwizard.errors import SfwizardError
from sfwizard.sandbox.faults import FaultInjector
from sfwizard.sandbox.http import Request, Response, Router, json_response
from sfwizard.sandbox.state import SandboxState
from sfwizard.sandbox.tls import CertPaths, ensure_certificates

log = logging.getLogger("sfwizard.sandbox")

MAX_BODY = 50 * 1024 * 1024


def build_router() -> Router:
    from sfwizard.sandbox.admin import routes as admin
    from sfwizard.sandbox.admin import security as security_admin
    from sfwizard.sandbox.px import api as px
    from sfwizard.sandbox.salesforce import oauth, rest
    from sfwizard.sandbox.statuspage import api as statuspage

    return Router([*oauth.routes(), *rest.routes(), *px.routes(), *statuspage.routes(), *admin.routes(),
                   *security_admin.routes()])


def _read_chunked(rfile: Any) -> bytes | None:
    """A ``Transfer-Encoding: chunked`` request body, or None past MAX_BODY."""
    out = bytearray()
    while True:
        size = int(rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return bytes(out)
        if len(out) + size > MAX_BODY:
            return None
        out += rfile.read(size)
        rfile.readline(1024)  # the CRLF after each chunk


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sfwizard-sandbox"
    sys_version = ""
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # request lines can carry codes in query strings: we log our own, without them

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(json_response([{"message": "request too large", "errorCode": "JSON_PARSER_ERROR"}], 413))
            return
        body = self.rfile.read(length) if length else b""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = _read_chunked(self.rfile)  # node-fetch (jsforce, the sf CLI) streams form bodies this way
            if body is None:
                self._send(json_response([{"message": "request too large", "errorCode": "JSON_PARSER_ERROR"}], 413))
                return
        req = Request(
            method=self.command, path=parts.path or "/",
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()}, body=body,
            client=self.client_address[0],
        )
        sandbox = self.server.sandbox
        resp = sandbox.faults.before(req)  # (a latency fault sleeps here: not the sandbox's own time)
        started = time.perf_counter()
        if resp is None:
            try:
                resp = sandbox.router.dispatch(sandbox.state, req)
            except Exception:  # a sandbox bug answers 500 like a real server, and is logged
                log.exception("internal error on %s %s", req.method, req.path)
                resp = json_response([{"message": "An unexpected error occurred.",
                                       "errorCode": "UNKNOWN_EXCEPTION"}], 500)
        if resp.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        sandbox.count(time.perf_counter() - started)
        log.debug("%s %s → %d", req.method, req.path, resp.status)
        self._send(resp, head=req.method == "HEAD")

    def _send(self, resp: Response, head: bool = False) -> None:
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        for name, value in resp.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if not head and resp.body:
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, OPTIONS, CONNECT, PROPFIND, …) reaches the router too, which answers 405 with
        # Allow where the path exists, as the real services do; http.server alone would answer 501.
        if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
            return self._serve
        raise AttributeError(name)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, sandbox: Sandbox, port: int) -> None:
        self.sandbox = sandbox
        super().__init__(("127.0.0.1", port), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms a request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.sandbox.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, TimeoutError)):
            return  # clients that hang up or refuse our certificate are not our failure
        log.exception("connection error from %s", client_address)


class Sandbox:
    """A running sandbox: state, router, TLS and a server thread."""

    def __init__(self, state: SandboxState, port: int = 0, certs: CertPaths | None = None) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise SfwizardError(f"not a TCP port: {str(port)[:40]}", "use a number from 0 (any free port) to 65535")
        self.state = state
        self.certs = certs or ensure_certificates()
        self.ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ssl_context.load_cert_chain(str(self.certs.cert), str(self.certs.key))
        self.router = build_router()
        self.faults = FaultInjector(state.faults, state.seed)
        try:
            self.httpd = SandboxServer(self, port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SfwizardError(f"port {port} on 127.0.0.1 is already in use",
                                    "stop what holds it, or omit --port to take a free one") from None
            raise SfwizardError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}",
                                "choose another port (above 1023), or omit --port to take a free one") from None
        self.port = self.httpd.server_address[1]
        state.base_url = f"https://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None
        self._counts = threading.Lock()
        self.busy_seconds = 0.0  # time spent answering, summed over the handler threads (faults' sleeps not in it)
        self.requests = 0

    def count(self, seconds: float) -> None:
        """One request answered (handler threads call it at once: the sums are kept under a lock)."""
        with self._counts:
            self.busy_seconds += seconds
            self.requests += 1

    @property
    def base_url(self) -> str:
        return self.state.base_url

    def info(self) -> dict[str, Any]:
        """What a client needs to connect: the one JSON line ``sfwizard sandbox`` prints."""
        from sfwizard.sandbox.scenarios.loader import connection_info

        return connection_info(self.state, self.certs)

    def start(self) -> Sandbox:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sandbox", daemon=True,
                                        kwargs={"poll_interval": 0.1})
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def run_forever(sandbox: Sandbox) -> int:
    """Print the connection line, then serve until SIGINT or SIGTERM; exit 0."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    sandbox.start()
    sys.stdout.write(json.dumps(sandbox.info()) + "\n")
    sys.stdout.flush()
    log.info("sandbox %r serving on %s (Ctrl-C to stop)", sandbox.state.scenario_name, sandbox.base_url)
    while not stop.wait(0.5):
        pass
    sandbox.stop()
    return 0
