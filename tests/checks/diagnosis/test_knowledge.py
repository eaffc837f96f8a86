"""Knowledge inside the categories the knowledge source is configured with; skipped where the tenant does
not use the Knowledge integration at all."""

from __future__ import annotations

from sfwizard.demo import open_demo

ONBOARDING = """
    schema: 1
    name: kb-empty-category
    extends: healthy
    orgs:
      prod:
        data_categories:
          Products: [Analytics, Engagement, Onboarding]
        knowledge_articles:
          - {title: Read the usage dashboard, categories: [Products.Analytics], visible_in: [pkb, csp]}
          - {title: Score accounts by engagement, categories: [Products.Engagement], visible_in: [pkb, csp]}
          - {title: First steps for new admins, categories: [Products.Onboarding], status: Draft}
    platform:
      knowledge:
        categories: [Products.Onboarding]
        accessibility: [Public]
"""

KB = ("knowledge.toggle", "knowledge.categories", "knowledge.visibility", "knowledge.search",
      "ts.knowledge_no_results")


def test_an_empty_selected_category_fails_with_its_fix(check_json, scenario_file) -> None:
    doc = check_json(scenario_file(ONBOARDING), "--only", ",".join(KB))
    r = doc["by_id"]
    assert (r["knowledge.categories"]["status"], r["knowledge.categories"]["reason"]) == \
        ("fail", "knowledge.categories_empty")
    assert r["knowledge.categories"]["evidence"]["online_articles_in_categories"] == 0
    assert "Products.Onboarding" in r["knowledge.categories"]["resolution"]
    assert (r["knowledge.visibility"]["status"], r["knowledge.visibility"]["reason"]) == \
        ("fail", "knowledge.not_visible")
    assert "in the selected categories (Products.Onboarding)" in r["knowledge.visibility"]["summary"]
    assert r["knowledge.visibility"]["evidence"]["counts"] == {"Public": 0}
    # the search no longer "finds" the newest article of another category
    assert (r["knowledge.search"]["status"], r["knowledge.search"]["reason"]) == ("warn", "knowledge.no_articles")
    assert r["ts.knowledge_no_results"]["status"] == "fail"
    assert doc["exit_code"] == 1


def test_a_known_article_outside_the_categories_does_not_count(scenario_file) -> None:
    body = ONBOARDING.replace("categories: [Products.Onboarding]\n", "categories: [Products.Engagement]\n")
    with open_demo(scenario_file(body)) as conn:
        outside = conn.client.run_checks(conn.context(known_article="Read the usage dashboard"),
                                         only=["knowledge.search"])[0]
        inside = conn.client.run_checks(conn.context(known_article="Score accounts by engagement"),
                                        only=["knowledge.search"])[0]
    assert (outside.status.value, outside.reason) == ("fail", "knowledge.article_outside_categories")
    assert "Products.Engagement" in outside.resolution and outside.evidence["article_id"]
    assert inside.status.value == "pass" and inside.evidence["categories"] == ["Products.Engagement"]


def test_categories_and_channels_pass_where_the_articles_are(check_json, scenario_file) -> None:
    body = ONBOARDING.replace("categories: [Products.Onboarding]\n", "categories: [Products.All]\n")
    r = check_json(scenario_file(body), "--only", ",".join(KB))["by_id"]
    assert r["knowledge.categories"]["status"] == "pass"
    assert r["knowledge.categories"]["evidence"]["online_articles_in_categories"] == 2  # the draft is not online
    assert r["knowledge.visibility"]["evidence"]["counts"] == {"Public": 2}
    assert r["knowledge.search"]["status"] == "pass" and r["ts.knowledge_no_results"]["status"] == "pass"


def test_a_tenant_without_knowledge_gets_skips_not_failures(check_json, scenario_file) -> None:
    body = """
        schema: 1
        name: no-knowledge
        extends: revoked-token
        orgs:
          prod: {knowledge: false, knowledge_articles: [], data_categories: {}}
        platform:
          knowledge: {used: false, enabled: false, categories: [], accessibility: []}
    """
    doc = check_json(scenario_file(body))
    r = doc["by_id"]
    for cid in KB[:4]:
        assert (r[cid]["status"], r[cid]["reason"]) == ("skipped", "skip.not_used"), cid
    assert r["ts.knowledge_no_results"]["status"] != "fail"
    assert not any(x["evidence"].get("errorCode") == "NOT_FOUND" for x in doc["results"])


def test_knowledge_used_in_an_org_without_knowledge_is_named_once(check_json, scenario_file) -> None:
    body = """
        schema: 1
        name: kb-off-in-org
        extends: healthy
        orgs:
          prod: {knowledge: false}
    """
    r = check_json(scenario_file(body), "--only", ",".join(KB))["by_id"]
    assert (r["knowledge.categories"]["status"], r["knowledge.categories"]["reason"]) == \
        ("fail", "knowledge.not_enabled")
    for cid in ("knowledge.visibility", "knowledge.search"):
        assert (r[cid]["status"], r[cid]["reason"]) == ("skipped", "skip.no_knowledge"), cid
    assert r["ts.knowledge_no_results"]["evidence"]["seen_in"] == ["knowledge.categories"]
