"""A recovery with canned results and a fixed clock, for pictures of every screen that never change between runs.

Everything the screens ask the core for is answered from here: no sandbox, no network, no thread waits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sfwizard.cancel import ProgressFn, no_progress
from sfwizard.checks.base import CheckResult, Status
from sfwizard.recovery.connection import DemoInfo, SignedIn
from sfwizard.recovery.navigator import Gate
from sfwizard.recovery.session import RecoverySession
from sfwizard.recovery.wizard import Recovery, ReportFiles, SignInSetup, SyncStatus

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)
WHO = SignedIn(org_id="00D5g0000004C92EAE", org_name="Northwind Traders", instance="USA612", is_sandbox=False,
               edition="Enterprise Edition", user_id="0055g000003NnHdAAK", username="avery.admin@northwind.example",
               display_name="Avery Admin")

# What each check found, in the words a real run uses (the rest pass with a plain summary).
FOUND: dict[str, tuple[str, str, str, str, str]] = {  # id → (status, reason, summary, cause, resolution)
    "before.people": ("manual", "ask.people_present", "confirm the platform admin and the Salesforce admin are "
                      "both here and can do what their role needs", "", "schedule a short joint session"),
    "token.fresh": ("fail", "token.not_granted", "no Gainsight PX token has been granted since the disconnect",
                    "the authorization never completed (a blocked pop-up, or the approval was not finished)",
                    "allow pop-ups for the platform's site, use a private window, click Authorize again"),
    "token.platform_status": ("fail", "token.platform_down", "PX reports the Salesforce integration DOWN: "
                              "INVALID_SESSION_ID: Session expired or invalid",
                              "the integration's OAuth token is revoked or expired",
                              "the platform admin clicks Authorize and the Salesforce admin approves"),
    "knowledge.toggle": ("manual", "ask.knowledge_toggle", "confirm the Salesforce Knowledge Base toggle is ON under "
                         "Administration → Integrations → In-App Hub Integrations", "", "no API shows the toggle"),
    "skilljar.backfill_window": ("pass", "", "Backfill is available until 2026-12-02 09:00 UTC (11.8 days left)",
                                 "", ""),
    "ts.authorization_incomplete": ("fail", "ts.authorization_incomplete", "Authorization fails or never completes: "
                                    "no Gainsight PX token has been granted since the disconnect",
                                    "the browser blocked the pop-up, or the Salesforce approval was abandoned",
                                    "allow pop-ups for the platform's site, use a private window, finish Allow"),
}
EVIDENCE: dict[str, dict[str, Any]] = {
    "before.status_page": {"indicator": "none", "description": "All Systems Operational", "affected_components": [],
                           "unresolved_incidents": []},
    "flow.schedule": {"next_runs": [{"gmt": "Fri 19:00 GMT", "local": "Fri 19:00 UTC", "activity": "Data pushed to "
                                     "PX_ fields", "direction": "PX → Salesforce"}]},
    "knowledge.search": {"link": "https://northwind.my.salesforce.com/lightning/r/Knowledge__kav/ka05g0/view"},
    "skilljar.backfill_window": {"disconnected_at": "2026-11-11T09:00:00+00:00", "window_days": 21,
                                 "deadline": "2026-12-02T09:00:00+00:00", "days_left": 11.8},
}


def canned_result(cid: str, title: str, step: str, overrides: dict[str, tuple] | None = None) -> CheckResult:
    found = {**FOUND, **(overrides or {})}
    status, reason, summary, cause, fix = found.get(cid, ("pass", "", f"{title}: as expected", "", ""))
    return CheckResult(cid, title, Status(status), summary, dict(EVIDENCE.get(cid, {})), cause, fix, step, 12,
                       reason=reason)


class CannedRecovery(Recovery):
    """A Recovery whose every answer is canned: signed in (or not), at a chosen step, with a fixed clock."""

    def __init__(self, profile: str, step: str, *, signed_in: bool = True, overrides: dict[str, tuple] | None = None,
                 done_before: bool = True) -> None:
        session = RecoverySession(id="20261120-153000-c0de", profile=profile, created_at="2026-11-20T15:00:00+00:00",
                                  updated_at="2026-11-20T15:30:00+00:00", demo_scenario="revoked-token")
        session.dir.mkdir(parents=True, exist_ok=True)
        setup = SignInSetup(login_url="https://login.salesforce.com", client_id="3MVG9canned", keep=False,
                            open_browser=False)
        demo = DemoInfo(scenario="revoked-token", admin_url="https://127.0.0.1:8443/",
                        login_url="https://127.0.0.1:8443", ca_cert="/dev/null")
        super().__init__(profile, setup, session, demo=demo, vendor=_Vendor(profile), clock=lambda: NOW)
        self.overrides = overrides or {}
        self.offer_security_step = True  # the wizard offers the Security review (it has its pane)
        self._signed_in = WHO if signed_in else None
        from sfwizard.checks.runner import specs_for

        self._specs = {s.id: s for s in specs_for(profile)}
        steps = [s.id for s in self.navigator.steps]
        session.step = step
        if done_before:
            session.completed = steps[:steps.index(step)]
            for earlier in session.completed:
                self.navigator.record(self._answers(self.step_checks(earlier)))
        if signed_in:
            session.facts["signed_in"] = {"value": WHO.username, "at": "2026-11-20T15:05:00+00:00"}
        if profile == "skilljar":  # the dashboard's alert, as read at Connect: the Backfill window is known
            session.disconnected_at = EVIDENCE["skilljar.backfill_window"]["disconnected_at"]

    # -- identity and checks, canned ---------------------------------------------------------------------------
    @property
    def signed_in(self) -> SignedIn | None:  # type: ignore[override]
        return self._signed_in

    def _answers(self, ids: Iterable[str]) -> list[CheckResult]:
        return [canned_result(c, self._specs[c].title, self._specs[c].step, self.overrides) for c in ids
                if c in self._specs]

    def run_checks(self, ids: Iterable[str], *, on_result: Callable[[CheckResult], None] | None = None,
                   progress: ProgressFn = no_progress) -> list[CheckResult]:
        results = self._answers(ids)
        for r in results:
            if on_result:
                on_result(r)
        self.navigator.record(results)
        return results

    def watch(self, step_id: str, *, on_round: Callable[[int, list[CheckResult], Gate], None],
              interval: float = 5.0, max_rounds: int | None = None) -> Gate:
        results = self.run_checks(self.step_checks(step_id))
        gate = self.navigator.gate(step_id)
        on_round(1, results, gate)
        return gate

    def sync_status(self) -> SyncStatus:
        return SyncStatus("UP", NOW - timedelta(minutes=1), None, 48210, 570, 570, NOW)

    def watch_sync(self, on_status: Callable[[SyncStatus], None], **_: Any) -> SyncStatus:
        st = self.sync_status()
        on_status(st)
        self.navigator.note_fact("sync_completed", NOW.isoformat())
        return st

    def saved_sign_in(self) -> None:
        return None

    def snapshot_draft(self) -> Any:
        from sfwizard import snapshot

        return snapshot.build({
            "profile": self.profile.name, "taken_at": "2026-11-20T15:10:00+00:00",
            "org": {"id": WHO.org_id, "name": WHO.org_name, "instance": WHO.instance},
            "integration_user": {"username": "px.integration@northwind.example"},
            "matching": {"account": {"salesforce": "Account.Id", "platform": "account.sfdcId"}},
            "mappings": [{"salesforce": "Account.Name", "platform": "account.name", "direction": "sf_to_px"},
                         {"salesforce": "Account.Industry", "platform": "account.industry", "direction": "sf_to_px"},
                         {"salesforce": "Contact.Email", "platform": "user.email", "direction": "sf_to_px"},
                         {"salesforce": "Account.PX_Health_Score__c", "platform": "account.healthScore",
                          "direction": "px_to_sf"},
                         {"salesforce": "Account.Health_Score__c", "platform": "account.score",
                          "direction": "px_to_sf"}],
            "knowledge": {"used": True, "enabled": True, "categories": ["Products.All"],
                          "accessibility": ["Public"], "known_article": "Connect Salesforce"},
            "to_complete": ["matching: the Account and Contact matching criteria from the platform's settings"]})

    def mapping_problems(self, mappings: Iterable[Any]) -> dict[int, str]:
        rows = list(mappings)
        return {i: "pushes go only into fields starting with PX_" for i, m in enumerate(rows)
                if m.direction == "px_to_sf" and not m.salesforce.split(".")[1].startswith("PX_")}

    def save_snapshot(self, snap: Any, path: Path | None = None) -> Path:
        self.snapshot = snap
        self.navigator.note_fact("snapshot_saved", "snapshot.yaml")
        return Path("~/.local/share/sfwizard/sessions/20261120-153000-c0de/snapshot.yaml")

    def write_report(self, out_dir: Path, *, screenshot_svg: str | None = None) -> ReportFiles:
        base = Path("~/.local/share/sfwizard/sessions/20261120-153000-c0de/report")
        self.navigator.note_fact("report_written", str(base))
        return ReportFiles(base / "sfwizard-report-20261120-153000-c0de.md",
                           base / "sfwizard-bundle-20261120-153000-c0de.zip",
                           base / "sfwizard-checklist-20261120-153000-c0de.svg")

    def sign_in_browser(self, on_url: Callable[[str], None], *, timeout: float = 300) -> SignedIn:
        on_url("https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=3MVG9canned"
               "&redirect_uri=http%3A%2F%2Flocalhost%3A1717%2FOauthRedirect&state=canned&code_challenge=canned"
               "&code_challenge_method=S256&scope=api+refresh_token+id")
        with self._job():
            self.cancel_token.wait(3600)  # waits for the browser as the real one does, until Escape
        raise AssertionError("unreachable")


class _Vendor:
    def __init__(self, profile: str = "gainsight-px") -> None:
        self.px = profile == "gainsight-px"

    def pending(self, step: str) -> str | None:
        if self.px:
            return {"reauthorize": "Authorize on the PX Salesforce card, then Allow as the integration user",
                    "sync": "Click Synchronize on the Salesforce card"}.get(step)
        return {"reauthorize": "Reconnect in the Skilljar dashboard, then Allow as the integration user",
                "sync": "Click Backfill in the Skilljar dashboard"}.get(step)

    def perform(self, step: str) -> str:
        return "done"

    def approve(self, url: str, user_code: str | None = None) -> None:
        return None

    def documented(self) -> Any:
        return None
