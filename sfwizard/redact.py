"""One redaction layer for every byte that leaves: logs, reports, bundles, screen exports.

It removes the exact secrets it was told about (tokens, codes, client secrets, passwords, API keys),
in the forms they travel in (plain, URL-encoded, JSON-escaped), and anything shaped like one even when
nobody registered it. Each becomes ``[REDACTED:kind]``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any
from urllib.parse import quote, quote_plus

from sfwizard.inert import inert

# Key names whose values are secrets, in query strings, form bodies, JSON / Python dicts and headers.
_KEY_KIND = {
    "access_token": "access_token", "refresh_token": "refresh_token", "id_token": "access_token",
    "client_secret": "client_secret", "password": "password", "passwd": "password", "pw": "password",
    "code": "code", "code_verifier": "code", "device_code": "code", "token": "token",
    "api_key": "api_key", "apikey": "api_key", "px_api_key": "api_key", "x-aptrinsic-api-key": "api_key",
    "authorization": "authorization", "cookie": "cookie", "sid": "cookie",
}
_KEYS = "|".join(sorted(map(re.escape, _KEY_KIND), key=len, reverse=True))
# A key or token starts where no word character precedes it (so error_code= and status_code= are left
# alone), or right after a percent-escape (…%3Faccess_token%3D00D… inside an encoded redirect URL).
_NOT_KEY_CHAR = r"(?:(?<![A-Za-z0-9_\-])|(?<=%[0-9A-Fa-f]{2}))"
_START = r"(?:\b|(?<=%[0-9A-Fa-f]{2}))"


def _kind_of(key: str) -> str:
    return _KEY_KIND.get(key.lower(), "secret")


def _quoted(m: re.Match[str]) -> str:
    q, key, vq = m.group("q"), m.group("key"), m.group("vq")
    return f"{q}{key}{q}{m.group('sep')}{vq}[REDACTED:{_kind_of(key)}]{vq}"


def _param(m: re.Match[str]) -> str:
    return f"{m.group('key')}{m.group('eq')}[REDACTED:{_kind_of(m.group('key'))}]"


# Order matters: structured forms first, so the kind names the field rather than the token's shape.
_SHAPES: tuple[tuple[str, re.Pattern[str], Any], ...] = (
    ("private_key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
                               re.S), "[REDACTED:private_key]"),
    # "access_token": "…"  /  'password': '…'  (JSON bodies, Python reprs of dicts and headers)
    ("quoted", re.compile(rf"(?i)(?P<q>[\"'])(?P<key>{_KEYS})(?P=q)(?P<sep>\s*:\s*)(?P<vq>[\"'])"
                          r"(?:\\.|(?!(?P=vq)).)*(?P=vq)"), _quoted),
    # access_token=…  code=…  (query strings, form bodies, also URL-encoded inside another URL: %3D)
    ("param", re.compile(rf"(?i){_NOT_KEY_CHAR}(?P<key>{_KEYS})(?P<eq>=|%3D)(?:(?!%26)[^&\s\"'<>])+"), _param),
    # Authorization: Bearer …  /  X-APTRINSIC-API-KEY: …  (header lines)
    ("header", re.compile(r"(?i)\b(?P<key>X-APTRINSIC-API-KEY|Authorization|Cookie|Set-Cookie)(?P<eq>\s*[:=]\s*)"
                          r"(?:(?:Bearer|OAuth|Basic)\s+)?[^\s,;\"']+"), _param),
    # client_secret: …  (YAML, plain text) — only keys that never name anything but a secret
    ("colon", re.compile(r"(?i)" + _NOT_KEY_CHAR + r"(?P<key>access_token|refresh_token|client_secret|"
                         r"px_api_key|api_key|code_verifier|device_code)(?P<eq>\s*:\s*)(?!\[REDACTED)"
                         r"[^\s,;\"'}\]]+"), _param),
    ("bearer", re.compile(r"\b(?P<key>Bearer|OAuth)(?P<eq>\s+)(?=[A-Za-z0-9._!\-~+/=%]*[0-9!])"
                          r"[A-Za-z0-9._!\-~+/=%]{16,}"),
     lambda m: f"{m.group('key')} [REDACTED:bearer]"),
    # Salesforce's own shapes: access/session tokens are <15-or-18-char org Id>!<opaque>, refresh tokens
    # start 5Aep, authorization codes aPrx.
    ("access_token", re.compile(_START + r"00D[A-Za-z0-9]{12,15}(?:!|%21)[A-Za-z0-9._\-]{20,}"),
     "[REDACTED:access_token]"),
    ("refresh_token", re.compile(_START + r"5Aep[A-Za-z0-9._\-%]{20,}"), "[REDACTED:refresh_token]"),
    ("code", re.compile(_START + r"aPrx[A-Za-z0-9._\-%+/]{20,}=*"), "[REDACTED:code]"),
)

_SECRET_KEYS = frozenset(_KEY_KIND) | {"client_id_secret", "secret"}


class Redactor:
    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}  # every travelling form of a secret → its kind
        self._lock = threading.Lock()

    def add(self, *values: str | None, kind: str = "secret") -> None:
        """Register exact secret values (short or empty ones are ignored: they would redact noise)."""
        with self._lock:
            for v in values:
                if not isinstance(v, str) or len(v) < 6:
                    continue
                for form in (v, quote(v, safe=""), quote_plus(v), json.dumps(v)[1:-1]):
                    self._secrets.setdefault(form, kind)

    def text(self, value: str) -> str:
        """``value`` with every secret it holds replaced, and its control characters made inert (``inert``):
        what leaves through this layer (a log line, a report, a bundle, a screen export) can neither leak a
        token nor act on the terminal it is shown in."""
        with self._lock:
            known = sorted(self._secrets.items(), key=lambda kv: len(kv[0]), reverse=True)
        for secret, kind in known:
            if secret in value:
                value = value.replace(secret, f"[REDACTED:{kind}]")
        for _, pattern, repl in _SHAPES:
            value = pattern.sub(repl, value)
        return inert(value)

    def obj(self, value: Any) -> Any:
        """Walk dicts, lists and tuples; values under secret-named keys go entirely."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {(self.text(k) if isinstance(k, str) else k):
                    f"[REDACTED:{_kind_of(k)}]" if isinstance(k, str) and _secret_key(k) and v not in (None, "")
                    else self.obj(v)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.obj(v) for v in value]
        return value

    redact_text = text
    redact_obj = obj


def _secret_key(key: str) -> bool:
    k = key.lower()
    return k in _SECRET_KEYS or k.endswith(("_token", "_secret", "_password", "_api_key"))


_DEFAULT = Redactor()


def default() -> Redactor:
    """The process-wide redactor; sign-in registers every token, code and key it handles here."""
    return _DEFAULT


def redact_text(value: str) -> str:
    return _DEFAULT.text(value)


def redact_obj(value: Any) -> Any:
    return _DEFAULT.obj(value)


class RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or _DEFAULT

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not turn a log call into a crash (or leak the args)
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = self.redactor.text(message), None
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when it is set, so the traceback (and the exception's message,
            # which may carry a token) is formatted here once and redacted like the message.
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.text(record.stack_info)
        return True


_FORMATTER = logging.Formatter()


def install_log_redaction(handler: logging.Handler | None = None, redactor: Redactor | None = None) -> None:
    """Filter on handlers, so records from every library's logger pass it (a filter on a logger would
    miss its children's records). Without ``handler``: every handler now on the root and ``sfwizard``
    loggers. Installing twice on one handler is harmless."""
    handlers = [handler] if handler else [*logging.getLogger().handlers, *logging.getLogger("sfwizard").handlers]
    for h in handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter(redactor))
    # Libraries that log whole URLs (with ?code= in them) stay at WARNING.
    for name in ("httpx", "httpcore", "urllib3", "requests"):
        logging.getLogger(name).setLevel(logging.WARNING)
