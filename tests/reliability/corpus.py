"""The bad-input corpus: hostile files, made fresh for each run (a 50 MB file does not belong in git).

``generic()`` holds what is hostile whatever the file is meant to be; ``variants(kind, good)`` what is hostile
relative to a good file of that kind (wrong types, unknown keys) and what is odd but valid (a byte-order mark,
CRLF line ends) — those must load exactly as the good file does.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

BIG = 50 * 1024 * 1024
# Names of the files that are valid (odd, but a file a person could well hand over): they must load.
VALID = ("bom", "crlf")


def alias_bomb() -> bytes:
    """The billion laughs: nine levels of nine aliases, inside a field, after a valid start."""
    lines = ["schema_version: 1", "profile: gainsight-px", "org:", "  id: 00D000000000001",
             "  name: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"  n{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lines += ["name: *a9", "taken_at: *a9", "mappings: *a9"]
    return ("\n".join(lines) + "\n").encode()


def generic() -> dict[str, bytes | int]:
    """name → content (an int: a file of that many bytes of plausible YAML, written without holding it)."""
    rng = random.Random(14)
    return {
        "empty": b"",
        "binary": bytes(rng.randrange(256) for _ in range(4096)),
        "50mb": BIG,
        "alias-bomb": alias_bomb(),
        "deep-nesting": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "deep-json": b"[" * 100_000 + b"]" * 100_000,
        "nul-bytes": b"schema_version: 1\nprofile: gain\x00sight-px\n",
        "long-line": b"name: " + b"x" * 200_000 + b"\nprofile: " + b"y" * 200_000 + b"\n",
        "not-a-mapping": b"- just\n- a list\n",
        "truncated": b"schema_version: 1\nprofile: [gainsight-px, \n  org: {id: 00D",
    }


def write(folder: Path, name: str, content: bytes | int) -> Path:
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        if isinstance(content, int):
            chunk = b"- a plausible line of yaml\n" * 40_000
            written = 0
            while written < content:
                fh.write(chunk)
                written += len(chunk)
        else:
            fh.write(content)
    return path


def variants(kind: str, good: bytes) -> dict[str, bytes]:
    """The kind-relative members: wrong types, unknown keys, and the valid BOM and CRLF forms of ``good``."""
    text = good.decode("utf-8")
    out = {"bom": b"\xef\xbb\xbf" + good, "crlf": text.replace("\n", "\r\n").encode()}
    if kind in ("session", "signin"):
        data = json.loads(text)
        wrong = dict(data)
        if kind == "session":
            wrong.update({"completed": 5, "results": {"not": "a list"}, "facts": [1, 2], "step": ["x"]})
        else:
            wrong.update({"access_token": 12345, "instance_url": ["x"]})
        out["wrong-types"] = json.dumps(wrong).encode()
        out["unknown-keys"] = json.dumps({**data, "from_the_future": {"x": 1}}).encode()
    else:
        wrong = {"snapshot": "schema_version: 1\nprofile: gainsight-px\norg: {id: [1, 2]}\nmappings: {a: b}\n",
                 "scenario": "schema: 1\nname: [x]\norgs: {prod: {name: 5}}\n",
                 "config": "client_id: [a, b]\nport: {x: 1}\n"}[kind]
        out["wrong-types"] = wrong.encode()
        out["unknown-keys"] = good + b"\nsurely_not_a_key: 1\n"
    return out
