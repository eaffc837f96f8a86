"""The settings a first real run needs, as the wizard's settings pane reads and writes them, and the ways to
sign in that work here.

``SetupForm`` holds each field's value and where it came from (the command line, the environment, the settings
file, the keychain, or a default and whose), checks a value as it is set (one clear line, with a fix code, for a
bad one), saves what changed (``config.yaml``; the platform's API key to the keychain, or a 0600 file) and tests
a field against the service it names (blocking: call ``test`` from a worker). ``sign_in_choices`` lists the ways
to sign in in the order the Connect step offers them, each available or greyed with why.
"""

from __future__ import annotations

import json
import logging
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sfwizard.errors import SfwizardError
from sfwizard.recovery.setup_help import BY_KEY, FIELDS, FieldHelp

if TYPE_CHECKING:
    from sfwizard.integrations.settings import Settings
    from sfwizard.recovery.wizard import SignInSetup

log = logging.getLogger("sfwizard")

SECRET_KEYS = ("px_api_key",)
CONFIG_FIELDS = ("sign_in", "login_url", "client_id", "port", "px_api_url", "status_url", "ca_cert")


@dataclass(frozen=True)
class FieldView:
    """One field as the pane shows it: never a secret's value (``shown`` masks it)."""

    key: str
    label: str
    kind: str
    shown: str  # the value as text, a secret as "set (…)" or "" when empty
    source: str  # where the value came from, in words
    help: FieldHelp
    changed: bool = False  # set in the pane and not saved yet
    empty: bool = False


@dataclass(frozen=True)
class FieldTest:
    """A field's test: ``reason`` is a code a program relies on ("ok" when it passed), ``words`` one line."""

    key: str
    ok: bool
    reason: str
    words: str
    fix: str = ""  # the pane/key that mends it (errors.FIXES), "" when it passed


@dataclass
class SetupForm:
    profile: str
    settings: Settings
    demo: bool = False
    _edits: dict[str, Any] = field(default_factory=dict)

    # -- loading ---------------------------------------------------------------------------------------
    @classmethod
    def load(cls, profile: str | None = None, flags: dict[str, Any] | None = None) -> SetupForm:
        """The settings of a real run: flags over the environment over config.yaml, the keychain for the key."""
        from sfwizard.integrations import settings

        conf = settings.resolve({**(flags or {}), "profile": profile or (flags or {}).get("profile")})
        return cls(conf.profile, conf)

    @classmethod
    def for_demo(cls, profile: str, setup: SignInSetup) -> SetupForm:
        """The demo's settings (the sandbox's addresses): shown and testable, never saved."""
        from sfwizard.integrations.settings import Settings

        conf = Settings(login_url=setup.login_url, client_id=setup.client_id, port=setup.port, profile=profile,
                        px_api_key=setup.px_api_key, status_url=setup.status_url, ca_cert=setup.ca_cert,
                        px_api_base=setup.px_api_url, sources={k: "demo" for k in BY_KEY})
        return cls(profile, conf, demo=True)

    # -- reading -----------------------------------------------------------------------------------------
    def fields(self) -> list[FieldView]:
        """The fields this profile shows, in the pane's order."""
        return [self.view(f.key) for f in FIELDS if self.profile in f.profiles]

    def value(self, key: str) -> Any:
        if key in self._edits:
            return self._edits[key]
        conf = self.settings
        if key == "px_api_url":
            return conf.px_api_base or conf.px_region
        if key == "status_url":
            return conf.status_url or self._profile().status_page
        return getattr(conf, key, None)

    def view(self, key: str) -> FieldView:
        help_ = BY_KEY[key]
        value = self.value(key)
        empty = value in (None, "")
        if key in SECRET_KEYS:
            shown = "" if empty else "set (" + self._source_words(key).split(";")[0] + ")"
        else:
            shown = "" if empty else str(value)
        return FieldView(key, help_.label, help_.kind, shown, self._source_words(key), help_,
                         changed=key in self._edits, empty=empty)

    def _profile(self) -> Any:
        from sfwizard.profiles import load_profile

        return load_profile(self.profile)

    def _source_words(self, key: str) -> str:
        from sfwizard import paths
        from sfwizard.integrations.credentials import _px_file

        if key in self._edits:
            return "set here, not saved yet"
        source = self.settings.source(key)
        if source == "demo":
            return "the demo's sandbox"
        if source == "flag":
            return "given on the command line for this run"
        if source == "env":
            return f"set in the environment this wizard was started from (SFWIZARD_{key.upper()})"
        if source == "config":
            return f"saved in Settings ({paths.config_file()})"
        if source == "keychain":
            return "kept in the OS keychain"
        if source == "file":
            return f"kept in {_px_file()} (mode 0600; no working OS keychain here)"
        vendor = self._profile().vendor
        return {
            "status_url": f"the default: {vendor}'s public status page, as its recovery guide names it",
            "login_url": "the default: production (login.salesforce.com)",
            "px_api_url": "the default: the US data center (api.aptrinsic.com)",
            "port": "the default: 1717, as the Salesforce CLI uses",
            "client_id": "not set yet",
            "px_api_key": "not set yet: the platform checks are skipped without it",
            "sign_in": "not chosen: the Connect step offers every way that works here",
            "ca_cert": "none: the system's certificates only",
        }.get(key, "the default")

    # -- writing -----------------------------------------------------------------------------------------
    def set(self, key: str, value: Any) -> FieldView:
        """Check ``value`` and keep it for ``save``; a bad one raises one SfwizardError line (with a fix code).
        An empty value clears the field (back to its default)."""
        from sfwizard.integrations import settings as s

        if key not in BY_KEY:
            raise SfwizardError(f"not a setting: {key}", "", fix="retry")
        text = " ".join(str(value).split()) if value is not None else ""
        checked: Any = text or None
        if text:
            if key == "login_url":
                checked = s.login_url(text)
            elif key == "port":
                checked = s.port(text)
            elif key in ("status_url",):
                checked = s.https_url(text, "the status page address", "settings.status_url")
            elif key == "px_api_url":
                checked = text.upper() if text.upper() in s.PX_REGIONS else \
                    s.https_url(text, "the Gainsight PX API address", "settings.px_api_url")
            elif key == "sign_in" and text not in s.SIGN_IN_METHODS:
                raise SfwizardError(f"not a sign-in method: {text}", "", fix="connect.choose")
            elif key == "client_id" and (len(text) < 10 or not all(c.isalnum() or c in "._-" for c in text)):
                raise SfwizardError("that does not look like a Consumer Key (letters, digits, . and _, usually 85 "
                                    "characters starting 3MVG)", "", fix="settings.client_id")
            elif key == "px_api_key":
                from sfwizard import redact

                checked = str(value).strip()
                redact.default().add(checked)
            elif key == "ca_cert":
                from pathlib import Path

                if not Path(text).expanduser().is_file():
                    raise SfwizardError(f"no file at {text}", "", fix="settings.ca_cert")
                checked = str(Path(text).expanduser())
        self._edits[key] = checked
        return self.view(key)

    def save(self) -> list[str]:
        """Write what was set: config.yaml for the settings, the keychain (else a 0600 file) for the key.
        Returns where each went, in words; nothing is lost when a save fails (one SfwizardError line)."""
        from sfwizard.integrations import credentials
        from sfwizard.integrations import settings as s

        if self.demo:
            raise SfwizardError("the demo's settings are its sandbox's and are not saved", "", fix="session.new")
        said: list[str] = []
        config: dict[str, Any] = {}
        for key, value in self._edits.items():
            if key in SECRET_KEYS:
                if value:
                    where = credentials.save_px_key(value)
                    said.append("the API key: " + ("the OS keychain" if where == "keyring" else where))
                else:
                    credentials.delete_px_key()
                    said.append("the API key: removed")
            elif key == "px_api_url":
                region = value if value in s.PX_REGIONS else None
                config.update({"px_region": region, "px_api_url": None if region or not value else value})
            else:
                config[key] = value
        if config:
            said.append(f"settings: {s.save_config(config)}")
        self._edits.clear()
        self.settings = s.resolve({"profile": self.profile})
        return said

    # -- what a run is built from -----------------------------------------------------------------------
    def setup(self, **overrides: Any) -> SignInSetup:
        """The SignInSetup these settings give (unsaved edits included)."""
        from sfwizard.integrations import settings as s
        from sfwizard.recovery.wizard import SignInSetup

        conf = self.settings
        region_or_url = self.value("px_api_url")
        px_url = s.PX_REGIONS.get(str(region_or_url), region_or_url) if region_or_url else conf.px_api_url
        status = self.value("status_url") if "status_url" in self._edits or conf.status_url else None
        values = dict(login_url=s.login_url(str(self.value("login_url") or "production")),
                      client_id=self.value("client_id"), port=int(self.value("port") or 1717),
                      ca_cert=self.value("ca_cert"), api_version=conf.api_version, px_api_url=px_url,
                      px_api_key=self.value("px_api_key"), status_url=status, keep=not self.demo,
                      open_browser=not self.demo, method=self.value("sign_in"), target_org=conf.target_org)
        values.update(overrides)
        return SignInSetup(**values)

    def missing(self) -> list[str]:
        """What a real run still lacks to sign in with the browser or the device code (the client id)."""
        return [] if self.value("client_id") else ["client_id"]

    # -- the tests -------------------------------------------------------------------------------------
    def test(self, key: str, *, cli_timeout: float = 30) -> FieldTest:
        """Ask the service this field names whether the value works (blocking: run it from a worker)."""
        try:
            if key in ("client_id", "login_url", "port"):
                return self._test_client_id()
            if key in ("px_api_key", "px_api_url"):
                return self._test_px_key()
            if key == "status_url":
                return self._test_status()
            if key == "ca_cert":
                return self._test_ca()
            if key == "sign_in":
                logins = cli_logins(timeout=cli_timeout)
                if logins is None:
                    return FieldTest(key, False, "sf_cli.missing", "the Salesforce CLI (sf) is not installed here: "
                                     "choose the browser or the device code", "settings.client_id")
                usable = [x for x in logins if x.connected]
                if not usable:
                    return FieldTest(key, False, "sf_cli.no_login", "the Salesforce CLI has no usable login on "
                                     "this machine: choose the browser or the device code", "settings.client_id")
                return FieldTest(key, True, "ok", f"the Salesforce CLI has {len(usable)} login(s): "
                                 + ", ".join(x.label for x in usable[:3]))
        except SfwizardError as exc:
            reason = "net.unreachable" if exc.kind == "unreachable" else "net.tls_untrusted" if exc.kind == "tls" \
                else "service.error"
            return FieldTest(key, False, reason, exc.message, exc.fix or f"settings.{key}")
        return FieldTest(key, True, "ok", "nothing to test")

    def _http(self) -> Any:
        from sfwizard.integrations.transport import Http, RetryPolicy

        return Http(self.value("ca_cert") or None, retry=RetryPolicy(attempts=1))

    def _test_client_id(self) -> FieldTest:
        from sfwizard.integrations import settings as s
        from sfwizard.integrations.signin import CALLBACK_PATH, SCOPES, pkce_pair

        client_id = self.value("client_id")
        if not client_id:
            return FieldTest("client_id", False, "client_id.missing", "no client id yet: paste the Consumer Key of "
                             "the connected app", "settings.client_id")
        login = s.login_url(str(self.value("login_url") or "production"))
        port = int(self.value("port") or 1717)
        callback = f"http://localhost:{port}{CALLBACK_PATH}"
        _, challenge = pkce_pair()
        url = login + "/services/oauth2/authorize?" + urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": callback, "state": "sfwizard-test",
            "code_challenge": challenge, "code_challenge_method": "S256", "scope": SCOPES})
        http = self._http()
        try:
            resp = http.request("GET", url, label="oauth", retry=False)
        finally:
            http.close()
        location = resp.headers.get("location", "") if resp.status_code in (301, 302, 303, 307) else ""
        error = (parse_qs(urlsplit(location).query).get("error") or [""])[0]
        host = urlsplit(login).netloc
        if error == "invalid_client_id":
            return FieldTest("client_id", False, "client_id.unknown",
                             f"{host} does not know this client id: copy the Consumer Key of the app again (a new "
                             "app can take a few minutes to be known)", "settings.client_id")
        if error == "redirect_uri_mismatch":
            return FieldTest("client_id", False, "client_id.callback",
                             f"the app does not list the callback {callback}: add it to the app's Callback URL",
                             "settings.client_id")
        if error:
            said = (parse_qs(urlsplit(location).query).get("error_description") or [""])[0]
            return FieldTest("client_id", False, "client_id.refused", f"{host} refused the app: {error}"
                             + (f" ({said})" if said else ""), "settings.client_id")
        if resp.status_code >= 400:
            return FieldTest("client_id", False, "login_url.not_salesforce",
                             f"{login} answered HTTP {resp.status_code}: is it a Salesforce login host?",
                             "settings.login_url")
        return FieldTest("client_id", True, "ok", f"{host} knows this client id and accepts the callback {callback}")

    def _test_px_key(self) -> FieldTest:
        from sfwizard.integrations import settings as s
        from sfwizard.integrations.px import PxAPI

        key = self.value("px_api_key")
        if not key:
            return FieldTest("px_api_key", False, "px_key.missing", "no API key yet: make one under Administration → "
                             "REST API in PX (Read is enough)", "settings.px_api_key")
        region_or_url = str(self.value("px_api_url") or "US")
        base = s.PX_REGIONS.get(region_or_url, region_or_url)
        http = self._http()
        try:
            sub = PxAPI(http, base, key).subscription()
        finally:
            http.close()
        name = (sub or {}).get("name") or "(no name shown)"
        return FieldTest("px_api_key", True, "ok", f"the key works at {urlsplit(base).netloc}: subscription {name}")

    def _test_status(self) -> FieldTest:
        url = str(self.value("status_url") or "").rstrip("/")
        http = self._http()
        try:
            resp = http.request("GET", url + "/api/v2/status.json", label="status", retry=False)
        finally:
            http.close()
        try:
            body = resp.json() if resp.status_code < 400 else None
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("status"), dict):
            return FieldTest("status_url", False, "status.not_statuspage",
                             f"{url} answered HTTP {resp.status_code}, but not as a status page "
                             "(no /api/v2/status.json)", "settings.status_url")
        page = (body.get("page") or {}).get("name") or url
        return FieldTest("status_url", True, "ok", f"{page}: {body['status'].get('description') or 'no description'}")

    def _test_ca(self) -> FieldTest:
        path = self.value("ca_cert")
        if not path:
            return FieldTest("ca_cert", True, "ok", "none: the system's certificates only")
        from sfwizard.integrations.transport import _new_ssl_context

        _new_ssl_context(str(path))
        return FieldTest("ca_cert", True, "ok", f"{path} loads as a CA certificate")


# -- the ways to sign in ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CliLogin:
    """One login the Salesforce CLI keeps (``sf org list --json``): never its token."""

    alias: str
    username: str
    org_id: str
    instance_url: str
    org_name: str = ""
    is_sandbox: bool = False
    status: str = ""  # the CLI's connectedStatus: "Connected", or what went wrong

    @property
    def target(self) -> str:
        return self.alias or self.username

    @property
    def connected(self) -> bool:
        return self.status in ("", "Connected", "Unknown")

    @property
    def label(self) -> str:
        kind = "SANDBOX" if self.is_sandbox else "production"
        return f"{self.alias + ' · ' if self.alias else ''}{self.username} ({self.org_name or self.org_id}, {kind})"


def parse_org_list(answer: Any) -> list[CliLogin]:
    """``sf org list --json``: ``result`` holds groups (``nonScratchOrgs``, ``other``, ``sandboxes``,
    ``scratchOrgs``, ``devHubs``) whose entries repeat one another; one login per username."""
    result = answer.get("result") if isinstance(answer, dict) else None
    seen: dict[str, CliLogin] = {}
    if not isinstance(result, dict):
        return []
    for group in ("nonScratchOrgs", "other", "sandboxes", "devHubs", "scratchOrgs"):
        for org in result.get(group) or []:
            if not isinstance(org, dict) or not org.get("username"):
                continue
            name = str(org["username"])
            if name.lower() in seen:
                continue
            seen[name.lower()] = CliLogin(
                alias=str(org.get("alias") or ""), username=name, org_id=str(org.get("orgId") or ""),
                instance_url=str(org.get("instanceUrl") or "").rstrip("/"), org_name=str(org.get("name") or ""),
                is_sandbox=bool(org.get("isSandbox")) or group == "sandboxes",
                status=" ".join(str(org.get("connectedStatus") or "").split())[:200])
    return list(seen.values())


def cli_logins(timeout: float = 30) -> list[CliLogin] | None:
    """The Salesforce CLI's logins, or None when the CLI is not installed (blocking: about a second)."""
    import os

    from sfwizard.integrations.signin import sf_cli_path

    sf = sf_cli_path()
    if sf is None:
        return None
    env = {**os.environ, "SF_SKIP_NEW_VERSION_CHECK": "true"}
    try:
        proc = subprocess.run([sf, "org", "list", "--json"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("sf org list could not run: %s", type(exc).__name__)
        return []
    try:
        return parse_org_list(json.loads(proc.stdout or "{}"))
    except ValueError:
        return []


@dataclass(frozen=True)
class SignInChoice:
    """One way to sign in, as the Connect step lists it: greyed (``available`` False) with ``why`` and ``fix``
    when it cannot work here, never offered and then refused."""

    id: str  # "sf_cli:<alias or username>", "sf_cli", "browser", "device", "saved"
    method: str  # sf_cli, browser, device, saved
    label: str
    available: bool
    why: str = ""
    fix: str = ""  # errors.FIXES key that would make it available
    target_org: str | None = None  # sf_cli: pass to Recovery.sign_in_sf_cli


def sign_in_choices(setup: SignInSetup, demo: bool, *, cli: list[CliLogin] | None | str = "ask",
                    saved: bool | None = None) -> list[SignInChoice]:
    """The ways to sign in, in the order the Connect step offers them: the Salesforce CLI's logins (no setup),
    then the browser and the device code (they need a client id), then the saved sign-in. A demo lists only
    what works against its sandbox. ``cli``: the CLI's logins when already read ("ask" runs ``sf org list``,
    about a second: call from a worker); ``saved``: whether a saved sign-in exists (None looks)."""
    if demo:
        return [SignInChoice("browser", "browser", "Sign in with the browser (the demo approves it: v)", True),
                SignInChoice("device", "device", "Use a device code (the demo approves it: v)", True)]
    out: list[SignInChoice] = []
    logins = cli_logins() if cli == "ask" else cli
    if logins is None:
        out.append(SignInChoice("sf_cli", "sf_cli", "Reuse a Salesforce CLI login", False,
                                "the Salesforce CLI (sf) is not installed on this machine", "settings.client_id"))
    elif not logins:
        out.append(SignInChoice("sf_cli", "sf_cli", "Reuse a Salesforce CLI login", False,
                                "the Salesforce CLI is installed but holds no login", "settings.client_id"))
    for login in logins or []:
        out.append(SignInChoice(f"sf_cli:{login.target}", "sf_cli", f"Salesforce CLI login {login.label}",
                                login.connected, "" if login.connected else f"the CLI says: {login.status}",
                                "" if login.connected else "connect.choose", login.target))
    has_id = bool(setup.client_id)
    why = "" if has_id else "needs a client id (the connected app's Consumer Key): set it in Settings"
    fix = "" if has_id else "settings.client_id"
    out.append(SignInChoice("browser", "browser", "Sign in with the browser", has_id, why, fix))
    out.append(SignInChoice("device", "device", "Use a device code (no browser here, or over SSH)", has_id, why, fix))
    if saved is None:
        saved = _has_saved_sign_in() if setup.keep else False
    out.append(SignInChoice("saved", "saved", "Use the saved sign-in", bool(saved),
                            "" if saved else "no sign-in is saved on this machine yet", "" if saved else
                            "connect.choose"))
    preferred = getattr(setup, "method", None)
    if preferred:  # the method chosen in Settings (or --device / --sf-cli) comes first among the available
        target = getattr(setup, "target_org", None)
        out.sort(key=lambda c: not (c.available and c.method == preferred
                                    and (not target or c.target_org in (None, target))))
    return out


def _has_saved_sign_in() -> bool:
    from sfwizard.integrations import credentials

    try:
        return credentials.load() is not None
    except SfwizardError:
        return False
