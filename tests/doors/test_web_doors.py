"""`sfwizard --web` lets in only its user: the secret link, the printed Host and Origin, one connection at a time,
nothing loaded from outside the machine (the review reached the org from an evil Origin and Host, from another OS
user, and started six wizards with six connections)."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sfwizard.screens import web

# A stand-in for the wizard that textual-serve starts per connection: it waits for its first input (the quit
# textual-serve sends when the tab goes) and exits, so a connection stays live as long as the test holds it.
FAKE_WIZARD = f"{sys.executable} -c \"import sys; sys.stdin.buffer.read(1)\""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    def __init__(self, doors: web.WebDoors, port: int) -> None:
        self.doors, self.port = doors, port
        self.base = f"http://127.0.0.1:{port}"
        self.link = f"{self.base}/w/{doors.secret}/"


@pytest.fixture
def served() -> Iterator[Running]:
    port = _free_port()
    doors = web.WebDoors(FAKE_WIZARD, host="127.0.0.1", port=port, secret=web.new_secret())
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict = {}

    async def start() -> None:
        from aiohttp import web as aioweb

        runner = aioweb.AppRunner(await doors._make_app())
        await runner.setup()
        await aioweb.TCPSite(runner, "127.0.0.1", port).start()
        box["runner"] = runner
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield Running(doors, port)
    asyncio.run_coroutine_threadsafe(box["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


class Ws:
    """A raw websocket handshake (standard library only, as an attacker's script would do it)."""

    def __init__(self, port: int, path: str, host: str, origin: str | None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if origin is not None:
            lines.append(f"Origin: {origin}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.status = int(head.split(b" ", 2)[1]) if head else 0

    def close(self) -> None:
        try:
            self.sock.sendall(b"\x88\x80" + os.urandom(4))  # a masked close frame
        except OSError:
            pass
        self.sock.close()


def _ws(r: Running, *, path: str | None = None, host: str | None = None, origin: str | None = "same") -> Ws:
    return Ws(r.port, path or f"/w/{r.doors.secret}/ws?width=80&height=24", host or f"127.0.0.1:{r.port}",
              r.base if origin == "same" else origin)


def _wait(condition, limit: float = 15) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_the_printed_link_opens_the_page_with_nothing_from_outside(served: Running) -> None:
    resp = httpx.get(served.link)
    assert resp.status_code == 200
    page = resp.text
    assert "googleapis" not in page and "https://" not in page.split("<body", 1)[0]
    assert f"ws://127.0.0.1:{served.port}/w/{served.doors.secret}/ws" in page
    assert "RobotoMono" in page  # the font textual-serve ships, from this address
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["referrer-policy"] == "no-referrer"  # the secret never leaves in a Referer
    assert "set-cookie" not in resp.headers  # cookies are shared by every port of 127.0.0.1: none is used
    static = re.search(r"/w/[^\"']+/static/js/textual\.js", page).group(0)
    assert httpx.get(served.base + static).status_code == 200
    assert httpx.get(served.base + static.replace(served.doors.secret, "x" * 32)).status_code == 404
    for escape in ("..%2f..%2fserver.py", "%2e%2e/%2e%2e/server.py", "../../templates/app_index.html"):
        resp = httpx.get(f"{served.link}static/{escape}")
        assert resp.status_code in (403, 404) and "import" not in resp.text, escape  # no file outside static/


@pytest.mark.parametrize("path", ["/", "/ws", "/static/js/textual.js", "/w/", "/w/wrong/", "/w/wrong/ws",
                                  "/download/x"])
def test_without_the_secret_nothing_opens(served: Running, path: str) -> None:
    resp = httpx.get(served.base + path)
    assert resp.status_code in (403, 404)
    assert "printed" in resp.text or resp.status_code == 404
    assert "textual" not in resp.text.lower()


def test_a_websocket_without_the_secret_is_refused_and_starts_no_wizard(served: Running) -> None:
    for path in ("/ws", "/w/wrong/ws", f"/w/{served.doors.secret[:-1]}/ws"):
        ws = _ws(served, path=path)
        assert ws.status in (403, 404), path
        ws.close()
    assert served.doors.live == 0
    assert served.doors.refused["secret"] >= 3


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://localhost:{port}", None])
def test_an_evil_origin_websocket_is_refused(served: Running, origin: str | None) -> None:
    """Any page in the admin's browser can try the websocket; it carries its own Origin (and a script, none)."""
    ws = _ws(served, origin=origin.format(port=served.port) if origin else None)
    assert ws.status == 403
    ws.close()
    assert served.doors.live == 0


@pytest.mark.parametrize("host", ["evil.example:{port}", "localhost:{port}", "127.0.0.1", "127.0.0.1:1"])
def test_an_evil_host_is_refused(served: Running, host: str) -> None:
    """DNS rebinding: evil.example resolving to 127.0.0.1 makes the browser send Host: evil.example."""
    h = host.format(port=served.port)
    assert httpx.get(served.link, headers={"Host": h}).status_code == 421
    ws = _ws(served, host=h)
    assert ws.status == 421
    ws.close()
    assert served.doors.live == 0


def test_a_second_connection_gets_a_page_that_says_so(served: Running) -> None:
    first = _ws(served)
    assert first.status == 101
    _wait(lambda: served.doors.live == 1)
    second_page = httpx.get(served.link)
    assert second_page.status_code == 409
    assert "already open" in second_page.text and "http-equiv=refresh" in second_page.text
    second_ws = _ws(served)
    assert second_ws.status == 409  # and no second wizard process
    second_ws.close()
    assert served.doors.live == 1
    first.close()
    _wait(lambda: served.doors.live == 0)  # the first tab gone, the page opens again
    assert httpx.get(served.link).status_code == 200


def test_the_start_line_says_who_can_open_it_and_how_to_share_it() -> None:
    line = web.start_line("127.0.0.1", 8123, "s3cr3t")
    assert "http://127.0.0.1:8123/w/s3cr3t/" in line
    assert "other users of this machine" in line and "one tab at a time" in line
    assert "ssh -L 8123:127.0.0.1:8123" in line
    assert "this machine only" not in line


# -- as the review did it: `sfwizard --web` itself, and another OS user ------------------------------------------

def _start_web(port: int, home: Path) -> tuple[subprocess.Popen, str]:
    sfwizard = str(Path(sys.executable).with_name("sfwizard"))
    proc = subprocess.Popen([sfwizard, "--web", "--web-port", str(port)],
                            env={**os.environ, "SFWIZARD_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    link = ""
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"http://127\.0\.0\.1:\d+/w/[A-Za-z0-9_-]+/", line)
        if found:
            link = found.group(0)
            break
    _wait(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0)
    return proc, link


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_sfwizard_web_prints_its_link_and_refuses_everything_else(tmp_path: Path) -> None:
    port = _free_port()
    proc, link = _start_web(port, tmp_path / "home")
    try:
        assert link.startswith(f"http://127.0.0.1:{port}/w/")
        assert httpx.get(link).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 403
        secret = link.rstrip("/").rsplit("/", 1)[1]
        with open(f"/proc/{proc.pid}/cmdline", "rb") as fh:
            assert secret.encode() not in fh.read()  # not visible to `ps`
    finally:
        _stop(proc)
    assert not list((tmp_path / "home").glob("data/sessions/*"))  # no wizard was started
    for path in (tmp_path / "home").rglob("*"):  # the link is in no file (the log goes into support bundles)
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path


ATTACKER = r"""
import http.client, os, sys
port = int(sys.argv[1]); pid = sys.argv[2]; out = []
def get(path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path, headers={"Host": "127.0.0.1:%d" % port, **(headers or {})})
    status = c.getresponse().status
    c.close()
    return status
out.append(get("/"))
out.append(get("/w/guess/"))
out.append(get("/ws", {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                       "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://127.0.0.1:%d" % port}))
for name in ("environ", "cmdline"):
    try:
        data = open("/proc/%s/%s" % (pid, name), "rb").read()
        out.append(name + ":" + ("readable" if data else "empty"))
    except OSError:
        out.append(name + ":denied")
print(" ".join(map(str, out)), os.getuid())
"""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to run as another user")
def test_another_os_user_cannot_open_or_drive_the_wizard(tmp_path: Path) -> None:
    """The review's uid 65534 attack, with the standard library only: no page, no websocket, no way to the secret."""
    python = shutil.which("python3", path="/usr/bin:/bin")  # one the other user may run (not a home's pyenv)
    if python is None:
        pytest.skip("no system python3 for another user to run")
    port = _free_port()
    proc, link = _start_web(port, tmp_path / "home")
    secret = link.rstrip("/").rsplit("/", 1)[1]
    try:
        out = subprocess.run([python, "-c", ATTACKER, str(port), str(proc.pid)], capture_output=True, text=True,
                             timeout=30, user=65534, group=65534, cwd="/", env={"PATH": "/usr/bin:/bin"})
    except (PermissionError, OSError) as exc:  # a container that cannot switch users
        _stop(proc)
        pytest.skip(f"cannot run as another user here: {exc}")
    finally:
        if proc.poll() is None:
            _stop(proc)
    assert out.returncode == 0, out.stderr
    statuses, uid = out.stdout.rsplit(" ", 1)
    assert uid.strip() == "65534"
    parts = statuses.split()
    assert parts[0] == "403" and parts[1] == "404" and parts[2] in ("403", "404")  # no page, guess, websocket
    assert "environ:denied" in parts  # the server's environment is not theirs to read
    assert secret not in out.stdout
    assert not list((tmp_path / "home").glob("data/sessions/*"))  # and no wizard was started for them
