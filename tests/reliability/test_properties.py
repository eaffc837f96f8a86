"""Properties over generated data (hypothesis): a snapshot comes back from its file exactly as it was saved,
and no registered secret survives the redaction layer in any of the forms it travels in."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from urllib.parse import quote, quote_plus

from _support import LEDGER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Any text a person or an API could put in a field: every code point but surrogates (not encodable), so
# control characters, NUL, line and paragraph separators, BOMs, quotes, YAML's own punctuation and words.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=24) | st.sampled_from(
    ["yes", "no", "null", "~", "true", "1e3", "0x10", "04:00", "- a", "a: b", "#x", "&a", "*a", "!tag", "'", '"',
     "2026-11-20", "2026-11-20T10:00:00Z", "\ufeffx", "x\u2028y", "x\x85y", "\r\n", " lead", "trail ", ""])
HHMM = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
MAPPING = st.fixed_dictionaries({"salesforce": TEXT, "platform": TEXT,
                                 "direction": st.sampled_from(["sf_to_px", "px_to_sf"])},
                                optional={"type": TEXT})
FACTS = st.fixed_dictionaries({
    "profile": st.sampled_from(["gainsight-px", "skilljar"]),
    "taken_at": TEXT.filter(bool),
    "org": st.fixed_dictionaries({"id": TEXT, "name": TEXT, "instance": TEXT, "sandbox": st.booleans()}),
    "integration_user": st.fixed_dictionaries({"username": TEXT, "id": TEXT}),
    "flows": st.lists(TEXT, max_size=3),
    "matching": st.dictionaries(TEXT, st.fixed_dictionaries({"salesforce": TEXT, "platform": TEXT}), max_size=3),
    "mappings": st.lists(MAPPING, max_size=5),
    "custom_objects": st.lists(TEXT, max_size=3),
    "push": st.fixed_dictionaries({"enabled": st.booleans(), "prefix": TEXT, "fields": st.lists(TEXT, max_size=3),
                                   "schedule_gmt": st.lists(HHMM, max_size=3)}),
    "schedule_gmt": st.fixed_dictionaries({"fetch": HHMM, "map": HHMM, "push": st.lists(HHMM, max_size=3)}),
    "knowledge": st.fixed_dictionaries({
        "used": st.booleans(), "enabled": st.booleans(), "categories": st.lists(TEXT, max_size=3),
        "accessibility": st.lists(st.sampled_from(["Public", "Customer", "Partner", "Internal"]), max_size=4),
        "known_article": TEXT}),
    "to_complete": st.lists(TEXT, max_size=3),
})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FACTS)
def test_snapshot_dump_then_load_is_the_original(facts) -> None:
    from sfwizard import snapshot

    original = snapshot.build(facts)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snapshot.yaml"
        snapshot.save(original, path)
        loaded = snapshot.load(path)
    assert loaded == original
    assert snapshot.diff(original, loaded) == []
    LEDGER.properties["snapshots round-tripped"] = LEDGER.properties.get("snapshots round-tripped", 0) + 1


# Secrets as they are made: URL-safe tokens, hex, Salesforce's shapes, passwords with punctuation.
SECRET = st.one_of(
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), min_size=16,
            max_size=96),
    st.text(st.sampled_from("0123456789ABCDEF"), min_size=32, max_size=64),
    st.builds(lambda a, b: f"00D{a}!{b}", st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                                                  min_size=12, max_size=12),
              st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"),
                      min_size=20, max_size=90)),
    st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":[]"), min_size=16, max_size=40),
)
AROUND = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)


def forms(secret: str) -> set[str]:
    """How a secret travels: as is, URL-encoded (both ways), JSON-escaped."""
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


@settings(max_examples=400, deadline=None)
@given(SECRET, AROUND, AROUND, st.sampled_from(["plain", "url", "url_plus", "json", "query", "header", "dict"]))
def test_no_registered_secret_survives_redaction(secret, before, after, how) -> None:
    from sfwizard.redact import Redactor

    r = Redactor()
    r.add(secret, kind="token")
    travelling = {"plain": secret, "url": quote(secret, safe=""), "url_plus": quote_plus(secret),
                  "json": json.dumps(secret)[1:-1], "query": f"https://x/cb?state=1&code={quote(secret, safe='')}",
                  "header": f"Authorization: Bearer {secret}", "dict": secret}[how]
    if how == "dict":
        out = json.dumps(r.obj({"note": f"{before}{secret}{after}", "nested": [{"value": secret}],
                                "access_token": secret}), ensure_ascii=False)
    else:
        out = r.text(f"{before}{travelling}{after}")
    survivors = [f for f in forms(secret) if f in out and f not in f"{before}{after}"]
    assert not survivors, (survivors, out)
    LEDGER.properties["secrets redacted"] = LEDGER.properties.get("secrets redacted", 0) + 1
