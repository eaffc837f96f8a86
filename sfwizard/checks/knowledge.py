"""Knowledge base: the toggle, categories, accessibility against article visibility, and a real search."""

from __future__ import annotations

from sfwizard.checks.base import Outcome, check, fail, manual, ok, skipped, warn
from sfwizard.checks.context import CheckContext

VISIBILITY = {"public": "IsVisibleInPkb", "customer": "IsVisibleInCsp", "partner": "IsVisibleInPrm",
              "internal": "IsVisibleInApp"}
ONLINE = "PublishStatus = 'Online' AND Language = 'en_US'"


@check("knowledge.toggle", "Salesforce Knowledge toggle (In-App Hub)", "knowledge", profiles=("gainsight-px",),
       needs=())
def toggle(ctx: CheckContext) -> Outcome:
    """No PX API shows the toggle (its monitoring lists no Knowledge row): the admin is asked; what Salesforce
    shows about Knowledge (categories, visibility, search) the other knowledge checks verify."""
    if ctx.snapshot is not None and not ctx.knowledge_used:
        return skipped("skip.not_used", "the snapshot says Knowledge is not used")
    return manual("ask.knowledge_toggle",
                  "confirm the Salesforce Knowledge Base toggle is ON under Administration → Integrations → "
                  "In-App Hub Integrations (In-App Hub, formerly Knowledge Center Bot)",
                  "no API shows the toggle; re-authorize the Data Integration first — the toggle does not come back "
                  "on by itself")


@check("knowledge.categories", "Knowledge data categories", "knowledge", profiles=("gainsight-px",),
       needs=("salesforce", "snapshot"))
def categories(ctx: CheckContext) -> Outcome:
    wanted = list(ctx.snapshot.knowledge.categories) if ctx.snapshot else []
    if not ctx.knowledge_used:
        return skipped("skip.not_used", "the snapshot says Knowledge is not used")
    data = ctx.memo("categories", lambda: ctx.salesforce.get(
        "support/dataCategoryGroups", {"sObjectName": "KnowledgeArticleVersion", "topCategoriesOnly": "false"}))
    present = set()
    for group in data.get("categoryGroups", []):
        stack = [(group["name"], c) for c in group.get("topCategories", [])]
        while stack:
            gname, cat = stack.pop()
            present.add(f"{gname}.{cat['name']}".lower())
            stack.extend((gname, c) for c in cat.get("childCategories", []) or [])
    missing = [c for c in wanted if c.lower() not in present and c.split(".")[-1].lower() != "all"]
    evidence = {"configured": wanted, "groups": [g["name"] for g in data.get("categoryGroups", [])], "missing": missing}
    if missing:
        return fail("knowledge.category_missing",
                    f"{len(missing)} configured categor(y/ies) no longer exist: {', '.join(missing)}",
                    "a data category was renamed or deleted in Salesforce",
                    "pick the current categories in the Knowledge Center settings", **evidence)
    return ok(f"all {len(wanted)} configured categories exist", **evidence)


@check("knowledge.visibility", "Accessibility matches article visibility", "knowledge", profiles=("gainsight-px",),
       needs=("salesforce", "snapshot"))
def visibility(ctx: CheckContext) -> Outcome:
    if not ctx.knowledge_used:
        return skipped("skip.not_used", "the snapshot says Knowledge is not used")
    chosen = list(ctx.snapshot.knowledge.accessibility) if ctx.snapshot else []
    counts = {}
    for a in chosen:
        flag = VISIBILITY.get(a.lower())
        if flag:
            counts[a] = ctx.salesforce.count(f"SELECT COUNT() FROM KnowledgeArticleVersion WHERE {ONLINE} "
                                             f"AND {flag} = true")
    empty = [a for a, n in counts.items() if n == 0]
    if empty:
        return fail("knowledge.not_visible", f"no online article is visible to: {', '.join(empty)}",
                    "the accessibility chosen in PX does not match the articles' channels",
                    "choose the channels your articles are published to, or publish them there", counts=counts)
    return ok("online articles are visible in every chosen channel: " +
              ", ".join(f"{a} {n}" for a, n in counts.items()), counts=counts)


@check("knowledge.search", "A known article is found and opens", "knowledge", profiles=("gainsight-px",),
       needs=("salesforce",))
def search(ctx: CheckContext) -> Outcome:
    if ctx.snapshot is not None and not ctx.knowledge_used:
        return skipped("skip.not_used", "the snapshot says Knowledge is not used")
    title = ctx.known_article or (ctx.snapshot.knowledge.known_article if ctx.snapshot else "")
    if not title:
        newest = ctx.salesforce.query(f"SELECT Title FROM KnowledgeArticleVersion WHERE {ONLINE} "
                                      "ORDER BY LastPublishedDate DESC LIMIT 1")
        if not newest:
            return warn("knowledge.no_articles", "no online Knowledge article exists", "nothing for the bot to serve",
                        "publish articles, or turn the Knowledge Center off if unused")
        title = newest[0]["Title"]
    term = "".join(ch if ch.isalnum() or ch == " " else " " for ch in title).strip()
    hits = ctx.salesforce.search(
        f"FIND {{{term}}} IN ALL FIELDS RETURNING KnowledgeArticleVersion(Id, Title, UrlName, KnowledgeArticleId "
        f"WHERE {ONLINE})")
    match = next((h for h in hits if h.get("Title", "").lower() == title.lower()), hits[0] if hits else None)
    if match is None:
        return fail("knowledge.article_not_found", f"searching for {title!r} finds nothing",
                    "the article is not online in en_US, or search is not indexing it",
                    "publish the article (Online, en_US) and check its channels", searched=title)
    link = f"{ctx.salesforce.instance_url}/lightning/r/Knowledge__kav/{match['Id']}/view"
    return ok(f"found {match['Title']!r}; it opens at {link}", article_id=match["Id"],
              url_name=match.get("UrlName"), link=link, hits=len(hits))
