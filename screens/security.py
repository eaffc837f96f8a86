"""Security review (before Re-authorize; the Salesforce admin acts): is it safe to let the integration back in?
Over a window the admin can change (30 days before the disconnect to now): the integration user's logins by source
network (networks outside the vendor's declared ranges marked), every OAuth token of the vendor's apps (others'
revocable here, after a confirmation), what the integration user can reach beside what its mappings need (with a
least-privilege permission set to deploy), the app's policies, API volume and the Setup Audit Trail. Each row is
evidence, never an accusation; what the org does not let the wizard read says so. While the step is in view the
review is read again every few seconds: a hardening step applied in Salesforce turns its row green by itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static

from . import messages as m
from .dialogs import Field, FormDialog
from .pane import StepPane
from .widgets import Indented, flat

HARDENING = ("sec.app_access", "sec.refresh_policy", "sec.ip_ranges", "sec.api_only", "sec.reach")


def _day(value: Any) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ") if text else "—"


class WindowDialog(FormDialog):
    """The review's window: from and to (a day, or a day and a time, in your time)."""

    AUTO_FOCUS = "#since"

    def __init__(self, since: str, until: str) -> None:
        super().__init__()
        self.since, self.until = since, until

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("The review's window", classes="dialog-title")
            yield Static("From and to, as 2026-11-01 or 2026-11-01 14:30 (your time). Empty: 30 days before the "
                         "disconnect, and now.", classes="muted")
            yield Field(value=self.since, placeholder="from", id="since")
            yield Field(value=self.until, placeholder="to (empty: now)", id="until")
            yield from self.form_end("Use this window")

    def submit(self, values: dict[str, str]) -> None:
        out: list[datetime | None] = []
        for key in ("since", "until"):
            text = values.get(key, "").strip()
            if not text:
                out.append(None)
                continue
            try:
                moment = datetime.fromisoformat(text.replace(" ", "T"))
            except ValueError:
                self.problem(f"{key}: write a day as 2026-11-01, or 2026-11-01 14:30")
                return
            out.append(moment if moment.tzinfo else moment.astimezone())
        self.dismiss(tuple(out))


class EgressDialog(FormDialog):
    """The vendor's egress ranges as the admin declares them, and the page they come from."""

    AUTO_FOCUS = "#ranges"

    def __init__(self, ranges: str, source: str) -> None:
        super().__init__()
        self.ranges, self.source = ranges, source

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("The vendor's egress ranges", classes="dialog-title")
            yield Static("The addresses the vendor's servers call Salesforce from, as the vendor publishes them "
                         "(sfwizard ships none: no public list was found). Comma-separated: 34.201.12.0/24, "
                         "10.0.0.1-10.0.0.9 or one address; and the URL of the page that lists them.",
                         classes="muted")
            yield Field(value=self.ranges, placeholder="ranges", id="ranges")
            yield Field(value=self.source, placeholder="https://… (where the ranges come from)", id="source")
            yield from self.form_end("Use these ranges")

    def submit(self, values: dict[str, str]) -> None:
        ranges = [r.strip() for r in values.get("ranges", "").split(",") if r.strip()]
        self.dismiss((ranges, values.get("source", "").strip()))


class Step(StepPane):
    STEP = "security"
    AUTO_RUN = False
    BINDINGS = [Binding("e", "window", "Window"), Binding("i", "egress", "Vendor ranges"),
                Binding("k", "revoke", "Revoke a token"), Binding("p", "proposal", "Write permission set")]
    INTERVAL = 10.0

    def __init__(self) -> None:
        super().__init__()
        self.looks = 0
        self.proposal_path = ""

    def compose_body(self) -> ComposeResult:
        yield Indented(id="settings", classes="card")
        yield Indented(id="review", classes="fixes")

    # -- the review, read again while in view ------------------------------------------------------------------
    def start(self) -> None:
        if self.rec.signed_in is None:
            self.render_state()
            return
        self.action_look()

    def rerun(self) -> None:
        self.action_look()

    def action_look(self) -> None:
        self.looks = 0
        self.busy = "reading the security review"
        self._watch()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        """The review, then again every few seconds until every hardening row passes (or the step is left)."""
        rec = self.rec
        rec.cancel()
        n = 0
        while True:
            n += 1
            self.still_wanted()
            ids = rec.step_checks(self.STEP)
            results = rec.run_checks(ids)
            self.still_wanted()
            self.post_message(m.WatchRound(n, results, rec.navigator.gate(self.STEP)))
            statuses = [rec.navigator.results[c].status.value for c in HARDENING if c in rec.navigator.results]
            if statuses and all(s in ("pass", "skipped") for s in statuses):
                return
            rec.cancel_token.wait(self.INTERVAL)

    def on_watch_round(self, message: m.WatchRound) -> None:
        self.looks = message.round_no
        self.running.clear()
        self.busy = "watching for the hardening to land (every few seconds; Esc stops)"
        self.render_state()
        self.frame.render_frame()

    def stopped(self, group: str) -> None:
        self.looks = 0

    # -- drawing ---------------------------------------------------------------------------------------------------
    def render_state(self) -> None:
        rec = self.rec
        settings = rec.security_settings()
        window = rec.security_window() or {}
        since = window.get("since") or (settings.since.isoformat() if settings.since else None)
        until = window.get("until") or (settings.until.isoformat() if settings.until else None)
        head: list[tuple[str, str, str] | str] = [
            ("Window: ", "    ", f"{_day(since) if since else '30 days before the disconnect'} → "
                                 f"{_day(until) if until else 'now'} (e changes it)")]
        ranges = list(settings.egress)
        source = settings.egress_source
        head.append(("Vendor's egress ranges: ", "    ", (", ".join(ranges) + (f" — from {source}" if source else ""))
                     if ranges else "none declared: logins are grouped by network, none marked (i declares them)"))
        if rec.signed_in is None:
            head.append(("", "", "Sign in at step 2 first: the review reads the org."))
        self.query_one("#settings", Indented).show(head)
        self.query_one("#review", Indented).show(self._details())
        super().render_state()

    def _details(self) -> list[tuple[str, str, str]]:
        rec = self.rec
        out: list[tuple[str, str, str]] = []

        def ev(cid: str) -> dict[str, Any] | None:
            r = rec.navigator.results.get(cid)
            return dict(r.evidence) if r is not None else None

        def cannot(e: dict[str, Any]) -> bool:
            missing = e.get("could_not_read")
            if isinstance(missing, dict):
                out.append(("   ", "   ", f"could not read {flat(missing.get('what'))}: needs "
                                           f"{flat(missing.get('needs'))} ({flat(missing.get('why'))})"))
                return True
            return False

        e = ev("sec.logins")
        if e is not None:
            out.append(("Logins of ", "  ", f"{flat(e.get('integration_user') or 'the integration user')}, by network"))
            if not cannot(e):
                for n in (e.get("networks") or [])[:8]:
                    mark = "" if n.get("declared") in (None, True) else "  [outside the declared ranges]"
                    after = "  [seen after the disconnect]" if n.get("seen_after_disconnect") else ""
                    where = ", ".join(flat(x) for x in (n.get("cities") or n.get("countries") or [])[:2])
                    out.append(("  • ", "    ", f"{flat(n.get('network'))}: {n.get('successes', 0)} ok, "
                                               f"{n.get('failures', 0)} failed, {_day(n.get('first_seen'))} → "
                                               f"{_day(n.get('last_seen'))}" + (f" ({where})" if where else "")
                                + mark + after))
                if not e.get("networks"):
                    out.append(("  ", "  ", "no login in the window"))
        e = ev("sec.tokens")
        if e is not None:
            out.append(("Tokens of the vendor's apps: ", "  ", f"{e.get('total', 0)} in all"))
            if not cannot(e):
                for t in (e.get("tokens") or [])[:8]:
                    whose = "the integration user" if t.get("integration_user") else "held by another user"
                    out.append(("  • ", "    ", f"{flat(t.get('user'))} — {flat(t.get('app'))}, created "
                                               f"{_day(t.get('created'))}, last used {_day(t.get('last_used'))}, "
                                               f"{t.get('use_count') or 0} uses ({whose})"))
                if rec.revocable_tokens():
                    out.append(("  ", "  ", "k revokes one of the others' tokens (after a confirmation)"))
        e = ev("sec.reach")
        if e is not None:
            out.append(("What the integration user can reach", "  ", ""))
            if not cannot(e):
                rights = [w for w, on in (("Modify All Data", e.get("modify_all_data")),
                                          ("View All Data", e.get("view_all_data"))) if on]
                out.append(("  • ", "    ", ("has " + " and ".join(rights)) if rights else
                            "neither Modify All Data nor View All Data"))
                extra = e.get("extra_objects") or []
                if extra:
                    out.append(("  • ", "    ", f"{len(extra)} object(s) beyond the mapped ones: "
                                               + ", ".join(flat(x) for x in extra[:6])))
                if e.get("proposal"):
                    out.append(("  • ", "    ", "a least-privilege permission set is proposed: p writes it as a "
                                               "project to deploy (sf project deploy start), never applied here"
                                + (f" — written: {self.proposal_path}" if self.proposal_path else "")))
        for cid, label in (("sec.app_access", "Who may use the app"), ("sec.refresh_policy", "Refresh tokens"),
                           ("sec.ip_ranges", "Login IP ranges"), ("sec.api_only", "API Only user"),
                           ("sec.api_volume", "API volume"), ("sec.audit_trail", "Setup Audit Trail")):
            r = rec.navigator.results.get(cid)
            if r is not None:
                finding, way = self.words(r)
                status = rec.navigator.shown_status(cid)
                out.append((f"{label}: ", "    ", f"{finding}" + (f" — {way}" if way and status in ("warn", "fail")
                                                                   else "")))
        revoked = (rec.session.facts.get("security_revocations") or {}).get("value") or []
        for rec_ in revoked[-3:]:
            tokens = ", ".join(f"{flat(t.get('user'))} ({flat(t.get('app'))})" for t in rec_.get("tokens", []))
            out.append(("Revoked: ", "    ", f"{tokens} by {flat(rec_.get('who'))} at {_day(rec_.get('at'))}"))
        return out

    # -- the admin's settings for the review ------------------------------------------------------------------
    def action_window(self) -> None:
        window = self.rec.security_window() or {}
        self.wizard.open_dialog(WindowDialog(_day(window.get("since")) if window.get("since") else "",
                                             _day(window.get("until")) if window.get("until") else ""),
                                self._window_set)

    def _window_set(self, answer: tuple[datetime | None, datetime | None] | None) -> None:
        from sfwizard.errors import SfwizardError

        if answer is None:
            return
        try:
            self.rec.set_security_window(*answer)
        except SfwizardError as exc:
            self.notify(flat(exc.message), severity="warning", markup=False)
            return
        self.action_look()

    def action_egress(self) -> None:
        s = self.rec.security_settings()
        self.wizard.open_dialog(EgressDialog(", ".join(s.egress), s.egress_source), self._egress_set)

    def _egress_set(self, answer: tuple[list[str], str] | None) -> None:
        from sfwizard.errors import SfwizardError

        if answer is None:
            return
        try:
            self.rec.set_vendor_egress(*answer)
        except SfwizardError as exc:
            self.notify(flat(exc.message) + (f" — {flat(exc.hint)}" if exc.hint else ""), severity="warning",
                        markup=False)
            return
        self.action_look()

    # -- revoking another user's token, after a confirmation ----------------------------------------------------
    def action_revoke(self) -> None:
        tokens = self.rec.revocable_tokens()
        if not tokens:
            self.notify("No token of the vendor's apps is held by anyone but the integration user.", timeout=5)
            return
        from .dialogs import ChoiceDialog

        choices = [(f"t{i}", f"{flat(t['user'])} · {flat(t['app'])}", "warning") for i, t in enumerate(tokens[:4])]
        choices.append(("cancel", "Cancel", "default"))
        self.wizard.open_dialog(ChoiceDialog("Revoke which token?", "The user keeps their account; the vendor's app "
                                             "loses that user's access until they approve it again.", choices),
                                lambda answer: self._chosen(answer, tokens))

    def _chosen(self, answer: str | None, tokens: list[dict[str, Any]]) -> None:
        if not answer or not answer.startswith("t"):
            return
        token = tokens[int(answer[1:])]
        from .dialogs import ConfirmDialog

        self.wizard.open_dialog(ConfirmDialog(f"Revoke {flat(token['user'])}'s {flat(token['app'])} token at "
                                              "Salesforce now?", self.rec.profile.vendor, self.wizard.person,
                                              "salesforce_admin"),
                                lambda person: self._confirmed(person, token))

    def _confirmed(self, person: Any, token: dict[str, Any]) -> None:
        if person is None:
            return
        self.wizard.person = person.who
        self.busy = f"revoking {flat(token['user'])}'s token"
        self._revoke(str(token["user_id"]), str(token["app"]), person.who)

    @work(thread=True, exclusive=True, group="click", exit_on_error=False)
    def _revoke(self, user_id: str, app: str, who: str) -> None:
        record = self.rec.revoke_token(user_id, app, who=who, confirmed=True)
        users = ", ".join(str(t.get("user")) for t in record.get("tokens", []))
        self.app.call_from_thread(self._revoked, users)

    def _revoked(self, users: str) -> None:
        self.busy = ""
        self.notify(f"Revoked the token of {flat(users)}; the review reads it again.", title="Revoked", timeout=6,
                    markup=False)
        self.action_look()

    # -- the least-privilege permission set, written (never applied) -------------------------------------------
    def action_proposal(self) -> None:
        self.busy = "writing the proposed permission set"
        self._proposal()

    @work(thread=True, exclusive=True, group="click", exit_on_error=False)
    def _proposal(self) -> None:
        path = self.rec.write_permission_set()
        self.app.call_from_thread(self._proposed, str(path))

    def _proposed(self, path: str) -> None:
        self.busy = ""
        self.proposal_path = path
        self.notify(f"Written: {path} — deploy it with: sf project deploy start (in its folder)", timeout=10,
                    markup=False)
        self.render_state()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rec = self.rec
        if action == "revoke":
            return bool(rec.revocable_tokens()) if rec.signed_in is not None else False
        if action == "proposal":
            r = rec.navigator.results.get("sec.reach")
            return r is not None and bool(r.evidence.get("proposal"))
        if action in ("window", "egress"):
            return True
        return True

    def can(self, action: str) -> bool | None:
        if action == "rerun":
            return self.rec.signed_in is not None
        return super().can(action)

