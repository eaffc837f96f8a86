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
from datetime import datetime, timezone
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


class Vendor(Protocol):
    """What a person clicks in the vendors' web UIs, performed for a terminal-only demo (the sandbox's)."""

    def pending(self, step: str) -> str | None:
        """The click this step waits for, in words ("Authorize in PX, then Allow as the integration user")."""

    def perform(self, step: str) -> str:
        """Perform it (blocking); returns what happened, in words."""

    def approve(self, url: str) -> None:
        """Stand in for the person at a Salesforce sign-in URL (log in, Allow)."""

    def documented(self) -> Snapshot:
        """What the admin reads off the platform's mapping screens (matching, mappings, push settings)."""


@dataclass(frozen=True)
class SyncStatus:
    """What the APIs show of a sync under way: the platform's integration row and Salesforce's counts."""

    status: str | None  # UP / DOWN (platform), None where the platform shows nothing (Skilljar)
    last_success: datetime | None
    last_error: str | None
    records_processed: int | None
    written_since: int | None  # records the integration user wrote in Salesforce since the re-authorization
    total: int | None  # what a full pass touches (the org's Accounts and Contacts), for a progress bar
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class ReportFiles:
    report: Path
    bundle: Path
    screenshot: Path | None


class Recovery:
    """A recovery under way: the session, its navigator and, once signed in, the connection."""

    def __init__(self, profile: str, setup: SignInSetup, session: RecoverySession, *,
                 demo: DemoInfo | None = None, vendor: Vendor | None = None, clock: Clock = utc_now) -> None:
        from sfwizard.profiles import load_profile

        self.profile: Profile = load_profile(profile)
        self.setup = setup
        self.session = session
        self.demo = demo
        self.vendor = vendor
        self.clock = clock
        self.connection: Connection | None = None
        self.snapshot: Snapshot | None = None
        self.known_article: str | None = None  # a title the admin typed on the Knowledge step
        self.documented: Snapshot | None = None  # the demo's reading of the platform's mapping screens
        self.cancel_token = CancelToken()
        self._io = threading.Lock()
        self.navigator = Navigator(self.profile, session, conditions=self.condition)
        if session.snapshot_path:
            try:
                self.snapshot = _load_snapshot(Path(session.snapshot_path))
            except SfwizardError as exc:  # a damaged file stays on disk; the step asks to save it again
                log.warning("the saved snapshot could not be read: %s", exc.message)

    # -- plumbing ----------------------------------------------------------------------------------
    @contextmanager
    def _job(self) -> Iterator[None]:
        """One network job at a time; a cancel from before this job started does not stop it."""
        with self._io:
            self.cancel_token.reset()
            yield

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
        save = credentials.save if self.setup.keep else (lambda _t: None)
        try:
            conn = connect(self.profile.name, endpoints, tokens=tokens, save=save, demo=self.demo,
                           cancel=self.cancel_token, snapshot=self.snapshot)
        except ConnectionDiagnosed as diagnosed:  # refused for a reason that is the diagnosis: keep its results
            self.navigator.record(diagnosed.results)
            raise
        if self.setup.keep and tokens.source != "sf-cli":
            credentials.save(tokens)
        if self.connection is not None:
            self.connection.close()
        self.connection = conn
        if self.snapshot is not None:
            conn.snapshot = self.snapshot
        self.session.identity = conn.identity.to_dict()
        self.navigator.note_fact("signed_in", conn.identity.username)
        return conn.identity

    def use_saved(self) -> SignedIn:
        tokens = self.saved_sign_in()
        if tokens is None:
            raise SfwizardError("no saved sign-in", "sign in with the browser, a device code or the Salesforce CLI")
        with self._job():
            return self._open(tokens)

    def sign_in_browser(self, on_url: Callable[[str], None], *, timeout: float = 300) -> SignedIn:
        """The PKCE browser flow; ``on_url`` shows the URL (a demo's stand-in may approve it)."""
        from sfwizard.integrations import signin

        client_id = self._client_id()
        with self._job():
            tokens = signin.web_login(self.setup.login_url, client_id, port=self.setup.port, timeout=timeout,
                                      open_browser=self.setup.open_browser, on_url=on_url,
                                      cancel=self.cancel_token, ca_cert=self.setup.ca_cert)
            return self._open(tokens)

    def sign_in_device(self, on_code: Callable[[str, str], None]) -> SignedIn:
        from sfwizard.integrations import signin

        client_id = self._client_id()
        with self._job():
            tokens = signin.device_login(self.setup.login_url, client_id, on_code=on_code,
                                         cancel=self.cancel_token, ca_cert=self.setup.ca_cert)
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
            raise SfwizardError("not signed in to Salesforce yet", "go to the Connect Salesforce step")
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
        self.navigator.record(results)
        return results

    def _times(self) -> dict[str, Any]:
        def parse(value: Any) -> datetime | None:
            if not value:
                return None
            try:
                dt = datetime.fromisoformat(str(value))
            except ValueError:
                return None
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)

        return {"reauthorized_at": parse(self.session.reauthorized_at),
                "disconnected_at": parse(self.session.disconnected_at)}

    def step_checks(self, step_id: str) -> list[str]:
        return self.navigator.checks_of(step_id)

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
        """The moment the person clicks Authorize/Reconnect: tokens and writes are judged from here."""
        if not self.session.reauthorized_at:
            self.session.reauthorized_at = self.clock().isoformat(timespec="seconds")
            self.session.save()

    def set_disconnected_at(self, when: datetime) -> None:
        self.session.disconnected_at = when.astimezone(timezone.utc).isoformat(timespec="seconds")
        self.session.save()

    # -- the sync ----------------------------------------------------------------------------------------
    def sync_status(self) -> SyncStatus:
        """One look at the sync: the platform's integration row, and what arrived in Salesforce."""
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
            user = ctx.integration_user()
            sf = conn.client.salesforce
            if sf is not None:
                total = sf.count("SELECT COUNT() FROM Account") + sf.count("SELECT COUNT() FROM Contact")
                since = self._times()["reauthorized_at"]
                if user is not None and since is not None:
                    from sfwizard.integrations.salesforce import soql_quote
                    from sfwizard.sftime import format_datetime

                    objects = list((self.profile.backfill or {}).get("objects", [])) or ["Account"]
                    written = 0
                    for obj in objects:
                        try:
                            written += sf.count(f"SELECT COUNT() FROM {obj} WHERE LastModifiedById = "
                                                f"{soql_quote(user['Id'])} AND LastModifiedDate >= "
                                                f"{format_datetime(since)}")
                        except SfwizardError:
                            continue  # an object this org lacks: the checks name it
            return SyncStatus(status, last, error, processed, written, total, self.clock())

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
        while True:
            rounds += 1
            st = self.sync_status()
            on_status(st)
            done = st.last_success is not None and st.last_success >= started and st.status == "UP"
            if st.status is None and st.written_since is not None:  # no platform API: writes stop growing
                steady = steady + 1 if st.written_since == last_written and st.written_since > 0 else 0
                last_written = st.written_since
                done = steady >= 2
            if done:
                self.navigator.note_fact("sync_completed", st.at.isoformat(timespec="seconds"))
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
        return self.vendor.pending(step_id) if self.vendor is not None else None

    def perform_click(self, step_id: str) -> str:
        if self.vendor is None:
            raise SfwizardError("only a demo performs the vendors' clicks", "a person clicks in the vendor's UI")
        if step_id in ("reauthorize",):
            self.mark_reauthorize_started()
        said = self.vendor.perform(step_id)
        if step_id == "mappings":
            self.documented = self.vendor.documented()
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
        return target

    # -- the checklist and the report ---------------------------------------------------------------------------
    def checklist(self) -> list[Any]:
        from sfwizard.recovery.checklist import evaluate

        return evaluate(self.profile, self.navigator.results, confirmations=self.session.confirmations,
                        facts=self.session.facts, condition=self.condition)

    def write_report(self, out_dir: Path, *, screenshot_svg: str | None = None) -> ReportFiles:
        from sfwizard import paths
        from sfwizard.fileio import output_dir, write_atomic
        from sfwizard.recovery import report
        from sfwizard.redact import default as redactor

        output_dir(out_dir)
        shot = None
        if screenshot_svg is not None:
            shot = out_dir / f"sfwizard-checklist-{self.session.id}.svg"
            write_atomic(shot, redactor().text(screenshot_svg).encode(), mode=0o600)
        md = report.write_report(self.session, out_dir, checklist=self.checklist())
        bundle = report.write_bundle(self.session, out_dir, log_file=paths.data_dir() / "sfwizard.log",
                                     checklist=self.checklist(), extra={"checklist.svg": shot} if shot else None)
        self.navigator.note_fact("report_written", str(md))
        return ReportFiles(md, bundle, shot)


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
            raise SfwizardError("the window ends before it starts", "pick an end after the start")
        if since is not None and since > self.clock():
            raise SfwizardError("the window starts in the future", "pick a start in the past")
        self.navigator.note_fact("security_window", {"since": since.isoformat() if since else None,
                                                     "until": until.isoformat() if until else None})
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
                raise SfwizardError(problem, "write each range as 34.201.12.0/24, 10.0.0.1-10.0.0.9 or one address")
        source = " ".join(source.split())
        if cleaned and not source:
            raise SfwizardError("say where the ranges come from", "paste the URL of the vendor's page that lists them")
        egress = {"ranges": cleaned, "source": source}
        self.navigator.note_fact("security_egress", egress)
        if self.demo is None:  # a demo's ranges are the scenario's: never the platform's saved setting
            security_store.save_egress(self.profile.name, egress)
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
            raise SfwizardError("revoking a token needs a person's confirmation", "confirm it, then revoke")
        if not who.strip():
            raise SfwizardError("say who revokes the token", "enter your name")
        from sfwizard.integrations.salesforce import soql_quote
        from sfwizard.redact import default as redactor

        with self._job():
            conn = self._conn()
            sf = conn.client.salesforce
            assert sf is not None
            rows = sf.query("SELECT UserId, User.Username, AppName, CreatedDate, DeleteToken FROM OauthToken WHERE "
                            f"UserId = {soql_quote(user_id)} AND AppName = {soql_quote(app)}")
            if not rows:
                raise SfwizardError(f"no {app} token of that user is left", "run the review again to see what is")
            done: list[dict[str, Any]] = []
            for row in rows:
                token = str(row.get("DeleteToken") or "")
                if not token:
                    raise SfwizardError("Salesforce shows no DeleteToken for this token to the signed-in user",
                                        "revoke it in Setup → Connected Apps OAuth Usage instead")
                redactor().add(token)
                resp = conn.client.http.request("POST", sf.instance_url + "/services/oauth2/revoke", label="oauth",
                                                data={"token": token}, retry=False)
                if resp.status_code != 200:
                    raise SfwizardError(f"Salesforce refused to revoke the token (HTTP {resp.status_code})",
                                        "revoke it in Setup → Connected Apps OAuth Usage instead")
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


def setup_from_settings(profile: str | None = None) -> tuple[str, SignInSetup]:
    """The production setup: settings (flags, environment, config.yaml), the saved sign-in kept."""
    from sfwizard.integrations import settings

    conf = settings.resolve({"profile": profile})
    return conf.profile, SignInSetup(login_url=conf.login_url, client_id=conf.client_id, port=conf.port,
                                     ca_cert=conf.ca_cert, api_version=conf.api_version,
                                     px_api_url=conf.px_api_url, px_api_key=conf.px_api_key,
                                     status_url=conf.status_url, keep=True, open_browser=True)
