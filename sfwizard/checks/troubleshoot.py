"""Troubleshooting: each known symptom recognised from the other checks' reason codes and evidence.

No extra API calls, and no reading of words: a symptom lists the signs that reveal it (a reason code,
where needed narrowed by an evidence value), so rewording a check never hides a symptom.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sfwizard.checks.base import REGISTRY, CheckResult, Outcome, Status, check, fail, ok, skipped
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
class Explained:
    """Another symptom that, when seen, explains this one; ``reasons``: only its hits with these reason codes
    do (none: any hit)."""

    symptom: str
    reasons: tuple[str, ...] = ()

    def hits(self, results: Iterable[CheckResult]) -> list[CheckResult]:
        return [r for r in BY_ID[self.symptom].seen(results) if not self.reasons or r.reason in self.reasons]


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
    explained_by: tuple[Explained, ...] = ()

    def seen(self, results: Iterable[CheckResult]) -> list[CheckResult]:
        """The results that show this symptom, the most specific evidence first: in the order of the signs (listed
        most specific first), then in the order they ran."""
        rank = {id(r): next(i for i, s in enumerate(self.signs) if s.seen_in(r)) for r in results
                if any(s.seen_in(r) for s in self.signs)}
        return sorted((r for r in results if id(r) in rank), key=lambda r: rank[id(r)])


WRONG_ORG = Explained("ts.wrong_org")
LOGIN_REFUSED = Explained("ts.login_refused")
# A permission the fetch needs: without it the sync reads nothing, so the platform's data stays old.
FETCH_BLOCKED = Explained("ts.access_denied", ("perm.api_disabled", "perm.object_read_missing",
                                                "perm.field_read_missing", "token.platform_down"))

SYMPTOMS = (
    Symptom("ts.authorization_incomplete", "Authorization fails or never completes",
            "the browser blocked the pop-up, or the Salesforce approval was abandoned",
            "allow pop-ups for the platform's site, use a private window, and finish the Allow step",
            signs("token.not_granted"), ("token.fresh",), explained_by=(WRONG_ORG, LOGIN_REFUSED)),
    Symptom("ts.app_blocked", "Connected app blocked by Salesforce",
            "Salesforce blocks connected apps that are not installed in the org (since 2025)",
            "install the connected app in the org, or grant 'Approve Uninstalled Connected Apps' to the approver",
            signs("token.app_blocked"), ("token.fresh",)),
    # Only a missing permission is "Access Denied": a refused login (an expired password…) is ts.login_refused.
    Symptom("ts.access_denied", "\"Access Denied\" in Salesforce",
            "the integration user lacks API access or object/field permissions",
            "grant API Enabled and the object and field permissions named by the permission checks",
            (*signs("perm.api_disabled", "perm.object_read_missing", "perm.field_read_missing",
                    "perm.object_edit_missing", "perm.field_edit_missing"),
             Sign.where("token.platform_down", salesforce_error_code=("API_CURRENTLY_DISABLED",
                                                                      "INSUFFICIENT_ACCESS_OR_READONLY"))),
            ("perm.api_enabled", "perm.read_sources", "perm.edit_targets", "token.platform_status")),
    Symptom("ts.login_refused", "Salesforce refuses the integration user's login",
            "Salesforce refuses the integration user's logins or calls (its password, a lockout, a frozen or "
            "deactivated user)",
            "fix what the refusal names, then authorize again in the platform, logged in as the integration user",
            (*signs("token.password_expired", "proactive.password_expired", "token.password_locked",
                    "token.user_frozen", "perm.user_inactive", "token.user_inactive", "token.invalid_password",
                    "token.login_failed"),
             Sign.where("token.platform_down", salesforce_error_code=("INVALID_OPERATION_WITH_EXPIRED_PASSWORD",))),
            ("token.fresh", "perm.api_enabled", "proactive.password_age", "token.platform_status")),
    Symptom("ts.wrong_org", "Wrong org connected",
            "several Salesforce sessions in one browser: the wizard's sign-in or the platform's approval went to "
            "another org or user",
            "log out of every Salesforce org and use a private window; then redo what went astray — "
            "identity.right_org names it: the wizard's sign-in (sfwizard login) or the platform's Authorize as the "
            "integration user",
            signs("org.mismatch", "org.snapshot_mismatch", "org.platform_elsewhere", "token.other_user",
                  "token.other_org"), ("identity.right_org", "identity.signed_in_org", "token.fresh")),
    Symptom("ts.stale_data", "Data appears stale",
            "no sync has completed since the re-authorization, or the backfill is still processing",
            "click Synchronize and allow 2–3 sync cycles for historical data",
            signs("flow.stale"), ("flow.salesforce_to_platform",), ("gainsight-px",),
            explained_by=(WRONG_ORG, FETCH_BLOCKED, Explained("ts.api_limit"), LOGIN_REFUSED)),
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
            ("gainsight-px",), explained_by=(WRONG_ORG,)),
    Symptom("ts.api_limit", "API limit exhausted",
            "the org's daily API requests are used up; every integration call fails",
            "wait for the 24-hour window or ask Salesforce for a temporary increase",
            (*signs("salesforce.limit_exceeded", "proactive.api_exhausted"),
             Sign.where("salesforce.refused", errorCode=("REQUEST_LIMIT_EXCEEDED",)),
             Sign.where("token.platform_down", salesforce_error_code=("REQUEST_LIMIT_EXCEEDED",))),
            ("proactive.api_headroom", "token.platform_status")),
)
BY_ID = {s.id: s for s in SYMPTOMS}
UNREACHED = ("net.unreachable", "skip.unreachable")
# Skipped because Salesforce stopped answering the run (the runner's stops): such a result judged nothing.
STOPPED = ("skip.limit_exceeded", "skip.signin_required", "skip.password_expired", "skip.user_inactive")


def _register(sym: Symptom) -> None:
    def run(ctx: CheckContext) -> Outcome:
        if not any(cid in ctx.results for cid in sym.looks_at):
            return skipped("skip.depends_on", "the checks this relies on did not run", looks_at=list(sym.looks_at))
        unreached = [cid for cid in sym.looks_at if cid in ctx.results and ctx.results[cid].reason in UNREACHED]
        if unreached:  # a service that did not answer tells nothing about the cause: name none
            return skipped("skip.unreachable", f"not checked: {', '.join(unreached)} could not reach the service",
                           looks_at=list(sym.looks_at), unreachable=unreached)
        hits = sym.seen(ctx.results.values())
        judged = [cid for cid in sym.looks_at if cid in ctx.results and ctx.results[cid].reason not in STOPPED]
        if not hits and not judged:  # what it reads was stopped before it could look: nothing is "not seen"
            stop = next(ctx.results[cid] for cid in sym.looks_at if cid in ctx.results)
            return skipped(stop.reason, f"not checked: {stop.summary.removeprefix('not run: ')}",
                           looks_at=list(sym.looks_at))
        if not hits:
            return ok(f"not seen: {sym.symptom}", looks_at=list(sym.looks_at))
        ordered = sorted(hits, key=lambda r: list(ctx.results).index(r.id))  # (as they ran, for the evidence)
        evidence = {"seen_in": [r.id for r in ordered], "reasons": list(dict.fromkeys(r.reason for r in ordered))}
        # A consequence only when every hit comes from a check that reads the integration's own org state
        # (needs data_org): those are what a wrong org distorts, a platform-side result is a fact of its own.
        results = list(ctx.results.values())
        explained = [(e, e.hits(results)) for e in sym.explained_by]
        explained = [(e, found) for e, found in explained if found]
        if explained and all("data_org" in getattr(REGISTRY.get(r.id), "needs", ()) for r in hits):
            because, found = explained[0]
            cause = BY_ID[because.symptom]
            return Outcome(Status.SKIPPED, "skip.consequence",
                           f"{sym.symptom}, a consequence of: {cause.symptom} — {hits[0].summary}",
                           {"explained_by": [e.symptom for e, _ in explained], **evidence},
                           f"{found[0].cause or cause.cause}; fixing that fixes this",
                           found[0].resolution or cause.resolution)
        # The most specific evidence names the cause and the fix; the runbook's row names the symptom.
        return fail(sym.id, f"{sym.symptom}: {hits[0].summary}", hits[0].cause or sym.cause,
                    hits[0].resolution or sym.resolution, **evidence)

    check(sym.id, sym.symptom, "troubleshoot", profiles=sym.profiles, needs=(), reads_results=True)(run)


for _sym in SYMPTOMS:
    _register(_sym)
