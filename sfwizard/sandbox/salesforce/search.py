"""SOSL search (``search``, ``parameterizedSearch``) and Knowledge data categories of the REST API.

Search matches words the way SOSL does closely enough for a recovery's checks: case-insensitive whole
tokens, ``*`` and ``?`` wildcards, "phrases", AND by default and OR between groups, over the text fields
the user may read (or only name, email or phone fields for ``IN … FIELDS``). WHERE clauses go through
the SOQL module's ``compile_where``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfwizard.sandbox.http import Request, Response, json_response
from sfwizard.sandbox.salesforce import soql, wire
from sfwizard.sandbox.salesforce.api import (
    NOT_FOUND,
    QUERY_PAGE,
    ApiRoute,
    Ctx,
    RestError,
    api_route,
    invalid_field,
)
from sfwizard.sandbox.salesforce.store import SObjectDef

# -- SOSL search (Knowledge, Accounts, Contacts …) ------------------------------------------------------

_NO_TERM = "No search term found. The search term must be enclosed in braces."
_KAV_RULE = ("Implementation restriction: When querying or searching the KnowledgeArticleVersion object, you "
             "must filter using the following syntax: PublishStatus = [status]. In addition PublishStatus is "
             "only permitted in a top-level AND condition.")
_TEXT_TYPES = ("string", "textarea", "email", "phone", "url", "picklist")


@dataclass
class SearchSpec:
    sobject: str
    fields: list[str]
    where: str = ""
    order_by: str = ""
    limit: int | None = None


def _mask_literals(text: str) -> str:
    """The text with quoted literals blanked out, so keywords are found only outside them."""
    out, quote, i = [], False, 0
    while i < len(text):
        ch = text[i]
        if quote and ch == "\\" and i + 1 < len(text):
            out.append("xx")
            i += 2
            continue
        if ch == "'":
            quote = not quote
            out.append("'")
        else:
            out.append("x" if quote else ch)
        i += 1
    return "".join(out)


def _closing_paren(masked: str, start: int) -> int:
    depth = 0
    for i in range(start, len(masked)):
        if masked[i] == "(":
            depth += 1
        elif masked[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise RestError(400, "MALFORMED_SEARCH", "unexpected token: missing ')'")


def _split_top(text: str, sep: str = ",") -> list[str]:
    masked, parts, depth, last = _mask_literals(text), [], 0, 0
    for i, ch in enumerate(masked):
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return [p.strip() for p in parts if p.strip()]


_CLAUSES = {"WHERE": re.compile(r"\bWHERE\b", re.IGNORECASE),
            "ORDER BY": re.compile(r"\bORDER\s+BY\b", re.IGNORECASE),
            "LIMIT": re.compile(r"\bLIMIT\b", re.IGNORECASE)}


def _parse_object_spec(text: str) -> SearchSpec:
    """``Obj`` or ``Obj(f1, f2 WHERE … ORDER BY … LIMIT n)``."""
    text = text.strip()
    m = re.match(r"(\w+)\s*(\((.*)\))?\s*$", text, re.DOTALL)
    if not m:
        raise RestError(400, "MALFORMED_SEARCH", f"unexpected token: '{text[:40]}'")
    spec = SearchSpec(m.group(1), [])
    inner = m.group(3) or ""
    if not inner.strip():
        return spec
    masked = _mask_literals(inner)
    marks = {k: mm.start() for k, pat in _CLAUSES.items() for mm in [pat.search(masked)] if mm}
    cut = min(marks.values(), default=len(inner))
    spec.fields = [f.strip() for f in inner[:cut].split(",") if f.strip()]
    bounds = [*sorted(marks.items(), key=lambda kv: kv[1]), ("", len(inner))]
    for (key, pos), (_, nxt) in itertools.pairwise(bounds):
        keyword = _CLAUSES[key].match(inner, pos)
        clause = inner[keyword.end() if keyword else pos:nxt].strip()
        if key == "WHERE":
            spec.where = clause
        elif key == "ORDER BY":
            spec.order_by = clause
        elif key == "LIMIT":
            if not clause.isdigit():
                raise RestError(400, "MALFORMED_SEARCH", f"unexpected token: '{clause[:20]}'")
            spec.limit = int(clause)
    return spec


def _parse_sosl(q: str) -> tuple[str, str, list[SearchSpec] | None, int, str]:
    m = re.match(r"\s*FIND\s*\{((?:\\.|[^}])*)\}(.*)$", q, re.IGNORECASE | re.DOTALL)
    if not m:
        raise RestError(400, "MALFORMED_SEARCH", _NO_TERM)
    term, rest = re.sub(r"\\(.)", r"\1", m.group(1)), m.group(2)
    scope = "ALL"
    sm = re.match(r"\s*IN\s+(ALL|NAME|EMAIL|PHONE|SIDEBAR)\s+FIELDS\b(.*)$", rest, re.IGNORECASE | re.DOTALL)
    if sm:
        scope, rest = sm.group(1).upper(), sm.group(2)
    overall = QUERY_PAGE
    masked = _mask_literals(rest)
    lm = re.search(r"\bLIMIT\s+(\d+)\s*$", masked, re.IGNORECASE)
    if lm and masked[:lm.start()].count("(") == masked[:lm.start()].count(")"):
        overall, rest, masked = int(rest[lm.start(1):lm.end(1)]), rest[:lm.start()], masked[:lm.start()]
    category_filter = ""
    for wm in re.finditer(r"\bWITH\s+DATA\s+CATEGORY\b", masked, re.IGNORECASE):
        if masked[:wm.start()].count("(") == masked[:wm.start()].count(")"):  # at the top level only
            category_filter, rest = rest[wm.end():].strip(), rest[:wm.start()]
            break
    specs = None
    rm = re.match(r"\s*RETURNING\s+(.*)$", rest, re.IGNORECASE | re.DOTALL)
    if rm:
        specs = [_parse_object_spec(p) for p in _split_top(rm.group(1))]
    elif rest.strip() and not re.fullmatch(r"\s*(WITH\s+.*)?", rest, re.IGNORECASE | re.DOTALL):
        raise RestError(400, "MALFORMED_SEARCH", f"unexpected token: '{rest.strip()[:40]}'")
    return term, scope, specs, overall, category_filter


def _term_matcher(term: str) -> Callable[[str], bool]:
    """SOSL-ish matching: words (AND by default, OR between groups), ``*``/``?`` wildcards, "phrases"."""
    alternatives = re.split(r"\s+OR\s+", term.strip())
    compiled: list[list[re.Pattern[str]]] = []
    for alt in alternatives:
        words = [w for w in re.findall(r'"[^"]*"|\S+', alt) if w.upper() != "AND"]
        pats = []
        for w in words:
            w = w.strip('"')
            if len(w.replace("*", "").replace("?", "")) < 2:
                raise RestError(400, "INVALID_SEARCH", f"search term must be longer than one character: {w}")
            body = re.escape(w).replace(r"\*", r"\w*").replace(r"\?", r"\w?").replace(r"\ ", r"\s+")
            pats.append(re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE))
        compiled.append(pats)

    def match(text: str) -> bool:
        return any(all(p.search(text) for p in pats) for pats in compiled)

    return match


def _search_fields(ctx: Ctx, sobject: SObjectDef, scope: str) -> list[str]:
    acc = ctx.access
    out = []
    for f in sobject.fields.values():
        if not acc.field_perm(sobject, f, "read") or f.type not in _TEXT_TYPES:
            continue
        if scope == "NAME" and not (f.name_field or f.name in ("Name", "Title", "UrlName")):
            continue
        if scope in ("EMAIL", "PHONE") and f.type != scope.lower():
            continue
        out.append(f.name)
    return out


def _run_search(ctx: Ctx, term: str, scope: str, specs: list[SearchSpec] | None, overall: int,
                category_filter: str = "") -> Response:
    from sfwizard.sandbox.salesforce import categories

    matcher = _term_matcher(term)
    in_categories = None
    if category_filter:
        if not specs or not all(s.sobject == "KnowledgeArticleVersion" or s.sobject.endswith("__kav")
                                for s in specs):
            raise RestError(400, "MALFORMED_SEARCH", "WITH DATA CATEGORY needs a RETURNING clause of Knowledge "
                                                     "articles filtered on PublishStatus")
        try:
            in_categories = categories.predicate(ctx.org, categories.parse(category_filter))
        except categories.CategoryError as exc:
            raise RestError(400, "MALFORMED_SEARCH" if exc.code == "MALFORMED_QUERY" else exc.code,
                            exc.message) from None
    if specs is None:
        specs = [SearchSpec(s.name, []) for s in ctx.org.schema.values()
                 if s.searchable and not s.setup and ctx.readable(s.name)]
    out: list[dict[str, Any]] = []
    for spec in specs:
        sobject = ctx.readable(spec.sobject)
        if sobject is None or not sobject.searchable:
            raise RestError(400, "INVALID_TYPE", f"sObject type '{spec.sobject}' is not supported.")
        if sobject.name == "KnowledgeArticleVersion" and "publishstatus" not in spec.where.lower():
            raise RestError(400, "MALFORMED_SEARCH", _KAV_RULE)
        fields = []
        for name in spec.fields or ["Id"]:
            f = sobject.field(name)
            if f is None or not ctx.access.field_perm(sobject, f, "read"):
                raise invalid_field(name, sobject.name)
            fields.append(f.name)
        try:
            pred = soql.compile_where(ctx.org, ctx.user, sobject.name, spec.where) if spec.where else None
        except soql.SoqlError as exc:
            raise RestError(400, exc.code, exc.message) from None
        text_fields = _search_fields(ctx, sobject, scope)
        limit = spec.limit if spec.limit is not None else overall
        matching = (r for r in ctx.org.table(sobject.name).scan()
                    if any(isinstance(r.get(n), str) and matcher(r[n]) for n in text_fields)
                    and (pred is None or pred(r)) and (in_categories is None or in_categories(r)))
        orders = _split_top(spec.order_by)
        hits = list(matching if orders else itertools.islice(matching, limit))  # no order: stop early
        for key in reversed(orders):  # stable sorts, last key first; nulls first ascending, as SOQL
            parts = key.split()
            f = sobject.field(parts[0])
            if f is None or not ctx.access.field_perm(sobject, f, "read"):
                raise invalid_field(parts[0], sobject.name)
            desc = len(parts) > 1 and parts[1].upper() == "DESC"
            hits.sort(key=lambda r, n=f.name: (r.get(n) is not None, "" if r.get(n) is None else r[n]),
                      reverse=desc)
        for r in hits[:limit]:
            rec: dict[str, Any] = {"attributes": {"type": sobject.name,
                                                  "url": ctx.url(f"sobjects/{sobject.name}/{r['Id']}")}}
            rec.update({n: wire.to_json(r.get(n)) for n in fields})
            out.append(rec)
    return json_response({"searchRecords": out[:overall]})


def _search(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    q = req.arg("q")
    if not q:
        raise RestError(400, "MALFORMED_SEARCH", _NO_TERM)
    return _run_search(ctx, *_parse_sosl(q))


def _parameterized_search(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    q = req.arg("q")
    if not q:
        raise RestError(400, "MISSING_ARGUMENT", "Missing argument: q")
    scope = (req.arg("in") or "ALL").upper()
    default_fields = [f for f in (req.arg("fields") or "").split(",") if f.strip()]
    specs = None
    if req.query.get("sobject"):
        specs = []
        for name in req.query["sobject"]:
            spec = SearchSpec(name, [f for f in (req.arg(f"{name}.fields") or "").split(",") if f.strip()]
                              or default_fields, req.arg(f"{name}.where") or "")
            lim = req.arg(f"{name}.limit") or req.arg("defaultLimit")
            spec.limit = int(lim) if lim and lim.isdigit() else None
            specs.append(spec)
    overall = req.arg("overallLimit")
    return _run_search(ctx, q, scope, specs, int(overall) if overall and overall.isdigit() else QUERY_PAGE)


# -- Knowledge data categories -------------------------------------------------------------------------
# ``org.data_category_groups``: [{"name", "label", "active"?: bool, "categories": [{"name", "label",
# "children": [...]}]}] ("topCategories"/"childCategories" are accepted as the child keys too).

def _children(node: dict[str, Any]) -> list[dict[str, Any]]:
    return list(node.get("childCategories") or node.get("children") or node.get("categories")
                or node.get("topCategories") or [])


def _category_summary(ctx: Ctx, group: str, node: dict[str, Any], sobj: str, deep: bool) -> dict[str, Any]:
    return {
        "childCategories": [_category_summary(ctx, group, c, sobj, True) for c in _children(node)]
        if deep else None,
        "label": node.get("label", node["name"]), "name": node["name"],
        "url": ctx.url(f"support/dataCategoryGroups/{group}/dataCategories/{node['name']}")
        + f"?sObjectName={sobj}",
    }


def _category_sobject(ctx: Ctx, req: Request) -> str:
    if not ctx.org.knowledge_enabled:
        raise RestError(404, "NOT_FOUND", NOT_FOUND)
    sobj = req.arg("sObjectName")
    if not sobj:
        raise RestError(400, "MISSING_ARGUMENT", "Missing argument: sObjectName")
    if sobj != "KnowledgeArticleVersion":
        raise RestError(400, "INVALID_PARAMETER_VALUE", f"Invalid parameter value: sObjectName={sobj}")
    return sobj


def _category_groups(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobj = _category_sobject(ctx, req)
    top_only = (req.arg("topCategoriesOnly") or "true").lower() != "false"
    groups = []
    for g in ctx.org.data_category_groups:
        if g.get("active", True) is False:
            continue
        groups.append({"label": g.get("label", g["name"]), "name": g["name"], "objectUsage": sobj,
                       "topCategories": [_category_summary(ctx, g["name"], c, sobj, not top_only)
                                         for c in _children(g)]})
    return json_response({"categoryGroups": groups})


def _find_category(nodes: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for n in nodes:
        if n["name"] == name:
            return n
        found = _find_category(_children(n), name)
        if found:
            return found
    return None


def _category_detail(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobj = _category_sobject(ctx, req)
    group = next((g for g in ctx.org.data_category_groups if g["name"] == m.group(1)), None)
    node = _find_category(_children(group), m.group(2)) if group else None
    if node is None:
        raise RestError(404, "NOT_FOUND", NOT_FOUND)
    detail = _category_summary(ctx, group["name"], node, sobj, False)  # type: ignore[index]
    detail["childCategories"] = [_category_summary(ctx, group["name"], c, sobj, False)  # type: ignore[index]
                                 for c in _children(node)]
    return json_response(detail)


def api_routes() -> list[ApiRoute]:
    return [
        api_route("GET", r"search/?", _search),
        api_route("GET", r"parameterizedSearch/?", _parameterized_search),
        api_route("GET", r"support/dataCategoryGroups/?", _category_groups),
        api_route("GET", r"support/dataCategoryGroups/([\w-]+)/dataCategories/([\w-]+)/?", _category_detail),
    ]
