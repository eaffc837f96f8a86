"""Fixtures for the wizard's doors: a hostile HTTPS server on 127.0.0.1 (answers whatever a test tells it, with
the sandbox's certificate) and a plain-http listener that records whatever reaches it."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Hostile:
    """An HTTPS server that answers every request with ``answer(path) -> (status, JSON body)``."""

    url: str
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    answer: Callable[[str], tuple[int, Any]] = lambda path: (404, {})


@dataclass
class Recorder:
    """A plain-http listener: every request that reaches it (method, path, headers) is kept."""

    url: str
    port: int
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def _serve(handler_for: Callable[[], type], context: ssl.SSLContext | None) -> tuple[ThreadingHTTPServer, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for())
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, server.server_address[1]


@pytest.fixture
def hostile(tls_certs) -> Iterator[Hostile]:
    box: dict[str, Hostile] = {}

    def handler() -> type:
        class H(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                me = box["h"]
                me.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, body = me.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

        return H

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls_certs.cert), str(tls_certs.key))
    server, port = _serve(handler, context)
    box["h"] = Hostile(f"https://127.0.0.1:{port}")
    yield box["h"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    box: dict[str, Recorder] = {}

    def handler() -> type:
        class H(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                box["r"].requests.append((self.command, self.path,
                                          {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = _any

        return H

    server, port = _serve(handler, None)
    box["r"] = Recorder(f"http://127.0.0.1:{port}", port)
    yield box["r"]
    server.shutdown()
    server.server_close()
