"""What to do about what the checks found: each reason code's remedy — who does what, in which order.

The remedies are derived from results (their reason codes and evidence), never from a scenario's name, so the
same table serves a real recovery (the lock says what to fix first; a check row's way forward is a pane or a
key) and the demo (its ``v`` key performs the first remedy of the step on the vendors' stand-in pages).

Order: what blocks everything else first — the vendor's all-clear, the wizard in the right org — then the
Salesforce admin's fixes to the integration user (install the app, reactivate, reset the password, API Enabled,
object and field access, a stray token), then the platform admin's clicks (remap a push, Authorize, Synchronize
or Backfill, the Knowledge settings). Past Skilljar's 21 days the runbook sends the person to Support: no click.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sfwizard.checks.base import CheckResult, Status


@dataclass(frozen=True)
class Remedy:
    kind: str  # what is done: see KINDS
    actor: str  # platform_admin, salesforce_admin, wizard, vendor (the status page), support
    words: str  # one line, the person's to follow
    check_id: str  # the result that calls for it
    reason: str  # that result's reason code
    order: int
    details: dict[str, Any] = field(default_factory=dict)  # targets read off the evidence (user, objects, fields)

    @property
    def clickable(self) -> bool:
        """Whether the demo's stand-in pages can make it (Support cannot be clicked)."""
        return self.actor != "support"


# kind → (order, actor)
KINDS: dict[str, tuple[int, str]] = {
    "status.all_clear": (10, "vendor"),
    "wizard.right_org": (20, "wizard"),
    "sf.grant_admin": (25, "salesforce_admin"),
    "sf.install_app": (30, "salesforce_admin"),
    "sf.install_package": (32, "salesforce_admin"),
    "sf.reactivate_user": (35, "salesforce_admin"),
    "sf.reset_password": (40, "salesforce_admin"),
    "sf.grant_api": (45, "salesforce_admin"),
    "sf.grant_access": (50, "salesforce_admin"),
    "platform.remap_push": (55, "platform_admin"),
    "sf.revoke_stray_token": (60, "salesforce_admin"),
    "platform.authorize_right_org": (65, "platform_admin"),
    "platform.authorize": (70, "platform_admin"),
    "platform.sync": (80, "platform_admin"),
    "platform.knowledge": (90, "platform_admin"),
    "support": (99, "support"),
}


def _remedy(kind: str, words: str, r: CheckResult, **details: Any) -> Remedy:
    order, actor = KINDS[kind]
    return Remedy(kind, actor, words, r.id, r.reason, order, details)


def _for(r: CheckResult, results: Mapping[str, CheckResult], vendor: str, backfill: bool) -> Remedy | None:
    """The remedy one result calls for, or None."""
    ev = r.evidence or {}
    reason = r.reason
    sync_word = "Backfill" if backfill else "Synchronize"
    authorize_word = "Reconnect" if backfill else "Authorize"
    if reason in ("status.integration_affected", "status.maintenance"):
        return _remedy("status.all_clear", f"wait for {vendor}'s all-clear on its status page before reconnecting",
                       r)
    if reason in ("org.snapshot_mismatch", "org.mismatch"):
        return _remedy("wizard.right_org", "sign sfwizard in again to the org the platform's data lives in (log out "
                       "of every other Salesforce org first)", r)
    if reason in ("admin.api_disabled", "admin.cannot_manage_users"):
        perm = "API Enabled" if reason == "admin.api_disabled" else "Manage Users"
        return _remedy("sf.grant_admin", f"give the signed-in Salesforce admin {perm}", r, permission=perm)
    if reason == "token.app_blocked":
        return _remedy("sf.install_app", f"install the {ev.get('app') or vendor} connected app in the org "
                       "(Setup → Connected Apps OAuth Usage → Install), then authorize again", r, app=ev.get("app"))
    if reason == "skilljar.package_missing":
        return _remedy("sf.install_package", "install the Skilljar managed package in this org", r)
    if reason == "perm.user_inactive":
        return _remedy("sf.reactivate_user", f"reactivate {ev.get('user')} (Setup → Users → Edit → Active)", r,
                       user=ev.get("user"))
    if reason == "token.login_failed":
        return _remedy("sf.reset_password", f"reset the password of {ev.get('integration_user')} and unlock it "
                       "(Setup → Users), then authorize again with the new one", r, user=ev.get("integration_user"))
    if reason == "perm.api_disabled":
        return _remedy("sf.grant_api", f"add API Enabled to a permission set assigned to {ev.get('user')}", r,
                       user=ev.get("user"))
    if reason in ("perm.object_read_missing", "perm.field_read_missing", "perm.object_edit_missing",
                  "perm.field_edit_missing"):
        perm = "read" if "read" in reason else "edit"
        missing = list(ev.get("missing") or [])
        return _remedy("sf.grant_access", "grant the integration user in its permission set: "
                       + "; ".join(missing[:4]) + ("…" if len(missing) > 4 else ""), r, user=ev.get("user"),
                       perm=perm, objects=list(ev.get("missing_objects") or []),
                       fields=list(ev.get("missing_fields") or []))
    if reason in ("mapping.push_without_prefix", "mapping.push_read_only"):
        targets = list(ev.get("without_prefix") or ev.get("not_updateable") or [])
        return _remedy("platform.remap_push", "in the platform's field mappings, push into PX_ fields only "
                       + (f"(remap {', '.join(targets[:3])})" if targets else "") + ", then document the mapping",
                       r, targets=targets)
    if reason == "token.other_user":
        stray = [t.get("user") for t in ev.get("tokens") or [] if t.get("user") != ev.get("integration_user")]
        return _remedy("sf.revoke_stray_token", f"revoke the {ev.get('app') or vendor} token of "
                       f"{stray[0] if stray else 'the other user'} (Setup → Connected Apps OAuth Usage), then "
                       f"{authorize_word} as the integration user", r, app=ev.get("app"),
                       user=stray[0] if stray else None)
    if reason == "org.platform_elsewhere" and isinstance(ev.get("token_org"), dict) \
            and ev["token_org"] == ev.get("signed_in_org"):
        # the new token is in the right org now; the platform still holds records read from the other one
        return _remedy("platform.sync", f"click {sync_word} so the platform reads this org again", r)
    if reason in ("token.other_org", "org.platform_elsewhere"):
        return _remedy("platform.authorize_right_org", f"log out of every Salesforce org, then {authorize_word} again "
                       "and Allow as the integration user in the production org", r)
    if reason == "token.not_granted":
        return _remedy("platform.authorize", f"{authorize_word} on the platform, then Allow as the integration user",
                       r)
    if reason == "token.platform_down" and ev.get("cause_reason") in ("token.password_expired",
                                                                       "token.password_locked"):
        # the platform relays Salesforce's refusal of the integration user's password: a new token cannot help
        user = ev.get("integration_user") or (results.get("token.fresh") and
                                              (results["token.fresh"].evidence or {}).get("integration_user"))
        return _remedy("sf.reset_password", f"reset the password of {user or 'the integration user'} and unlock "
                       f"it (Setup → Users), then {authorize_word} again as the integration user", r, user=user)
    if reason == "token.platform_down":
        fresh = results.get("token.fresh")
        if fresh is not None and fresh.status == Status.PASS:  # the token is there: the last sync failed
            return _remedy("platform.sync", f"{sync_word} again once what the last error names is fixed", r)
        return _remedy("platform.authorize", f"{authorize_word} on the platform, then Allow as the integration user",
                       r)
    if reason in ("token.no_sync_since", "flow.stale", "flow.no_push", "skilljar.backfill_not_arrived"):
        return _remedy("platform.sync", f"click {sync_word} and watch it finish", r)
    if reason == "ask.knowledge_toggle":
        return _remedy("platform.knowledge", "turn the Salesforce Knowledge Base toggle on (In-App Hub "
                       "Integrations), then confirm it (c)", r)
    if reason in ("knowledge.category_missing", "knowledge.categories_empty"):
        return _remedy("platform.knowledge", "choose the Knowledge categories that hold online articles", r,
                       categories=True)
    if reason == "knowledge.not_visible":
        return _remedy("platform.knowledge", "choose the accessibility the articles are visible in", r,
                       accessibility=True)
    if reason == "skilljar.backfill_window_passed":
        return _remedy("support", "past the 21-day window only Skilljar Support can backfill: send them what the "
                       "check lists", r)
    return None


def remedies(results: Iterable[CheckResult], *, all_results: Mapping[str, CheckResult] | None = None,
             vendor: str = "the platform", backfill: bool = False,
             confirmed: Iterable[str] = ()) -> list[Remedy]:
    """The remedies these results call for, first one first (one per kind: the first result asking for it).
    ``confirmed``: check ids a person already confirmed (their ask is answered)."""
    pool = list(results)
    everything = dict(all_results or {r.id: r for r in pool})
    done = set(confirmed)
    seen: dict[str, Remedy] = {}
    for r in pool:
        if r.status == Status.PASS or r.status == Status.SKIPPED or r.id.startswith("ts."):
            continue  # troubleshooting rows name what other results show: their remedies come from those
        if r.status == Status.MANUAL and r.id in done:
            continue
        found = _for(r, everything, vendor, backfill)
        if found is not None and found.kind not in seen:
            seen[found.kind] = found
    return sorted(seen.values(), key=lambda m: m.order)


def first_remedy(results: Iterable[CheckResult], **kwargs: Any) -> Remedy | None:
    """What to fix first (the lock's "fix this first"), or None."""
    found = remedies(results, **kwargs)
    return found[0] if found else None


# What a remedy's actor opens in the wizard (errors.FIXES): the wizard's own ones have a pane; the others
# happen in the vendors' UIs (a demo's v).
ACTOR_FIX = {"wizard": "connect.sign_in"}


def fix_for_result(r: CheckResult, *, demo: bool = False) -> str:
    """The fix code (errors.FIXES) for a check row: where the wizard sends the person, "" when the way forward
    is outside the wizard (a click in the vendor's UI, in a real run)."""
    ev = r.evidence or {}
    if ev.get("fix"):
        return str(ev["fix"])
    by_reason = {"skip.no_platform_key": "settings.px_api_key", "skip.no_status_page": "settings.status_url",
                 "skip.no_salesforce": "connect.sign_in", "skip.signin_required": "connect.sign_in",
                 "signin.required": "connect.sign_in", "net.tls_untrusted": "settings.ca_cert",
                 "org.snapshot_mismatch": "connect.sign_in", "org.mismatch": "connect.sign_in",
                 "skip.wrong_org": "connect.sign_in"}
    if r.reason in by_reason:
        return by_reason[r.reason]
    if r.reason == "net.unreachable":
        service = str(ev.get("service") or "")
        return {"salesforce": "retry", "platform": "settings.px_api_url", "status": "settings.status_url"
                }.get(service, "retry")
    if demo and r.status in (Status.FAIL, Status.WARN) and _for(r, {r.id: r}, "", False) is not None:
        return "demo.click"
    return ""


# What a check row says in the wizard: the finding, then the way forward inside the wizard — never a shell
# command or an environment variable (the checks' own words are written for the command line too).
SKIP_WORDS = {
    "skip.no_platform_key": "no platform API key set yet",
    "skip.no_salesforce": "not signed in to Salesforce yet",
    "skip.no_status_page": "no status page address set",
    "skip.no_snapshot": "no mapping snapshot yet (the Document mappings step saves it)",
    "skip.signin_required": "not run: the Salesforce sign-in was lost",
}
_SHELL = (re.compile(r"\s*\((?:run:? |set |or |sign in again: )?(?:sfwizard [^)]*|SFWIZARD_[^)]*)\)"),
          re.compile(r"\s*(?:[:;,—-]\s*)?(?:\b(?:run|sign in(?: again)?|set|pass|with)\b:?\s*)?"
                     r"(?:sfwizard (?:login|logout|snapshot|check|report)\b[^;,.()—]*|SFWIZARD_[A-Z_]+(?:=\S*)?)"))


def without_shell(text: str) -> str:
    """``text`` with any shell command or environment variable it names taken out (and what is left tidied)."""
    for pattern in _SHELL:
        text = pattern.sub(" ", text)
    text = re.sub(r"\s+([,.;)])", r"\1", " ".join(text.split())).strip(" :;,—-")
    return re.sub(r"\s+(?:and|or)$", "", text)


def wizard_words(r: CheckResult, *, demo: bool = False) -> tuple[str, str]:
    """(finding, way forward) for a check's row in the wizard: the way forward is the pane or key of its fix
    code (errors.FIXES) when it has one, else what a person does in the vendor's UI."""
    from sfwizard.errors import FIXES

    summary = SKIP_WORDS.get(r.reason) or without_shell(r.summary)
    way = FIXES.get(fix_for_result(r, demo=demo)) or without_shell(r.resolution)
    return summary, way
