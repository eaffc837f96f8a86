"""The sandbox's HTML pages from template files, with one escaping rule.

A template is a file in a package's ``templates/`` folder with ``$name`` placeholders
(``string.Template``; ``$$`` is a literal dollar sign). ``render`` fills every placeholder — a missing
value is an error, not an empty gap — and HTML-escapes every value (``quote=True``, so a value is safe
inside an attribute too) unless it is ``Markup``: HTML that is already safe, such as a fragment made by
``fill`` or ``render``, or a style sheet read with ``asset``.

Loops (table rows, checkboxes) stay in Python as small ``fill`` fragments; they escape the same way.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import cache
from importlib import resources
from string import Template

__all__ = ["Markup", "asset", "escape", "fill", "join", "render"]


class Markup(str):
    """HTML that is safe as it is: inserted into a template without escaping."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """``value`` as HTML text: ``Markup`` as it is, ``None`` as nothing, anything else escaped."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def fill(snippet: str, /, **values: object) -> Markup:
    """A small fragment written in Python (a row, a checkbox), filled and escaped like a template."""
    return Markup(Template(snippet).substitute({k: escape(v) for k, v in values.items()}))


def join(parts: Iterable[object]) -> Markup:
    """Fragments one after another; any part that is not ``Markup`` is escaped."""
    return Markup("".join(escape(p) for p in parts))


def render(package: str, name: str, /, **values: object) -> Markup:
    """The template ``templates/<name>`` of ``package``, filled with ``values``."""
    return fill(_source(package, name), **values)


def asset(package: str, name: str) -> Markup:
    """A file of ``templates/`` as it is (a style sheet, a script): it ships with the package, so it is safe."""
    return Markup(_source(package, name))


@cache
def _source(package: str, name: str) -> str:
    return _read(package, name)


def _read(package: str, name: str) -> str:
    return resources.files(package).joinpath("templates", name).read_text(encoding="utf-8")
