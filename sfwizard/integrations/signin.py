"""The wizard's own Salesforce sign-in, modelled on ``sf org login web``.

PKCE (S256) web-server flow with a one-shot loopback listener (GET only, ``state`` checked, a
timeout, a page in the browser), the device flow for terminals with no browser, reuse of a
Salesforce CLI login, refresh (saving a rotated refresh token before anything else) and revoke.
No code or token is ever logged whole.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import html
import json
import logging
import secrets
import shutil
import socket
import subprocess
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sfwizard.cancel import NEVER, CancelToken
from sfwizard.errors import SfwizardError

log = logging.getLogger("sfwizard")

SCOPES = "api refresh_token id"
# A one-off recovery (--no-keep): no refresh token is issued at all; the access token lasts the org's session
# timeout and is revoked when the wizard ends.
ONE_OFF_SCOPES = "api id"
CALLBACK_PATH = "/OauthRedirect"


class SignInRequired(SfwizardError):
    """The saved sign-in is gone (revoked, expired, password changed): sign in again."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("the Salesforce sign-in is no longer valid" + (f" ({detail})" if detail else ""),
                         "sign in again: sfwizard login", fix="connect.sign_in")


@dataclass(frozen=True)
class TokenSet:
    """A signed-in session. Never printed or logged: ``describe()`` is the safe form."""

    access_token: str = field(repr=False)
    instance_url: str
    login_url: str
    client_id: str
    refresh_token: str | None = field(default=None, repr=False)
    id_url: str = ""
    issued_at: str = ""
    org_id: str = ""
    user_id: str = ""
    username: str = ""
    source: str = "web"  # web, device, sf-cli

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TokenSet:
        """A saved sign-in; ValueError when it is not one (not JSON, a missing token, a field of the wrong type)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a saved sign-in is a JSON object")
        known = {f.name: f for f in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(map(str, unknown))[:5])}")
        for name, value in data.items():
            optional = name == "refresh_token"
            if not (isinstance(value, str) or (optional and value is None)):
                raise ValueError(f"{name} is not a string")
        for name in ("access_token", "instance_url"):
            if not data.get(name):
                raise ValueError(f"{name} is missing")
        tokens = cls(**data)
        tokens.check_destination()
        return tokens

    def check_destination(self) -> None:
        """UntrustedUrl (one clear line) when the instance is not a place this sign-in's token may go."""
        from sfwizard.integrations.transport import token_destination

        token_destination(self.instance_url, self.login_url or self.instance_url, "instance_url")

    def describe(self) -> str:
        return f"{self.username or self.user_id} at {self.instance_url}"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def _http(verify: Any):
    from sfwizard.integrations.transport import Http

    return Http(verify if isinstance(verify, str) else None)


def _token_set(body: dict[str, Any], login_url: str, client_id: str, source: str,
               refresh_token: str | None = None) -> TokenSet:
    from sfwizard import redact
    from sfwizard.integrations.transport import token_destination

    redact.default().add(body.get("access_token"), body.get("refresh_token"))
    # Where the token will be sent next (the REST API, userinfo, Bulk results): https, and Salesforce's.
    instance_url = token_destination(str(body["instance_url"]), login_url, "instance_url")
    id_url = str(body.get("id") or "")
    if id_url:
        token_destination(id_url, login_url, "identity URL (id)")
    parts = id_url.rstrip("/").split("/")
    return TokenSet(access_token=body["access_token"], instance_url=instance_url, login_url=login_url,
                    client_id=client_id, refresh_token=body.get("refresh_token") or refresh_token, id_url=id_url,
                    issued_at=str(body.get("issued_at", "")), org_id=parts[-2] if len(parts) >= 2 else "",
                    user_id=parts[-1] if parts else "", source=source)


def _post_token(login_url: str, form: dict[str, str], ca_cert: str | None) -> dict[str, Any]:
    # Retried on a 5xx/429 or a dropped connection: the login server did not act on a request it answered
    # 503 to, and a code redeemed twice is refused (invalid_grant) rather than doubled.
    http = _http(ca_cert)
    try:
        resp = http.request("POST", login_url.rstrip("/") + "/services/oauth2/token", label="oauth", data=form,
                            retry=True)
    finally:
        http.close()
    if resp.status_code >= 500 or resp.status_code == 429:
        raise SfwizardError(f"the Salesforce login server is unavailable (HTTP {resp.status_code}, after retries)",
                            "try again in a few minutes; see status.salesforce.com", kind="unreachable", fix="retry")
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or (resp.status_code == 200 and not {"access_token", "instance_url"} <= set(body)):
        raise SfwizardError(f"the login server {login_url} answered HTTP {resp.status_code} without an OAuth token "
                            "answer", "check --login-url: it must be a Salesforce login host",
                            fix="settings.login_url") from None
    if resp.status_code != 200:
        error = body.get("error", "error")
        detail = body.get("error_description", "")
        if error == "invalid_grant":
            raise SignInRequired(detail)
        raise SfwizardError(f"Salesforce refused the sign-in: {error}: {detail}",
                            _TOKEN_HINTS.get(error, "check the connected app's settings"),
                            fix="settings.client_id" if error in _TOKEN_HINTS else "connect.choose")
    return body


_TOKEN_HINTS = {
    "invalid_client_id": "the client id is wrong: copy the Consumer Key of the connected app (see the README)",
    "invalid_client": "the connected app wants a secret: turn off 'Require Secret for Web Server Flow'",
    "unsupported_grant_type": "enable the flow in the connected app (Device Flow for --device)",
}


# -- the loopback listener -------------------------------------------------------------------------------

_PAGE = ("<!doctype html><meta charset=utf-8><title>sfwizard</title><body style='font-family:system-ui;"
         "max-width:36em;margin:4em auto'><h1>{title}</h1><p>{text}</p><p>You can close this window.</p>")


# Salesforce's codes for a connected app an admin has not let this user use (an uninstalled app since 2025,
# a blocked one, "admin approved users are pre-authorized" without the user's profile).
_APP_BLOCKED = {"oauth_app_blocked", "oauth_app_access_denied", "oauth_approval_error_generic", "invalid_client"}


def refusal(error: str, description: str = "") -> SfwizardError:
    """The error an authorization redirect carried, in words that fit what happened."""
    said = f"{error}: {description}".strip().rstrip(":")
    if error == "access_denied" and "end-user denied" in description.lower():
        return SfwizardError("the sign-in was refused: Deny was clicked on Salesforce's Allow Access page",
                             "run sfwizard login again and click Allow", fix="connect.sign_in")
    if error.lower() in _APP_BLOCKED or "install" in description.lower():
        return SfwizardError(f"Salesforce blocked the sfwizard connected app for this user: {said}",
                             "ask a Salesforce admin to install the connected app in the org or pre-authorize "
                             "your profile (README: 'The connected app sfwizard signs in through')",
                             fix="settings.client_id")
    fix = "settings.client_id" if error in ("invalid_client_id", "redirect_uri_mismatch") else "connect.sign_in"
    return SfwizardError(f"Salesforce did not approve the sign-in: {said}",
                         "run sfwizard login again; if it repeats, check the connected app's settings (README)",
                         fix=fix)


class _Callback(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a silent connection (a browser's speculative preconnect) is dropped, never waited on

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the URL holds the code
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        listener = self.server.listener
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self._page(404, "Not found", "This is sfwizard's sign-in listener.")
            return
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if not hmac.compare_digest(q.get("state", "").encode(), listener.expected_state.encode()):
            # Not the answer to this sign-in (a stale tab, a forged link, a cross-site <img>): refused and
            # ignored, as the Salesforce CLI does — the listener keeps waiting for the real answer.
            listener.ignored += 1
            log.info("a sign-in answer that does not belong to this sign-in (state mismatch) was ignored")
            self._page(400, "Sign-in refused", "This answer does not belong to the sign-in sfwizard started; "
                       "sfwizard is still waiting for the right one.")
        elif "error" in q:
            listener.finish(refusal(q["error"], q.get("error_description", "")))
            from sfwizard.inert import inert

            said = inert(q.get("error_description", q["error"]), keep_newlines=False)
            self._page(200, "Sign-in not approved", html.escape(said))
        elif "code" in q:
            listener.finish(q["code"])
            self._page(200, "Signed in", "sfwizard has what it needs. Return to your terminal.")
        else:
            self._page(400, "Sign-in incomplete", "No code in the answer.")

    def _refuse(self) -> None:
        self._page(405, "Method not allowed", "Only GET is accepted here.", allow="GET")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _page(self, status: int, title: str, text: str, allow: str = "") -> None:
        body = _PAGE.format(title=html.escape(title), text=text).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if allow:
            self.send_header("Allow", allow)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    """One loopback address's socket. One request per thread, so a connection that never sends a request
    cannot hold up the callback, nor the shutdown after a timeout."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], family: int, listener: _Listener) -> None:
        self.address_family = family
        self.listener = listener
        super().__init__(address, _Callback)


def _loopback_addresses(port: int) -> list[tuple[int, str]]:
    """(family, address) of every loopback address a browser may reach ``localhost`` on, IPv4 first: 127.0.0.1
    and ::1 always (Chromium and Firefox resolve localhost to both themselves, whatever the hosts file says),
    and any other loopback address the resolver names. The listener holds them all: a port left free on [::1]
    could be taken by another user of this machine, who would then receive the code. A hosts file that maps
    localhost to a non-loopback address is ignored."""
    import ipaddress

    found: list[tuple[int, str]] = [(socket.AF_INET, "127.0.0.1")]
    if socket.has_ipv6:
        found.append((socket.AF_INET6, "::1"))
    try:
        infos = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    except OSError:
        infos = []
    for family, _, _, _, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        try:
            loopback = ipaddress.ip_address(address).is_loopback
        except ValueError:
            loopback = False
        if loopback and family in (socket.AF_INET, socket.AF_INET6) and (family, address) not in found:
            found.append((family, address))
    return found


_NO_SUCH_ADDRESS = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT}


class _Listener:
    """The one-shot callback listener on every loopback address ``localhost`` names (127.0.0.1, and ::1 where
    the machine has IPv6), all on one port; the first answer with the right ``state`` is the one that counts."""

    def __init__(self, port: int, expected_state: str) -> None:
        self.expected_state = expected_state
        self.result: str | SfwizardError | None = None
        self.done = threading.Event()
        self.ignored = 0  # answers with a wrong state, refused
        self._lock = threading.Lock()
        self.servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        if not 0 <= port <= 65535:
            raise SfwizardError(f"port {port} is not a TCP port", "pick one from 1024 to 65535 with --port N",
                                fix="settings.port")
        for _ in range(1 if port else 20):  # port 0: a free port free on every address, tried a few times
            try:
                self._bind_all(port)
                return
            except _Taken:
                self._close_servers()
                if port:
                    break
        raise SfwizardError(f"port {port} is already in use, so the sign-in callback cannot listen there",
                            "close what uses it, or pick another with --port N (and add "
                            f"http://localhost:N{CALLBACK_PATH} to the connected app's callback URLs)",
                            fix="settings.port")

    def _bind_all(self, port: int) -> None:
        for family, address in _loopback_addresses(port):
            try:
                server = _Server((address, port), family, self)
            except OSError as exc:
                if self.servers and exc.errno in _NO_SUCH_ADDRESS:
                    continue  # no IPv6 on this machine: nobody else can listen there either
                raise _Taken() from None
            self.servers.append(server)
            port = server.server_address[1]  # port 0: the others take the port the first one got

    @property
    def port(self) -> int:
        return self.servers[0].server_address[1]

    def start(self) -> None:
        for server in self.servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        for server in self.servers:
            if self._threads:
                server.shutdown()
        self._close_servers()

    def _close_servers(self) -> None:
        for server in self.servers:
            server.server_close()
        self.servers = []

    def finish(self, result: str | SfwizardError) -> None:
        with self._lock:
            if not self.done.is_set():
                self.result = result
                self.done.set()


class _Taken(Exception):
    """The port is in use on one of the loopback addresses."""


def web_login(login_url: str, client_id: str, *, port: int = 1717, timeout: float = 300,
              open_browser: bool = True, on_url: Callable[[str], None] = print,
              cancel: CancelToken = NEVER, ca_cert: str | None = None, prompt_login: bool = False,
              scopes: str = SCOPES) -> TokenSet:
    """The PKCE web-server flow through a one-shot loopback listener."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    listener = _Listener(port, state)
    # ``localhost``, as the Salesforce CLI's own connected app registers it (http://localhost:1717/OauthRedirect,
    # sfdx-core src/webOAuthServer.ts): a connected app's callback URL must match exactly, so the existing apps keep
    # working; the listener holds every loopback address localhost resolves to (see _loopback_addresses).
    redirect_uri = f"http://localhost:{listener.port}{CALLBACK_PATH}"
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": state,
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": scopes}
    if prompt_login:
        params["prompt"] = "login"
    url = login_url.rstrip("/") + "/services/oauth2/authorize?" + urlencode(params)
    listener.start()
    try:
        on_url(url)  # always shown: remote terminals open it elsewhere
        if open_browser:
            try:
                webbrowser.open(url)
            except webbrowser.Error:
                pass
        deadline = time.monotonic() + timeout
        while not listener.done.wait(0.2):
            cancel.check()
            if time.monotonic() > deadline:
                raise SfwizardError(f"no answer from the browser within {int(timeout)} s",
                                    "run sfwizard login again and finish the Allow step, or use --device",
                                    fix="connect.choose")
    finally:
        listener.close()
    if isinstance(listener.result, SfwizardError):
        raise listener.result
    assert isinstance(listener.result, str)
    from sfwizard import redact

    redact.default().add(listener.result, verifier)
    body = _post_token(login_url, {"grant_type": "authorization_code", "code": listener.result,
                                   "client_id": client_id, "redirect_uri": redirect_uri,
                                   "code_verifier": verifier}, ca_cert)
    log.debug("signed in through the browser (PKCE)")
    return _token_set(body, login_url, client_id, "web")


def device_login(login_url: str, client_id: str, *, on_code: Callable[[str, str], None],
                 cancel: CancelToken = NEVER, ca_cert: str | None = None, timeout: float = 600,
                 min_interval: float | None = None, scopes: str = SCOPES) -> TokenSet:
    """The device flow: show a code, poll until approved, slowing down when told to."""
    start = _post_token_raw(login_url, {"response_type": "device_code", "client_id": client_id,
                                        "scope": scopes}, ca_cert)
    if "device_code" not in start:
        raise SfwizardError(f"device sign-in is not available: {start.get('error_description', start)}",
                            "enable Device Flow in the connected app, or sign in with the browser",
                            fix="connect.choose")
    on_code(start["user_code"], start["verification_uri"])
    interval = float(min_interval if min_interval is not None else start.get("interval", 5))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cancel.wait(interval)
        body = _post_token_raw(login_url, {"grant_type": "device", "client_id": client_id,
                                           "code": start["device_code"]}, ca_cert)
        error = body.get("error")
        if error is None and "access_token" in body:
            return _token_set(body, login_url, client_id, "device")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        if error == "access_denied":
            raise SfwizardError("the sign-in was denied on the other device", "run sfwizard login --device again",
                                fix="connect.sign_in")
        raise SfwizardError(f"device sign-in ended: {error}: {body.get('error_description', '')}",
                            "the code expired: run sfwizard login --device again", fix="connect.sign_in")
    raise SfwizardError("the device code expired before it was approved", "run sfwizard login --device again",
                        fix="connect.sign_in")


def _post_token_raw(login_url: str, form: dict[str, str], ca_cert: str | None) -> dict[str, Any]:
    http = _http(ca_cert)
    try:
        resp = http.request("POST", login_url.rstrip("/") + "/services/oauth2/token", label="oauth", data=form,
                            retry=True)
        body = resp.json()
        return body if isinstance(body, dict) else {}
    except ValueError:
        raise SfwizardError(f"the login server {login_url} answered something that is not JSON", "check --login-url",
                            fix="settings.login_url") from None
    finally:
        http.close()


def refresh(tokens: TokenSet, save: Callable[[TokenSet], None], ca_cert: str | None = None) -> TokenSet:
    """A new access token; a rotated refresh token is saved before the caller makes another call."""
    if not tokens.refresh_token:
        raise SignInRequired("no refresh token")
    body = _post_token(tokens.login_url, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token,
                                          "client_id": tokens.client_id}, ca_cert)
    fresh = _token_set(body, tokens.login_url, tokens.client_id, tokens.source, tokens.refresh_token)
    fresh = TokenSet(**{**asdict(fresh), "username": tokens.username})
    save(fresh)
    return fresh


def revoke(tokens: TokenSet, ca_cert: str | None = None) -> bool:
    """Revoke at Salesforce (the refresh token kills its access tokens too). False when it could not."""
    http = _http(ca_cert)
    try:
        resp = http.request("POST", tokens.login_url.rstrip("/") + "/services/oauth2/revoke", label="oauth",
                            data={"token": tokens.refresh_token or tokens.access_token}, retry=False)
        return resp.status_code == 200
    except SfwizardError:
        return False
    finally:
        http.close()


REDACTED = "[REDACTED]"  # what `sf org display` prints in place of the token since 2025


def sf_cli_path() -> str | None:
    """The Salesforce CLI: SFWIZARD_SF_CLI when set (and there), else ``sf`` on the PATH; None when neither is."""
    import os

    given = os.environ.get("SFWIZARD_SF_CLI")
    if given:
        return given if os.path.isfile(given) else None
    return shutil.which("sf")


def looks_redacted(token: str) -> bool:
    """A token the CLI hid: its "[REDACTED] Use 'sf org auth show-access-token' to view" text, or any
    text no token looks like (a token has no spaces)."""
    return token.startswith(REDACTED) or any(ch.isspace() for ch in token)


def _sf_json(proc: subprocess.Popen, what: str, timeout: float) -> tuple[int, dict[str, Any]]:
    """Wait for one ``sf … --json`` and read its JSON from stdout (its warnings go to stderr)."""
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise SfwizardError(f"{what} did not answer in {int(timeout)} s", "sign in with: sfwizard login",
                            fix="connect.choose") from None
    try:
        answer = json.loads(stdout)
    except ValueError:
        answer = {}
    return proc.returncode, answer if isinstance(answer, dict) else {}


def _said(answer: dict[str, Any]) -> str:
    """The CLI's own words (no default org, expired login), as one line of text."""
    return " ".join(str(answer.get("message") or "").split())[:300]


def sf_cli_login(target_org: str | None = None, timeout: float = 60) -> TokenSet:
    """Reuse a Salesforce CLI login; it carries no refresh token for us.

    ``sf org display --json`` says where (instance, user, org); the access token comes from
    ``sf org auth show-access-token --json``, because since 2025 ``org display`` prints
    "[REDACTED] …" in its place. A CLI older than that command still prints the token in ``org display``,
    which is used then. Both run at once (each takes over a second).
    """
    import os

    sf = sf_cli_path()
    if sf is None:
        raise SfwizardError("the Salesforce CLI (sf) is not installed",
                            "sign in with: sfwizard login (or set SFWIZARD_SF_CLI to the sf executable)",
                            fix="connect.choose")
    target = ["--target-org", target_org] if target_org else []
    env = {**os.environ, "SF_SKIP_NEW_VERSION_CHECK": "true"}  # no look-up at npm on each call
    procs = {}
    try:
        for name, args in (("display", ["org", "display"]), ("token", ["org", "auth", "show-access-token"])):
            procs[name] = subprocess.Popen([sf, *args, "--json", *target], stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    except OSError as exc:  # a broken install: not executable, wrong architecture
        for proc in procs.values():
            proc.kill()
            proc.communicate()
        raise SfwizardError(f"the Salesforce CLI at {sf} could not be run ({exc.strerror or exc})",
                            "reinstall it, or sign in with: sfwizard login", fix="connect.choose") from None
    rc, display = _sf_json(procs["display"], "sf org display", timeout)
    token_rc, shown = _sf_json(procs["token"], "sf org auth show-access-token", timeout)
    for_org = f" for {target_org}" if target_org else ""
    result = display.get("result") if isinstance(display.get("result"), dict) else {}
    if rc != 0 or not result.get("instanceUrl"):
        said = _said(display)
        raise SfwizardError("the Salesforce CLI has no usable login" + for_org + (f": {said}" if said else ""),
                            "run: sf org login web, or sign in with: sfwizard login", fix="connect.choose")
    token_result = shown.get("result") if isinstance(shown.get("result"), dict) else {}
    token = str(token_result.get("accessToken") or "") if token_rc == 0 else ""
    if not token or looks_redacted(token):
        token = str(result.get("accessToken") or "")  # a CLI from before show-access-token
    if not token or looks_redacted(token):
        said = _said(shown)
        raise SfwizardError(
            "the Salesforce CLI hid the access token" + for_org + " (\"[REDACTED]\" in sf org display) and "
            "sf org auth show-access-token did not give it" + (f": {said}" if said else ""),
            "update the CLI (npm install -g @salesforce/cli), or sign in with: sfwizard login", fix="connect.choose")
    from sfwizard import redact

    redact.default().add(token)
    instance = str(result["instanceUrl"]).rstrip("/")
    tokens = TokenSet(access_token=token, instance_url=instance,
                      login_url=str(result.get("loginUrl") or instance).rstrip("/"),
                      client_id=str(result.get("clientId") or ""), org_id=str(result.get("id") or ""),
                      username=str(result.get("username") or ""), source="sf-cli")
    tokens.check_destination()
    return tokens


def demo_sign_in(info: dict[str, Any], approve: Callable[[str], None]) -> dict[str, Any]:
    """Production's PKCE flow against the sandbox; ``approve`` stands in for the admin's browser."""
    def on_url(url: str) -> None:
        threading.Thread(target=approve, args=(url,), daemon=True).start()

    tokens = web_login(info["login_url"], info["client_id"], port=0, timeout=60, open_browser=False,
                       on_url=on_url, ca_cert=info["ca_cert"])
    return {"access_token": tokens.access_token, "instance_url": tokens.instance_url, "tokens": tokens}
