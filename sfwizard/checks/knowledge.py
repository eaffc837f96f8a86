"""Knowledge base: the toggle, categories, accessibility against article visibility, and a real search.

The knowledge source serves only the data categories it is configured with (the snapshot's
``knowledge.categories``; none configured means every category), so every count and every search here
is made inside them, with SOQL/SOSL's ``WITH DATA CATEGORY … BELOW`` (a category and its subcategories):
an article outside them does not count. Where the tenant does not use the Knowledge integration at all,
every Knowledge check is skipped, never failed.
"""

from __future__ import annotations

from typing import Any

from sfwizard.checks.base import Outcome, check, fail, manual, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.reads import Reads
from sfwizard.integrations.salesforce import ApiError, Read

VISIBILITY = {"public": "IsVisibleInPkb", "customer": "IsVisibleInCsp", "partner": "IsVisibleInPrm",
              "internal": "IsVisibleInApp"}
ONLINE = "PublishStatus = 'Online' AND Language = 'en_US'"
NOT_USED = "the tenant does not use the Knowledge integration (the snapshot says so)"
GROUPS_PARAMS = {"sObjectName": "KnowledgeArticleVersion", "topCategoriesOnly": "false"}


def _not_used(ctx: CheckContext) -> Outcome | None:
    if ctx.snapshot is not None and not ctx.knowledge_used:
        return skipped("skip.not_used", NOT_USED)
    return None


def _groups(ctx: CheckContext) -> dict[str, Any] | None:
    """The org's data category groups for articles (one call, shared); None when Knowledge is not enabled."""
    def fetch() -> dict[str, Any] | None:
        try:
            return ctx.rest_get("support/dataCategoryGroups", GROUPS_PARAMS)
        except ApiError as exc:
            if exc.code in ("NOT_FOUND", "FUNCTIONALITY_NOT_ENABLED", "INVALID_TYPE"):
                return None
            raise
    return ctx.memo("categories", fetch)


def _present(data: dict[str, Any]) -> dict[str, str]:
    """"group.category" (lower) → "Group.Category" for every category (nested ones too, and each All)."""
    present: dict[str, str] = {}
    for group in data.get("categoryGroups", []):
        present[f"{group['name']}.All".lower()] = f"{group['name']}.All"
        stack = [c for c in group.get("topCategories", [])]
        while stack:
            cat = stack.pop()
            present[f"{group['name']}.{cat['name']}".lower()] = f"{group['name']}.{cat['name']}"
            stack.extend(cat.get("childCategories", []) or [])
    return present


def configured(ctx: CheckContext) -> list[str]:
    return list(ctx.snapshot.knowledge.categories) if ctx.snapshot else []


def category_filters(ctx: CheckContext) -> list[str]:
    """One ``WITH DATA CATEGORY`` clause per category group the configuration selects from (SOQL can AND
    groups but not OR them); [""] when no category is configured (every article counts); [] when none of
    the configured categories exists."""
    wanted = configured(ctx)
    if not wanted:
        return [""]
    return _filters(wanted, _present(_groups(ctx) or {}))


def guessed_filters(ctx: CheckContext) -> list[str]:
    """The filters as they will be when every configured category exists as the snapshot spells it — what the
    runner's plan asks for before the category groups have answered (a wrong guess costs an unused read)."""
    wanted = configured(ctx)
    return _filters(wanted, {c.lower(): c for c in wanted}) if wanted else [""]


def _filters(wanted: list[str], present: dict[str, str]) -> list[str]:
    by_group: dict[str, list[str]] = {}
    for c in wanted:
        real = present.get(c.lower())
        if real:
            group, _, name = real.partition(".")
            by_group.setdefault(group, []).append(name)
    return [f" WITH DATA CATEGORY {g}__c BELOW ({', '.join(f'{c}__c' for c in dict.fromkeys(cats))})"
            for g, cats in by_group.items()]


def count_reads(filters: list[str], where: str) -> list[Read]:
    """Online articles matching ``where`` in the configured categories: one COUNT() per category group."""
    return [Read("count", f"SELECT COUNT() FROM KnowledgeArticleVersion WHERE {where}{f}") for f in filters]


def channels(ctx: CheckContext) -> list[str]:
    """The accessibility (channels) the knowledge source is configured with, that Salesforce can show."""
    return [a for a in (ctx.snapshot.knowledge.accessibility if ctx.snapshot else ()) if VISIBILITY.get(a.lower())]


def newest_reads(filters: list[str]) -> list[Read]:
    return [Read("query", f"SELECT Title, LastPublishedDate FROM KnowledgeArticleVersion WHERE {ONLINE}{f} "
                          "ORDER BY LastPublishedDate DESC LIMIT 1") for f in filters]


def known_title(ctx: CheckContext) -> str:
    return ctx.known_article or (ctx.snapshot.knowledge.known_article if ctx.snapshot else "")


def search_reads(ctx: CheckContext, title: str, filters: list[str]) -> tuple[list[Read], Read | None]:
    """SOSL for the article's title in each category group, and outside them (what tells "outside the
    categories" from "not found"; None when no category is configured)."""
    term = "".join(ch if ch.isalnum() or ch == " " else " " for ch in title).strip()
    returning = (f"FIND {{{term}}} IN ALL FIELDS RETURNING KnowledgeArticleVersion(Id, Title, UrlName, "
                 f"KnowledgeArticleId WHERE {ONLINE})")
    return [Read("search", returning + f) for f in filters], Read("search", returning) if configured(ctx) else None


def wanted_reads(ctx: CheckContext, filters: list[str]) -> list[Read]:
    """Every Knowledge count and the newest article (when no title is known) under these filters."""
    reads = count_reads(filters, ONLINE)
    reads += [r for a in channels(ctx) for r in count_reads(filters, f"{ONLINE} AND {VISIBILITY[a.lower()]} = true")]
    if not known_title(ctx):
        reads += newest_reads(filters)
    return reads


def _count_in_categories(ctx: CheckContext, where: str) -> int:
    return sum(ctx.read(r) for r in count_reads(category_filters(ctx), where))


def _not_enabled(ctx: CheckContext) -> Outcome | None:
    if _groups(ctx) is None:
        return skipped("skip.no_knowledge", "Salesforce Knowledge is not enabled in this org",
                       "knowledge.categories names it")
    return None


def _used(ctx: CheckContext) -> bool:
    return ctx.snapshot is None or ctx.knowledge_used


def _counts_first(ctx: CheckContext) -> list[Any]:
    """The category groups, and the counts under the categories as the snapshot spells them (a wrong guess costs
    an unused sub-request: the second wave asks again with the org's spelling)."""
    return [lambda: _groups(ctx), *wanted_reads(ctx, guessed_filters(ctx))] if _used(ctx) else []


def _counts_then(ctx: CheckContext) -> list[Any]:
    return wanted_reads(ctx, category_filters(ctx)) if _used(ctx) and _groups(ctx) is not None else []


def _search_first(ctx: CheckContext) -> list[Any]:
    if not _used(ctx):
        return []
    return [lambda: _groups(ctx), *([] if known_title(ctx) else newest_reads(guessed_filters(ctx)))]


def _search_then(ctx: CheckContext) -> list[Any]:
    """The search for the known or newest article, inside the categories and outside them."""
    if not _used(ctx) or _groups(ctx) is None:
        return []
    filters = category_filters(ctx)
    title = known_title(ctx) or _newest_title(ctx, filters)
    if not title:
        return []
    inside, outside = search_reads(ctx, title, filters)
    return [*inside, *([outside] if outside is not None else [])]


def _newest_title(ctx: CheckContext, filters: list[str]) -> str:
    rows = [row for r in newest_reads(filters) for row in ctx.read(r)]
    return str(max(rows, key=lambda r: str(r.get("LastPublishedDate") or ""))["Title"]) if rows else ""


COUNTS = Reads("knowledge_counts", "salesforce", first=_counts_first, then=_counts_then)
SEARCH = Reads("knowledge_search", "salesforce", first=_search_first, then=_search_then)


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
       needs=("salesforce", "snapshot", "data_org"), reads=(COUNTS,))
def categories(ctx: CheckContext) -> Outcome:
    if not ctx.knowledge_used:
        return skipped("skip.not_used", NOT_USED)
    wanted = configured(ctx)
    data = _groups(ctx)
    if data is None:
        return fail("knowledge.not_enabled", "Salesforce Knowledge is not enabled in this org",
                    "the snapshot says the Knowledge integration is used, but this org answers no data categories "
                    "for articles (Knowledge off, or not the org the integration reads)",
                    "check you are signed in to the org the integration reads; enable Knowledge there, or turn "
                    "the platform's Knowledge source off if it is no longer used", configured=wanted)
    present = _present(data)
    groups = [g["name"] for g in data.get("categoryGroups", [])]
    if not wanted:
        return skipped("skip.not_configured", "no data category is configured: the knowledge source serves "
                       "every category", groups=groups)
    missing = [c for c in wanted if c.lower() not in present]
    evidence: dict[str, Any] = {"configured": wanted, "groups": groups, "missing": missing}
    if missing:
        return fail("knowledge.category_missing",
                    f"{len(missing)} configured categor(y/ies) no longer exist: {', '.join(missing)}",
                    "a data category was renamed or deleted in Salesforce",
                    "pick the current categories in the knowledge source's settings (In-App Hub / Knowledge Center)",
                    **evidence)
    ctx.prefetch(wanted_reads(ctx, category_filters(ctx)))  # the Knowledge checks' counts, in one round trip
    online = _count_in_categories(ctx, ONLINE)
    evidence["online_articles_in_categories"] = online
    if online == 0:
        return fail("knowledge.categories_empty",
                    f"no online article is in the selected categories ({', '.join(wanted)})",
                    "the knowledge source searches only its selected categories, and none of them holds a "
                    "published (Online, en_US) article: the bot finds nothing",
                    "select the categories your articles are classified in, or classify and publish articles in "
                    f"{', '.join(wanted)}", **evidence)
    return ok(f"all {len(wanted)} configured categories exist and hold {online} online article(s)", **evidence)


@check("knowledge.visibility", "Accessibility matches article visibility", "knowledge", profiles=("gainsight-px",),
       needs=("salesforce", "snapshot", "data_org"), reads=(COUNTS,))
def visibility(ctx: CheckContext) -> Outcome:
    if not ctx.knowledge_used:
        return skipped("skip.not_used", NOT_USED)
    off = _not_enabled(ctx)
    if off:
        return off
    chosen = channels(ctx)
    if not chosen:
        return skipped("skip.not_configured", "no accessibility (channel) is configured: nothing to compare")
    wanted = configured(ctx)
    ctx.prefetch(wanted_reads(ctx, category_filters(ctx)))
    counts = {a: _count_in_categories(ctx, f"{ONLINE} AND {VISIBILITY[a.lower()]} = true") for a in chosen}
    scope = f"in the selected categories ({', '.join(wanted)})" if wanted else "in any category"
    evidence = {"counts": counts, "categories": wanted}
    empty = [a for a, n in counts.items() if n == 0]
    if empty:
        return fail("knowledge.not_visible",
                    f"no online article {scope} is visible to: {', '.join(empty)}",
                    f"the bot serves {', '.join(empty)} users only articles published to that channel {scope}, "
                    "and there are none",
                    f"publish articles {scope} to the {', '.join(empty)} channel, or choose the channels your "
                    "articles are published to", **evidence)
    return ok(f"online articles {scope} are visible in every chosen channel: " +
              ", ".join(f"{a} {n}" for a, n in counts.items()), **evidence)


@check("knowledge.search", "A known article is found and opens", "knowledge", profiles=("gainsight-px",),
       needs=("salesforce", "data_org"), reads=(SEARCH,))
def search(ctx: CheckContext) -> Outcome:
    unused = _not_used(ctx)
    if unused:
        return unused
    off = _not_enabled(ctx)
    if off:
        return off
    wanted = configured(ctx)
    filters = category_filters(ctx)
    scope = f"in the selected categories ({', '.join(wanted)})" if wanted else ""
    title = known_title(ctx)
    if not title:
        reads = newest_reads(filters)
        ctx.prefetch(reads)
        newest: list[dict[str, Any]] = [row for r in reads for row in ctx.read(r)]
        if not newest:
            return warn("knowledge.no_articles", f"no online Knowledge article exists {scope}".strip(),
                        "nothing for the bot to serve",
                        "publish articles in the selected categories, or turn the knowledge source off if unused",
                        categories=wanted)
        title = max(newest, key=lambda r: str(r.get("LastPublishedDate") or ""))["Title"]
    inside, outside_read = search_reads(ctx, title, filters)
    ctx.prefetch(inside)
    hits: list[dict[str, Any]] = [h for r in inside for h in ctx.read(r)]
    hits = list({h["Id"]: h for h in hits}.values())
    match = next((h for h in hits if h.get("Title", "").lower() == title.lower()), hits[0] if hits else None)
    evidence: dict[str, Any] = {"searched": title, "categories": wanted}
    if match is None:
        outside = ctx.read(outside_read) if outside_read is not None else []
        found = next((h for h in outside if h.get("Title", "").lower() == title.lower()), None)
        if found is not None:
            return fail("knowledge.article_outside_categories",
                        f"{title!r} is online but outside the selected categories ({', '.join(wanted)})",
                        "the knowledge source searches only its selected categories, so the bot does not find it",
                        f"classify the article in one of {', '.join(wanted)}, or add its category to the "
                        "knowledge source's categories", article_id=found["Id"], **evidence)
        return fail("knowledge.article_not_found", f"searching for {title!r} {scope} finds nothing".replace("  ", " "),
                    "the article is not online in en_US, or search is not indexing it",
                    "publish the article (Online, en_US) and check its channels and categories", **evidence)
    link = f"{ctx.salesforce.instance_url}/lightning/r/Knowledge__kav/{match['Id']}/view"
    return ok(f"found {match['Title']!r} {scope}; it opens at {link}".replace("  ", " "), article_id=match["Id"],
              url_name=match.get("UrlName"), link=link, hits=len(hits), **evidence)
