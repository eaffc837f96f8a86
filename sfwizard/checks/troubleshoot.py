"""Troubleshooting: each known symptom recognised from the other checks' reason codes and evidence.

No extra API calls, and no reading of words: a symptom lists the signs that reveal it (a reason code,
where needed narrowed by an evidence value), so rewording a check never hides a symptom.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sfwizard.checks.base import REGISTRY, CheckResult, Outcome, check, fail, ok, skipped
from sfwizard.checks.context import CheckContext


@dataclass(frozen=True)
class Sign:
    """A result that reveals a symptom: its reason code and, where needed, evidence values."""

    reason: str
    evidence: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # (key, accepted values): all must hold

    @classmethod
    def where(cls, reason: str, **evidence: tuple[Any, ...]) -> Sign:
        return cls(reason, tuple(sorted(evidence.items())))

    def seen_in(self, result: CheckResult) -> bool:
        return result.reason == self.reason and all(
            result.evidence.get(key) in accepted for key, accepted in self.evidence)


def signs(*codes: str) -> tuple[Sign, ...]:
    return tuple(Sign(code) for code in codes)


@dataclass(frozen=True)
class Symptom:
    id: str  # also the reason code its failing result carries
    symptom: str  # as the runbook names it
    cause: str
    resolution: str
    signs: tuple[Sign, ...]
    looks_at: tuple[str, ...]  # the checks whose results it reads; skipped when none of them ran
    profiles: tuple[str, ...] = ("gainsight-px", "skilljar")
    # Symptoms that, when seen, explain this one: it is then reported as their consequence, not apart.
    explained_by: tuple[str, ...] = ()

    def seen(self, results: Iterable[CheckResult]) -> list[CheckResult]:
        """The results that show this symptom, in the order they ran."""
        return [r for r in results if any(s.seen_in(r) for s in self.signs)]


SYMPTOMS = (
    Symptom("ts.authorization_incomplete", "Authorization fails or never completes",
            "the browser blocked the pop-up, or the Salesforce approval was abandoned",
            "allow pop-ups for the platform's site, use a private window, and finish the Allow step",
            signs("token.not_granted"), ("token.fresh",), explained_by=("ts.wrong_org",)),
    Symptom("ts.app_blocked", "Connected app blocked by Salesforce",
            "Salesforce blocks connected apps that are not installed in the org (since 2025)",
            "install the connected app in the org, or grant 'Approve Uninstalled Connected Apps' to the approver",
            signs("token.app_blocked"), ("token.fresh",)),
    Symptom("ts.access_denied", "\"Access Denied\" in Salesforce",
            "the integration user lacks API access or object/field permissions",
            "grant API Enabled and the object and field permissions named by the permission checks",
            signs("perm.api_disabled", "perm.user_inactive", "perm.object_read_missing", "perm.field_read_missing",
                  "perm.object_edit_missing", "perm.field_edit_missing", "token.login_failed"),
            ("perm.api_enabled", "perm.read_sources", "perm.edit_targets", "token.fresh")),
    Symptom("ts.wrong_org", "Wrong org connected",
            "several Salesforce sessions in one browser: the wizard's sign-in or the platform's approval went to "
            "another org or user",
            "log out of every Salesforce org and use a private window; then redo what went astray — "
            "identity.right_org names it: the wizard's sign-in (sfwizard login) or the platform's Authorize as the "
            "integration user",
            signs("org.mismatch", "org.snapshot_mismatch", "org.platform_elsewhere", "token.other_user",
                  "token.other_org"), ("identity.right_org", "token.fresh")),
    Symptom("ts.stale_data", "Data appears stale",
            "no sync has completed since the re-authorization, or the backfill is still processing",
            "click Synchronize and allow 2–3 sync cycles for historical data",
            signs("flow.stale"), ("flow.salesforce_to_platform",), ("gainsight-px",),
            explained_by=("ts.wrong_org",)),
    Symptom("ts.push_without_prefix", "PX → Salesforce push failing",
            "a push mapping points at a Salesforce field without the PX_ prefix",
            "create PX_-prefixed fields and point the push mappings at them",
            (*signs("mapping.push_without_prefix"), Sign.where("flow.push_failed", prefix_missing=(True,))),
            ("mapping.push_targets", "flow.platform_to_salesforce"), ("gainsight-px",)),
    Symptom("ts.knowledge_no_results", "Knowledge Center bot shows no results",
            "the Salesforce Knowledge Base toggle is off, or the configured categories/accessibility exclude every "
            "article",
            "turn the toggle on and match categories and accessibility to where the articles are",
            signs("knowledge.not_visible", "knowledge.article_not_found",
                  "knowledge.categories_empty", "knowledge.article_outside_categories", "knowledge.category_missing",
                  "knowledge.not_enabled"),
            ("knowledge.toggle", "knowledge.categories", "knowledge.search", "knowledge.visibility"),
            ("gainsight-px",), explained_by=("ts.wrong_org",)),
    Symptom("ts.api_limit", "API limit exhausted",
            "the org's daily API requests are used up; every integration call fails",
            "wait for the 24-hour window or ask Salesforce for a temporary increase",
            (*signs("proactive.api_exhausted", "salesforce.limit_exceeded"),
             Sign.where("salesforce.refused", errorCode=("REQUEST_LIMIT_EXCEEDED",))),
            ("proactive.api_headroom",)),
)


BY_ID = {s.id: s for s in SYMPTOMS}
UNREACHED = ("net.unreachable", "skip.unreachable")


def _register(sym: Symptom) -> None:
    def run(ctx: CheckContext) -> Outcome:
        if not any(cid in ctx.results for cid in sym.looks_at):
            return skipped("skip.depends_on", "the checks this relies on did not run", looks_at=list(sym.looks_at))
        unreached = [cid for cid in sym.looks_at if cid in ctx.results and ctx.results[cid].reason in UNREACHED]
        if unreached:  # a service that did not answer tells nothing about the cause: name none
            return skipped("skip.unreachable", f"not checked: {', '.join(unreached)} could not reach the service",
                           looks_at=list(sym.looks_at), unreachable=unreached)
        hits = sym.seen(ctx.results.values())
        if not hits:
            return ok(f"not seen: {sym.symptom}", looks_at=list(sym.looks_at))
        evidence = {"seen_in": [r.id for r in hits], "reasons": list(dict.fromkeys(r.reason for r in hits))}
        # A consequence only when every hit comes from a check that reads the integration's own org state
        # (needs data_org): those are what a wrong org distorts, a platform-side result is a fact of its own.
        explained = [e for e in sym.explained_by if BY_ID[e].seen(ctx.results.values())]
        if explained and all("data_org" in getattr(REGISTRY.get(r.id), "needs", ()) for r in hits):
            cause = BY_ID[explained[0]]
            return skipped("skip.consequence", f"{sym.symptom}: follows from {cause.symptom.lower()} — "
                           f"{hits[0].summary}", f"{cause.cause}; fixing that fixes this", explained_by=explained,
                           **evidence)
        return fail(sym.id, f"{sym.symptom}: {hits[0].summary}", sym.cause, sym.resolution, **evidence)

    check(sym.id, sym.symptom, "troubleshoot", profiles=sym.profiles, needs=(), reads_results=True)(run)


for _sym in SYMPTOMS:
    _register(_sym)
