"""The one object the wizard's screens call: sign-in, checks, watching, the snapshot, the report.

Plain Python, no Textual. Every method that talks to the network blocks, so screens call them from thread
workers; one job uses the connection at a time (a lock), and ``cancel()`` stops the job under way at its
next request or wait (Escape in the wizard). Results are recorded in the navigator, which saves them to the
recovery session as they come.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sfwizard.cancel import CancelToken, Progress, ProgressFn, no_progress
from sfwizard.checks.base import CheckResult, Status
from sfwizard.errors import SfwizardError
from sfwizard.recovery.client import Endpoints
from sfwizard.recovery.connection import Connection, ConnectionDiagnosed, DemoInfo, SignedIn, connect
from sfwizard.recovery.navigator import Gate, Navigator
from sfwizard.recovery.session import RecoverySession

if TYPE_CHECKING:
    from sfwizard.checks.security_settings import SecuritySettings
    from sfwizard.integrations.signin import TokenSet
    from sfwizard.profiles import Profile
    from sfwizard.snapshot import FieldMapping, Snapshot

log = logging.getLogger("sfwizard")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class SignInSetup:
    """Where and how the wizard signs in and what else it reaches: from settings, or from the demo sandbox."""

    login_url: str
    client_id: str | None
    port: int = 1717
    ca_cert: str | None = None
    api_version: str = "60.0"
    px_api_url: str | None = None
    px_api_key: str | None = None
    status_url: str | None = None
    keep: bool = True  # keep the sign-in in the keychain (never in a demo)
    open_browser: bool = True
    refresh: bool = True  # ask Salesforce for a refresh token (False: a one-off recovery, --no-keep)
    method: str | None = None  # the sign-in chosen in Settings or on the command line (sf_cli, browser, device…)
    target_org: str | None = None  # with sf_cli: the Salesforce CLI alias or username


class Vendor(Protocol):
    """What a person clicks in the vendors' web UIs, performed for a terminal-only demo (the sandbox's)."""

    def pending(self, step: str) -> str | None:
        """The click this step waits for, in words ("Authorize in PX, then Allow as the integration user")."""

    def perform(self, step: str) -> str:
        """Perform it (blocking); returns what happened, in words."""

    def approve(self, url: str, user_code: str | None = None) -> None:
        """Stand in for the person at a Salesforce sign-in URL (log in, Allow)."""

    def documented(self) -> Snapshot:
        """What the admin reads off the platform's mapping screens (matching, mappings, push settings)."""


SYNC_STATES = ("waiting", "running", "completed", "failed")


@dataclass(frozen=True)
class SyncStatus:
    """What the APIs show of a sync under way: the platform's integration row and Salesforce's counts.

    ``state`` is the one story the sync step tells (panel, rows, lock and troubleshooting): "waiting" (nothing
    has moved since the watch began), "running" (records are moving), "completed" (the platform's last
    success moved past the start, or — without a platform API — the writes stopped growing), "failed" (the
    platform reports the integration DOWN, or an error and no success since the start: ``last_error`` says it
    as the platform wrote it)."""

    status: str | None  # UP / DOWN (platform), None where the platform shows nothing (Skilljar)
    last_success: datetime | None
    last_error: str | None
    records_processed: int | None
    written_since: int | None  # records the integration user wrote in Salesforce since the re-authorization
    total: int | None  # what a full pass touches (the org's Accounts and Contacts), for a progress bar
    at: datetime = field(default_factory=utc_now)
    state: str = "waiting"  # SYNC_STATES
    written_by_object: dict[str, int] = field(default_factory=dict)  # object → records written since
    since: datetime | None = None  # the moment the watch (or the click) counts from

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    def words(self) -> str:
        """One line, the same wherever the sync is shown."""
        if self.state == "failed":
            return ("the sync failed: the platform reports the integration "
                    f"{self.status or 'in error'}: {self.last_error or 'no error given'}")
        if self.state == "completed":
            arrived = f": {self.written_since:,} record(s) written in Salesforce" if self.written_since else ""
            return "the sync completed" + arrived
        if self.state == "running":
            return "the sync is running" + (f": {self.written_since:,} record(s) written so far"
                                            if self.written_since else "")
        return "waiting for the sync to start"


@dataclass(frozen=True)
class SignOutResult:
    """What ``Recovery.sign_out`` / ``end_sign_in`` did with the sign-in, and one line saying so."""

    revoked: bool  # Salesforce revoked it: it works nowhere any more
    forgotten: bool  # no copy is left on this machine (keychain, file, memory)
    kept: bool  # the person chose to keep it: nothing was done
    store: str  # where it was kept: keychain, file or memory
    message: str


@dataclass(frozen=True)
class ReportFiles:
    report: Path
    bundle: Path
    screenshot: Path | None  # the checklist picture (SVG)
    png: Path | None = None  # the same as PNG, where a converter is installed


class Recovery:
    """A recovery under way: the session, its navigator and, once signed in, the connection."""

    def __init__(self, profile: str, setup: SignInSetup | None, session: RecoverySession, *,
                 demo: DemoInfo | None = None, vendor: Vendor | None = None, clock: Clock = utc_now,
                 demo_scenario: str | None = None) -> None:
        """``setup`` None: what the wizard reaches is not known yet (the demo's sandbox still starting) —
        ``attach`` gives it; every network job waits for it (cancellably) while the screens are already up."""
        from sfwizard.profiles import load_profile

        self.profile: Profile = load_profile(profile)
        self.setup: SignInSetup = setup  # type: ignore[assignment]  # set before any job runs (ready)
        self.session = session
        self.demo = demo
        self.demo_scenario = demo_scenario or (demo.scenario if demo is not None else session.demo_scenario)
        self.vendor = vendor
        self.clock = clock
        self.connection: Connection | None = None
        self.snapshot: Snapshot | None = None
        self._known_article: str | None = None  # a title the admin typed on the Knowledge step
        self.documented: Snapshot | None = None  # the demo's reading of the platform's mapping screens
        self.cancel_token = CancelToken()
        self._io = threading.Lock()
        self.ready = threading.Event()
        if setup is not None:
            self.ready.set()
        self._listeners: list[Callable[[set[str]], None]] = []
        self.navigator = Navigator(self.profile, session, conditions=self.condition, extra_gate=self._extra_gate)
        self.navigator.use_basis(self.basis)
        if session.snapshot_path:
            try:
                self.snapshot = _load_snapshot(Path(session.snapshot_path))
            except SfwizardError as exc:  # a damaged file stays on disk; the step asks to save it again
                log.warning("the saved snapshot could not be read: %s", exc.message)

    def attach(self, setup: SignInSetup, *, demo: DemoInfo | None = None, vendor: Vendor | None = None) -> None:
        """What the wizard reaches, once known (the demo's sandbox is up): the jobs waiting for it go on."""
        self.setup = setup
        if demo is not None:
            self.demo = demo
        if vendor is not None:
            self.vendor = vendor
        self.ready.set()
        self.changed()

    # -- plumbing ----------------------------------------------------------------------------------
    @contextmanager
    def _job(self) -> Iterator[None]:
        """One network job at a time; a cancel from before this job started does not stop it."""
        with self._io:
            self.cancel_token.reset()
            while not self.ready.is_set():  # the demo's sandbox still starting: wait, as cancellably as a request
                self.cancel_token.wait(0.05)
            yield

    # -- state: what every result is judged on, and who hears when it changes ------------------------------
    def basis(self) -> dict[str, str]:
        """What a result is judged on (see ``navigator.BASIS_KEYS``): a change makes the results built on the old
        value stale, and the steps showing them run them again."""
        import hashlib

        who = self.signed_in
        snap = self.snapshot
        setup = self.setup

        def digest(*parts: object) -> str:
            return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]

        facts = self.session.facts
        security = digest((facts.get("security_window") or {}).get("value"),
                          (facts.get("security_egress") or {}).get("value"))
        return {"org": who.org_id if who else "", "user": who.user_id if who else "",
                "snapshot": digest(snap) if snap is not None else "", "security": security,
                "reauthorized_at": self.session.reauthorized_at or "",
                "disconnected_at": self.session.disconnected_at or "",
                "article": self._known_article or "",
                "platform": digest(setup.px_api_url, setup.px_api_key, setup.status_url) if setup else ""}

    def subscribe(self, listener: Callable[[set[str]], None]) -> None:
        """``listener(dropped_ids)`` after the basis changed (called on the thread that changed it)."""
        self._listeners.append(listener)

    def changed(self) -> set[str]:
        """Something results are judged on changed: drop what no longer stands, reopen the steps that relied on
        it, and tell the listeners (the wizard redraws and runs the step in view again)."""
        gone = self.navigator.invalidate()
        if gone:
            self.navigator.reopen_steps_of(gone)
        self.notify(gone)
        return gone

    def notify(self, gone: set[str] | None = None) -> None:
        """Tell the listeners the state moved (a fact, a person's action) without anything becoming stale."""
        gone = gone or set()
        for listener in list(self._listeners):
            try:
                listener(gone)
            except Exception:  # noqa: BLE001 - a listener's fault must not stop the change
                log.exception("a listener failed")

    @property
    def known_article(self) -> str | None:
        return self._known_article

    @known_article.setter
    def known_article(self, value: str | None) -> None:
        value = value or None
        if value != self._known_article:
            self._known_article = value
            self.changed()

    def snapshot_elsewhere(self) -> tuple[str, str] | None:
        """(the snapshot's org, the signed-in org) when the saved snapshot was taken in another org than the one
        the wizard is signed in to now (a sign-in fixed after the snapshot): it must be saved again here, or the
        step skipped — never silently judged against the other org's fields."""
        who, snap = self.signed_in, self.snapshot
        if who is None or snap is None or not snap.org.id or snap.org.id[:15] == who.org_id[:15]:
            return None
        there = f"{snap.org.name or snap.org.id}" + (" (SANDBOX)" if snap.org.sandbox else "")
        return there, f"{who.org_name} ({who.kind})"

    def _extra_gate(self, step_id: str) -> Gate | None:
        """A step's own rule beside its checks, derived each time (never recorded from a screen's redraw): the
        mappings step wants a snapshot of the org signed in to; the checklist step opens when every item is
        proven, confirmed or not applicable."""
        if step_id == "mappings":
            wrong = self.navigator.results.get("identity.signed_in_org")
            if wrong is not None and wrong.status == Status.FAIL:
                return Gate(False, "sfwizard is signed in to another org than the one the platform's data lives in "
                                   f"(step 2: {wrong.summary}): sign in there first — a snapshot taken here would "
                                   "describe the wrong org", "org.wrong_for_snapshot", wrong.id)
            elsewhere = self.snapshot_elsewhere()
            if elsewhere is not None:
                return Gate(False, f"the snapshot is of {elsewhere[0]}, but sfwizard is signed in to {elsewhere[1]}: "
                                   "take it again from this org (t), or sign in to that org (step 2)",
                                   "snapshot.other_org")
            return None
        if step_id != "checklist":
            return None
        items = self.checklist()
        open_items = [it for it in items if not it.done]
        if not items:
            return Gate(False, "the checklist has no items for this profile", "checklist.open")
        if open_items:
            first = open_items[0]
            return Gate(False, f"{len(open_items)} of {len(items)} item(s) open — {first.item.item}: {first.why}",
                        "checklist.open")
        return None

    def cancel(self) -> None:
        """Stop the job under way at its next request or wait."""
        self.cancel_token.cancel()

    @property
    def signed_in(self) -> SignedIn | None:
        return self.connection.identity if self.connection is not None else None

    def condition(self, name: str) -> bool | None:
        """Facts about this tenant the steps and the checklist depend on; None while not known."""
        snap = self.snapshot or (self.connection.snapshot if self.connection else None)
        if name == "knowledge":
            if not self.profile.products or not self.profile.products.get("knowledge"):
                return False
            return None if snap is None else bool(snap.knowledge.used)
        if name == "custom_objects":
            return None if snap is None else bool(snap.custom_objects)
        if name == "security_review":  # the Security review step, offered once the wizard shows its pane
            return bool(self.offer_security_step)
        return None

    def close(self) -> None:
        self.cancel()
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        self.session.release()

    # -- signing in ------------------------------------------------------------------------------------
    def saved_sign_in(self) -> TokenSet | None:
        """The sign-in kept from an earlier run (never in a demo)."""
        if not self.setup.keep:
            return None
        from sfwizard.integrations import credentials

        try:
            return credentials.load()
        except SfwizardError as exc:
            log.info("the saved sign-in cannot be used: %s", exc.message)
            return None

    def _open(self, tokens: TokenSet) -> SignedIn:
        from sfwizard.integrations import credentials

        endpoints = Endpoints(instance_url=tokens.instance_url, access_token=tokens.access_token,
                              api_version=self.setup.api_version, px_api_url=self.setup.px_api_url,
                              px_api_key=self.setup.px_api_key, status_url=self.setup.status_url,
                              ca_cert=self.setup.ca_cert)
        save = credentials.save if self.setup.keep else self._hold_sign_in
        try:
            conn = connect(self.profile.name, endpoints, tokens=tokens, save=save, demo=self.demo,
                           cancel=self.cancel_token, snapshot=self.snapshot)
        except ConnectionDiagnosed as diagnosed:  # refused for a reason that is the diagnosis: keep its results
            self.navigator.record(diagnosed.results)
            self.notify()
            raise
        where = "memory"
        if self.setup.keep and tokens.source != "sf-cli":
            where = credentials.save(tokens)
        self._note_sign_in(tokens, where)
        if self.connection is not None:
            self.connection.close()
        self.connection = conn
        if self.snapshot is not None:
            conn.snapshot = self.snapshot
        self.session.identity = conn.identity.to_dict()
        self.navigator.note_fact("signed_in", conn.identity.username)
        self.note_event("sign_in", f"sfwizard signed in to {conn.identity.org_name} ({conn.identity.org_id}, "
                                   f"{'SANDBOX' if conn.identity.is_sandbox else 'production'}) as "
                                   f"{conn.identity.username} — {_HOW.get(tokens.source, tokens.source)}")
        self._read_demo_alert()
        self.changed()  # another org or user: what was found about the old one goes
        return conn.identity

    def use_saved(self) -> SignedIn:
        tokens = self.saved_sign_in()
        if tokens is None:
            raise SfwizardError("no saved sign-in", "sign in with the browser, a device code or the Salesforce CLI",
                                fix="connect.choose")
        with self._job():
            return self._open(tokens)

    def sign_in_browser(self, on_url: Callable[[str], None], *, timeout: float = 300) -> SignedIn:
        """The PKCE browser flow; ``on_url`` shows the URL (a demo's stand-in may approve it)."""
        from sfwizard.integrations import signin

        client_id = self._client_id()
        with self._job():
            tokens = signin.web_login(self.setup.login_url, client_id, port=self.setup.port, timeout=timeout,
                                      open_browser=self.setup.open_browser, on_url=on_url,
                                      cancel=self.cancel_token, ca_cert=self.setup.ca_cert,
                                      scopes=self._scopes())
            return self._open(tokens)

    def sign_in_device(self, on_code: Callable[[str, str], None]) -> SignedIn:
        from sfwizard.integrations import signin

        client_id = self._client_id()
        with self._job():
            tokens = signin.device_login(self.setup.login_url, client_id, on_code=on_code,
                                         cancel=self.cancel_token, ca_cert=self.setup.ca_cert,
                                         scopes=self._scopes())
            return self._open(tokens)

    def sign_in_sf_cli(self, target_org: str | None = None) -> SignedIn:
        from sfwizard.integrations import signin

        with self._job():
            return self._open(signin.sf_cli_login(target_org))

    def _client_id(self) -> str:
        if not self.setup.client_id:
            from sfwizard.integrations.settings import Settings

            return Settings(login_url=self.setup.login_url).require_client_id()
        return self.setup.client_id

    def _conn(self) -> Connection:
        if self.connection is None:
            raise SfwizardError("not signed in to Salesforce yet", "go to the Connect Salesforce step",
                                fix="connect.sign_in")
        return self.connection

    # -- checks ------------------------------------------------------------------------------------------
    def run_checks(self, ids: Iterable[str], *, on_result: Callable[[CheckResult], None] | None = None,
                   progress: ProgressFn = no_progress) -> list[CheckResult]:
        """Run these checks (in registry order) and record their results as they come."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        with self._job():
            return self._run(wanted, on_result, progress)

    def _run(self, wanted: list[str], on_result: Callable[[CheckResult], None] | None,
             progress: ProgressFn) -> list[CheckResult]:
        basis = self.basis()  # what this run is judged on; a result that outlives it is not recorded
        conn = self.connection
        if conn is None:  # before the sign-in only what needs no Salesforce can run (status page, people)
            from sfwizard.recovery.client import IntegrationClient

            client = IntegrationClient(self.profile.name, Endpoints(
                px_api_url=self.setup.px_api_url, px_api_key=self.setup.px_api_key,
                status_url=self.setup.status_url, ca_cert=self.setup.ca_cert), cancel=self.cancel_token)
            try:
                ctx = client.context(snapshot=self.snapshot, known_article=self.known_article, **self._times())
                ctx.now = self.clock()
                self._attach_security(ctx)
                results = client.run_checks(ctx, only=wanted, progress=progress, on_result=on_result)
            finally:
                client.close()
        else:
            ctx = conn.context(known_article=self.known_article, **self._times())
            ctx.now = self.clock()
            self._attach_security(ctx)
            results = conn.client.run_checks(ctx, only=wanted, progress=progress, on_result=on_result)
        return self.navigator.record(results, basis)

    def _times(self) -> dict[str, Any]:
        parse = _parsed
        return {"reauthorized_at": parse(self.session.reauthorized_at),
                "disconnected_at": parse(self.session.disconnected_at)}

    def step_checks(self, step_id: str) -> list[str]:
        """The checks a step shows; none for a pane that is no step of the recovery (the settings)."""
        if step_id not in {s.id for s in self.navigator.steps}:
            return []
        return self.navigator.checks_of(step_id)

    def check_titles(self) -> dict[str, str]:
        """Check id → its title, for this profile (what a screen shows before a check has run)."""
        if not hasattr(self, "_titles"):
            from sfwizard.checks.runner import specs_for

            self._titles = {s.id: s.title for s in specs_for(self.profile.name)}
        return self._titles

    def needs_salesforce(self, cid: str) -> bool:
        """Whether a check reads Salesforce (so it waits for the wizard's sign-in)."""
        from sfwizard.checks.runner import specs_for

        spec = next((s for s in specs_for(self.profile.name) if s.id == cid), None)
        return spec is not None and bool({"salesforce", "data_org"} & set(spec.needs))

    def run_step(self, step_id: str, *, on_result: Callable[[CheckResult], None] | None = None,
                 progress: ProgressFn = no_progress) -> list[CheckResult]:
        return self.run_checks(self.step_checks(step_id), on_result=on_result, progress=progress)

    def results_of(self, step_id: str) -> list[CheckResult]:
        return [self.navigator.results[c] for c in self.step_checks(step_id) if c in self.navigator.results]

    def watch(self, step_id: str, *, on_round: Callable[[int, list[CheckResult], Gate], None],
              interval: float = 5.0, max_rounds: int | None = None) -> Gate:
        """Run the step's checks again and again until its gate opens (or Escape, or ``max_rounds``)."""
        rounds = 0
        while True:
            rounds += 1
            with self._job():
                results = self._run(self.step_checks(step_id), None, no_progress)
                gate = self.navigator.gate(step_id)
                on_round(rounds, results, gate)
                if gate.open or (max_rounds is not None and rounds >= max_rounds):
                    return gate
                self.cancel_token.wait(interval)

    def mark_reauthorize_started(self) -> None:
        """The moment the person clicks Authorize/Reconnect (the demo's click, the person saying so, or the new
        token seen): tokens and writes are judged from here, and "no token yet" becomes a finding."""
        if not self.session.reauthorized_at:
            self.session.reauthorized_at = self.clock().isoformat(timespec="seconds")
            self.session.save()
            click = (self.profile.ui or {}).get("authorize_click") or "Authorize"
            self.note_event("reauthorize", f"{click} clicked on the {self.profile.vendor} side")
        if not self.navigator.has_fact("reauthorize_started"):
            self.navigator.note_fact("reauthorize_started", self.session.reauthorized_at)
            self.changed()

    def set_disconnected_at(self, when: datetime, *, source: str = "entered") -> None:
        """The disconnect time (the platform's dashboard alert shows it; no API does). It may be set again (a
        mistyped date corrected): what was judged from the old one — the Backfill window, what arrived since,
        the fresh token — goes stale and runs again (``changed``). A time in the future is refused in one line."""
        utc = (when if when.tzinfo else when.astimezone()).astimezone(timezone.utc)
        if utc > self.clock() + timedelta(minutes=5):
            raise SfwizardError(f"{utc.astimezone():%Y-%m-%d %H:%M} is in the future: the disconnect has already "
                                "happened", "enter the date and time the dashboard's alert shows", fix="retry")
        before = self.session.disconnected_at
        self.session.disconnected_at = utc.isoformat(timespec="seconds")
        self.session.facts["disconnect_source"] = {"value": source, "at": utc_now().isoformat(timespec="seconds")}
        self.session.save()
        if before != self.session.disconnected_at:
            from sfwizard.recovery.picture import local_and_utc

            self.note_event("disconnect_set", f"disconnect time set to {local_and_utc(utc)} ({source})"
                            + (f", corrected from {local_and_utc(before)}" if before else ""))
            self.changed()

    # -- the sync ----------------------------------------------------------------------------------------
    def sync_status(self, started: datetime | None = None) -> SyncStatus:
        """One look at the sync: the platform's integration row, and what arrived in Salesforce; ``state`` is
        judged from ``started`` (default: when the sync was clicked or its watch began, else the
        re-authorization)."""
        since = started or self._sync_since()
        with self._job():
            conn = self._conn()
            ctx = conn.context(**self._times())
            status = last = error = processed = None
            platform = conn.client.platform
            if platform is not None:
                integ = ctx.px_integration()
                if integ is not None:
                    status, last, error, processed = (integ.status, integ.last_success, integ.last_error,
                                                      integ.records_processed)
            written = total = None
            by_object: dict[str, int] = {}
            user = ctx.integration_user()
            sf = conn.client.salesforce
            if sf is not None:
                total = sf.count("SELECT COUNT() FROM Account") + sf.count("SELECT COUNT() FROM Contact")
                reauthorized = self._times()["reauthorized_at"]
                if user is not None and reauthorized is not None:
                    from sfwizard.integrations.salesforce import soql_quote
                    from sfwizard.sftime import format_datetime

                    objects = list((self.profile.backfill or {}).get("objects", [])) or ["Account"]
                    written = 0
                    for obj in objects:
                        try:
                            n = sf.count(f"SELECT COUNT() FROM {obj} WHERE LastModifiedById = "
                                         f"{soql_quote(user['Id'])} AND LastModifiedDate >= "
                                         f"{format_datetime(reauthorized)}")
                        except SfwizardError:
                            continue  # an object this org lacks: the checks name it
                        by_object[obj] = n
                        written += n
            st = SyncStatus(status, last, error, processed, written, total, self.clock(),
                            written_by_object=by_object, since=since)
            state = sync_state(st, since)
            facts = self.session.facts
            if state == "failed" and "sync_clicked" in facts and "sync_failed" not in facts:
                state = "running"  # a click awaits its outcome: the platform shows the error from before it
            return replace(st, state=state)

    def watch_sync(self, on_status: Callable[[SyncStatus], None], *, interval: float = 3.0,
                   started_at: datetime | None = None, max_rounds: int | None = None) -> SyncStatus:
        """Watch until the platform's last success moves past ``started_at`` (or the writes stop growing).

        The watch's start is saved in the session: a watch cut short (the wizard killed, the machine off) and
        resumed later still counts a sync that finished in between, from the moment the first watch began."""
        started = started_at or self.clock()
        earlier = self._interrupted_watch()
        if earlier is not None and earlier < started:
            started = earlier
        else:
            self.navigator.note_fact("sync_watch_started", started.isoformat(timespec="seconds"))
        rounds = 0
        last_written = -1
        steady = 0
        first: SyncStatus | None = None
        while True:
            rounds += 1
            st = self.sync_status(started)
            first = first or st
            if st.status is None and st.written_since is not None:  # no platform API: writes stop growing
                steady = steady + 1 if st.written_since == last_written and st.written_since > 0 else 0
                last_written = st.written_since
                st = replace(st, state="completed" if steady >= 2 else st.state)
            # A failure that appears during the watch (the sync ran and failed: the platform's status or error
            # changed to it) ends the watch; one standing from before the click is shown as it is while the
            # watch waits for the click's outcome (PX shows the old error until the new sync ends).
            new_failure = sync_state(st, started) == "failed" and \
                (st.last_error, st.status) != (first.last_error, first.status)
            if new_failure:
                st = replace(st, state="failed")
            on_status(st)
            if st.state == "completed":
                self.navigator.note_fact("sync_completed", st.at.isoformat(timespec="seconds"))
                self.session.facts.pop("sync_failed", None)
                self.note_event("sync_completed", st.words())
                return st
            if new_failure:
                self.navigator.note_fact("sync_failed", {"error": st.last_error, "status": st.status})
                self.note_event("sync_failed", st.words())
                return st
            if max_rounds is not None and rounds >= max_rounds:
                return st
            self.cancel_token.wait(interval)

    def _interrupted_watch(self) -> datetime | None:
        """When a sync watch began that never saw its sync complete (None when there is none)."""
        facts = self.session.facts
        if "sync_completed" in facts:
            return None
        value = (facts.get("sync_watch_started") or {}).get("value")
        try:
            when = datetime.fromisoformat(str(value)) if value else None
        except ValueError:
            return None
        return when if when is None or when.tzinfo else when.replace(tzinfo=timezone.utc)

    # -- the vendor's UI, for a demo ------------------------------------------------------------------------
    def pending_click(self, step_id: str) -> str | None:
        """The click the demo's ``v`` makes at this step: the fix the current results call for (no network)."""
        if self.vendor is None:
            return None
        see = getattr(self.vendor, "see", None)
        if see is not None:
            see(self)
        return self.vendor.pending(step_id)

    def perform_click(self, step_id: str) -> str:
        if self.vendor is None:
            raise SfwizardError("only a demo performs the vendors' clicks", "a person clicks in the vendor's UI")
        see = getattr(self.vendor, "see", None)
        if see is not None:
            see(self)
        kind = getattr(self.vendor, "plan", lambda _s: None)(step_id)
        if kind in ("platform.authorize", "platform.authorize_right_org") or (kind is None and
                                                                              step_id == "reauthorize"):
            self.mark_reauthorize_started()
        if kind == "platform.sync" or (kind is None and step_id == "sync"):
            self.mark_sync_clicked()
        said = self.vendor.perform(step_id)
        if kind == "mappings.read":
            said_event = None  # the snapshot's save is the event
        elif kind == "platform.sync" or (kind is None and step_id == "sync"):
            said_event = None  # mark_sync_clicked noted it
        else:
            said_event = said
        if step_id == "mappings" or kind in ("platform.remap_push", "platform.knowledge"):
            self.documented = self.vendor.documented()
            # a mapping or the Knowledge settings changed on the platform: the admin documents the change
            if kind in ("platform.remap_push", "platform.knowledge") and self.session.snapshot_path:
                self.save_snapshot(self.documented, Path(self.session.snapshot_path))
        if said_event:
            self.note_event("click", said_event)
        return said

    # -- the snapshot ----------------------------------------------------------------------------------------
    def snapshot_draft(self) -> Snapshot:
        """What the mappings table starts from: the saved snapshot, the demo's, or one pre-filled from the APIs."""
        if self.documented is not None:
            return self.documented
        if self.snapshot is not None:
            return self.snapshot
        conn = self._conn()
        if conn.snapshot is not None:
            return conn.snapshot
        from sfwizard.recovery.prefill import snapshot_from_apis

        with self._job():
            return snapshot_from_apis(conn)

    def mapping_problems(self, mappings: Iterable[FieldMapping]) -> dict[int, str]:
        """Row index → what is wrong with it, judged against Salesforce's describe and the push rule."""
        rows = list(mappings)
        problems: dict[int, str] = {}
        prefix = self.profile.push_prefix
        for i, m in enumerate(rows):
            obj, _, name = m.salesforce.partition(".")
            if not obj or not name:
                problems[i] = "write the Salesforce field as Object.Field (for example Account.Industry)"
            elif m.direction == "px_to_sf" and prefix and not name.startswith(prefix):
                problems[i] = f"pushes go only into fields starting with {prefix}"
            elif "." not in m.platform:
                problems[i] = "write the platform attribute as account.name or user.name"
        objects = sorted({m.salesforce.partition(".")[0] for m in rows if "." in m.salesforce})
        conn = self.connection
        if conn is None or conn.client.salesforce is None or not objects:
            return problems
        with self._job():
            described = conn.client.salesforce.describe(objects)
        for i, m in enumerate(rows):
            if i in problems:
                continue
            obj, _, name = m.salesforce.partition(".")
            desc = described.get(obj)
            if desc is None:
                problems[i] = f"Salesforce has no object {obj} this user can see"
                continue
            field_ = next((f for f in desc.get("fields", []) if f["name"].lower() == name.lower()), None)
            if field_ is None:
                problems[i] = f"{obj} has no field {name} (or field-level security hides it)"
            elif m.direction == "px_to_sf" and not field_.get("updateable"):
                problems[i] = f"{m.salesforce} is read-only: a push cannot write it"
        return problems

    def save_snapshot(self, snap: Snapshot, path: Path | None = None) -> Path:
        from sfwizard import snapshot

        target = path or (self.session.dir / "snapshot.yaml")
        snapshot.save(snap, target)
        self.snapshot = snap
        if self.connection is not None:
            self.connection.snapshot = snap
        self.session.snapshot_path = str(target)
        self.navigator.note_fact("snapshot_saved", str(target))
        self.note_event("snapshot", f"mapping snapshot saved ({len(snap.mappings)} mapping(s))")
        self.changed()  # mapping findings judged on the old snapshot go
        return target

    def discard_snapshot(self) -> None:
        """Take the snapshot again (it names another org than the one signed in to): the next draft is read from
        the APIs of this org; the saved file stays on disk until a new one replaces it."""
        self.snapshot = None
        self.documented = None
        if self.connection is not None:
            self.connection.snapshot = None
        self.session.snapshot_path = None
        self.session.facts.pop("snapshot_saved", None)
        self.session.save()
        self.changed()

    # -- the checklist and the report ---------------------------------------------------------------------------
    def checklist(self) -> list[Any]:
        from sfwizard.recovery.checklist import evaluate

        return evaluate(self.profile, self.navigator.results, confirmations=self.session.confirmations,
                        facts=self.session.facts, condition=self.condition)

    def write_report(self, out_dir: Path, *, screenshot_svg: str | None = None) -> ReportFiles:
        """The report, the redacted support bundle and the checklist picture (SVG, and PNG where a converter is
        installed), drawn from the session — ``screenshot_svg`` is accepted and no longer used."""
        from sfwizard import paths
        from sfwizard.fileio import output_dir
        from sfwizard.recovery import picture, report

        del screenshot_svg  # the picture is drawn from the checklist, at a fixed size, not from the screen
        output_dir(out_dir)
        items = self.checklist()
        self.note_event("report", "report written")
        shot = out_dir / f"sfwizard-checklist-{self.session.id}.svg"
        png = picture.write(self.session, items, shot, vendor=self.profile.vendor)
        md = report.write_report(self.session, out_dir, checklist=items)
        extra = {"checklist.svg": shot}  # text only: every member of the bundle passes the redaction
        bundle = report.write_bundle(self.session, out_dir, log_file=paths.data_dir() / "sfwizard.log",
                                     checklist=items, extra=extra)
        self.navigator.note_fact("report_written", str(md))
        return ReportFiles(md, bundle, shot, png)


    # -- added for the hand-off (issue 19): the timeline, the Backfill window, what arrived ----------------------
    def note_event(self, kind: str, words: str) -> None:
        """One line of the session's timeline (the report's "What was done"): sign-ins, clicks, the sync, the
        disconnect time set. Kept as the fact ``events`` (its newest 200 entries)."""
        events = list((self.session.facts.get("events") or {}).get("value") or [])
        events.append({"at": self.clock().isoformat(timespec="seconds"), "kind": kind, "words": words})
        self.session.facts["events"] = {"value": events[-200:], "at": events[-1]["at"]}
        self.session.save()

    def mark_sync_clicked(self) -> None:
        """The moment the person clicked Synchronize (PX) or Backfill (Skilljar): the sync is judged from here."""
        now = self.clock().isoformat(timespec="seconds")
        self.navigator.note_fact("sync_clicked", now)
        self.session.facts.pop("sync_failed", None)
        self.session.facts.pop("sync_completed", None)  # a new click: the outcome of this one is awaited
        self.session.save()
        click = (self.profile.ui or {}).get("sync_click") or ("Backfill" if self.profile.backfill else "Synchronize")
        self.note_event("sync_click", f"{click} clicked")

    def _sync_since(self) -> datetime | None:
        for name in ("sync_clicked", "sync_watch_started"):
            value = (self.session.facts.get(name) or {}).get("value")
            if value:
                try:
                    when = datetime.fromisoformat(str(value))
                except ValueError:
                    continue
                return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        return self._times()["reauthorized_at"]

    def disconnected_at(self) -> datetime | None:
        """The disconnect time as known now (entered, or read off the dashboard in a demo); None until known."""
        return self._times()["disconnected_at"]

    def backfill_window(self) -> BackfillWindow | None:
        """Skilljar's Backfill window from the disconnect time, as soon as it is known (no network: the header
        and the Impact step call it on every redraw); None for a platform without one or before the
        disconnect time is known."""
        days = (self.profile.backfill or {}).get("window_days")
        when = self.disconnected_at()
        if not days or when is None:
            return None
        source = str((self.session.facts.get("disconnect_source") or {}).get("value") or "entered")
        return backfill_window(when, int(days), self.clock(), source=source)

    def _read_demo_alert(self) -> None:
        """In a demo the stand-in reads the disconnect off the dashboard's alert, as the admin would, once."""
        read = getattr(self.vendor, "alert_time", None)
        if read is None or self.session.disconnected_at or not (self.profile.backfill or {}).get("window_days"):
            return
        try:
            when = read()
        except SfwizardError as exc:
            log.info("the demo could not read the dashboard's alert: %s", exc.message)
            return
        if when is not None:
            self.set_disconnected_at(when, source="read off the Skilljar dashboard's alert by the demo")

    def backfill_outcome(self) -> BackfillOutcome:
        """What happened after Backfill (or Synchronize), for the sync card: clicked when, what arrived in
        Salesforce per object since, and the state — from the session and the last results (no network)."""
        facts = self.session.facts
        clicked = (facts.get("sync_clicked") or {}).get("value")
        completed = (facts.get("sync_completed") or {}).get("value")
        failed = (facts.get("sync_failed") or {}).get("value")
        arrived: dict[str, int] = {}
        r = self.navigator.results.get("skilljar.backfill_arrived")
        if r is not None:
            counts = r.evidence.get("records") or {}
            if isinstance(counts, dict):
                arrived = {str(k): int(v) for k, v in counts.items() if isinstance(v, (int, float))}
        state = "failed" if failed else "completed" if completed else "running" if clicked else "waiting"
        return BackfillOutcome(clicked_at=clicked, completed_at=completed, state=state, arrived=arrived,
                               error=(failed or {}).get("error") if isinstance(failed, dict) else None)


    def first_fix(self, step_id: str | None = None) -> Any:
        """What to fix first (a ``remedies.Remedy``), from the same results the step shows: the step's own, and
        any failing elsewhere (a permission named at Re-authorize is why a sync fails later). None when
        nothing is wrong."""
        from sfwizard.recovery.remedies import first_remedy

        results = self.navigator.results
        mine = set(self.step_checks(step_id)) if step_id else set(results)
        pool = [r for cid, r in results.items() if cid in mine or r.status == Status.FAIL]
        confirmed = [c for c in results if self.navigator.confirmed(c) is not None]
        return first_remedy(pool, all_results=results, vendor=self.profile.vendor,
                            backfill=bool(self.profile.backfill), confirmed=confirmed)

    def lock(self, step_id: str) -> Gate:
        """The step's gate, told the way the panel and the rows tell it: after a sync that ran and failed, the
        failure with the platform's error (not "first run the sync"); and, when something fails, what to fix
        first. The wizard shows this rather than ``navigator.gate`` (the same decision, the same codes, plus
        ``sync.failed``)."""
        gate = self.navigator.gate(step_id)
        if gate.open:
            return gate
        facts = self.session.facts
        failed = (facts.get("sync_failed") or {}).get("value")
        fix = self.first_fix(step_id)
        tail = f" — fix first: {fix.words}" if fix is not None and fix.kind != "platform.sync" else ""
        if step_id == "sync" and isinstance(failed, dict) and "sync_completed" not in facts:
            said = f"{failed.get('status') or 'in error'}: {failed.get('error') or 'no error given'}"
            return Gate(False, f"the sync ran and failed — the platform reports {said}" + (
                tail or " — click it again once that is fixed"), "sync.failed", "token.platform_status")
        if gate.code in ("check.failed", "check.warned") and tail:
            return Gate(False, gate.reason + tail, gate.code, gate.check_id)
        return gate

    # -- how long the sign-in is kept (issue 20: kept for the recovery session, revoked at its end) -------------
    # The wizard's sign-in lives as long as the recovery session: kept (the OS keychain where there is one, else
    # a 0600 file; in memory only for a demo or a one-off --no-keep run) so a resumed session needs no new
    # sign-in, and revoked at Salesforce when the session ends unless the person chose to keep it.
    # ``session.sign_in_state`` records where it is, whether it is kept, and when it was revoked.

    _held: TokenSet | None = None  # the sign-in in use (for sign_out when it is kept in memory only)

    def _scopes(self) -> str:
        from sfwizard.integrations import signin

        return signin.SCOPES if self.setup.refresh else signin.ONE_OFF_SCOPES

    def _hold_sign_in(self, tokens: TokenSet) -> None:
        """Where a sign-in kept in memory only lives (a rotated refresh token replaces the old one here)."""
        self._held = tokens

    def _note_sign_in(self, tokens: TokenSet, where: str) -> None:
        self._held = tokens
        store = "keychain" if where == "keyring" else "memory" if where == "memory" else "file"
        previous = self.session.sign_in_state
        self.session.sign_in_state = {"store": store, "kept": bool(previous.get("kept", False)),
                                      "revoked_at": None, "source": tokens.source,
                                      "refresh_token": bool(tokens.refresh_token)}
        self.session.save()

    def sign_in_store(self) -> str | None:
        """Where this session's sign-in is kept: "keychain", "file", "memory", or None before any sign-in."""
        return self.session.sign_in_state.get("store")

    def keep_sign_in(self, keep: bool) -> None:
        """The person's choice: keep the sign-in after this recovery session ends (True), or have it revoked then
        (False, the default). Recorded in the session; nothing is revoked here."""
        self.session.sign_in_state = {**self.session.sign_in_state, "kept": bool(keep)}
        self.session.save()

    def sign_out(self, revoke: bool = True) -> SignOutResult:
        """Revoke the sign-in at Salesforce (``revoke``: its refresh token, which ends its access tokens too) and
        forget it here (keychain, file, memory); the connection closes. A sign-in reused from the Salesforce CLI is
        only forgotten: the CLI's login is its own (``sf org logout`` ends it). Blocks: call from a worker."""
        from sfwizard.integrations import credentials, signin

        state = dict(self.session.sign_in_state)
        store = str(state.get("store") or "memory")
        tokens = self._held
        if store in ("keychain", "file"):
            try:
                tokens = credentials.load() or tokens  # the newest copy: a refresh may have rotated it
            except SfwizardError:
                pass
        revoked = False
        if revoke and tokens is not None and tokens.source != "sf-cli":
            with self._io:
                revoked = signin.revoke(tokens, ca_cert=self.setup.ca_cert)
        if store in ("keychain", "file"):
            credentials.delete()
        self._held = None
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        now = self.clock().isoformat(timespec="seconds")
        self.session.sign_in_state = {**state, "store": store, "kept": False,
                                      "revoked_at": now if revoked else state.get("revoked_at"),
                                      "forgotten_at": now}
        self.session.save()
        self.navigator.note_fact("signed_out", "revoked" if revoked else "forgotten")
        if tokens is None:
            message = "No sign-in was held."
        elif tokens.source == "sf-cli":
            message = "Forgot the reused Salesforce CLI login (the CLI keeps its own; `sf org logout` ends it)."
        elif revoked:
            message = "Signed out: Salesforce revoked the sign-in and no copy is kept on this machine."
        elif revoke:
            message = ("The copy on this machine is deleted, but Salesforce could not be reached to revoke the "
                       "sign-in: revoke it in Setup → Connected Apps OAuth Usage.")
        else:
            message = "The copy on this machine is deleted; the sign-in was not revoked at Salesforce."
        return SignOutResult(revoked=revoked, forgotten=True, kept=False, store=store, message=message)

    def end_sign_in(self) -> SignOutResult:
        """What the end of the recovery session does with the sign-in: nothing when the person chose to keep it
        (``keep_sign_in(True)``), else ``sign_out(revoke=True)``."""
        state = self.session.sign_in_state
        if state.get("kept") and state.get("store") in ("keychain", "file"):
            where = "the OS keychain" if state["store"] == "keychain" else "a private file on this machine"
            return SignOutResult(revoked=False, forgotten=False, kept=True, store=state["store"],
                                 message=f"The sign-in stays in {where} until you run `sfwizard logout`.")
        return self.sign_out(revoke=True)

    # -- the security review (issue 22): what the org shows about the integration, and its hardening ------------------
    # Offered as a step once the wizard has its pane (the step's checks run with every check all the same).
    offer_security_step: bool = False

    def security_settings(self) -> SecuritySettings:
        """The review's window and the vendor's egress ranges: what the admin set in this session, else the ranges
        saved for this profile (or, in a demo, the scenario's), else the profile's defaults."""
        from sfwizard.checks.security_settings import from_profile
        from sfwizard.recovery import security_store

        settings = from_profile(self.profile)
        saved = security_store.load_egress(self.profile.name)
        demo = self.demo.declared_egress if self.demo is not None else None
        egress = (self.session.facts.get("security_egress") or {}).get("value") or (demo if self.demo else saved)
        if egress:
            settings = settings.with_egress(list(egress.get("ranges") or []), str(egress.get("source") or ""))
        window = (self.session.facts.get("security_window") or {}).get("value") or {}
        return replace(settings, since=_parsed(window.get("since")), until=_parsed(window.get("until")))

    def set_security_window(self, since: datetime | None, until: datetime | None = None) -> SecuritySettings:
        """The review's window (None: 30 days before the disconnect, and now); saved in the session."""
        if since is not None and until is not None and until <= since:
            raise SfwizardError("the window ends before it starts", "pick an end after the start", fix="retry")
        if since is not None and since > self.clock():
            raise SfwizardError("the window starts in the future", "pick a start in the past", fix="retry")
        self.navigator.note_fact("security_window", {"since": since.isoformat() if since else None,
                                                     "until": until.isoformat() if until else None})
        self.changed()  # the review's rows were read over the old window
        return self.security_settings()

    def set_vendor_egress(self, ranges: Iterable[str], source: str) -> SecuritySettings:
        """The vendor's egress ranges as the admin declares them, with the page they came from: saved in the
        session and as this profile's setting (the next recovery of this platform starts from them)."""
        from sfwizard.checks.security_settings import check_range
        from sfwizard.recovery import security_store

        cleaned = [r.strip() for r in ranges if r and r.strip()]
        for r in cleaned:
            problem = check_range(r)
            if problem:
                raise SfwizardError(problem, "write each range as 34.201.12.0/24, 10.0.0.1-10.0.0.9 or one address",
                                    fix="retry")
        source = " ".join(source.split())
        if cleaned and not source:
            raise SfwizardError("say where the ranges come from", "paste the URL of the vendor's page that lists them",
                                fix="retry")
        egress = {"ranges": cleaned, "source": source}
        self.navigator.note_fact("security_egress", egress)
        if self.demo is None:  # a demo's ranges are the scenario's: never the platform's saved setting
            security_store.save_egress(self.profile.name, egress)
        self.changed()  # the logins were judged against the old ranges
        return self.security_settings()

    def run_security_review(self, *, on_result: Callable[[CheckResult], None] | None = None,
                            progress: ProgressFn = no_progress) -> list[CheckResult]:
        """Every row of the review, over the window and with the egress ranges set (results recorded as they come)."""
        ids = [cid for cid, step in self.navigator._check_steps.items() if step == "security"]
        return self.run_checks(ids, on_result=on_result, progress=progress)

    def security_results(self) -> list[CheckResult]:
        return [r for r in self.navigator.results.values() if r.step == "security"]

    def revocable_tokens(self) -> list[dict[str, Any]]:
        """The tokens of the vendor's apps held by others than the integration user, as the last review read them:
        {user_id, user, name, app, created, last_used, use_count} (no DeleteToken: it is read again to revoke)."""
        r = self.navigator.results.get("sec.tokens")
        tokens = (r.evidence.get("tokens") or []) if r is not None else []
        return [{k: t.get(k) for k in ("user_id", "user", "name", "app", "created", "last_used", "use_count")}
                for t in tokens if not t.get("integration_user")]

    def revoke_token(self, user_id: str, app: str, *, who: str, confirmed: bool = False) -> dict[str, Any]:
        """Revoke one user's token of the vendor's app, once a person confirmed it: its DeleteToken read now, sent
        to the revoke endpoint (``/services/oauth2/revoke?token=<DeleteToken>``), the OauthToken row gone and the
        token dead. Recorded in the session (who, when, which); the DeleteToken is never kept or shown."""
        if not confirmed:
            raise SfwizardError("revoking a token needs a person's confirmation", "confirm it, then revoke",
                                fix="retry")
        if not who.strip():
            raise SfwizardError("say who revokes the token", "enter your name", fix="retry")
        from sfwizard.integrations.salesforce import soql_quote
        from sfwizard.redact import default as redactor

        with self._job():
            conn = self._conn()
            sf = conn.client.salesforce
            assert sf is not None
            rows = sf.query("SELECT UserId, User.Username, AppName, CreatedDate, DeleteToken FROM OauthToken WHERE "
                            f"UserId = {soql_quote(user_id)} AND AppName = {soql_quote(app)}")
            if not rows:
                raise SfwizardError(f"no {app} token of that user is left", "run the review again to see what is",
                                    fix="retry")
            done: list[dict[str, Any]] = []
            for row in rows:
                token = str(row.get("DeleteToken") or "")
                if not token:
                    raise SfwizardError("Salesforce shows no DeleteToken for this token to the signed-in user",
                                        "revoke it in Setup → Connected Apps OAuth Usage instead", fix="retry")
                redactor().add(token)
                resp = conn.client.http.request("POST", sf.instance_url + "/services/oauth2/revoke", label="oauth",
                                                data={"token": token}, retry=False)
                if resp.status_code != 200:
                    raise SfwizardError(f"Salesforce refused to revoke the token (HTTP {resp.status_code})",
                                        "revoke it in Setup → Connected Apps OAuth Usage instead", fix="retry")
                done.append({"user_id": row.get("UserId"), "user": (row.get("User") or {}).get("Username"),
                             "app": row.get("AppName"), "created": row.get("CreatedDate")})
        record = {"who": " ".join(who.split()), "at": self.clock().isoformat(timespec="seconds"), "tokens": done}
        earlier = (self.session.facts.get("security_revocations") or {}).get("value") or []
        self.navigator.note_fact("security_revocations", [*earlier, record])
        return record

    def write_permission_set(self, folder: Path | None = None) -> Path:
        """The least-privilege permission set the review proposes, written as a Salesforce DX project to deploy
        (never applied here); returns the permission set file's path. Recorded as a fact of the session."""
        from sfwizard.checks.security_proposal import needs
        from sfwizard.recovery.permission_set import write_project

        with self._job():
            conn = self._conn()
            ctx = conn.context(**self._times())
            self._attach_security(ctx)
            proposal = needs(ctx)
        target = write_project(proposal, folder or (self.session.dir / "least-privilege"), self.setup.api_version)
        self.navigator.note_fact("permission_set_written", str(target))
        return target

    def _attach_security(self, ctx: Any) -> None:
        from sfwizard.checks.security_settings import attach

        attach(ctx, self.security_settings())

    def security_window(self) -> dict[str, Any] | None:
        """The window the last review read (its since, until, disconnect and incident window)."""
        for r in self.security_results():
            if isinstance(r.evidence.get("window"), dict):
                return dict(r.evidence["window"])
        return None



_HOW = {"web": "the browser sign-in", "device": "a device code", "sf-cli": "a Salesforce CLI login",
        "saved": "the saved sign-in"}


def sync_state(st: SyncStatus, since: datetime | None) -> str:
    """The sync's state from what the APIs show (``SyncStatus.state``), judged from ``since``."""
    moved = st.last_success is not None and since is not None and st.last_success >= since
    if st.status is not None:  # a platform API shows the integration
        if moved and st.status == "UP" and not st.last_error:
            return "completed"
        if st.status != "UP" or (st.last_error and not moved):
            return "failed"
    if st.written_since:
        return "running"
    return "waiting"


@dataclass(frozen=True)
class BackfillWindow:
    """Skilljar's self-service Backfill window: from the disconnect, ``window_days`` long."""

    disconnected_at: datetime  # UTC
    deadline: datetime  # UTC
    remaining: timedelta  # negative once passed
    level: str  # "ok", "amber" (under 3 days), "red" (under 1 day), "passed"
    window_days: int
    source: str = "entered"  # where the disconnect time came from, in words

    @property
    def deadline_local(self) -> datetime:
        return self.deadline.astimezone()

    @property
    def passed(self) -> bool:
        return self.level == "passed"

    def left_words(self) -> str:
        if self.passed:
            return f"passed {_span(-self.remaining)} ago"
        return f"{_span(self.remaining)} left"

    def words(self) -> str:
        """One line for the header and the Impact step: the deadline in local time and UTC, and what is left."""
        local, utc = self.deadline_local, self.deadline
        if local.utcoffset() == utc.utcoffset():  # the person's time is UTC: said once
            return f"Backfill deadline {utc:%Y-%m-%d %H:%M} UTC — {self.left_words()}"
        return (f"Backfill deadline {local:%Y-%m-%d %H:%M} {local:%Z} ({utc:%H:%M} UTC"
                + (f", {utc:%Y-%m-%d}" if utc.date() != local.date() else "") + f") — {self.left_words()}")


def backfill_window(disconnected_at: datetime, window_days: int, now: datetime, *,
                    source: str = "entered") -> BackfillWindow:
    """The window for a disconnect at ``disconnected_at``: its deadline, what is left at ``now``, and its level
    ("amber" under 3 days, "red" under 1, "passed" at or after the deadline)."""
    start = (disconnected_at if disconnected_at.tzinfo else disconnected_at.replace(tzinfo=timezone.utc)
             ).astimezone(timezone.utc)
    deadline = start + timedelta(days=window_days)
    remaining = deadline - now
    level = ("passed" if remaining <= timedelta(0) else "red" if remaining < timedelta(days=1)
             else "amber" if remaining < timedelta(days=3) else "ok")
    return BackfillWindow(start, deadline, remaining, level, window_days, source)


def _span(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return f"{days} d {hours} h" if days else f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class BackfillOutcome:
    """What the sync card says after the click: when it was clicked, its state, and what arrived per object."""

    clicked_at: str | None
    completed_at: str | None
    state: str  # SYNC_STATES
    arrived: dict[str, int]
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.arrived.values())


def _parsed(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _load_snapshot(path: Path) -> Snapshot:
    from sfwizard import snapshot

    return snapshot.load(path)


def progress_fraction(p: Progress) -> float | None:
    return None if not p.total else min(1.0, p.done / p.total)


def failing(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [r for r in results if r.status == Status.FAIL]


def setup_from_settings(profile: str | None = None, flags: dict[str, Any] | None = None, *,
                        keep: bool = True) -> tuple[str, SignInSetup]:
    """The production setup: settings (``flags`` — the wizard's sign-in options —, the environment,
    config.yaml, the keychain); the sign-in kept for the session (``keep`` False, --no-keep: a one-off recovery —
    no refresh token asked for, the sign-in in memory only)."""
    from sfwizard.integrations import settings

    conf = settings.resolve({**(flags or {}), "profile": profile})
    return conf.profile, SignInSetup(login_url=conf.login_url, client_id=conf.client_id, port=conf.port,
                                     ca_cert=conf.ca_cert, api_version=conf.api_version,
                                     px_api_url=conf.px_api_url, px_api_key=conf.px_api_key,
                                     status_url=conf.status_url, keep=keep, open_browser=True, refresh=keep,
                                     method=conf.sign_in, target_org=conf.target_org)
