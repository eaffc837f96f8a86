"""Text from outside (an org name, a platform's lastError, a status page, an OAuth error_description) made inert
before it reaches a terminal, a log or a report.

A terminal acts on control characters: ``ESC ] 52 ;`` writes the clipboard, ``ESC [ 2 J`` clears the screen,
``CR`` overwrites a line, BEL rings. ``inert`` writes every such character as a visible escape (``\\x1b``), so
what was sent can still be read, and nothing acts on it. Printable text (any language, emoji) is unchanged.

Escaped: C0 controls except newline and tab, DEL, C1 controls (U+0080–U+009F: a terminal reads U+009B as
CSI), the bidirectional overrides and isolates that reorder what a reader sees ("Trojan Source"), the line
and paragraph separators, and lone surrogates (they cannot be written as UTF-8 at all).
"""

from __future__ import annotations

import re

__all__ = ["inert", "is_inert"]

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def inert(text: object, *, keep_newlines: bool = True) -> str:
    """``text`` as a string with every control character written as a visible escape.

    Newlines and tabs are kept (a log's traceback, a report's lines) unless ``keep_newlines`` is False (one
    line of a table or an error message: they are escaped too). Idempotent: ``inert(inert(s)) == inert(s)``.
    """
    value = text if isinstance(text, str) else str(text)
    return (_UNSAFE if keep_newlines else _UNSAFE_ONE_LINE).sub(_escape, value)


def is_inert(text: str) -> bool:
    """Whether ``text`` holds nothing a terminal would act on (newlines and tabs allowed)."""
    return _UNSAFE.search(text) is None
