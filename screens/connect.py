"""Step 2 · Connect Salesforce: the wizard's own sign-in (a Salesforce CLI login, the browser with PKCE, a device
code, or the saved sign-in), then the org, the user and the PRODUCTION / SANDBOX badge that stays in the header.
A way that cannot work here is shown greyed, with why."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from . import messages as m
from .pane import StepPane
from .widgets import Indented, flat, say


class Step(StepPane):
    STEP = "connect"
    AUTO_RUN = False
    BINDINGS = [*(Binding(str(n), f"way({n})", "Sign in", show=False) for n in range(1, 10)),
                Binding("y", "copy_url", "Copy URL")]

    def __init__(self) -> None:
        super().__init__()
        self.url = ""  # the sign-in URL (or device address) while a sign-in waits for a person
        self.code = ""  # the device code shown, while a device sign-in waits
        self.choices: list[Any] | None = None  # the ways to sign in (sign_in_choices), read in a worker
        self._pending_way = 0  # a number pressed before the ways were read

    def compose_body(self) -> ComposeResult:
        yield Indented(id="identity", classes="card")
        yield Indented(id="fixes", classes="fixes")
        yield Vertical(id="ways", classes="choices")
        with Vertical(id="waiting"):
            yield Static("", id="url-title", classes="section", markup=False)
            yield Static("", id="url", classes="url", markup=False)
            yield Indented(id="url-note", classes="note")

    def on_mount(self) -> None:
        self._ways: tuple[Any, ...] | None = None

    # -- drawing -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.choices is None:
            self._read_choices()
        elif self.rec.signed_in is not None and self.missing():
            self.run_checks()

    @work(thread=True, exclusive=True, group="choices", exit_on_error=False)
    def _read_choices(self) -> None:
        """The ways to sign in, in the Connect order (a Salesforce CLI login first: it needs no setup); reading
        the CLI's logins runs ``sf`` (about a second), so off the screen's thread."""
        from sfwizard.recovery.setup_form import sign_in_choices

        rec = self.rec
        rec.ready.wait()
        choices = sign_in_choices(rec.setup, rec.demo_scenario is not None)
        self.app.call_from_thread(self._got_choices, choices)

    def _got_choices(self, choices: list[Any]) -> None:
        self.choices = choices[:9]
        self.render_state()
        pending, self._pending_way = self._pending_way, 0
        if pending:
            self.action_way(pending)
            return
        if self.rec.signed_in is not None and self.missing():
            self.run_checks()

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
        ways = tuple(self.choices or ())
        if ways != self._ways:
            self._ways = ways
            box = self.query_one("#ways", Vertical)
            box.remove_children()
            widgets: list[Any] = []
            if self.choices is None:
                widgets.append(Static("Reading the ways to sign in (the Salesforce CLI's logins)…", classes="why",
                                      markup=False))
            first = next((i for i, c in enumerate(ways) if c.available), -1)
            for i, c in enumerate(ways):
                label = c.label
                if who is not None and c.method == "browser":  # "Sign in with the browser again (…)"
                    head, sep, tail = label.partition(" (")
                    label = f"{head} again{sep}{tail}"
                widgets.append(Button(f"{i + 1} · {flat(label)}", name=f"way-{i + 1}", compact=True,
                                      disabled=not c.available, variant="primary" if i == first else "default"))
                if not c.available:
                    more = " — g opens Settings" if (c.fix or "").startswith("settings.") else ""
                    widgets.append(Static(f"    {flat(c.why)}{more}", classes="why", markup=False))
            box.mount_all(widgets)
        failing = [r for r in rec.results_of(self.STEP) if rec.navigator.shown_status(r.id) in ("fail", "warn")]
        self.query_one("#fixes", Indented).show(self.fix_lines(failing))
        waiting = self.query_one("#waiting")
        waiting.display = bool(self.url)
        super().render_state()

    def _show_url(self, title: str, url: str = "", note: str = "") -> None:
        say(self.query_one("#url-title", Static), title)
        say(self.query_one("#url", Static), url)
        self.query_one("#url-note", Indented).show([("", "", note)] if note else [])
        self.query_one("#waiting").display = bool(title)
        if title:  # at 24 rows the URL is below the fold: bring it into view
            self.call_after_refresh(self.scroll_to_widget, self.query_one("#url-note"), animate=False)

    # -- the ways to sign in -----------------------------------------------------------------------------------
    def action_way(self, number: int) -> None:
        if self.choices is None:  # pressed before the ways are read (a second at most): taken once they are
            self._pending_way = int(number)
            return
        ways = self.choices or []
        if not 1 <= int(number) <= len(ways):
            return
        way = ways[int(number) - 1]
        if not way.available:
            more = " — press g for Settings" if (way.fix or "").startswith("settings.") else ""
            self.notify(f"{flat(way.label)}: {flat(way.why)}{more}", title="Not available here",
                        severity="warning", markup=False)
            return
        self._start(way.method, way.target_org)

    @on(Button.Pressed, "#ways Button")
    def _way_pressed(self, event: Button.Pressed) -> None:
        if event.button.name:
            self.action_way(int(event.button.name.removeprefix("way-")))

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

    def _start(self, how: str, target_org: str | None = None) -> None:
        if self._signing_in():
            return
        words = {"browser": "waiting for the browser sign-in", "device": "waiting for the device code to be "
                 "approved", "sf_cli": "reading the Salesforce CLI login", "saved": "checking the saved sign-in"}
        self.url = self.code = ""
        self._show_url("")
        self.busy = words[how]
        self._sign_in(how, target_org)

    @work(thread=True, exclusive=True, group="signin", exit_on_error=False)
    def _sign_in(self, how: str, target_org: str | None) -> None:
        from sfwizard.recovery.connection import ConnectionDiagnosed

        rec = self.rec
        rec.cancel()
        try:
            if how == "browser":
                who = rec.sign_in_browser(lambda url: self.post_message(m.SignInUrl(url)))
            elif how == "device":
                who = rec.sign_in_device(lambda code, uri: self.post_message(m.DeviceCode(code, uri)))
            elif how == "sf_cli":
                who = rec.sign_in_sf_cli(target_org)
            else:
                who = rec.use_saved()
        except ConnectionDiagnosed as diagnosed:  # refused for a reason that is the diagnosis: its results show
            self.post_message(m.SignInDiagnosed(diagnosed.message))
            return
        self.post_message(m.SignedInMsg(who))

    def on_sign_in_diagnosed(self, message: m.SignInDiagnosed) -> None:
        self.url = self.code = ""
        self._show_url("")
        self.busy = ""
        self.notify(f"Salesforce refused the sign-in: {flat(message.cause)} — the rows below say why and what to "
                    "do", title="Diagnosed", severity="warning", timeout=10, markup=False)
        self.render_state()

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
        self.url, self.code = message.uri, message.code
        self._show_url("On any device, open the address and enter the code", f"{message.uri}\n\n  {message.code}",
                       "The code expires in a few minutes; Esc stops waiting."
                       + (" Demo: press v to approve it as the Salesforce admin." if self.rec.vendor else ""))
        self.frame.render_frame()

    def on_signed_in_msg(self, message: m.SignedInMsg) -> None:
        self.url = self.code = ""
        self._show_url("")
        self.busy = ""
        self.notify(f"Signed in to {flat(message.identity.org_name)} ({message.identity.kind})", timeout=5,
                    markup=False)
        self.render_state()
        self.run_checks()

    def stopped(self, group: str) -> None:
        if group == "signin":
            self.url = self.code = ""
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
        self._approve(self.url, self.code or None)

    @work(thread=True, exclusive=True, group="click", exit_on_error=False)
    def _approve(self, url: str, code: str | None) -> None:
        rec = self.rec
        assert rec.vendor is not None
        rec.vendor.approve(url, code) if code else rec.vendor.approve(url)
