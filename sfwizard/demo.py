"""``--demo``: the bundled sandbox started in-process for one run, signed in as its Salesforce admin.

The sign-in goes through the same PKCE web flow production uses; only the person who clicks Allow
is stood in for by ``approve_in_sandbox`` (it fills the sandbox's own login and Allow pages).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from sfwizard.cancel import CancelToken
from sfwizard.errors import SfwizardError
from sfwizard.recovery.client import Endpoints, IntegrationClient
from sfwizard.recovery.connection import Connection, DemoInfo, connect
from sfwizard.recovery.wizard import SignInSetup
from sfwizard.sandbox_child import sandbox_process

if TYPE_CHECKING:
    from sfwizard.integrations.signin import TokenSet
    from sfwizard.snapshot import Snapshot

log = logging.getLogger("sfwizard")


def approve_in_sandbox(authorize_url: str, info: dict[str, Any], browser: Any = None) -> None:
    """Stand in for the Salesforce admin: log in on the sandbox's page and click Allow.

    Only ever used against the bundled sandbox (its CA, its generated password). ``browser`` is an httpx
    client whose cookies stand for the person's browser (a remembered Salesforce session, a logout).
    """
    with contextlib.ExitStack() as stack:
        http = browser if browser is not None else stack.enter_context(_browser(info))
        _approve(http, authorize_url, info)


def _browser(info: dict[str, Any]) -> Any:
    import httpx

    from sfwizard.integrations.transport import ssl_context

    return httpx.Client(verify=ssl_context(info["ca_cert"]), follow_redirects=False, timeout=10)


TRANSIENT = (500, 502, 503, 504)
CLICK_ATTEMPTS = 5


def _click(http: Any, url: Any) -> Any:
    """One page load or form post, as a person retries it: a 5xx page or a dropped connection is tried
    again (the sandbox's faults strike before a request is acted on, so a repeat is never a double click)."""
    import time

    import httpx

    from sfwizard.integrations.transport import certificate_failure

    for attempt in range(CLICK_ATTEMPTS):
        last = attempt + 1 == CLICK_ATTEMPTS
        try:
            resp = http.get(url) if not isinstance(url, tuple) else http.post(url[0], data=url[1])
        except httpx.TransportError as exc:
            if last or certificate_failure(exc) is not None:
                raise SfwizardError(f"the sandbox's sign-in page could not be reached: {type(exc).__name__}",
                                    "run again; if it repeats, run with --debug", kind="unreachable") from None
            log.info("stand-in browser: retrying after %s", type(exc).__name__)
        else:
            if resp.status_code not in TRANSIENT or last:
                return resp
            log.info("stand-in browser: retrying after HTTP %d", resp.status_code)
        time.sleep(0.1 * 2 ** attempt)
    raise AssertionError("unreachable")


def _approve(http: Any, authorize_url: str, info: dict[str, Any]) -> None:
    import re

    # one flow: authorize → (login) → Allow → the redirect_uri
    url: Any = authorize_url
    for _ in range(10):
        resp = _click(http, url)
        if resp.status_code in (301, 302, 303, 307):
            location = urljoin(str(resp.request.url), resp.headers["location"])
            path = urlsplit(location).path
            if not (location.startswith(info["login_url"]) and path.startswith(("/services/oauth2/", "/setup/"))):
                _click(http, location)  # the redirect_uri (a loopback listener or a callback): done
                return
            url = location
            continue
        form = _first_form(resp.text)
        if form is None and isinstance(url, tuple) and resp.status_code == 200:
            return  # a page with nothing left to submit after our last post: the flow is done
        if form is None:
            raise SfwizardError(f"the sandbox answered HTTP {resp.status_code} without a form",
                                "run with --debug")
        action, fields = form
        if "user_code" in fields and info.get("user_code"):
            fields["user_code"] = info["user_code"]  # the device flow's verification page
        elif "password" in fields or "pw" in fields:
            fields.update({k: info["username"] for k in fields if k in ("username", "un")})
            fields.update({k: info["password"] for k in fields if k in ("password", "pw")})
        else:  # the Allow page: press the button whose value says allow
            button = re.search(r'<button[^>]*name="([^"]+)"[^>]*value="(allow|approve)"', resp.text, re.I)
            if button:
                fields[button.group(1)] = button.group(2)
        url = (urljoin(str(resp.request.url), action), fields)
    raise SfwizardError("the sandbox sign-in did not finish", "run with --debug")


def _first_form(html: str) -> tuple[str, dict[str, str]] | None:
    import html as html_mod
    import re

    m = re.search(r"<form[^>]*action=\"([^\"]*)\"[^>]*>(.*?)</form>", html, re.S | re.I)
    if not m:
        return None
    fields: dict[str, str] = {}
    for inp in re.finditer(r"<(?:input|button)[^>]*>", m.group(2), re.I):
        tag = inp.group(0)
        name = re.search(r'name="([^"]*)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]*)"', tag)
        if kind and kind.group(1).lower() == "submit" and tag.lower().startswith("<button"):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = html_mod.unescape(value.group(1)) if value else ""
    return html_mod.unescape(m.group(1)), fields


@contextlib.contextmanager
def demo_sandbox(scenario: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    from sfwizard import redact
    from sfwizard.sandbox.scenarios.loader import load_scenario
    from sfwizard.sandbox.server import Sandbox

    sandbox_log = logging.getLogger("sfwizard.sandbox")
    level = sandbox_log.level
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        sandbox_log.setLevel(logging.WARNING)  # its chatter is not the user's
    state = load_scenario(scenario)
    sandbox = Sandbox(state, port=0).start()
    info = sandbox.info()
    redact.default().add(info["password"], info["client_secret"], info["px_api_key"],
                         *(u["password"] for u in info["users"]))
    _CURRENT.append(info)
    _SANDBOXES.append(sandbox)
    try:
        yield sandbox, info
    finally:
        sandbox_log.setLevel(level)
        _CURRENT.remove(info)
        _SANDBOXES.remove(sandbox)
        sandbox.stop()


_CURRENT: list[dict[str, Any]] = []
_SANDBOXES: list[Any] = []  # the running demo sandboxes, innermost last (tests and benchmarks look in)


def _current_info() -> dict[str, Any]:
    """The connection line of the innermost running demo sandbox (for tests playing the people's part)."""
    return _CURRENT[-1]


@contextlib.contextmanager
def open_demo(scenario: str = "revoked-token", profile: str | None = None, *, snapshot: Snapshot | None = None,
              cancel: CancelToken | None = None) -> Iterator[Connection]:
    """A signed-in Connection against a fresh sandbox (stopped on exit), with the demo's snapshot unless
    one is given."""
    with demo_sandbox(scenario) as (_sandbox, info), \
            open_sandbox(info, profile, snapshot=snapshot, cancel=cancel) as conn:
        yield conn


@contextlib.contextmanager
def open_sandbox(info: dict[str, Any], profile: str | None = None, *, snapshot: Snapshot | None = None,
                 cancel: CancelToken | None = None) -> Iterator[Connection]:
    """A signed-in Connection against a running sandbox, from its connection line (``sfwizard sandbox`` prints
    it): the benchmarks run the checks in one process against a sandbox in another."""
    scenario = str(info.get("scenario") or "")
    tokens = demo_sign_in(info)
    endpoints = Endpoints(
        instance_url=tokens.instance_url, access_token=tokens.access_token,
        api_version=info.get("api_version", "60.0"), px_api_url=info["px_api_url"],
        px_api_key=info["px_api_key"], status_url=info["status_url"], ca_cert=info["ca_cert"])
    demo = DemoInfo(scenario=scenario, admin_url=info["admin_url"], login_url=info["login_url"],
                    ca_cert=info["ca_cert"], declared_egress=info.get("declared_egress"))
    # A demo keeps its sign-in in memory only; a refresh (expire-token fault) rotates it there.
    with connect(profile or info.get("profile") or "gainsight-px", endpoints, tokens=tokens,
                 demo=demo, cancel=cancel) as conn:
        facts = sandbox_facts(conn.client, info)
        conn.snapshot = snapshot or demo_snapshot(conn.client, info, facts)
        conn.demo = dataclasses.replace(demo, disconnected_at=_alert_time(facts), latest_versions=_latest(facts, conn))
        yield conn


@contextlib.contextmanager
def demo_client(scenario: str, profile: str | None = None) -> Iterator[tuple[IntegrationClient, dict[str, Any]]]:
    """The older pair form of ``open_demo`` (client, context inputs); kept while callers move over."""
    with open_demo(scenario, profile) as conn:
        yield conn.client, {"snapshot": conn.snapshot,
                            "disconnected_at": conn.demo.disconnected_at if conn.demo else None}


def demo_sign_in(info: dict[str, Any]) -> TokenSet:
    """PKCE sign-in through the production code path (a one-shot loopback listener), with the stand-in
    for the Salesforce admin filling the sandbox's login and Allow pages."""
    import threading

    from sfwizard.cancel import Cancelled, CancelToken
    from sfwizard.integrations import signin

    stop = CancelToken()
    failed: list[BaseException] = []

    def approve(url: str) -> None:
        try:
            approve_in_sandbox(url, info)
        except Exception as exc:  # noqa: BLE001 - handed to the sign-in below, which ends at once
            failed.append(exc)
            stop.cancel()

    def on_url(url: str) -> None:
        threading.Thread(target=approve, args=(url,), daemon=True).start()

    try:
        return signin.web_login(info["login_url"], info["client_id"], port=0, timeout=60, open_browser=False,
                                on_url=on_url, ca_cert=info["ca_cert"], cancel=stop)
    except Cancelled:
        if not failed:
            raise
        why = failed[0]
        raise SfwizardError(f"the demo's stand-in for the Salesforce admin could not approve the sign-in: "
                            f"{getattr(why, 'message', None) or why}", "run it again; with --debug for details",
                            kind=getattr(why, "kind", "")) from None


def sandbox_facts(client: IntegrationClient, info: dict[str, Any]) -> dict[str, Any]:
    """What the vendors' screens show people (the sandbox's admin state): read once per demo."""
    resp = client.http.request("GET", info["admin_url"].rstrip("/") + "/__sandbox__/state", label="sandbox")
    return resp.json()


def demo_snapshot(client: IntegrationClient, info: dict[str, Any],
                  facts: dict[str, Any] | None = None) -> Snapshot:
    """The mapping snapshot the admin would have documented before the recovery.

    In the demo the admin's reading of the platform's mapping screens comes from the sandbox's admin
    state; everything else is pre-filled from the APIs exactly as ``sfwizard snapshot`` does it.
    """
    from sfwizard import snapshot

    return snapshot.from_sandbox_state(facts if facts is not None else sandbox_facts(client, info),
                                       taken_at=datetime.now().astimezone())


def _alert_time(facts: dict[str, Any]) -> datetime | None:
    """The disconnect time Skilljar's dashboard alert shows (no API shows it): what the admin reads off."""
    from sfwizard.sftime import parse_datetime

    when = (facts.get("skilljar") or {}).get("disconnected_at")
    return parse_datetime(when) if when else None


def _latest(facts: dict[str, Any], conn: Connection) -> dict[str, str]:
    """The newest published version of each package installed in the signed-in org, as the scenario states it
    (what a person would read off the package's listing)."""
    org = next((o for o in facts.get("orgs", []) if o.get("id") == conn.identity.org_id), {})
    return {p["namespace"]: p["latest"] for p in org.get("packages", []) if p.get("latest")}


# -- the wizard's demo: the sandbox in the background, and the clicks people make in the vendors' UIs ----------

@dataclass
class DemoEnvironment:
    """A running sandbox for ``sfwizard --demo``: how the wizard signs in to it, and its vendor clicks."""

    setup: SignInSetup
    info: DemoInfo
    vendor: SandboxVendor
    profile: str
    stop: Callable[[], None]


def start_demo(scenario: str = "revoked-token", profile: str | None = None, *,
               process: bool = False) -> DemoEnvironment:
    """Start the sandbox (stopped by ``stop()``); the wizard signs in to it like to a real org.

    ``process``: the sandbox runs in a process of its own (``sandbox_process``) — what the wizard should use:
    in the wizard's process the sandbox's work stalls the screen. In-process (the default) keeps the sandbox's
    state reachable from this process (tests that change it while a wizard runs).
    """
    stack = contextlib.ExitStack()
    try:
        if process:
            info = stack.enter_context(sandbox_process(scenario))
        else:
            _sandbox, info = stack.enter_context(demo_sandbox(scenario))
    except BaseException:
        stack.close()
        raise
    return demo_environment(info, scenario, profile, stack)


def demo_environment(info: dict[str, Any], scenario: str, profile: str | None,
                     stack: contextlib.ExitStack) -> DemoEnvironment:
    """The demo set up on a running sandbox (its connection line); ``stack`` stops it."""
    setup = SignInSetup(login_url=info["login_url"], client_id=info["client_id"], port=0, ca_cert=info["ca_cert"],
                        api_version=info.get("api_version", "60.0"), px_api_url=info["px_api_url"],
                        px_api_key=info["px_api_key"], status_url=info["status_url"], keep=False,
                        open_browser=False)
    demo = DemoInfo(scenario=str(info.get("scenario") or scenario), admin_url=info["admin_url"],
                    login_url=info["login_url"], ca_cert=info["ca_cert"], declared_egress=info.get("declared_egress"))
    chosen = profile or info.get("profile") or "gainsight-px"
    vendor = SandboxVendor(info, chosen)
    stack.callback(vendor.close)
    return DemoEnvironment(setup, demo, vendor, chosen, stack.close)


class SandboxVendor:
    """What the two admins click in the vendors' web UIs, done against the sandbox's admin page.

    Its cookies are the person's browser: in ``wrong-org`` that browser is still signed in to the UAT org,
    so the first Authorize lands there, as it would for a person; the next attempt follows the runbook's
    fix (log out of every org, then authorize again) and signs in as the integration user.
    """

    def __init__(self, info: dict[str, Any], profile: str) -> None:
        self.info = info
        self.profile = profile
        self.kind = "px" if profile == "gainsight-px" else "skilljar"
        self._http: Any = None
        self._admin_http: Any = None
        self.attempts: dict[str, int] = {}

    def _client(self) -> Any:
        if self._http is None:
            self._http = _browser(self.info)
        return self._http

    def close(self) -> None:
        for http in (self._http, self._admin_http):
            if http is not None:
                http.close()

    def _integration_login(self) -> dict[str, Any]:
        name = self.info.get("integration_username") or self.info["username"]
        user = next((u for u in self.info.get("users", []) if u["username"] == name), None)
        return {**self.info, "username": name, "password": user["password"] if user else self.info["password"]}

    def pending(self, step: str) -> str | None:
        px = self.kind == "px"
        if step == "connect":
            if self.attempts.get("connect"):
                return "Log out of every Salesforce org, then approve the sign-in as the Salesforce admin"
            return "Approve the sign-in as the Salesforce admin"
        if step == "reauthorize":
            click = "Authorize on the PX Salesforce card" if px else "Reconnect in Skilljar"
            if self.attempts.get(step):
                return f"Log out of every Salesforce org, then {click[0].lower() + click[1:]} and Allow as the " \
                       "integration user"
            return f"{click}, then Allow as the integration user"
        if step == "sync":
            return "Click Synchronize on the Salesforce card" if px else "Click Backfill"
        if step == "knowledge" and px:
            return "Turn the Salesforce Knowledge Base toggle on"
        if step == "mappings":
            return "Read the mappings off the platform's Salesforce screens"
        return None

    def perform(self, step: str) -> str:
        base = self.info["admin_url"].rstrip("/")
        http = self._client()
        if step == "reauthorize":
            login = self._integration_login()
            if self.attempts.get(step):
                http.get(self.info["login_url"].rstrip("/") + "/secur/logout.jsp")
            self.attempts[step] = self.attempts.get(step, 0) + 1
            action = "authorize" if self.kind == "px" else "reconnect"
            start = http.get(f"{base}/__sandbox__/{self.kind}/{action}")
            if start.status_code not in (302, 303):
                raise SfwizardError(f"the sandbox refused the click: {_said(start)}", "see the admin page")
            _approve(http, urljoin(base + "/", start.headers["location"]), login)
            return f"{'Authorized' if self.kind == 'px' else 'Reconnected'}: the integration user approved"
        if step == "sync":
            path = "px/sync" if self.kind == "px" else "skilljar/backfill"
            resp = http.post(f"{base}/__sandbox__/{path}")
            if resp.status_code >= 400:
                raise SfwizardError(f"the sandbox refused the click: {_said(resp)}", "see the admin page")
            return "Synchronize clicked" if self.kind == "px" else "Backfill clicked"
        if step == "knowledge":
            current = http.get(f"{base}/__sandbox__/px/knowledge").json()
            resp = http.post(f"{base}/__sandbox__/px/knowledge",
                             json={"enabled": True, "categories": current.get("categories", []),
                                   "accessibility": current.get("accessibility", [])})
            if resp.status_code >= 400:
                raise SfwizardError(f"the sandbox refused the toggle: {_said(resp)}", "authorize first")
            return "Salesforce Knowledge Base toggle turned on"
        if step == "mappings":
            return "Read the matching, field mappings, custom objects and push settings off the Salesforce card"
        raise SfwizardError(f"nothing to click at step {step}", "")

    def documented(self) -> Snapshot:
        """What the admin reads off the platform's mapping screens (the sandbox's PX state), as a snapshot."""
        from sfwizard import snapshot

        base = self.info["admin_url"].rstrip("/")
        facts = self._client().get(f"{base}/__sandbox__/state").json()
        return snapshot.from_sandbox_state(facts, taken_at=datetime.now().astimezone())

    def approve(self, url: str) -> None:
        """The Salesforce admin approves the wizard's own sign-in, in the same browser: in ``wrong-org`` the
        first approval lands in the org that browser remembers; a second one logs out of every org first."""
        if self._admin_http is None:  # the Salesforce admin's browser: not the one the platform admin clicks in
            self._admin_http = _browser(self.info)
        http = self._admin_http
        if self.attempts.get("connect"):
            http.get(self.info["login_url"].rstrip("/") + "/secur/logout.jsp")
        self.attempts["connect"] = self.attempts.get("connect", 0) + 1
        approve_in_sandbox(url, self.info, browser=http)


def _said(resp: Any) -> str:
    try:
        body = resp.json()
        return str(body.get("reason") or body.get("error") or resp.status_code)
    except ValueError:
        return f"HTTP {resp.status_code}"
