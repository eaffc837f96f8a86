"""Wrong org: both orgs named — where the platform's data lives and where the sign-in went — and which holds
the integration's new token; production never called wrong for a token approved in a sandbox; what follows
from a wrong org reported as that consequence, not as symptoms of its own."""

from __future__ import annotations

from sfwizard.sandbox.scenarios.loader import diagnosis_suite

SUITE = {p.stem: p for p in diagnosis_suite()}


def _consequence_free(doc: dict) -> None:
    """No INVALID_FIELD or NOT_FOUND surfaced as a finding, and no pop-up advice."""
    for r in doc["results"]:
        assert r["evidence"].get("errorCode") not in ("INVALID_FIELD", "NOT_FOUND"), r["id"]
        if r["status"] == "fail":
            assert "pop-up" not in r["resolution"], r["id"]


def test_a_token_approved_in_a_dev_sandbox_does_not_make_production_wrong(check_json) -> None:
    doc = check_json(SUITE["contoso-token-in-dev-sandbox"])
    r = doc["by_id"]
    right = r["identity.right_org"]
    assert (right["status"], right["reason"]) == ("fail", "org.platform_elsewhere")
    assert "WRONG" not in right["summary"] and "Contoso Pharma" in right["summary"]
    ev = right["evidence"]
    assert ev["signed_in_org"]["id"] == ev["data_org"]["id"] == "00D5w000003KpLmEAK"
    assert ev["signed_in_org"]["kind"] == "production" and ev["token_org"] == "another org"
    assert r["identity.org"]["status"] == "pass"
    assert (r["token.fresh"]["status"], r["token.fresh"]["reason"]) == ("fail", "token.other_org")
    assert r["ts.wrong_org"]["status"] == "fail"
    assert set(r["ts.wrong_org"]["evidence"]["reasons"]) == {"org.platform_elsewhere", "token.other_org"}
    assert r["ts.authorization_incomplete"]["status"] == "pass"  # not "allow pop-ups"
    _consequence_free(doc)


def test_a_full_copy_shares_ids_yet_the_token_is_found_elsewhere(check_json) -> None:
    doc = check_json(SUITE["northwind-full-copy-token"])
    r = doc["by_id"]
    right = r["identity.right_org"]
    assert right["reason"] == "org.platform_elsewhere"
    assert right["evidence"]["accounts_found"] == right["evidence"]["accounts_sampled"] > 0  # the Ids match
    assert "holds no Gainsight PX token" in right["summary"]
    stale = r["ts.stale_data"]  # stale because the platform read the copy: the wrong org's consequence
    assert (stale["status"], stale["reason"]) == ("skipped", "skip.consequence")
    assert stale["evidence"]["explained_by"] == ["ts.wrong_org"] and stale["evidence"]["seen_in"] == [
        "flow.salesforce_to_platform"]
    _consequence_free(doc)


def test_the_wizard_signed_in_to_a_partial_sandbox_names_both_orgs(check_json) -> None:
    doc = check_json(SUITE["birch-wizard-in-partial-sandbox"])
    r = doc["by_id"]
    right = r["identity.right_org"]
    assert (right["status"], right["reason"]) == ("fail", "org.snapshot_mismatch")
    here, there = right["evidence"]["signed_in_org"], right["evidence"]["data_org"]
    assert (here["name"], here["kind"]) == ("Birchwood QA", "SANDBOX")
    assert (there["name"], there["kind"], there["source"]) == ("Birchwood Dental Group", "production", "snapshot")
    assert "Birchwood QA" in right["summary"] and "Birchwood Dental Group" in right["summary"]
    assert "sign the wizard in to Birchwood Dental Group" in right["resolution"]
    for cid in ("mapping.salesforce_fields", "mapping.live_vs_snapshot", "flow.salesforce_to_platform",
                "knowledge.categories", "knowledge.search", "token.fresh", "perm.api_enabled"):
        assert (r[cid]["status"], r[cid]["reason"]) == ("skipped", "skip.wrong_org"), cid
        assert "Birchwood Dental Group" in r[cid]["summary"], cid
    for cid in ("ts.stale_data", "ts.authorization_incomplete", "ts.access_denied"):
        assert r[cid]["status"] != "fail", cid
    _consequence_free(doc)


def test_the_built_in_wrong_org_no_longer_reports_consequences(check_json) -> None:
    doc = check_json("wrong-org")
    r = doc["by_id"]
    assert r["identity.right_org"]["reason"] == "org.snapshot_mismatch"
    assert r["knowledge.visibility"]["reason"] == "skip.wrong_org"  # was "no online article is visible"
    assert r["mapping.live_vs_snapshot"]["reason"] == "skip.wrong_org"  # was "Subscription__c is gone"
    assert r["flow.salesforce_to_platform"]["reason"] == "skip.wrong_org"  # was "0 sampled accounts match"
    _consequence_free(doc)
