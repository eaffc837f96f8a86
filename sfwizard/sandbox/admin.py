"""Placeholder: filled in by its owner."""

from __future__ import annotations

from sfwizard.sandbox.http import Route


def routes() -> list[Route]:
    return []
