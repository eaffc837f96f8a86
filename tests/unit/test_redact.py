"""The redaction layer on its own: secret shapes found unregistered, registered secrets in every form they
travel in, dict walking, and the logging filter. (The end-to-end planted-secret test through report, bundle
and log is in tests/recovery/test_report.py.)"""

from __future__ import annotations

import json
import logging
import secrets
from urllib.parse import quote, quote_plus, urlencode

import pytest

from sfwizard import redact
from sfwizard.redact import Redactor

ACCESS = "00D5g000004C92E!AQ4AQL" + secrets.token_urlsafe(80)[:90]  # Salesforce: <org id>!<opaque>
ACCESS18 = "00D5g000004C92EEAU!AR8AQ" + "x_y.z-" * 12
REFRESH = "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJo7Xr34yOQ7GCFUN5DnNPxzDIoGoWi4evqOl_QT1B9QQWn8xDBK"
CODE = "aPrxbOND3gL_2LbSR7rKPdbs" + secrets.token_urlsafe(40) + "=="
CLIENT_SECRET = secrets.token_hex(32).upper()
PX_KEY = secrets.token_urlsafe(24)
PEM = ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg" + "A" * 40
       + "\n-----END PRIVATE KEY-----")


def _clean(r: Redactor, text: str, *secrets_: str) -> str:
    out = r.text(text)
    for s in secrets_:
        assert s not in out, (s, out)
    return out


@pytest.mark.parametrize(("text", "secret", "label"), [
    (f"token is {ACCESS} ok", ACCESS.split("!")[1], "[REDACTED:access_token]"),
    (f"token is {ACCESS18}", ACCESS18.split("!")[1], "[REDACTED:access_token]"),
    (f"redirect?x={quote(ACCESS, safe='')}", ACCESS.split("!")[1][:30], "[REDACTED:access_token]"),
    (f"kept {REFRESH} for later", REFRESH, "[REDACTED:refresh_token]"),
    (f"callback got {CODE}", CODE[:-2], "[REDACTED:code]"),
    ("Authorization: Bearer abcDEF0123456789ghijk", "abcDEF0123456789ghijk", "Authorization: [REDACTED:authorization]"),
    ("curl -H 'X-APTRINSIC-API-KEY: k3y-" + PX_KEY + "'", PX_KEY, "X-APTRINSIC-API-KEY: [REDACTED:api_key]"),
    (f"GET /OauthRedirect?code={CODE}&state=abc123", CODE[:-2], "code=[REDACTED:code]&state=abc123"),
    ("grant_type=refresh_token&refresh_token=opaque-but-long-value&client_secret=" + CLIENT_SECRET,
     CLIENT_SECRET, "grant_type=refresh_token&refresh_token=[REDACTED:refresh_token]"
                    "&client_secret=[REDACTED:client_secret]"),
    (f"https://x/cb?redirect=https%3A%2F%2Fy%2F%3Faccess_token%3D{ACCESS18}%26z%3D1", ACCESS18.split("!")[1],
     "access_token%3D[REDACTED:access_token]%26z"),
    ("state=x&redirect=https%3A%2F%2Fy%2F%3Frefresh_token%3Dopaque-value%26z%3D1", "opaque-value",
     "%3Frefresh_token%3D[REDACTED:refresh_token]%26z%3D1"),
    ("username=a@b.c&password=hunter2hunter2", "hunter2hunter2", "password=[REDACTED:password]"),
    (json.dumps({"access_token": "opaque-token-abc", "instance_url": "https://x"}), "opaque-token-abc",
     '"access_token": "[REDACTED:access_token]"'),
    ('{"password": "with \\"quote\\" inside"}', "inside", '{"password": "[REDACTED:password]"}'),
    (repr({"client_secret": "s3cr3t-value", "n": 1}), "s3cr3t-value", "'client_secret': '[REDACTED:client_secret]'"),
    (repr({"X-APTRINSIC-API-KEY": PX_KEY}), PX_KEY, "'X-APTRINSIC-API-KEY': '[REDACTED:api_key]'"),
    (f"client_secret: {CLIENT_SECRET}\nclient_id: 3MVG9abc", CLIENT_SECRET, "client_secret: [REDACTED:client_secret]"),
    (f"key file:\n{PEM}\nend", "MIGHAgEAMBMG", "key file:\n[REDACTED:private_key]\nend"),
    (PEM[:80], "MIGHAgEAMBMG", "[REDACTED:private_key]"),  # cut short: still gone
])
def test_secret_shapes_are_found_without_being_registered(text: str, secret: str, label: str) -> None:
    out = _clean(Redactor(), text, secret)
    assert label in out, out


def test_a_bearer_header_goes_whole_org_id_and_all() -> None:
    shown = redact.default().text("Authorization: Bearer 00D5g0000004C92!AQ" + "x" * 60)
    assert "00D5g0000004C92!" not in shown
    assert "AQ" not in shown
    assert "xxxxxxxx" not in shown


@pytest.mark.parametrize("text", [
    "error_code=42 status_code=200 zip_code=12345",
    "Password age: 91 days (expires after 90)",
    '{"tokens": 3, "errorCode": "INVALID_SESSION_ID", "code": 404}',
    "OAuth connectedapplication blocked; Bearer token missing",
    "Account 001000000000001AAA in org 00D000000000001 at 2026-11-20T10:00:00.000+0000",
    "SELECT Id FROM OauthToken WHERE AppName = 'Gainsight PX'",
])
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().text(text) == text


def test_registered_secrets_go_in_every_form_they_travel_in() -> None:
    r = Redactor()
    password = "p@ss word/ü!" + secrets.token_hex(4)
    r.add(password, kind="password")
    r.add(PX_KEY, kind="api_key")
    r.add(None, "", "short")  # ignored: would redact noise
    forms = [password, quote(password, safe=""), quote_plus(password), json.dumps(password)[1:-1]]
    for form in forms:
        out = _clean(r, f"sent [{form}] then", form)
        assert out == "sent [[REDACTED:password]] then"
    assert r.text(urlencode({"user": "a", "pw2": password})) == "user=a&pw2=[REDACTED:password]"
    assert r.text(f"key {PX_KEY}") == "key [REDACTED:api_key]"
    assert r.text("short and sweet") == "short and sweet"
    # a longer secret containing a shorter one is replaced whole
    r.add(password + "-extended", kind="client_secret")
    assert r.text(password + "-extended") == "[REDACTED:client_secret]"


def test_redact_obj_walks_and_drops_secret_named_keys() -> None:
    r = Redactor()
    r.add(CLIENT_SECRET, kind="client_secret")
    data = {"summary": f"used {ACCESS}", "access_token": "plain-looking", "refresh_token": "",
            "nested": [{"client_secret": "x" * 10, "note": CLIENT_SECRET}, ("tuple", REFRESH)],
            "sso_password": "abc123456", "px_api_key": None, "count": 7, 3: "int key", "tokens": 2}
    before = json.dumps(data, sort_keys=False, default=str)
    out = r.obj(data)
    assert json.dumps(data, default=str) == before  # the input is not touched
    assert out["summary"] == "used [REDACTED:access_token]"
    assert out["access_token"] == "[REDACTED:access_token]"
    assert out["refresh_token"] == ""
    assert out["px_api_key"] is None  # nothing to hide
    assert out["nested"][0] == {"client_secret": "[REDACTED:client_secret]", "note": "[REDACTED:client_secret]"}
    assert out["nested"][1] == ["tuple", "[REDACTED:refresh_token]"]
    assert out["sso_password"] == "[REDACTED:secret]"
    assert (out["count"], out[3], out["tokens"]) == (7, "int key", 2)
    assert redact.Redactor.redact_obj is redact.Redactor.obj
    assert redact.Redactor.redact_text is redact.Redactor.text


def test_module_functions_use_the_process_wide_redactor() -> None:
    value = "registered-" + secrets.token_hex(8)
    assert redact.redact_text(value) == value
    redact.default().add(value, kind="password")
    assert redact.default() is redact.default()
    assert redact.redact_text(f"x {value} y") == "x [REDACTED:password] y"
    assert redact.redact_obj({"a": [value]}) == {"a": ["[REDACTED:password]"]}


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_log_redaction_covers_every_logger_through_the_handlers() -> None:
    root = logging.getLogger()
    handler = _ListHandler()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        redact.install_log_redaction()  # no handler given: every handler on root and sfwizard
        redact.install_log_redaction()
        assert sum(isinstance(f, redact.RedactingFilter) for f in handler.filters) == 1
        value = "pw-" + secrets.token_hex(8)
        redact.default().add(value, kind="password")
        logging.getLogger("sfwizard.integrations.signin").info(
            "token answer %s", json.dumps({"refresh_token": REFRESH}))
        logging.getLogger("some.library").warning("POST body client_secret=%s&password=%s", CLIENT_SECRET, value)
        logging.getLogger("sfwizard.x").info("bad format %s %s", "only one")  # must not raise
        try:
            raise RuntimeError(f"failed with {ACCESS}")
        except RuntimeError:
            logging.getLogger("sfwizard.x").exception("sign-in failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = "\n".join(handler.lines)
    for secret in (REFRESH, CLIENT_SECRET, value, ACCESS.split("!")[1][:20]):
        assert secret not in text
    assert "[REDACTED:refresh_token]" in text
    assert "client_secret=[REDACTED:client_secret]" in text
    assert "Traceback" in text
    assert "RuntimeError: failed with [REDACTED:access_token]" in text
    assert "bad format" in text
    assert logging.getLogger("httpx").level == logging.WARNING  # it logs whole URLs, ?code= and all
