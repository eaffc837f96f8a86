"""Salesforce record Ids: 15 case-sensitive characters plus a 3-character checksum suffix."""

from __future__ import annotations

import re

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")

KEY_PREFIXES = {
    "Organization": "00D",
    "User": "005",
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Profile": "00e",
    "PermissionSet": "0PS",
    "PermissionSetAssignment": "0Pa",
    "ObjectPermissions": "110",
    "FieldPermissions": "01k",
    "OauthToken": "0CQ",
    "LoginHistory": "0Ya",
    "KnowledgeArticleVersion": "ka0",
    "KnowledgeArticle": "kA0",
    "ConnectedApplication": "0H4",
}


def checksum(id15: str) -> str:
    """The 3-character suffix: one letter per 5-character chunk, a bit per uppercase letter."""
    out = []
    for start in (0, 5, 10):
        bits = 0
        for i, ch in enumerate(id15[start : start + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_SUFFIX_ALPHABET[bits])
    return "".join(out)


def to18(id15: str) -> str:
    if len(id15) == 18:
        return id15
    if len(id15) != 15:
        raise ValueError(f"a Salesforce Id has 15 or 18 characters, not {len(id15)}")
    return id15 + checksum(id15)


def is_valid(value: str) -> bool:
    """True for a 15-character Id or an 18-character Id whose suffix matches."""
    if not _ID_RE.match(value or ""):
        return False
    return len(value) == 15 or checksum(value[:15]) == value[15:]


def make_id(prefix: str, number: int, pod: str = "5g") -> str:
    """A deterministic 18-character Id: key prefix, pod, a reserved 0 and a base-62 serial."""
    digits = []
    n = number
    for _ in range(9):
        n, r = divmod(n, 62)
        digits.append(_BASE62[r])
    return to18(prefix + pod + "0" + "".join(reversed(digits)))


def same_id(a: str | None, b: str | None) -> bool:
    """15- and 18-character forms of one Id compare equal (the first 15 are case-sensitive)."""
    if not a or not b:
        return False
    return a[:15] == b[:15]
