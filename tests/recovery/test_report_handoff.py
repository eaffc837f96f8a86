"""The report as the person who receives it reads it, on a whole ``revoked-token`` recovery: the summary first
(what was wrong at the start, what was done, what is true now, what is left), what support asks for filled in,
the checklist with who confirmed what, the evidence in an appendix — short enough to read before it.

And the checklist's honesty: no item says more than its checks see. An item a check can prove names only what
its checks look at (the platform's API, Salesforce); what only a person can see in a vendor's screen (a card, the
In-App Hub, the dashboard, a toggle, an article opening) is confirmed by a person, never "proven".
"""

from __future__ import annotations

import re
import zipfile

import pytest
from walker import start, walk_to_the_end

from sfwizard.checks.runner import specs_for
from sfwizard.profiles import NAMES, load_profile
from sfwizard.recovery import report
from sfwizard.recovery.checklist import Mark, evaluate
from sfwizard.recovery.session import RecoverySession

MAX_LINES_BEFORE_APPENDIX = 150


@pytest.fixture
def walked():
    walk = start("revoked-token")
    try:
        yield walk_to_the_end(walk)
    finally:
        walk.rec.close()
        walk.env.stop()


def test_the_report_of_a_revoked_token_recovery_reads_summary_first(walked) -> None:
    rec = walked.rec
    out = rec.session.dir / "report"
    md = next(out.glob("sfwizard-report-*.md")).read_text(encoding="utf-8")
    head, _, appendix = md.partition("\n## Appendix\n")
    lines = head.splitlines()
    assert appendix, "the evidence is in an appendix"
    assert len(lines) <= MAX_LINES_BEFORE_APPENDIX, len(lines)
    assert lines[0] == "# Gainsight PX ↔ Salesforce recovery report"
    assert lines[2].startswith("> **DEMO**")
    sections = [line for line in lines if line.startswith("## ")]
    # the Security review (beyond the runbook) follows the checklist when the review ran in the session
    assert sections[:3] == ["## Summary", "## Before contacting support", "## Final checklist"]
    assert sections[3:] in ([], ["## Security review"]), sections
    summary = head.split("## Summary")[1].split("## Before contacting support")[0]
    subs = [line for line in summary.splitlines() if line.startswith("### ")]
    assert subs == ["### What was wrong at the start", "### What was done", "### What is true now",
                    "### What is left"]
    start_ = summary.split("### What was done")[0]
    assert "- **Integration:** DOWN — the platform's error: \"INVALID\\_SESSION\\_ID" in start_
    assert "- **Disconnected:** " in start_ and "the platform's last successful sync before it went DOWN" in start_
    assert "px.integration@northwind.example" in start_ and "avery.admin@northwind.example" in start_
    assert "(`token.not\\_granted`)" in start_
    done = summary.split("### What was done")[1].split("### What is true now")[0]
    for words in ("signed in to Northwind Traders", "mapping snapshot saved", "Authorize clicked",
                  "Synchronize clicked", "the sync completed", "confirmed: Both admins are present"):
        assert words in done, words
    assert re.search(r"^- \d{4}-\d\d-\d\d \d\d:\d\d ", done.strip(), re.M)  # each with its time
    now = summary.split("### What is true now")[1].split("### What is left")[0]
    assert "- **Integration:** UP" in now
    # every item done: the runbook's 10 (7 proven, 3 confirmed) and the Security review's beyond it
    assert re.search(r"- \*\*Checklist:\*\* (\d+) of \1 items done — \d+ proven by checks, \d+ confirmed by people",
                     now), now
    # a demo keeps its sign-in in memory for the session only (session.sign_in_state)
    assert "- **The wizard's Salesforce sign-in:** not kept (used for this session only)" in now
    assert "Nothing: every checklist item is proven or confirmed" in summary.split("### What is left")[1]
    support = head.split("## Before contacting support")[1].split("## Final checklist")[0]
    for ask in ("Error messages", "Timestamp of the issue", "Salesforce user being used", "Steps already attempted"):
        assert f"- **{ask}:** " in support, ask
    assert "INVALID\\_SESSION\\_ID" in support and "disconnected 20" in support
    checklist = head.split("## Final checklist")[1]
    assert "confirmed by Pat Demo (platform admin), 20" in checklist
    assert "Knowledge articles appear in In-App Hub search — confirmed by" in checklist  # a person, not a check
    assert "confirm the" not in checklist  # done items say who, not what to do
    assert "### B. Evidence" in appendix and "```json" in appendix and "```json" not in head
    with zipfile.ZipFile(next(out.glob("sfwizard-bundle-*.zip"))) as zf:
        assert {"report.md", "checklist.svg", "checklist.json"} <= set(zf.namelist())


@pytest.mark.parametrize(("state", "said"), [
    (None, "unknown"),
    ({"store": "keychain", "kept": True, "revoked_at": None}, "kept (keychain)"),
    ({"store": "keychain", "kept": False, "revoked_at": "2026-11-20T15:00:00+00:00"}, "revoked at Salesforce "),
    ({"store": None, "kept": False, "revoked_at": None}, "not kept"),
])
def test_the_report_says_whether_the_wizards_sign_in_was_revoked(state, said) -> None:
    session = RecoverySession.new("gainsight-px")
    try:
        if state is not None:
            session.sign_in_state = state  # another part of the wizard sets it; the report only reads it
        text = report.render(session)
    finally:
        session.release()
    line = next(x for x in text.splitlines() if x.startswith("- **The wizard's Salesforce sign-in:**"))
    assert said in line


# -- no item says more than its checks see ------------------------------------------------------------------------

# Words that name what only a person sees in a vendor's screens: an item using them is confirmed by a person.
SCREEN_ONLY = ("card", "in-app hub", "bot", "dashboard", "toggle", "open correctly", "opens", "work as expected",
               "offered", "button", "shows connected")


def _sees(check_id: str, profile: str) -> set[str]:
    spec = next(s for s in specs_for(profile) if s.id == check_id)
    seen = {"salesforce" if n in ("salesforce", "data_org") else n for n in spec.needs}
    return seen


@pytest.mark.parametrize("profile", NAMES)
def test_no_checklist_item_claims_what_its_checks_do_not_see(profile: str) -> None:
    p = load_profile(profile)
    for item in p.checklist:
        words = item.item.lower()
        if item.confirm:
            continue  # a person's word proves it; the report says "confirmed by", never "proven"
        assert item.proven_by, item.item
        seen = set().union(*(_sees(c, profile) for c in item.proven_by))
        screen = [w for w in SCREEN_ONLY if w in words]
        assert not screen, f"{item.item!r} claims what only a person sees ({screen}): make it confirm: true"
        if re.search(r"\b(px|the platform)\b(?!_)", words) and p.platform_api:
            assert "platform" in seen, f"{item.item!r} names the platform but no check of it reads the platform"
        if "salesforce" in words:
            assert "salesforce" in seen, f"{item.item!r} names Salesforce but no check of it reads Salesforce"


def test_a_search_in_salesforce_does_not_prove_the_in_app_hub_shows_the_article() -> None:
    """knowledge.search passing (a Salesforce search) leaves "appear in In-App Hub search" to a person."""
    from sfwizard.checks.base import CheckResult, Status

    p = load_profile("gainsight-px")
    results = {c: CheckResult(c, c, Status.PASS, "ok") for c in ("knowledge.search", "knowledge.toggle")}
    hub = next(o for o in evaluate(p, results, condition=lambda _c: True) if "In-App Hub search" in o.item.item)
    assert hub.mark == Mark.WAITING and hub.why == "a person must confirm this"
    text = "\n".join(f"{o.item.item} — {report._claim(o, o.to_dict())}" for o in [hub])
    assert "proven" not in text


def test_a_warning_that_contradicts_an_item_does_not_prove_it() -> None:
    """"nothing has arrived" (a warning) never proves "Missed records arrived"; a caveat the item allows does."""
    from sfwizard.checks.base import CheckResult, Status

    sj = load_profile("skilljar")
    nothing = CheckResult("skilljar.backfill_arrived", "Backfilled records arrived in Salesforce", Status.WARN,
                          "nothing from Skilljar has arrived in Salesforce since the reconnect",
                          reason="skilljar.backfill_not_arrived")
    arrived = next(o for o in evaluate(sj, {nothing.id: nothing})
                   if o.item.item == "Missed records arrived in Salesforce")
    assert arrived.mark == Mark.WAITING and arrived.why.startswith("not proven: ")
    px = load_profile("gainsight-px")
    undocumented = CheckResult("mapping.live_vs_snapshot", "Live org matches the mapping snapshot", Status.WARN,
                               "3 PX_ field(s) exist but are not in the snapshot",
                               reason="mapping.undocumented_push_field")
    readable = CheckResult("perm.read_sources", "t", Status.PASS, "ok")
    custom = next(o for o in evaluate(px, {undocumented.id: undocumented, readable.id: readable},
                                      condition=lambda _c: True) if o.item.when == "custom_objects")
    assert custom.mark == Mark.PASS and custom.caveats  # allowed: a caveat, shown
