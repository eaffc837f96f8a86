"""Troubleshooting: each known symptom recognised from the other checks' evidence (no extra API calls)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sfwizard.checks.base import CheckResult, Outcome, Status, check, fail, ok, skipped
from sfwizard.checks.context import CheckContext

Results = dict[str, CheckResult]


def _failed(results: Results, cid: str, *words: str) -> CheckResult | None:
    r = results.get(cid)
    if r is None or r.status != Status.FAIL:
        return None
    if words and not any(w in r.summary.lower() for w in words):
        return None
    return r


@dataclass(frozen=True)
class Symptom:
    id: str
    symptom: str  # as the runbook names it
    cause: str
    resolution: str
    detect: Callable[[Results], CheckResult | None]
    looks_at: tuple[str, ...]
    profiles: tuple[str, ...] = ("gainsight-px", "skilljar")


SYMPTOMS = (
    Symptom("ts.authorization_incomplete", "Authorization fails or never completes",
            "the browser blocked the pop-up, or the Salesforce approval was abandoned",
            "allow pop-ups for the platform's site, use a private window, and finish the Allow step",
            lambda r: _failed(r, "token.fresh", "never completed", "no "), ("token.fresh",)),
    Symptom("ts.app_blocked", "Connected app blocked by Salesforce",
            "Salesforce blocks connected apps that are not installed in the org (since 2025)",
            "install the connected app in the org, or grant 'Approve Uninstalled Connected Apps' to the approver",
            lambda r: _failed(r, "token.fresh", "salesforce blocked the"), ("token.fresh",)),
    Symptom("ts.access_denied", "\"Access Denied\" in Salesforce",
            "the integration user lacks API access or object/field permissions",
            "grant API Enabled and the object and field permissions named by the permission checks",
            lambda r: _failed(r, "perm.api_enabled") or _failed(r, "perm.read_sources")
            or _failed(r, "perm.edit_targets") or _failed(r, "token.fresh", "refused"),
            ("perm.api_enabled", "perm.read_sources", "perm.edit_targets")),
    Symptom("ts.wrong_org", "Wrong org connected",
            "several Salesforce sessions in one browser: the approval went to another org or user",
            "log out of every Salesforce org, use a private window, authorize again as the integration user",
            lambda r: _failed(r, "identity.right_org") or _failed(r, "token.fresh", "belongs to"),
            ("identity.right_org", "token.fresh")),
    Symptom("ts.stale_data", "Data appears stale",
            "no sync has completed since the re-authorization, or the backfill is still processing",
            "click Synchronize and allow 2–3 sync cycles for historical data",
            lambda r: _failed(r, "flow.salesforce_to_platform"), ("flow.salesforce_to_platform",),
            ("gainsight-px",)),
    Symptom("ts.push_without_prefix", "PX → Salesforce push failing",
            "a push mapping points at a Salesforce field without the PX_ prefix",
            "create PX_-prefixed fields and point the push mappings at them",
            lambda r: _failed(r, "mapping.push_targets", "lack the")
            or _failed(r, "flow.platform_to_salesforce", "last push failed"),
            ("mapping.push_targets", "flow.platform_to_salesforce"), ("gainsight-px",)),
    Symptom("ts.knowledge_no_results", "Knowledge Center bot shows no results",
            "the Salesforce Knowledge Base toggle is off, or categories/accessibility exclude every article",
            "turn the toggle on and match categories and accessibility to the articles",
            lambda r: _failed(r, "knowledge.toggle") or _failed(r, "knowledge.search")
            or _failed(r, "knowledge.visibility"),
            ("knowledge.toggle", "knowledge.search", "knowledge.visibility"), ("gainsight-px",)),
    Symptom("ts.api_limit", "API limit exhausted",
            "the org's daily API requests are used up; every integration call fails",
            "wait for the 24-hour window or ask Salesforce for a temporary increase",
            lambda r: _failed(r, "proactive.api_headroom") or next(
                (x for x in r.values() if x.evidence.get("errorCode") == "REQUEST_LIMIT_EXCEEDED"
                 or "api limit" in x.summary.lower()), None),
            ("proactive.api_headroom",)),
)


def _register(sym: Symptom) -> None:
    def run(ctx: CheckContext) -> Outcome:
        results: Results = ctx.results
        if not any(cid in results for cid in sym.looks_at):
            return skipped("the checks this relies on did not run", looks_at=list(sym.looks_at))
        hit = sym.detect(results)
        if hit is None:
            return ok(f"not seen: {sym.symptom}", looks_at=list(sym.looks_at))
        return fail(f"{sym.symptom}: {hit.summary}", sym.cause, sym.resolution, evidence_from=hit.id)

    check(sym.id, sym.symptom, "troubleshoot", profiles=sym.profiles, needs=())(run)


for _sym in SYMPTOMS:
    _register(_sym)
