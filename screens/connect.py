"""Step 2 · Connect Salesforce: the wizard's own sign-in (a Salesforce CLI login, the browser with PKCE, a device
code, or the saved sign-in), then the org, the user and the PRODUCTION / SANDBOX badge that stays in the header.
A way that cannot work here is shown greyed, with why."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from . import messages as m
from .pane import StepPane
from .widgets import Indented, flat


@dataclass(frozen=True)
class Way:
    key: str  # "1".."4"
    how: str  # browser, device, sf_cli, saved
    label: str
    available: bool
    why: str = ""  # when not available: why, and what makes it available


class Step(StepPane):
    STEP = "connect"
    AUTO_RUN = False
    BINDINGS = [
        Binding("1", "way('1')", "Sign in", show=False),
        Binding("2", "way('2')", "Sign in", show=False),
        Binding("3", "way('3')", "Sign in", show=False),
        Binding("4", "way('4')", "Sign in", show=False),
        Binding("y", "copy_url", "Copy URL"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.url = ""  # the sign-in URL (or device address) while a sign-in waits for a person

    def compose_body(self) -> ComposeResult:
        yield Indented(id="identity", classes="card")
        yield Vertical(id="ways", classes="choices")
        with Vertical(id="waiting"):
            yield Static("", id="url-title", classes="section", markup=False)
            yield Static("", id="url", classes="url", markup=False)
            yield Indented(id="url-note", classes="note")

    def on_mount(self) -> None:
        self._ways: tuple[Way, ...] = ()

    # -- drawing -----------------------------------------------------------------------------------------------
    def ways(self) -> list[Way]:
        """The ways to sign in, in order, each available or greyed with why."""
        rec = self.rec
        demo = rec.demo_scenario is not None
        who = rec.signed_in
        client_id = bool(rec.ready.is_set() and rec.setup and rec.setup.client_id)
        sf = shutil.which("sf") is not None
        saved = not demo and rec.ready.is_set() and rec.saved_sign_in() is not None
        out = []
        if demo:
            out.append(Way("1", "browser", "Sign in with the browser" + (" again" if who else ""), rec.ready.is_set(),
                           "" if rec.ready.is_set() else "the demo's sandbox is still starting"))
            return out
        out.append(Way("1", "sf_cli", "Reuse a Salesforce CLI login (sf)", sf,
                       "" if sf else "the Salesforce CLI (sf) is not installed on this machine"))
        out.append(Way("2", "browser", "Sign in with the browser" + (" again" if who else ""), client_id,
                       "" if client_id else "needs the connected app's client id (Settings)"))
        out.append(Way("3", "device", "Use a device code (no browser here, or over SSH)", client_id,
                       "" if client_id else "needs the connected app's client id (Settings)"))
        if saved:
            out.append(Way("4", "saved", "Use the saved sign-in", True))
        return out

    def render_state(self) -> None:
        rec = self.rec
        who = rec.signed_in
        card = self.query_one("#identity", Indented)
        card.set_class(who is not None, "-good")
        if who is None:
            card.show([("", "", "Not signed in yet. Sign in as a Salesforce admin of the org the integration syncs "
                                "with (sfwizard only reads: it checks what the integration can see).")])
        else:
            lines = [("", "", f"{who.kind}  {flat(who.org_name)}"),
                     ("", "", f"Org Id {who.org_id} · instance {flat(who.instance)} · {flat(who.edition)}"),
                     ("", "", f"Signed in as {flat(who.username)}")]
            if who.is_sandbox:
                lines.append(("", "", "This is a SANDBOX org: integrations normally run against production."))
            card.show(lines)
        ways = tuple(self.ways())
        if ways != self._ways:
            self._ways = ways
            box = self.query_one("#ways", Vertical)
            box.remove_children()
            widgets = []
            for w in ways:
                widgets.append(Button(f"{w.key} · {w.label}", name=f"way-{w.key}", compact=True,
                                      disabled=not w.available,
                                      variant="primary" if w.available and w.key == self._first_key() else "default"))
                if not w.available:
                    widgets.append(Static(f"    {flat(w.why)}", classes="why", markup=False))
            box.mount_all(widgets)
        waiting = self.query_one("#waiting")
        waiting.display = bool(self.url)
        super().render_state()

    def _first_key(self) -> str:
        return next((w.key for w in self._ways if w.available), "")

    def _show_url(self, title: str, url: str = "", note: str = "") -> None:
        self.query_one("#url-title", Static).update(title)
        self.query_one("#url", Static).update(url)
        self.query_one("#url-note", Indented).show([("", "", note)] if note else [])
        self.query_one("#waiting").display = bool(title)
        if title:  # at 24 rows the URL is below the fold: bring it into view
            self.call_after_refresh(self.scroll_to_widget, self.query_one("#url-note"), animate=False)

    def start(self) -> None:
        if self.rec.signed_in is not None and self.missing():
            self.run_checks()

    # -- the ways to sign in -----------------------------------------------------------------------------------
    def action_way(self, key: str) -> None:
        way = next((w for w in self._ways if w.key == key), None)
        if way is None:
            return
        if not way.available:
            self.notify(f"{way.label}: {way.why}", title="Not available here", severity="warning", markup=False)
            return
        self._start(way.how)

    @on(Button.Pressed, "#ways Button")
    def _way_pressed(self, event: Button.Pressed) -> None:
        if event.button.name:
            self.action_way(event.button.name.removeprefix("way-"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_url":
            return bool(self.url)
        if action == "way":  # a new sign-in replaces a check run under way, not another sign-in
            return not self._signing_in()
        return True

    def _signing_in(self) -> bool:
        from textual.worker import WorkerState

        return any(w.group in ("signin", "click") and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                   for w in self.workers)

    def can(self, action: str) -> bool | None:
        if action == "vendor":  # the demo's stand-in approves a sign-in that waits for a person
            rec = self.rec
            return rec.vendor is not None and bool(self.url) and self.workers_running()
        return super().can(action)

    def _start(self, how: str) -> None:
        if self._signing_in():
            return
        words = {"browser": "waiting for the browser sign-in", "device": "waiting for the device code to be "
                 "approved", "sf_cli": "reading the Salesforce CLI login", "saved": "checking the saved sign-in"}
        self.url = ""
        self._show_url("")
        self.busy = words[how]
        self._sign_in(how)

    @work(thread=True, exclusive=True, group="signin", exit_on_error=False)
    def _sign_in(self, how: str) -> None:
        rec = self.rec
        rec.cancel()
        if how == "browser":
            who = rec.sign_in_browser(lambda url: self.post_message(m.SignInUrl(url)))
        elif how == "device":
            who = rec.sign_in_device(lambda code, uri: self.post_message(m.DeviceCode(code, uri)))
        elif how == "sf_cli":
            who = rec.sign_in_sf_cli()
        else:
            who = rec.use_saved()
        self.post_message(m.SignedInMsg(who))

    def on_sign_in_url(self, message: m.SignInUrl) -> None:
        if not self.workers_running():
            return  # the wait already ended (Esc): nothing to show
        self.url = message.url
        rec = self.rec
        note = ("The browser opens on this machine; if it does not, open the URL above (y copies it). The "
                "sign-in returns to a listener on this machine (localhost), so the browser must run here too — "
                "over SSH use the device code, or forward the port: ssh -L 1717:localhost:1717 …")
        if rec.vendor is not None:
            note = "Demo: press v to approve as the Salesforce admin (or open the URL in a browser that trusts " \
                   "the sandbox's certificate). Esc stops waiting."
        self._show_url("Open this URL to sign in", message.url, note)
        self.frame.render_frame()

    def on_device_code(self, message: m.DeviceCode) -> None:
        if not self.workers_running():
            return
        self.url = message.uri
        self._show_url("On any device, open the address and enter the code", f"{message.uri}\n\n  {message.code}",
                       "The code expires in a few minutes; Esc stops waiting.")
        self.frame.render_frame()

    def on_signed_in_msg(self, message: m.SignedInMsg) -> None:
        self.url = ""
        self._show_url("")
        self.busy = ""
        self.notify(f"Signed in to {flat(message.identity.org_name)} ({message.identity.kind})", timeout=5,
                    markup=False)
        self.render_state()
        self.run_checks()

    def stopped(self, group: str) -> None:
        if group == "signin":
            self.url = ""
            self._show_url("")

    def action_copy_url(self) -> None:
        if self.url:
            self.app.copy_to_clipboard(self.url)
            self.notify("Copied the URL (your terminal must allow clipboard access).", timeout=4)

    # -- the demo: the stand-in approves the wizard's sign-in ------------------------------------------------
    def vendor(self) -> None:
        rec = self.rec
        if rec.vendor is None or not self.url:
            return
        self._approve(self.url)

    @work(thread=True, exclusive=True, group="click", exit_on_error=False)
    def _approve(self, url: str) -> None:
        rec = self.rec
        assert rec.vendor is not None
        rec.vendor.approve(url)
