"""SOSL search and Knowledge through the sandbox's REST API: articles found by word and wildcard, drafts
left out, parameterized search, data category groups, and Knowledge turned off."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

KAV_WHERE = "WHERE PublishStatus='Online' AND Language='en_US'"


# -- search and Knowledge --------------------------------------------------------------------------

def test_sosl_search_over_knowledge(env) -> None:
    sf = env.sf()
    res = sf.search(f"FIND {{password}} RETURNING KnowledgeArticleVersion(Id, Title, UrlName {KAV_WHERE})")
    titles = sorted(r["Title"] for r in res["searchRecords"])
    assert titles == ["Password policy", "Reset your password"]  # the Draft is filtered out
    rec = res["searchRecords"][0]
    assert set(rec) == {"attributes", "Id", "Title", "UrlName"}
    assert rec["attributes"]["type"] == "KnowledgeArticleVersion"
    wild = sf.search(f"FIND {{pass*}} RETURNING KnowledgeArticleVersion(Title {KAV_WHERE})")
    assert len(wild["searchRecords"]) == 2
    none = sf.search(f"FIND {{zebra}} RETURNING KnowledgeArticleVersion(Title {KAV_WHERE})")
    assert none["searchRecords"] == []
    people = sf.search("FIND {ada@acme.example} IN EMAIL FIELDS RETURNING Contact(Name, Email), "
                       "Account(Name)")
    assert [r["Name"] for r in people["searchRecords"]] == ["Ada Lovelace"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search("FIND password RETURNING Account")
    assert exc.value.content[0]["errorCode"] == "MALFORMED_SEARCH"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search("FIND {acme} RETURNING Lead(Name)")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    ps = sf.restful("parameterizedSearch", params={
        "q": "gainsight", "sobject": "KnowledgeArticleVersion",
        "KnowledgeArticleVersion.fields": "Id,Title",
        "KnowledgeArticleVersion.where": "PublishStatus='Online'"})
    assert [r["Title"] for r in ps["searchRecords"]] == ["Connect Gainsight PX"]


def test_knowledge_off_hides_search_and_categories(env) -> None:
    env.org.knowledge_enabled = False
    sf = env.sf()
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.search(f"FIND {{password}} RETURNING KnowledgeArticleVersion(Title {KAV_WHERE})")
    assert exc.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("support/dataCategoryGroups", params={"sObjectName": "KnowledgeArticleVersion"})


def test_data_category_groups(env) -> None:
    sf = env.sf()
    groups = sf.restful("support/dataCategoryGroups", params={"sObjectName": "KnowledgeArticleVersion"})
    [group] = groups["categoryGroups"]
    assert group["name"] == "Products"
    assert group["objectUsage"] == "KnowledgeArticleVersion"
    assert [c["name"] for c in group["topCategories"]] == ["All"]
    assert group["topCategories"][0]["childCategories"] is None
    tree = sf.restful("support/dataCategoryGroups",
                      params={"sObjectName": "KnowledgeArticleVersion", "topCategoriesOnly": "false"})
    kids = tree["categoryGroups"][0]["topCategories"][0]["childCategories"]
    assert [k["label"] for k in kids] == ["Gainsight PX", "Skilljar"]
    detail = sf.restful("support/dataCategoryGroups/Products/dataCategories/Skilljar",
                        params={"sObjectName": "KnowledgeArticleVersion"})
    assert detail["name"] == "Skilljar"
    assert [c["name"] for c in detail["childCategories"]] == ["LMS"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("support/dataCategoryGroups")
