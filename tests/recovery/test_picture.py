"""The checklist picture: drawn from the checklist's data at a fixed width (the same at any terminal size),
each item's state and who confirmed it when, the org and the date, server text escaped, secrets redacted; a PNG
where a converter is installed, none (and no error) where not."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from sfwizard.checks.base import CheckResult, Status
from sfwizard.profiles import load_profile
from sfwizard.recovery import picture
from sfwizard.recovery.checklist import evaluate
from sfwizard.recovery.session import RecoverySession

WHEN = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)


def _items():
    p = load_profile("gainsight-px")
    ok = {c: CheckResult(c, c, Status.PASS, "ok") for item in p.checklist for c in item.proven_by}
    ok["token.platform_status"] = CheckResult("token.platform_status", "Platform reports the integration UP",
                                              Status.FAIL, "PX reports DOWN: <b>INVALID_SESSION_ID</b>",
                                              reason="token.platform_down")
    confirmations = [{"item": "knowledge.toggle", "who": "Pat <Admin>", "role": "platform_admin",
                      "at": "2026-11-20T15:04:05+00:00"}]
    return evaluate(p, ok, confirmations=confirmations, facts={"sync_completed": {}}, condition=lambda _c: True)


def test_the_picture_is_drawn_from_the_data_at_a_fixed_width(monkeypatch) -> None:
    identity = {"org_name": "Northwind & Co", "org_id": "00D5g0000004C92EAE", "is_sandbox": False}
    a = picture.svg(_items(), vendor="Gainsight PX", identity=identity, when=WHEN, session_id="s1")
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("LINES", "10")
    b = picture.svg(_items(), vendor="Gainsight PX", identity=identity, when=WHEN, session_id="s1")
    assert a == b  # nothing from the terminal
    root = ET.fromstring(a)  # well-formed: every server word escaped
    assert root.get("width") == str(picture.WIDTH)
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "Gainsight PX ↔ Salesforce · recovery checklist" in texts
    assert "Org: Northwind & Co (00D5g0000004C92EAE) · PRODUCTION" in texts
    assert "Date: 2026-11-20" in texts and "15:30 UTC" in texts
    assert "confirmed by Pat <Admin> (platform admin)" in texts  # who and when, as text
    assert "not done" in texts and "PX reports DOWN: <b>INVALID_SESSION_ID</b>" in texts
    assert "<b>" not in a  # escaped, never markup
    assert "monospace" in root.get("font-family")
    for t in root.iter("{http://www.w3.org/2000/svg}text"):  # nothing runs off the right edge
        x = float(t.get("x") or 0)
        if t.get("text-anchor") != "end":
            assert x + len("".join(t.itertext())) * picture.CHAR * 0.9 <= picture.WIDTH, "".join(t.itertext())


def test_write_redacts_and_marks_a_demo(tmp_path, monkeypatch) -> None:
    from sfwizard import redact

    secret = "00D5g0000004C92!AQ4AQ" + "s" * 60
    redact.default().add(secret)
    session = RecoverySession.new("gainsight-px", demo_scenario="revoked-token")
    try:
        session.identity = {"org_name": f"Org {secret}", "org_id": "00D5g0000004C92EAE"}
        monkeypatch.setattr(picture, "converter", lambda: None)
        out = tmp_path / "c.svg"
        assert picture.write(session, _items(), out, vendor="Gainsight PX", when=WHEN) is None  # no converter
    finally:
        session.release()
    text = out.read_text()
    assert secret not in text and "[REDACTED" in text
    assert ">DEMO<" in text and "demo scenario revoked-token" in text
    assert oct(out.stat().st_mode & 0o777) == "0o600"


@pytest.mark.skipif(picture.converter() is None, reason="no SVG → PNG converter installed")
def test_a_png_where_a_converter_is_installed(tmp_path) -> None:
    session = RecoverySession.new("gainsight-px")
    try:
        png = picture.write(session, _items(), tmp_path / "c.svg", vendor="Gainsight PX", when=WHEN)
    finally:
        session.release()
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert oct(png.stat().st_mode & 0o777) == "0o600"


def test_a_converter_that_fails_leaves_no_png_and_no_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(picture, "converter", lambda: ("rsvg-convert", shutil.which("false") or "/bin/false"))
    out = tmp_path / "c.svg"
    out.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    assert picture.to_png(out) is None
    assert not out.with_suffix(".png").exists()


def test_times_are_local_with_utc_beside(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert picture.local_and_utc("2026-11-20T20:00:00+00:00") == "2026-11-21 05:00 JST (2026-11-20 20:00 UTC)"
        assert picture.local_and_utc("2026-11-20T01:00:00+00:00") == "2026-11-20 10:00 JST (01:00 UTC)"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
