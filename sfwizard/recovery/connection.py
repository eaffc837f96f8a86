"""One typed way to open a connection: the integration client, where everything lives, who is signed in
(org, user, production or SANDBOX), and the mapping snapshot.

``open_saved`` opens it from the saved sign-in (production); ``sfwizard.demo.open_demo`` opens the same
thing against the bundled sandbox. Every CLI command and the wizard go through one of the two, and the
Organization is read once per run, here.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sfwizard.cancel import CancelToken
from sfwizard.errors import SfwizardError
from sfwizard.recovery.client import Endpoints, IntegrationClient

if TYPE_CHECKING:
    from sfwizard.checks.base import CheckResult
    from sfwizard.checks.context import CheckContext
    from sfwizard.integrations.signin import TokenSet
    from sfwizard.snapshot import Snapshot

log = logging.getLogger("sfwizard")

ORG_FIELDS = "Id, Name, IsSandbox, InstanceName, OrganizationType"


@dataclass(frozen=True)
class SignedIn:
    """Who the wizard is signed in as, and where: read once per run, shown for the whole session."""

    org_id: str
    org_name: str
    instance: str
    is_sandbox: bool
    edition: str
    user_id: str
    username: str
    display_name: str = ""

    @property
    def kind(self) -> str:
        return "SANDBOX" if self.is_sandbox else "PRODUCTION"

    def line(self) -> str:
        kind = "SANDBOX" if self.is_sandbox else "production"
        return f"Signed in to {self.org_name} ({self.org_id}, {kind}, {self.instance}) as {self.username}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def organization_row(self) -> dict[str, Any]:
        """The Organization row as a query answers it (what the checks would otherwise query again)."""
        return {"Id": self.org_id, "Name": self.org_name, "IsSandbox": self.is_sandbox,
                "InstanceName": self.instance, "OrganizationType": self.edition}

    def userinfo(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "organization_id": self.org_id, "preferred_username": self.username,
                "name": self.display_name}


@dataclass(frozen=True)
class DemoInfo:
    """The bundled sandbox a demo runs against: where its admin page is (the vendors' UI stand-in)."""

    scenario: str
    admin_url: str
    login_url: str
    ca_cert: str
    # What the platform's dashboard shows a person and no API does (Skilljar's disconnect alert): in a demo
    # ``check`` reads it off the sandbox as the admin would; the wizard asks for it instead.
    disconnected_at: datetime | None = None
    # The vendor egress ranges the scenario's admin declared ({"ranges", "source"}): what a person types into the
    # Security review step, read off the sandbox's connection line in a demo.
    declared_egress: dict[str, Any] | None = None
    # The newest published version of each installed managed package, by namespace (a listing shows it, no
    # API does): in a demo read off the scenario.
    latest_versions: dict[str, str] | None = None


def read_identity(client: IntegrationClient, *, beside: Callable[[], Any] | None = None) -> SignedIn:
    """One Organization query and one userinfo call, sent together: opening a connection costs one round trip.
    ``beside``: one more read sent in the same round (a demo's sandbox state), done by the time this returns."""
    from concurrent.futures import ThreadPoolExecutor

    sf = client.salesforce
    if sf is None:
        raise SfwizardError("not signed in to Salesforce", "sign in first: sfwizard login", fix="connect.sign_in")
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="identity") as pool:
        rows_f = pool.submit(sf.query, f"SELECT {ORG_FIELDS} FROM Organization")
        me_f = pool.submit(sf.userinfo)
        if beside is not None:
            pool.submit(beside)
        try:
            rows = rows_f.result()
        except BaseException:
            me_f.cancel()
            raise
        me = me_f.result()
    if not rows:
        raise SfwizardError("Salesforce answered no Organization row for this sign-in",
                            "sign in again: sfwizard login", fix="connect.sign_in")
    org = rows[0]
    return SignedIn(org_id=str(org["Id"]), org_name=str(org.get("Name") or ""),
                    instance=str(org.get("InstanceName") or ""), is_sandbox=bool(org.get("IsSandbox")),
                    edition=str(org.get("OrganizationType") or ""), user_id=str(me.get("user_id") or ""),
                    username=str(me.get("preferred_username") or ""), display_name=str(me.get("name") or ""))


class Connection:
    """An open, signed-in connection. Close it (or use ``with``) to release its HTTP clients."""

    def __init__(self, client: IntegrationClient, identity: SignedIn, *, snapshot: Snapshot | None = None,
                 demo: DemoInfo | None = None) -> None:
        self.client = client
        self.identity = identity
        self.snapshot = snapshot
        self.demo = demo

    @property
    def endpoints(self) -> Endpoints:
        return self.client.endpoints

    @property
    def profile(self) -> str:
        return self.client.profile.name

    @property
    def source(self) -> str:
        return "demo" if self.demo is not None else "saved sign-in"

    def context(self, **kwargs: Any) -> CheckContext:
        """A check context that already knows the org and the signed-in user (no second query)."""
        kwargs.setdefault("snapshot", self.snapshot)
        if self.demo is not None and self.demo.disconnected_at is not None:
            kwargs.setdefault("disconnected_at", self.demo.disconnected_at)
        ctx = self.client.context(**kwargs)
        if self.demo is not None and self.demo.latest_versions:
            ctx.latest_versions.update(self.demo.latest_versions)
        ctx.memo("org", self.identity.organization_row)
        ctx.memo("userinfo", self.identity.userinfo)
        # The vendor egress ranges the security review holds logins against: the demo's, else those saved for
        # this platform (the admin declared them in an earlier recovery).
        from sfwizard.recovery import security_store

        egress = self.demo.declared_egress if self.demo is not None else security_store.load_egress(self.profile)
        if egress:
            from sfwizard.checks import security_settings

            security_settings.attach(ctx, security_settings.from_profile(ctx.profile).with_egress(
                list(egress.get("ranges") or []), str(egress.get("source") or "")))
        return ctx

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def refresher(tokens: TokenSet, save: Callable[[TokenSet], Any], ca_cert: str | None) -> Callable[[], str]:
    """Refresh-once for the Salesforce client: a rotated refresh token is saved before the next call."""
    from sfwizard.integrations import signin

    current = [tokens]

    def refresh() -> str:
        current[0] = signin.refresh(current[0], save=save, ca_cert=ca_cert)
        return current[0].access_token

    return refresh


def connect(profile: str, endpoints: Endpoints, *, tokens: TokenSet | None = None,
            save: Callable[[TokenSet], Any] | None = None, snapshot: Snapshot | None = None,
            demo: DemoInfo | None = None, cancel: CancelToken | None = None,
            beside: Callable[[IntegrationClient], Any] | None = None) -> Connection:
    """Build the client, read who and where once, and hand back the Connection (closed on failure).

    A failure that is itself a diagnosis — the org's API limit used up, the signed-in user's password expired,
    the user deactivated or frozen — raises ``ConnectionDiagnosed`` with the run's results (the cause named, the
    Salesforce checks skipped with why, the platform and status-page checks run); any other raises as before.
    """
    refresh = None
    if tokens is not None and tokens.refresh_token:
        refresh = refresher(tokens, save or (lambda _t: None), endpoints.ca_cert)
    client = IntegrationClient(profile, endpoints, refresh=refresh, cancel=cancel)
    try:
        identity = read_identity(client, beside=(lambda: beside(client)) if beside is not None else None)
    except BaseException as exc:
        try:
            if diagnosable(exc):
                raise diagnose(client, exc, snapshot=snapshot, demo=demo) from exc
        finally:
            client.close()
        raise
    return Connection(client, identity, snapshot=snapshot, demo=demo)


class ConnectionDiagnosed(SfwizardError):
    """Connecting failed in a way that is the diagnosis: ``results`` say why (the first Salesforce check fails
    with the cause and its fix, the others are skipped with why; what needs no Salesforce still ran).
    ``exit_code`` is 1, as for any run that found a problem; ``api_calls`` what the run cost."""

    def __init__(self, cause: SfwizardError, results: list[CheckResult], profile: str,
                 api_calls: dict[str, int]) -> None:
        super().__init__(cause.message, cause.hint)
        self.cause = cause
        self.results = results
        self.profile = profile
        self.api_calls = api_calls
        self.exit_code = 1


def diagnosable(exc: BaseException) -> bool:
    """Whether a failure to connect names its cause: a used-up API limit, an expired password, a deactivated or
    frozen user. A lost sign-in, a refused or silent server are not: nothing was asked (exit 2)."""
    from sfwizard.integrations.salesforce import ApiLimitExceeded, PasswordExpired
    from sfwizard.integrations.signin import SignInRequired

    if isinstance(exc, (ApiLimitExceeded, PasswordExpired)):
        return True
    return isinstance(exc, SignInRequired) and "inactive user" in exc.message


def diagnose(client: IntegrationClient, exc: BaseException, *, snapshot: Snapshot | None = None,
             demo: DemoInfo | None = None) -> ConnectionDiagnosed:
    """Run every check with Salesforce stopped by ``exc``: the first Salesforce check (the sign-in's,
    before.salesforce_signin) fails with the cause, the rest are skipped with why."""
    ctx = client.context(snapshot=snapshot,
                         disconnected_at=demo.disconnected_at if demo is not None else None)
    ctx.note_stop(exc)
    results = client.run_checks(ctx)
    assert isinstance(exc, SfwizardError)
    return ConnectionDiagnosed(exc, results, client.profile.name, dict(client.counter.counts))


def load_snapshot(path: Path | None) -> Snapshot | None:
    if path is None:
        return None
    from sfwizard import snapshot

    return snapshot.load(path)


@contextlib.contextmanager
def open_saved(profile: str | None = None, *, snapshot_path: Path | None = None,
               cancel: CancelToken | None = None) -> Iterator[Connection]:
    """The production path: settings, the saved sign-in (refreshed once on expiry), the client."""
    from sfwizard.integrations import credentials, settings

    conf = settings.resolve({"profile": profile})
    snapshot = load_snapshot(snapshot_path)  # a broken file stops here, before any network call
    tokens = credentials.load()
    if tokens is None:
        raise SfwizardError("not signed in to Salesforce",
                            "sign in first: sfwizard login (or try the demo: sfwizard --demo)", fix="connect.sign_in")
    endpoints = Endpoints(instance_url=tokens.instance_url, access_token=tokens.access_token,
                          api_version=conf.api_version, px_api_url=conf.px_api_url, px_api_key=conf.px_api_key,
                          status_url=conf.status_url, ca_cert=conf.ca_cert)
    with connect(conf.profile, endpoints, tokens=tokens, save=credentials.save, snapshot=snapshot,
                 cancel=cancel) as conn:
        yield conn
