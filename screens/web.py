"""``sfwizard --web``: the wizard in a browser tab, behind doors only its user can open.

textual-serve serves a page and starts the app for every websocket, with no secret and no Origin or Host check:
any local user, and any web page the admin visits, could open the wizard and drive its Salesforce sign-in. Its
``Server`` is wrapped here (a subclass and an aiohttp middleware, textual-serve itself unchanged):

- a random secret made at every launch is part of every URL (``/w/<secret>/``; the page, its websocket and its
  files), compared in constant time; no cookie, which browsers share between every port of 127.0.0.1;
- the Host header must be the printed address, and an Origin (always sent with a websocket) must be its origin:
  a DNS-rebinding page or a cross-site websocket is refused even if it guessed the secret;
- one live connection, so one wizard process, at a time: a second tab gets a page that says so (and loads by
  itself once the first is closed);
- nothing from outside the machine: the page's Google Fonts stylesheet is dropped for the font textual-serve
  ships, and a Content-Security-Policy keeps every fetch on this address; no Referer carries the secret away.
"""

from __future__ import annotations

import hmac
import html
import logging
import re
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from aiohttp import web
from textual_serve.server import Server, to_int

log = logging.getLogger("sfwizard")

PREFIX = "/w/"
MAX_PROCESSES = 1  # wizard processes at once: one live connection drives one wizard
_FONT = "RobotoMono-VariableFont_wght.ttf"  # shipped in textual_serve/static/fonts
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(?:https?:)?//[^>]*>", re.I)

_PAGE = ("<!doctype html><meta charset=utf-8>{refresh}<title>sfwizard</title><body style='font-family:system-ui;"
         "max-width:40em;margin:4em auto;color:#ddd;background:#0c181f'><h1>{title}</h1><p>{text}</p>")


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def start_line(host: str, port: int, secret: str) -> str:
    """What ``--web`` prints: the link, who can open it, and how to share it safely."""
    url = f"http://{host}:{port}{PREFIX}{secret}/"
    return "\n".join([
        "sfwizard: the wizard is served at",
        f"  {url}",
        "Only a browser given this exact link can open it, one tab at a time; other users of this machine cannot "
        "guess it.",
        "It drives the wizard and its Salesforce sign-in: do not paste it into a chat, a ticket or a screen share.",
        f"From another computer, forward the port over SSH there — ssh -L {port}:{host}:{port} YOU@THIS-MACHINE — "
        "and open the same link in its browser.",
        "Ctrl+C stops it.",
    ])


class WebDoors(Server):
    """textual-serve's server with a secret in every URL, Host and Origin checks, one connection at a time."""

    def __init__(self, command: str, *, host: str, port: int, secret: str, first_command: str | None = None,
                 title: str = "sfwizard") -> None:
        super().__init__(command, host=host, port=port, title=title, public_url=f"http://{host}:{port}")
        self.secret = secret
        self.address = f"{host}:{port}".lower()
        self.origin = f"http://{self.address}"
        self._later_command = command
        if first_command:
            self.command = first_command  # e.g. --new for the first wizard only: a reload resumes it
        self.live = 0  # accepted websockets (each drives one wizard process)
        self.refused: dict[str, int] = {}  # why requests were turned away, counted (tests, the closing log line)

    # -- the doors -----------------------------------------------------------------------------------------
    def _refuse(self, why: str, status: int, title: str, text: str, refresh: bool = False) -> web.Response:
        self.refused[why] = self.refused.get(why, 0) + 1
        log.info("web: refused a request (%s)", why)
        page = _PAGE.format(title=html.escape(title), text=text,
                            refresh="<meta http-equiv=refresh content=3>" if refresh else "")
        return web.Response(status=status, text=page, content_type="text/html")

    def _key_ok(self, request: web.Request) -> bool:
        key = request.match_info.get("key", "")
        return hmac.compare_digest(key.encode(), self.secret.encode())

    @web.middleware
    async def guard(self, request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        host = (request.headers.get("Host") or "").lower()
        origin = request.headers.get("Origin")
        websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        if host != self.address:  # DNS rebinding, or a name for this port other than the printed one
            response: web.StreamResponse = self._refuse(
                "host", 421, "Wrong address", "Open the wizard with the exact link sfwizard printed.")
        elif (origin is not None or websocket) and origin != self.origin:  # another site's page, or no page
            response = self._refuse("origin", 403, "Refused", "This page may not open the wizard.")
        elif "key" not in request.match_info or not self._key_ok(request):
            response = self._refuse("secret", 403 if request.path in ("/", "") else 404, "sfwizard",
                                    "Open the wizard with the exact link sfwizard printed in its terminal.")
        else:
            response = await handler(request)
        if isinstance(response, web.Response) or not response.prepared:
            self._harden(response)
        return response

    def _harden(self, response: web.StreamResponse) -> None:
        h = response.headers
        h["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            f"font-src 'self'; img-src 'self' data:; connect-src 'self' ws://{self.address}; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")
        h["Referrer-Policy"] = "no-referrer"  # the secret is in the URL: no link may carry it away
        h["X-Frame-Options"] = "DENY"
        h["X-Content-Type-Options"] = "nosniff"
        h["Cache-Control"] = "no-store"

    # -- textual-serve's app, its routes below the secret ---------------------------------------------------
    async def _make_app(self) -> web.Application:
        import aiohttp_jinja2
        import jinja2

        app = web.Application(middlewares=[self.guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        base = PREFIX + "{key}"
        app.add_routes([
            web.get("/", self._root),
            web.get(base + "/", self.handle_index, name="index"),
            web.get(base + "/ws", self.handle_websocket, name="websocket"),
            web.get(base + "/static/{name:.+}", self._static, name="static"),
        ])
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def _root(self, request: web.Request) -> web.StreamResponse:
        raise AssertionError("the guard answers / (no secret in it)")  # pragma: no cover

    async def _static(self, request: web.Request) -> web.StreamResponse:
        base = self.statics_path.resolve()
        target = (base / request.match_info["name"]).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(target)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        import aiohttp_jinja2

        if self.live >= MAX_PROCESSES:
            return self._refuse("busy", 409, "The wizard is already open",
                                "Another browser tab is connected to this wizard; only one can drive it at a time. "
                                "Close that tab, and this page loads by itself.", refresh=True)
        prefix = f"{PREFIX}{self.secret}"
        static = f"{self.public_url}{prefix}/static/"
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"ws://{self.address}{prefix}/ws",
            "config": {"static": {"url": static}},
            "application": {"name": self.title},
        }
        page = aiohttp_jinja2.render_string("app_index.html", request, context)
        # nothing from outside this machine: the Google Fonts link goes, the font textual-serve ships comes in
        page = _EXTERNAL_LINK.sub("", page)
        font = (f"<style>@font-face{{font-family:'Roboto Mono';src:url('{static}fonts/{_FONT}') "
                "format('truetype');font-weight:100 700}</style>")
        page = page.replace("</head>", font + "</head>", 1)
        return web.Response(text=page, content_type="text/html")

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if self.live >= MAX_PROCESSES:
            return self._refuse("busy", 409, "The wizard is already open", "Only one tab can drive it at a time.")
        self.live += 1
        try:
            response = await super().handle_websocket(request)
        finally:
            self.live -= 1
            self.command = self._later_command
        return response

    # -- quiet, plain output (textual-serve prints a banner and logs through rich) ---------------------------
    def initialize_logging(self) -> None:
        pass  # the CLI has set logging up: the log file, redacted and inert

    async def on_startup(self, app: web.Application) -> None:
        pass  # the start line is printed by serve(), before the server starts


class _InertStream:
    """stdout while serving: textual-serve copies a wizard's stderr there; every line is made inert first."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        from sfwizard.inert import inert

        return self._inner.write(inert(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def serve(command: str, *, host: str, port: int, first_command: str | None = None) -> int:
    """Print the start line, then serve until Ctrl+C."""
    from sfwizard import redact
    from sfwizard.errors import SfwizardError
    from sfwizard.inert import inert

    secret = new_secret()
    redact.default().add(secret, kind="web_link")  # never in the log (and so the support bundle) in clear
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # every request line would name the secret
    server = WebDoors(command, host=host, port=port, secret=secret, first_command=first_command)
    print(inert(start_line(host, port, secret)), file=sys.stderr, flush=True)
    stdout = sys.stdout
    sys.stdout = _InertStream(stdout)  # type: ignore[assignment]
    try:
        server.serve()
    except OSError as exc:
        raise SfwizardError(f"cannot serve the wizard on {host}:{port}: {exc.strerror or exc}",
                            "pick another port with --web-port N") from None
    finally:
        sys.stdout = stdout
    return 0
