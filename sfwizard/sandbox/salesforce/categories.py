"""``WITH DATA CATEGORY``: filtering Knowledge articles by the data categories they are classified in.

SOQL and SOSL share it: ``Group__c AT cat__c``, ``BELOW``, ``ABOVE``, ``ABOVE_OR_BELOW``, several categories
in parentheses, selections joined by AND only (no OR), at most three. Group and category names carry the
``__c`` suffix; every group's root category is ``All``. AT is the category itself, BELOW it and its
subcategories, ABOVE it and its parents, ABOVE_OR_BELOW both.

An article's categories are ``Group.Category`` names in its hidden ``_categories`` list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfwizard.sandbox.salesforce.store import Org

SELECTORS = ("AT", "ABOVE", "BELOW", "ABOVE_OR_BELOW")
MAX_SELECTIONS = 3
ROOT = "all"


class CategoryError(Exception):
    """A filter Salesforce would refuse: ``code`` and ``message`` as the API words them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Selection:
    group: str  # as written, with __c
    selector: str  # AT ABOVE BELOW ABOVE_OR_BELOW
    categories: tuple[str, ...]  # as written, with __c


_SELECTION = re.compile(r"\s*(\w+)\s+(ABOVE_OR_BELOW|ABOVE|BELOW|AT)\s+(\(([^)]*)\)|\w+)\s*", re.IGNORECASE)


def parse(text: str) -> list[Selection]:
    """``Group__c AT (a__c, b__c) AND Other__c BELOW x__c`` → selections (``text`` after DATA CATEGORY)."""
    out: list[Selection] = []
    rest = text
    while True:
        m = _SELECTION.match(rest)
        if not m:
            token = (rest.strip().split() or ["<EOF>"])[0]
            raise CategoryError("MALFORMED_QUERY", f"unexpected token: '{token}'")
        cats = m.group(4).split(",") if m.group(4) is not None else [m.group(3)]
        cats = [c.strip() for c in cats]
        if not all(re.fullmatch(r"\w+", c) for c in cats):
            raise CategoryError("MALFORMED_QUERY", f"unexpected token: '{m.group(3)}'")
        out.append(Selection(m.group(1), m.group(2).upper(), tuple(cats)))
        rest = rest[m.end():]
        if not rest.strip():
            break
        joiner = re.match(r"\s*(\w+)\s+", rest)
        if not joiner or joiner.group(1).upper() != "AND":
            token = (rest.strip().split() or ["<EOF>"])[0]
            raise CategoryError("MALFORMED_QUERY", f"unexpected token: '{token}'")
        rest = rest[joiner.end():]
    if len(out) > MAX_SELECTIONS:
        raise CategoryError("MALFORMED_QUERY", f"A WITH DATA CATEGORY clause can have at most {MAX_SELECTIONS} "
                                               "data category conditions")
    return out


def _bare(name: str) -> str:
    return (name[:-3] if name.lower().endswith("__c") else name).lower()


def _tree(org: Org) -> dict[str, dict[str, str | None]]:
    """group (lower) → {category (lower) → its parent (lower), the root ``all`` → None}."""
    out: dict[str, dict[str, str | None]] = {}
    for g in org.data_category_groups:
        if g.get("active", True) is False:
            continue
        parents: dict[str, str | None] = {ROOT: None}
        stack = [(c, ROOT) for c in _children(g)]
        while stack:
            node, parent = stack.pop()
            name = str(node["name"]).lower()
            if name == ROOT:  # a tree that spells out its root
                stack.extend((c, ROOT) for c in _children(node))
                continue
            parents[name] = parent
            stack.extend((c, name) for c in _children(node))
        out[str(g["name"]).lower()] = parents
    return out


def _children(node: dict[str, Any]) -> list[dict[str, Any]]:
    return list(node.get("childCategories") or node.get("children") or node.get("categories")
                or node.get("topCategories") or [])


def _line(parents: dict[str, str | None], name: str) -> list[str]:
    """``name`` and its ancestors up to the root."""
    out = [name]
    while parents.get(out[-1]) is not None:
        out.append(parents[out[-1]])  # type: ignore[arg-type]
    return out


def predicate(org: Org, selections: list[Selection]) -> Callable[[dict[str, Any]], bool]:
    """A test on article records: classified in every selection's group as the selection says."""
    tree = _tree(org)
    tests = []
    for sel in selections:
        group = _bare(sel.group)
        if group not in tree:
            raise CategoryError("INVALID_QUERY_FILTER_OPERATOR",
                                f"Data category group {sel.group} does not exist or is not active")
        parents = tree[group]
        for c in sel.categories:
            if _bare(c) not in parents:
                raise CategoryError("INVALID_QUERY_FILTER_OPERATOR",
                                    f"Data category {c} does not exist in data category group {sel.group}")
        tests.append((group, sel.selector, {_bare(c) for c in sel.categories}, parents))

    def matches(record: dict[str, Any]) -> bool:
        mine: dict[str, list[str]] = {}
        for full in record.get("_categories") or []:
            g, _, c = str(full).partition(".")
            mine.setdefault(g.lower(), []).append(c.lower())
        for group, selector, wanted, parents in tests:
            hit = False
            for cat in mine.get(group, []):
                up = _line(parents, cat)  # the article's category and its ancestors
                below = any(w in up for w in wanted)  # the article sits at or under a wanted category
                above = any(cat in _line(parents, w) for w in wanted)  # … or at or above one
                if (selector == "AT" and cat in wanted) or (selector == "BELOW" and below) \
                        or (selector == "ABOVE" and above) or (selector == "ABOVE_OR_BELOW" and (above or below)):
                    hit = True
                    break
            if not hit:
                return False
        return True

    return matches
