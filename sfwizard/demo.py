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
                                    "run again; if it repeats, run with --debug", kind="unreachable",
                                    fix="retry") from None
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
                                "run with --debug", fix="connect.sign_in")
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
    raise SfwizardError("the sandbox sign-in did not finish", "run with --debug", fix="connect.sign_in")


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
    # A demo keeps its sign-in in memory only; a refresh (expire-token fault) rotates it there. The sandbox's
    # state (what the vendors' screens show) is read in the same round trip as who and where.
    got: dict[str, Any] = {}

    def read_facts(client: IntegrationClient) -> None:
        try:
            got["facts"] = sandbox_facts(client, info)
        except BaseException as exc:  # noqa: BLE001 - read again below, where its error is raised as usual
            got["error"] = exc

    with connect(profile or info.get("profile") or "gainsight-px", endpoints, tokens=tokens,
                 demo=demo, cancel=cancel, beside=read_facts) as conn:
        facts = got["facts"] if "facts" in got else sandbox_facts(conn.client, info)
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
                            kind=getattr(why, "kind", ""), fix="connect.sign_in") from None


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
    """What the two admins click in the vendors' web UIs, done against the sandbox's stand-in pages.

    At each step the pending click is the fix the current results call for (``sfwizard.recovery.remedies``:
    derived from the results' reason codes and evidence, never from the scenario's name) — a permission granted,
    a user reactivated, a stray token revoked, a push remapped, the right org chosen — and, once nothing is
    wrong, the step's own click (Authorize / Reconnect, Synchronize / Backfill, the Knowledge toggle).

    Its cookies are the person's browser: in ``wrong-org`` that browser is still signed in to the UAT org, so
    the first Authorize lands there, as it would for a person; the results then name the wrong org, and the
    click they call for follows the runbook's fix (log out of every org, then authorize again).
    """

    def __init__(self, info: dict[str, Any], profile: str) -> None:
        self.info = info
        self.profile = profile
        self.kind = "px" if profile == "gainsight-px" else "skilljar"
        self._http: Any = None
        self._admin_http: Any = None
        self.attempts: dict[str, int] = {}
        self.recovery: Any = None  # the Recovery whose results decide the click (``see``)
        self._fresh_login = False  # the next approval of the wizard's sign-in logs out of every org first
        self._planned: tuple[str, str | None, Any] | None = None  # (step, kind, remedy) the next perform makes
        self._reset: set[str] = set()  # users whose password the stand-in reset (next: authorize again)
        self._clicked_manual: set[str] = set()  # manual checks (no API shows them) the stand-in clicked for

    def see(self, recovery: Any) -> None:
        """The recovery whose results the pending click is derived from (Recovery calls this)."""
        self.recovery = recovery

    def _client(self) -> Any:
        if self._http is None:
            self._http = _browser(self.info)
        return self._http

    def close(self) -> None:
        for http in (self._http, self._admin_http):
            if http is not None:
                http.close()

    def _integration_login(self) -> dict[str, Any]:
        """The integration user as the runbook means it: the one of the org the platform's data lives in (a
        token approved in a sandbox points at the sandbox's copy of the user; Authorize again as the real one)."""
        name = self.info.get("integration_username") or self.info["username"]
        if self.kind == "px":
            base = self.info["admin_url"].rstrip("/")
            home = (self._client().get(f"{base}/__sandbox__/state").json().get("px") or {}).get("home_username")
            name = home or name
        user = next((u for u in self.info.get("users", []) if u["username"] == name), None)
        return {**self.info, "username": name, "password": user["password"] if user else self.info["password"]}

    # -- what the results call for ---------------------------------------------------------------------------
    def _remedy(self, step: str) -> Any:
        """The first remedy the step's results call for that a click can make; None when there is none, or
        when what comes first is no click (the runbook sends the person to Support)."""
        from sfwizard.recovery.remedies import remedies

        rec = self.recovery
        if rec is None:
            return None
        nav = rec.navigator
        pool = list(nav.results.values()) if step == "troubleshoot" else rec.results_of(step)
        confirmed = [c for c in nav.results if nav.confirmed(c) is not None]
        found = remedies(pool, all_results=nav.results, vendor=rec.profile.vendor,
                         backfill=bool(rec.profile.backfill), confirmed=confirmed)
        # a manual ask the stand-in already clicked for (the toggle) stays manual: a person confirms it now
        found = [m for m in found if m.check_id not in self._clicked_manual]
        if any(m.kind == "support" for m in remedies(nav.results.values(), vendor=rec.profile.vendor)):
            found = [m for m in found if m.kind != "platform.sync"]  # past the window nothing is left to click
            if step in ("sync", "validate"):
                return _BLOCKED
        first = next((m for m in found if m.kind in self._CAN or not m.clickable), None)
        return first if first is not None and first.clickable else _BLOCKED if first is not None else None

    _CAN = ("status.all_clear", "wizard.right_org", "sf.grant_admin", "sf.install_app", "sf.install_package",
            "sf.reactivate_user", "sf.reset_password", "sf.grant_api", "sf.grant_access", "platform.remap_push",
            "sf.revoke_stray_token", "platform.authorize_right_org", "platform.authorize", "platform.sync",
            "platform.knowledge")

    def plan(self, step: str) -> str | None:
        """The click ``perform`` will make at ``step``, fixed now (Recovery.perform_click calls it first): what
        the recovery records before the click (its start) must not change the click. Only the worker that
        performs plans; the screen's redraws ask ``pending``, which never touches the plan."""
        kind = self.pending_kind(step)
        self._planned = (step, kind, self._remedy(step))
        return kind

    def pending_kind(self, step: str) -> str | None:
        """What the pending click does (a remedies.KINDS key, or "mappings.read"), or None."""
        return self._pending_kind(step)

    def _pending_kind(self, step: str) -> str | None:
        remedy = self._remedy(step)
        if remedy is _BLOCKED:
            return None
        if remedy is not None:
            return remedy.kind
        rec = self.recovery
        facts = rec.session.facts if rec is not None else {}
        if step == "reauthorize" and (rec is None or not rec.session.reauthorized_at):
            return "platform.authorize"
        if step == "sync":  # once nothing is wrong, the step's own click; after it, the watch tells the outcome
            window = rec.navigator.results.get("skilljar.backfill_window") if rec is not None else None
            if window is not None and window.evidence.get("connected") and not window.evidence.get("disconnected_at"):
                return None  # Skilljar is connected and nothing was disconnected: no Backfill is offered
            return "platform.sync" if "sync_clicked" not in facts or "sync_failed" in facts else None
        if step == "mappings" and "snapshot_saved" not in facts:
            return "mappings.read"
        if step == "knowledge" and self.kind == "px" and rec is None:
            return "platform.knowledge"
        return None

    def pending(self, step: str) -> str | None:
        px = self.kind == "px"
        if step == "connect":
            if self._fresh_login or self._wizard_elsewhere():
                return "Log out of every Salesforce org, then approve the sign-in as the Salesforce admin"
            return "Approve the sign-in as the Salesforce admin"
        kind = self.pending_kind(step)
        if kind is None:
            return None
        remedy = self._remedy(step)
        if remedy is not None and remedy is not _BLOCKED and kind not in ("platform.authorize", "platform.sync"):
            return _first_upper(remedy.words)
        if kind in ("platform.authorize", "platform.authorize_right_org"):
            click = "Authorize on the PX Salesforce card" if px else "Reconnect in the Skilljar dashboard"
            return f"{click}, then Allow as the integration user"
        if kind == "platform.sync":
            return "Click Synchronize on the Salesforce card" if px else "Click Backfill"
        if kind == "mappings.read":
            return "Read the mappings off the platform's Salesforce screens"
        if kind == "platform.knowledge":
            return "Turn the Salesforce Knowledge Base toggle on"
        return None

    def _wizard_elsewhere(self) -> bool:
        """The results say the wizard's sign-in went to another org than the data's (at Connect or later), or it
        sits in a sandbox while production is where data lives: the next approval logs out of every org first."""
        rec = self.recovery
        if rec is None:
            return False
        for cid in ("identity.signed_in_org", "identity.right_org"):
            r = rec.navigator.results.get(cid)
            if r is not None and r.reason in ("org.snapshot_mismatch", "org.mismatch", "org.sandbox_copy"):
                return True
        who = rec.signed_in
        return bool(who is not None and who.is_sandbox and self.attempts.get("connect"))

    # -- the clicks -------------------------------------------------------------------------------------------
    def perform(self, step: str) -> str:
        planned, self._planned = self._planned, None
        if planned is not None and planned[0] == step:
            _, kind, remedy = planned
        else:
            kind, remedy = self._pending_kind(step), self._remedy(step)
        if kind is None:
            raise SfwizardError(f"nothing to click at step {step}", "", fix="retry")
        details = remedy.details if remedy is not None and remedy is not _BLOCKED else {}
        if kind == "mappings.read":
            return "Read the matching, field mappings, custom objects and push settings off the Salesforce card"
        if kind in ("platform.authorize", "platform.authorize_right_org"):
            return self._authorize(logout=kind == "platform.authorize_right_org" or bool(self.attempts.get(
                "reauthorize") and self._token_elsewhere()))
        if kind == "platform.sync":
            path = "px/sync" if self.kind == "px" else "skilljar/backfill"
            said = self._post(path, {})
            if self.kind == "px":
                return "Synchronize clicked"
            return f"Backfill clicked: {said.get('message') or 'done'}"
        if kind == "platform.knowledge":
            if remedy is not None and remedy is not _BLOCKED and remedy.reason.startswith("ask."):
                self._clicked_manual.add(remedy.check_id)
            return self._knowledge(details)
        if kind == "wizard.right_org":
            return self._sign_in_again()
        if kind == "status.all_clear":
            return self._post("status/all-clear", {})["message"]
        if kind == "platform.remap_push":
            said = [self._post("px/remap", {"salesforce": t})["message"] for t in details.get("targets") or []]
            return "; ".join(said) or "nothing to remap"
        username = details.get("user")
        if kind == "sf.reset_password" and not username:  # named by no result: the integration user, as runbooks mean
            username = self._integration_login()["username"]
        if kind == "sf.grant_admin":
            me = self.recovery.signed_in.username if self.recovery and self.recovery.signed_in else None
            key = "api_enabled" if details.get("permission") == "API Enabled" else "manage_users"
            return self._post("salesforce/grant", {"username": me, key: True})["message"]
        if kind == "sf.grant_api":
            return self._post("salesforce/grant", {"username": username, "api_enabled": True})["message"]
        if kind == "sf.grant_access":
            perm = details.get("perm") or "read"
            perms = ["read", "edit"] if perm == "edit" else ["read"]
            return self._post("salesforce/grant", {
                "username": username, "objects": {o: perms for o in details.get("objects") or []},
                "fields": {f: perms for f in details.get("fields") or []}})["message"]
        if kind == "sf.reactivate_user":
            return self._post("salesforce/reactivate", {"username": username})["message"]
        if kind == "sf.reset_password":
            if username in self._reset:  # reset already; the fix's second half: authorize again with the new one
                return self._authorize(logout=False)
            self._reset.add(username)
            said = self._post("salesforce/password", {"username": username})
            from sfwizard import redact

            redact.default().add(said["password"])
            for u in self.info.get("users", []):  # the person who got the reset e-mail now knows the new one
                if u["username"] == said["username"]:
                    u["password"] = said["password"]
            return said["message"]
        if kind == "sf.revoke_stray_token":
            return self._post("salesforce/revoke-token", {"username": username, "app": details.get("app")})["message"]
        if kind in ("sf.install_app", "sf.install_package"):
            org = self.recovery.signed_in.org_id if self.recovery and self.recovery.signed_in else None
            app = details.get("app") or self.recovery.profile.connected_app if self.recovery else details.get("app")
            path = "salesforce/install-app" if kind == "sf.install_app" else "salesforce/install-package"
            return self._post(path, {"app": app, "org": org})["message"]
        raise SfwizardError(f"the demo cannot click {kind}", "", fix="retry")

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        base = self.info["admin_url"].rstrip("/")
        resp = self._client().post(f"{base}/__sandbox__/{path}", json=body)
        if resp.status_code >= 400:
            raise SfwizardError(f"the sandbox refused the click: {_said(resp)}", "see the admin page",
                                fix="demo.click")
        return resp.json()

    def _token_elsewhere(self) -> bool:
        rec = self.recovery
        results = rec.navigator.results if rec is not None else {}
        return any(r.reason in ("token.other_org", "org.platform_elsewhere") for r in results.values())

    def _authorize(self, logout: bool) -> str:
        base = self.info["admin_url"].rstrip("/")
        http = self._client()
        login = self._integration_login()
        if logout:
            http.get(self.info["login_url"].rstrip("/") + "/secur/logout.jsp")
        self.attempts["reauthorize"] = self.attempts.get("reauthorize", 0) + 1
        action = "authorize" if self.kind == "px" else "reconnect"
        start = http.get(f"{base}/__sandbox__/{self.kind}/{action}")
        if start.status_code not in (302, 303):
            raise SfwizardError(f"the sandbox refused the click: {_said(start)}", "see the admin page",
                                fix="demo.click")
        _approve(http, urljoin(base + "/", start.headers["location"]), login)
        words = "Authorized" if self.kind == "px" else "Reconnected"
        return (f"Logged out of every Salesforce org; {words.lower()}" if logout else words) + \
            ": the integration user approved"

    def _knowledge(self, details: dict[str, Any]) -> str:
        base = self.info["admin_url"].rstrip("/")
        http = self._client()
        current = http.get(f"{base}/__sandbox__/px/knowledge").json()
        categories = current.get("categories", [])
        if details.get("categories") or not categories:
            categories = current.get("available_categories") or categories
        access = current.get("accessibility", [])
        if details.get("accessibility") or not access:
            access = ["Public", "Customer", "Partner", "Internal"]
        resp = http.post(f"{base}/__sandbox__/px/knowledge",
                         json={"enabled": True, "categories": categories, "accessibility": access})
        if resp.status_code >= 400:
            raise SfwizardError(f"the sandbox refused the toggle: {_said(resp)}", "authorize first",
                                fix="demo.click")
        return "Salesforce Knowledge Base toggle turned on" + (
            " with the categories and accessibility the articles need" if details else "")

    def _sign_in_again(self) -> str:
        """The runbook's fix for a sign-in in the wrong org: log out of every org, sign sfwizard in again."""
        import threading

        rec = self.recovery
        if rec is None:
            raise SfwizardError("the demo has no recovery to sign in again", "", fix="connect.sign_in")
        self._fresh_login = True
        who = rec.sign_in_browser(lambda url: threading.Thread(target=self.approve, args=(url,), daemon=True)
                                  .start(), timeout=60)
        self._fresh_login = False
        return f"Logged out of every Salesforce org and signed sfwizard in again: {who.org_name} ({who.kind})"

    def alert_time(self) -> datetime | None:
        """The disconnect time on the Skilljar dashboard's alert (no API shows it): what the admin reads off."""
        if self.kind != "skilljar":
            return None
        from sfwizard.sftime import parse_datetime

        base = self.info["admin_url"].rstrip("/")
        facts = self._client().get(f"{base}/__sandbox__/state").json().get("skilljar") or {}
        when = facts.get("disconnected_at") if facts.get("status") == "disconnected" else None
        return parse_datetime(when) if when else None

    def documented(self) -> Snapshot:
        """What the admin reads off the platform's mapping screens (the sandbox's PX state), as a snapshot."""
        from sfwizard import snapshot

        base = self.info["admin_url"].rstrip("/")
        facts = self._client().get(f"{base}/__sandbox__/state").json()
        return snapshot.from_sandbox_state(facts, taken_at=datetime.now().astimezone())

    def approve(self, url: str, user_code: str | None = None) -> None:
        """The Salesforce admin approves the wizard's own sign-in, in the same browser: it lands in the org that
        browser remembers; when the results say that was the wrong org, it logs out of every org first. With
        ``user_code``: the device flow's page, where the code shown in the wizard is typed."""
        if self._admin_http is None:  # the Salesforce admin's browser: not the one the platform admin clicks in
            self._admin_http = _browser(self.info)
        http = self._admin_http
        if self._fresh_login or self._wizard_elsewhere():
            http.get(self.info["login_url"].rstrip("/") + "/secur/logout.jsp")
        self.attempts["connect"] = self.attempts.get("connect", 0) + 1
        info = {**self.info, "user_code": user_code} if user_code else self.info
        approve_in_sandbox(url, info, browser=http)


_BLOCKED: Any = object()  # what comes first is no click (Support): nothing is pending


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _said(resp: Any) -> str:
    try:
        body = resp.json()
        return str(body.get("reason") or body.get("error") or resp.status_code)
    except ValueError:
        return f"HTTP {resp.status_code}"
