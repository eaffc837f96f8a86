"""Troubleshooting reads reason codes, never words: each sign reveals its symptom whatever a result says,
old words under another reason reveal nothing, an evidence condition narrows a sign, a symptom names every
check that showed it, and whole scenarios diagnose the same with every check reworded."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sfwizard.checks.base import CheckResult, CheckSpec, Status, fail
from sfwizard.checks.context import CheckContext
from sfwizard.checks.runner import REGISTRY, run_checks
from sfwizard.checks.troubleshoot import SYMPTOMS
from sfwizard.demo import demo_client
from sfwizard.profiles import load_profile


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


# -- whole scenarios, every check reworded ------------------------------------------------------------------------

def _symptoms(results: dict[str, Any]) -> dict[str, Status]:
    return {cid: r.status for cid, r in results.items() if cid.startswith("ts.")}


@pytest.mark.parametrize("scenario", ["revoked-token", "missing-permissions", "push-missing-prefix", "wrong-org"])
def test_symptoms_do_not_depend_on_the_checks_wording(scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check's words replaced, its status, reason and evidence kept: troubleshooting sees the same."""
    from sfwizard.checks.runner import REGISTRY

    with demo_client(scenario) as (client, ctx_kwargs):
        plain = {r.id: r for r in client.run_checks(client.context(**ctx_kwargs))}
        for cid, spec in list(REGISTRY.items()):
            if not cid.startswith("ts."):
                def reworded(ctx, _func=spec.func):
                    return dataclasses.replace(_func(ctx), summary="reworded", cause="reworded",
                                               resolution="reworded")
                monkeypatch.setitem(REGISTRY, cid, dataclasses.replace(spec, func=reworded))
        again = {r.id: r for r in client.run_checks(client.context(**ctx_kwargs))}
    assert {r.summary for cid, r in again.items() if not cid.startswith("ts.")
            and r.reason != "skip.wrong_org"} == {"reworded"}  # (those the runner skips in the wrong org)
    assert Status.FAIL in _symptoms(plain).values()
    assert _symptoms(again) == _symptoms(plain)
    for cid in _symptoms(plain):
        assert again[cid].evidence == plain[cid].evidence, cid
