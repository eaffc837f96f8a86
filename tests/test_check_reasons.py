"""Reason codes: the catalog, its use by every check, troubleshooting read from codes (never from
words), the README's table, and results saved before reasons existed. No sandbox needed."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from sfwizard.checks import output, reasons
from sfwizard.checks.base import CheckResult, CheckSpec, Status, fail, ok
from sfwizard.checks.context import CheckContext
from sfwizard.checks.runner import REGISTRY, run_checks
from sfwizard.checks.troubleshoot import SYMPTOMS
from sfwizard.profiles import load_profile

ROOT = Path(__file__).resolve().parent.parent
CHECKS_DIR = ROOT / "sfwizard" / "checks"
DOC = ROOT / "docs-check-json.md"  # the README's "Machine-readable output" section, until it is pasted in


# -- the catalog ------------------------------------------------------------------------------------------------

def test_codes_are_well_formed_and_explained_in_one_line() -> None:
    for r in reasons.REASONS:
        assert re.fullmatch(r"[a-z]+\.[a-z_]+", r.code), r.code
        assert r.meaning, r.code
        assert "\n" not in r.meaning, r.code
        assert "|" not in r.meaning, r.code  # it goes into a Markdown table


def test_a_code_never_names_a_check() -> None:
    """Codes and check ids share prefixes; only a symptom's code may equal its check's id."""
    clashes = {code for code in reasons.CATALOG if code in REGISTRY and not code.startswith("ts.")}
    assert clashes == set()


def test_every_symptom_has_its_code_and_its_signs_are_catalogued() -> None:
    for sym in SYMPTOMS:
        assert sym.id in reasons.CATALOG, sym.id
        for sign in sym.signs:
            assert sign.reason in reasons.CATALOG, (sym.id, sign.reason)


@pytest.mark.parametrize("status,reason,wrong", [
    ("pass", "", False), ("pass", "token.not_granted", True),
    ("fail", "token.not_granted", False), ("fail", "", True), ("fail", "token.no_such_thing", True),
    ("warn", "org.sandbox", False), ("fail", "skip.no_snapshot", True),
    ("skipped", "skip.no_snapshot", False), ("skipped", "token.not_granted", True),
    ("manual", "ask.people_present", False), ("manual", "skip.no_snapshot", True),
])
def test_problem_says_when_a_reason_does_not_fit_its_status(status: str, reason: str, wrong: bool) -> None:
    assert bool(reasons.problem(status, reason)) is wrong


def _code_literals() -> dict[str, set[str]]:
    """Every string literal shaped like a code in the check modules (reasons.py aside), by file."""
    out: dict[str, set[str]] = {}
    for path in sorted(CHECKS_DIR.glob("*.py")):
        if path.name == "reasons.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"[a-z]+\.[a-z_]+", node.value):
                out.setdefault(node.value, set()).add(path.name)
    return out


def test_every_code_in_the_sources_is_catalogued_and_every_catalogued_code_is_used() -> None:
    literals = _code_literals()
    check_ids = {cid for cid in REGISTRY if not cid.startswith("ts.")}
    codes_used = set(literals) - check_ids
    assert {c: sorted(literals[c]) for c in codes_used - set(reasons.CATALOG)} == {}  # used but not catalogued
    assert sorted(set(reasons.CATALOG) - set(literals)) == []  # catalogued but never produced


# -- troubleshooting reads codes, not words -----------------------------------------------------------------------

def _ctx() -> CheckContext:
    return CheckContext(load_profile("gainsight-px"))


def _source(cid: str, reason: str, summary: str, **evidence: Any) -> CheckSpec:
    return CheckSpec(cid, cid, "reauthorize", lambda ctx: fail(reason, summary, "cause", "fix", **evidence),
                     ("gainsight-px",), ())


def _symptom_after(source: CheckSpec, symptom: str) -> CheckResult:
    looked_at = [REGISTRY[cid] for cid in dict.fromkeys(s for sym in SYMPTOMS if sym.id == symptom
                                                        for s in sym.looks_at) if cid != source.id]
    return run_checks(_ctx(), [source, *looked_at, REGISTRY[symptom]])[-1]


SIGNS = [(sym.id, sign.reason, dict((k, v[0]) for k, v in sign.evidence)) for sym in SYMPTOMS for sign in sym.signs]


@pytest.mark.parametrize("symptom,reason,evidence", SIGNS, ids=[f"{s}<-{r}" for s, r, _ in SIGNS])
def test_each_sign_reveals_its_symptom_whatever_the_words(symptom: str, reason: str, evidence: dict) -> None:
    source = next(s for sym in SYMPTOMS if sym.id == symptom for s in sym.looks_at)
    r = _symptom_after(_source(source, reason, "words no version of sfwizard ever used", **evidence), symptom)
    assert r.status == Status.FAIL
    assert r.reason == symptom
    assert r.evidence["seen_in"] == [source]
    assert r.evidence["reasons"] == [reason]


# The words each symptom used to be recognised by, now carried by a result with another reason.
OLD_WORDS = [
    ("ts.authorization_incomplete", "token.fresh", "token.login_failed",
     "no Gainsight PX token has been granted: the authorization never completed"),
    ("ts.app_blocked", "token.fresh", "token.not_granted", "Salesforce blocked the Gainsight PX connected app"),
    ("ts.access_denied", "token.fresh", "token.other_user", "Salesforce refused the login"),
    ("ts.wrong_org", "token.fresh", "token.not_granted", "the token belongs to someone else"),
    ("ts.push_without_prefix", "mapping.push_targets", "mapping.push_read_only",
     "2 push target(s) lack the PX_ prefix"),
    ("ts.push_without_prefix", "flow.platform_to_salesforce", "flow.no_push", "the platform's last push failed"),
    ("ts.api_limit", "identity.org", "salesforce.refused", "Salesforce's daily API limit is used up"),
]


@pytest.mark.parametrize("symptom,source,reason,words", OLD_WORDS)
def test_words_that_used_to_match_reveal_nothing_under_another_reason(symptom: str, source: str, reason: str,
                                                                      words: str) -> None:
    r = _symptom_after(_source(source, reason, words, errorCode="INVALID_FIELD"), symptom)
    assert r.status == Status.PASS, r.summary
    assert r.reason == ""


def test_an_evidence_condition_narrows_a_sign() -> None:
    """salesforce.refused is the API limit only when Salesforce said REQUEST_LIMIT_EXCEEDED."""
    limit = _symptom_after(_source("identity.org", "salesforce.refused", "x", errorCode="REQUEST_LIMIT_EXCEEDED"),
                           "ts.api_limit")
    other = _symptom_after(_source("identity.org", "salesforce.refused", "x", errorCode="INVALID_FIELD"),
                           "ts.api_limit")
    assert limit.status == Status.FAIL
    assert other.status == Status.PASS


def test_a_symptom_lists_every_check_that_showed_it() -> None:
    specs = [_source("perm.api_enabled", "perm.api_disabled", "a"),
             _source("perm.edit_targets", "perm.field_edit_missing", "b"),
             REGISTRY["ts.access_denied"]]
    r = run_checks(_ctx(), specs)[-1]
    assert r.evidence["seen_in"] == ["perm.api_enabled", "perm.edit_targets"]
    assert r.evidence["reasons"] == ["perm.api_disabled", "perm.field_edit_missing"]
    assert r.summary.endswith(": a")  # the first one's words, after the symptom's name


# -- paths no sandbox state reaches: facts given to the context directly -------------------------------------------

class _Unused:
    """Stands in for an API client whose answers are already in the context's memo."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected API call: {name}")


def _run_one(cid: str, ctx: CheckContext) -> CheckResult:
    return run_checks(ctx, [REGISTRY[cid]])[0]


@pytest.mark.parametrize("cid", ["before.platform_api", "token.platform_status"])
def test_a_platform_without_a_salesforce_integration(cid: str) -> None:
    px = type("_Px", (_Unused,), {"region": "US", "base_url": "https://api.aptrinsic.com/v1"})()
    ctx = CheckContext(load_profile("gainsight-px"), px=px, _memo={  # type: ignore[arg-type]
        "px_integration": None, "px_integrations": [], "px_subscription": None})
    r = _run_one(cid, ctx)
    assert r.status == Status.FAIL
    assert r.reason == "platform.no_integration"


def test_a_signed_in_user_without_api_enabled() -> None:
    from sfwizard.checks.context import UserAccess

    me = {"Id": "005000000000001AAA", "Username": "nobody@example.com", "Profile": {"Name": "Standard User"}}
    access = UserAccess(user=me, permission_sets=[], api_enabled=False, modify_all=False, view_all=False,
                        objects={}, fields={})
    ctx = CheckContext(load_profile("gainsight-px"), sf=_Unused(),  # type: ignore[arg-type]
                       _memo={"me": me, f"access:{me['Id']}": access, "my_flags": []})
    r = _run_one("before.salesforce_admin", ctx)
    assert r.status == Status.FAIL
    assert r.reason == "admin.api_disabled"
    assert r.evidence["api_enabled"] is False


def test_an_integration_user_without_a_password_date() -> None:
    user = {"Id": "005000000000002AAA", "Username": "px@example.com", "LastPasswordChangeDate": None}
    ctx = CheckContext(load_profile("gainsight-px"), sf=_Unused(), _memo={"integration_user": user})  # type: ignore[arg-type]
    r = _run_one("proactive.password_age", ctx)
    assert r.status == Status.SKIPPED
    assert r.reason == "skip.no_password_date"


def test_a_platform_without_a_public_api_skips_what_needs_it() -> None:
    spec = CheckSpec("x.platform", "x", "validate", lambda ctx: ok("never"), ("skilljar",), ("platform",))
    r = run_checks(CheckContext(load_profile("skilljar")), [spec])[0]
    assert r.status == Status.SKIPPED
    assert r.reason == "skip.no_platform_api"


# -- results saved before reasons existed ---------------------------------------------------------------------------

def test_an_old_saved_result_reads_with_an_empty_reason() -> None:
    old = {"id": "token.fresh", "title": "t", "status": "fail", "summary": "s", "evidence": {"a": 1}, "cause": "c",
           "resolution": "r", "step": "reauthorize", "elapsed_ms": 3}
    r = CheckResult.from_dict(old)
    assert r.reason == ""
    assert r.status == Status.FAIL
    assert CheckResult.from_dict(r.to_dict()) == r


def test_a_result_saved_by_a_newer_version_reads_without_its_new_fields() -> None:
    newer = {**CheckResult("a", "t", Status.PASS, "s").to_dict(), "added_later": 1}
    assert CheckResult.from_dict(newer) == CheckResult("a", "t", Status.PASS, "s")


def test_a_result_round_trips_with_its_reason() -> None:
    r = CheckResult("token.fresh", "t", Status.FAIL, "s", {"tokens": []}, "c", "r", "reauthorize", 3,
                    reason="token.not_granted")
    assert r.to_dict()["reason"] == "token.not_granted"
    assert CheckResult.from_dict(r.to_dict()) == r


# -- the documentation --------------------------------------------------------------------------------------------

def test_the_documented_reason_table_matches_the_catalog() -> None:
    """Regenerate the table with: python -m sfwizard.checks.reasons"""
    text = DOC.read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| (.+) \|$", text, flags=re.M))
    catalog = {r.code: r.meaning for r in reasons.REASONS}
    assert sorted(set(catalog) - set(documented)) == []  # in the catalog, not in the docs
    assert sorted(set(documented) - set(catalog)) == []  # in the docs, not in the catalog
    assert {c: (documented[c], m) for c, m in catalog.items() if documented[c] != m} == {}
    assert reasons.markdown_table() in text  # and in catalog order


def test_the_documented_schema_is_the_current_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f'"schema": {output.SCHEMA},' in text
