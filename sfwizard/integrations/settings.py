"""Settings: flags over environment over ``config.yaml`` in the user config folder.

The OAuth client id is configuration (never a default baked in here); the platform API key comes
from the environment, the OS keychain or (where no keychain works) a 0600 file, never from the plaintext
config file. ``Settings.sources`` says where each value came from (the wizard's settings pane shows it), and
``save_config`` writes what the pane changed back to ``config.yaml``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sfwizard import paths
from sfwizard.errors import SfwizardError

LOGIN_HOSTS = {"production": "https://login.salesforce.com", "test": "https://test.salesforce.com"}
PX_REGIONS = {"US": "https://api.aptrinsic.com/v1", "EU": "https://api-eu.aptrinsic.com/v1",
              "US2": "https://api-us2.aptrinsic.com/v1"}
CONFIG_KEYS = {"client_id", "login_url", "port", "api_version", "px_region", "profile", "status_url",
               "px_api_url", "sign_in", "target_org", "ca_cert"}
SIGN_IN_METHODS = ("sf_cli", "browser", "device", "saved")  # how the wizard signs in, in the order it offers them
# Where a value came from, as Settings.sources names it.
SOURCES = ("flag", "env", "config", "keychain", "file", "default")


@dataclass(frozen=True)
class Settings:
    login_url: str = LOGIN_HOSTS["production"]
    client_id: str | None = None
    port: int = 1717
    api_version: str = "60.0"
    profile: str = "gainsight-px"
    px_region: str = "US"
    px_api_key: str | None = None
    status_url: str | None = None
    ca_cert: str | None = None  # an extra CA, added to the OS trust store (a TLS-inspecting proxy's, or the sandbox's)
    px_api_base: str | None = None  # an explicit PX API address (a proxy, a new region); wins over px_region
    sign_in: str | None = None  # the sign-in method chosen in the settings pane (SIGN_IN_METHODS)
    target_org: str | None = None  # with sign_in sf_cli: the Salesforce CLI alias or username
    sources: dict[str, str] = field(default_factory=dict, compare=False)  # key → one of SOURCES

    @property
    def px_api_url(self) -> str:
        return self.px_api_base or PX_REGIONS[self.px_region]

    def source(self, key: str) -> str:
        return self.sources.get(key, "default")

    def require_client_id(self) -> str:
        if not self.client_id:
            raise SfwizardError("no OAuth client id is configured for signing in to Salesforce",
                                "create the connected app (README: 'The connected app sfwizard signs in through'), "
                                "then pass --client-id, set SFWIZARD_CLIENT_ID, or add client_id to "
                                f"{paths.config_file()}", fix="settings.client_id")
        return self.client_id


def login_url(value: str) -> str:
    """production, test, a My Domain or another https URL; loopback http is refused too (TLS always).

    A path is kept (an Experience Cloud site signs in below one); a query or fragment would end up
    in the middle of the endpoint URLs built from it, so it is refused.
    """
    from sfwizard.yamlspec import show

    url = LOGIN_HOSTS.get(value.lower(), value).strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one (https://x:99999)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc \
            or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise SfwizardError(f"not a Salesforce login URL: {show(value)}",
                            "use production, test or https://yourdomain.my.salesforce.com", fix="settings.login_url")
    return url


def https_url(value: str, what: str, fix: str = "") -> str:
    from sfwizard.yamlspec import show

    url = str(value).strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        parts = urlsplit("")
    if parts.scheme != "https" or not parts.netloc or any(ch.isspace() or not ch.isprintable() for ch in url):
        raise SfwizardError(f"{what} must be an https URL: {show(value)}", "for example https://status.gainsight.com",
                            fix=fix)
    return url


def port(value: Any) -> int:
    """The loopback callback port; it must match a callback URL registered on the connected app
    (0 takes any free port: only for a login server that accepts any loopback callback, like the sandbox)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        from sfwizard.yamlspec import show

        raise SfwizardError(f"not a TCP port for the sign-in callback: {show(value)}",
                            "use a number from 1024 to 65535 (default 1717)", fix="settings.port")
    return number


def api_version(value: Any) -> str:
    """``60``, ``60.0`` or ``v60.0`` → ``60.0`` (Salesforce's URLs want the ``.0``)."""
    m = re.fullmatch(r"v?(\d{2,3})(?:\.0)?", str(value).strip())
    if not m:
        from sfwizard.yamlspec import show

        raise SfwizardError(f"not a Salesforce API version: {show(value)}", "use a version such as 60.0")
    return f"{m.group(1)}.0"


CONFIG_MAX_BYTES = 64 * 1024


def _config_file() -> dict[str, Any]:
    """``config.yaml``: a small mapping of known keys, each a string (``port`` also a number)."""
    path = paths.config_file()
    if not path.exists() and not path.is_symlink():
        return {}
    from sfwizard import yamlspec as y

    raw = y.load_file(path, "config file", CONFIG_MAX_BYTES)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SfwizardError(f"{path}:1:1: the config file is a mapping of keys, not {y.kind_of(raw)}",
                            "see the README")

    def where(key: Any) -> str:
        line, col = getattr(raw, "key_marks", {}).get(key, (1, 1))
        return f"{path}:{line}:{col}"

    for secretish in ("px_api_key", "api_key", "client_secret", "password", "token"):
        if secretish in raw:
            raise SfwizardError(f"{where(secretish)}: {secretish} must not be kept in a plain config file",
                                "remove it; set SFWIZARD_PX_API_KEY or store it with: sfwizard login --store-px-key")
    for key, value in raw.items():
        if key not in CONFIG_KEYS:
            raise SfwizardError(f"{where(key)}: unknown key {y.show(key)}",
                                "known keys: " + ", ".join(sorted(CONFIG_KEYS)))
        numeric = key in ("port", "api_version")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float) if numeric
                                                                             else str)):
            raise SfwizardError(f"{where(key)}: {key}: expected {'a number' if numeric else 'a string'}, got "
                                f"{y.kind_of(value)}", "fix the file and try again")
    return {k: v for k, v in raw.items() if v is not None}


def px_key_from_keyring() -> str | None:
    """The PX API key kept by ``sfwizard login --store-px-key`` or the settings pane (keychain, else the file)."""
    from sfwizard.integrations.credentials import load_px_key

    return load_px_key()[0]


ENV_KEYS = ("client_id", "login_url", "px_region", "profile", "status_url", "port", "api_version", "px_api_url",
            "sign_in", "target_org", "ca_cert")


def resolve(flags: dict[str, Any] | None = None) -> Settings:
    """Flags (non-None) win over SFWIZARD_* environment variables, which win over config.yaml."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    config = _config_file()
    env = {k: os.environ.get(f"SFWIZARD_{k.upper()}") for k in ENV_KEYS}
    sources: dict[str, str] = {}

    def pick(key: str, default: Any = None) -> Any:
        for where, values in (("flag", flags), ("env", env), ("config", config)):
            if values.get(key) not in (None, ""):
                sources[key] = where
                return values[key]
        return default

    region = str(pick("px_region", "US")).upper()
    if region not in PX_REGIONS:
        raise SfwizardError(f"unknown Gainsight PX region {region!r}", "use US, EU or US2",
                            fix="settings.px_api_url")
    key, key_source = flags.get("px_api_key"), "flag"
    if not key and os.environ.get("SFWIZARD_PX_API_KEY"):
        key, key_source = os.environ["SFWIZARD_PX_API_KEY"], "env"
    if not key:
        from sfwizard.integrations.credentials import load_px_key

        key, key_source = load_px_key()
    if key:
        sources["px_api_key"] = key_source
    method = pick("sign_in")
    if method is not None and method not in SIGN_IN_METHODS:
        raise SfwizardError(f"unknown sign-in method {method!r}", "use one of: " + ", ".join(SIGN_IN_METHODS),
                            fix="connect.choose")
    base = pick("px_api_url")
    status = pick("status_url")
    return Settings(
        login_url=login_url(str(pick("login_url", "production"))), client_id=pick("client_id"),
        port=port(pick("port", 1717)), api_version=api_version(pick("api_version", "60.0")),
        profile=str(pick("profile", "gainsight-px")), px_region=region, px_api_key=key or None,
        status_url=https_url(status, "status_url", "settings.status_url") if status else None,
        # A CA to trust in addition (the bundled sandbox's, or a corporate proxy's); verification stays on.
        ca_cert=pick("ca_cert") or None,
        px_api_base=https_url(base, "px_api_url", "settings.px_api_url") if base else None,
        sign_in=method, target_org=pick("target_org") or None, sources=sources)


def save_config(changes: dict[str, Any]) -> Any:
    """Write ``changes`` into ``config.yaml`` (None removes a key), keeping every other key; returns its path.

    Only known keys, each checked as ``resolve`` checks it, so a value the pane saves is one the next start
    reads back; secrets are refused (they go to the keychain). The file is replaced atomically, mode 0600.
    """
    import yaml

    from sfwizard.fileio import write_atomic

    unknown = set(changes) - CONFIG_KEYS
    if unknown:
        raise SfwizardError(f"not a setting: {', '.join(sorted(unknown))}",
                            "known settings: " + ", ".join(sorted(CONFIG_KEYS)))
    current = _config_file()
    merged = {k: v for k, v in {**current, **changes}.items() if v not in (None, "")}
    checks = {"login_url": login_url, "port": port, "api_version": api_version,
              "status_url": lambda v: https_url(v, "status_url", "settings.status_url"),
              "px_api_url": lambda v: https_url(v, "px_api_url", "settings.px_api_url")}
    for key, value in list(merged.items()):
        if key in checks and key in changes:
            merged[key] = checks[key](value)
        elif key == "px_region" and str(value).upper() not in PX_REGIONS:
            raise SfwizardError(f"unknown Gainsight PX region {value!r}", "use US, EU or US2",
                                fix="settings.px_api_url")
        elif key == "sign_in" and value not in SIGN_IN_METHODS:
            raise SfwizardError(f"unknown sign-in method {value!r}", "use one of: " + ", ".join(SIGN_IN_METHODS),
                                fix="connect.choose")
    path = paths.config_file()
    text = "# sfwizard settings (written by the wizard's settings pane; secrets are never kept here)\n"
    text += yaml.safe_dump({k: merged[k] for k in sorted(merged)}, sort_keys=False, allow_unicode=True)
    write_atomic(path, text.encode(), mode=0o600, what="the settings")
    return path
