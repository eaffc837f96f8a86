"""One redaction layer for every byte that leaves: logs, reports, bundles, screen exports.

It removes the exact secrets it was told about (tokens, codes, client secrets, passwords, API keys)
and anything shaped like one, even when nobody registered it.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("access_token", re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]{20,}")),
    ("refresh_token", re.compile(r"\b5Aep[A-Za-z0-9._\-]{20,}")),
    ("bearer", re.compile(r"(?i)\b(Bearer|OAuth)\s+[A-Za-z0-9._!\-~+/=]{16,}")),
    ("private_key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)),
    ("param", re.compile(r"(?i)\b(access_token|refresh_token|code|code_verifier|client_secret|password|pw|token|"
                         r"device_code|api_key|apikey)=([^&\s\"'<>]+)")),
    ("json", re.compile(r"(?i)\"(access_token|refresh_token|client_secret|password|code|code_verifier|"
                        r"px_api_key|api_key|device_code)\"\s*:\s*\"[^\"]*\"")),
    ("header", re.compile(r"(?i)(X-APTRINSIC-API-KEY|Authorization)\s*[:=]\s*\S+")),
)


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Register exact secret values (ignores short or empty ones, which would redact noise)."""
        with self._lock:
            self._secrets.update(v for v in values if v and len(v) >= 6)

    def text(self, value: str) -> str:
        with self._lock:
            known = sorted(self._secrets, key=len, reverse=True)
        for secret in known:
            if secret in value:
                value = value.replace(secret, "[REDACTED]")
        for kind, pattern in _SHAPES:
            if kind == "param":
                value = pattern.sub(lambda m: f"{m.group(1)}=[REDACTED]", value)
            elif kind == "json":
                value = pattern.sub(lambda m: f"\"{m.group(1)}\": \"[REDACTED]\"", value)
            elif kind == "header":
                value = pattern.sub(lambda m: f"{m.group(1)}: [REDACTED]", value)
            elif kind == "bearer":
                value = pattern.sub(lambda m: f"{m.group(1)} [REDACTED]", value)
            else:
                value = pattern.sub(f"[REDACTED:{kind}]", value)
        return value

    def obj(self, value: Any) -> Any:
        """Walk dicts and lists; values under secret-named keys go entirely."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: "[REDACTED]" if isinstance(k, str) and _secret_key(k) else self.obj(v)
                    for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.obj(v) for v in value]
        return value


def _secret_key(key: str) -> bool:
    k = key.lower()
    return k in {"access_token", "refresh_token", "client_secret", "password", "code", "code_verifier",
                 "px_api_key", "api_key", "device_code", "authorization"} or k.endswith(("_token", "_secret"))


_DEFAULT = Redactor()


def default() -> Redactor:
    return _DEFAULT


class RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or _DEFAULT

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
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


def install_log_redaction(handler: logging.Handler, redactor: Redactor | None = None) -> None:
    """Filter on the handler, so records from every library's logger pass it."""
    handler.addFilter(RedactingFilter(redactor))
    # Libraries that log whole URLs (with ?code= in them) stay at WARNING.
    for name in ("httpx", "httpcore", "urllib3", "requests"):
        logging.getLogger(name).setLevel(logging.WARNING)
