"""Reason codes: the catalog, its use by every check, the README's table, and results saved before reasons
existed. No sandbox needed. (Troubleshooting reads codes, never words: test_troubleshooting.py.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sfwizard.checks import output, reasons
from sfwizard.checks.base import CheckResult, Status
from sfwizard.checks.runner import REGISTRY
from sfwizard.checks.troubleshoot import SYMPTOMS

ROOT = Path(__file__).resolve().parents[2]
CHECKS_DIR = ROOT / "sfwizard" / "checks"
DOC = ROOT / "README.md"


def _section() -> str:
    """The README's "Machine-readable output" section (other tables there have rows of the same shape)."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Machine-readable output")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


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
    text = _section()
    documented = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| (.+) \|$", text, flags=re.M))
    catalog = {r.code: r.meaning for r in reasons.REASONS}
    assert sorted(set(catalog) - set(documented)) == []  # in the catalog, not in the docs
    assert sorted(set(documented) - set(catalog)) == []  # in the docs, not in the catalog
    assert {c: (documented[c], m) for c, m in catalog.items() if documented[c] != m} == {}
    assert reasons.markdown_table() in text  # and in catalog order


def test_the_documented_schema_is_the_current_one() -> None:
    text = _section()
    assert f'"schema": {output.SCHEMA},' in text
