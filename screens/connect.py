"""Step 2 · Connect Salesforce: the wizard's own sign-in (browser with PKCE, a device code, or a Salesforce
CLI login), then the org, the user and the PRODUCTION / SANDBOX badge that stays in the header."""

from __future__ import annotations

import shutil

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from . import messages as m
from .base import StepScreen
from .widgets import flat


class Step(StepScreen):
    STEP = "connect"
    AUTO_RUN = False
    BINDINGS = [
        Binding("1", "browser", "Browser", show=False),
        Binding("2", "device", "Device code", show=False),
        Binding("3", "sf_cli", "sf CLI", show=False),
        Binding("4", "saved", "Saved sign-in", show=False),
        Binding("y", "copy_url", "Copy URL"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.url = ""

    def compose_body(self) -> ComposeResult:
        yield Static("", id="identity", classes="card", markup=False)
        with Vertical(id="ways", classes="choices"):
            yield Button("1 · Sign in with the browser (recommended)", id="browser", variant="primary", compact=True)
            yield Button("2 · Use a device code (no browser here, or over SSH)", id="device", compact=True)
            yield Button("3 · Reuse a Salesforce CLI login (sf)", id="sf_cli", compact=True)
            yield Button("4 · Use the saved sign-in", id="saved", compact=True)
        yield Static("", id="url-title", classes="section", markup=False)
        yield Static("", id="url", classes="url", markup=False)
        yield Static("", id="url-note", classes="note", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self._show_url("")

    def refresh_frame(self) -> None:
        super().refresh_frame()
        rec = self.recovery
        if rec is None:
            return
        who = rec.signed_in
        card = self.query_one("#identity", Static)
        card.set_class(who is not None, "-good")
        if who is None:
            card.update("Not signed in yet. Sign in as a Salesforce admin of the org the integration syncs with "
                        "(sfwizard only reads: it checks what the integration can see).")
        else:
            card.update(f"{who.kind}  {flat(who.org_name)}\nOrg Id {who.org_id} · instance {flat(who.instance)}"
                        f" · {flat(who.edition)}\nSigned in as {flat(who.username)}"
                        + ("\nThis is a SANDBOX org: integrations normally run against production."
                           if who.is_sandbox else ""))
        self.query_one("#sf_cli", Button).display = rec.demo is None and shutil.which("sf") is not None
        self.query_one("#saved", Button).display = rec.demo is None and rec.saved_sign_in() is not None
        self.query_one("#browser", Button).label = ("1 · Sign in again with the browser" if who
                                                    else "1 · Sign in with the browser (recommended)")
        self._demo_note()

    def _demo_note(self) -> None:
        """The demo's stand-in approves a sign-in that is under way: the note shows only then."""
        rec = self.recovery
        note = self.query_one("#demo-note", Static)
        note.display = bool(self.url) and rec is not None and rec.vendor is not None

    def on_enter(self) -> None:
        rec = self.recovery
        if rec is not None and rec.signed_in is not None:
            self.run_checks()

    # -- the ways to sign in -----------------------------------------------------------------------------
    @on(Button.Pressed, "#browser")
    def action_browser(self) -> None:
        self._start("browser")

    @on(Button.Pressed, "#device")
    def action_device(self) -> None:
        self._start("device")

    @on(Button.Pressed, "#sf_cli")
    def action_sf_cli(self) -> None:
        self._start("sf_cli")

    @on(Button.Pressed, "#saved")
    def action_saved(self) -> None:
        self._start("saved")

    def _start(self, how: str) -> None:
        rec = self.recovery
        if rec is None:
            return
        words = {"browser": "waiting for the browser sign-in", "device": "waiting for the device code to be "
                 "approved", "sf_cli": "reading the Salesforce CLI login", "saved": "checking the saved sign-in"}
        self._show_url("")
        self.set_busy(words[how])
        rec.cancel()
        self._sign_in(how)

    @work(thread=True, exclusive=True, group="signin", exit_on_error=False)
    def _sign_in(self, how: str) -> None:
        rec = self.recovery
        assert rec is not None
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
        self.url = message.url
        rec = self.recovery
        note = ("The browser opens on this machine; if it does not, open the URL above (y copies it). The "
                "sign-in returns to a listener on this machine (localhost), so the browser must run here too — "
                "over SSH use the device code, or forward the port: ssh -L 1717:localhost:1717 …")
        if rec is not None and rec.vendor is not None:
            note = "Demo: press v to approve as the Salesforce admin (or open the URL in a browser that trusts " \
                   "the sandbox's certificate)."
        self._show_url("Open this URL to sign in", message.url, note)
        self._demo_note()
        self.refresh_bindings()

    def on_device_code(self, message: m.DeviceCode) -> None:
        self.url = message.uri
        self._show_url("On any device, open the address and enter the code", f"{message.uri}\n\n  {message.code}",
                       "The code expires in a few minutes; Esc stops waiting.")

    def on_signed_in_msg(self, message: m.SignedInMsg) -> None:
        self.url = ""
        self._demo_note()
        self._show_url("")
        self.set_busy("")
        self.wizard.refresh_chrome()
        self.notify(f"Signed in to {flat(message.identity.org_name)} ({message.identity.kind})", timeout=5,
                    markup=False)
        self.run_checks()

    def _show_url(self, title: str, url: str = "", note: str = "") -> None:
        self.show_text("url-title", title)
        self.show_text("url", url)
        self.show_text("url-note", note)
        for wid in ("url-title", "url", "url-note"):
            self.query_one(f"#{wid}").display = bool(title)
        if title:  # at 24 rows the URL is below the fold: bring it into view
            self.call_after_refresh(self.query_one("#url-note").scroll_visible, animate=False)

    def action_copy_url(self) -> None:
        if self.url:
            self.app.copy_to_clipboard(self.url)
            self.notify("Copied the URL (your terminal must allow clipboard access).", timeout=4)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_url":
            return bool(self.url)
        if action == "vendor":
            rec = self.recovery
            return rec is not None and rec.vendor is not None and bool(self.url)
        return super().check_action(action, parameters)

    # -- the demo: the stand-in approves the wizard's sign-in ------------------------------------------------
    def action_vendor(self) -> None:
        rec = self.recovery
        if rec is None or rec.vendor is None or not self.url:
            return
        self._approve(self.url)

    @work(thread=True, exclusive=True, group="click", exit_on_error=False)
    def _approve(self, url: str) -> None:
        rec = self.recovery
        assert rec is not None and rec.vendor is not None
        rec.vendor.approve(url)
