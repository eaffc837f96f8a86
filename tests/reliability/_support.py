"""What the reliability tests share besides fixtures: planting hostile files, judging a one-line error, and
the leak and mode scans."""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Ledger:
    faults: dict[str, list[int]] = field(default_factory=dict)  # name → [injected, survived]
    bad_inputs: dict[tuple[str, str], bool] = field(default_factory=dict)  # (entry point, file) → handled
    roots: set[Path] = field(default_factory=set)  # every reliability test's tmp_path (leak scan)
    private: set[Path] = field(default_factory=set)  # homes and report folders (mode scan)
    issued_files: set[str] = field(default_factory=set)  # children's records of the secrets they issued
    final: dict[str, Any] = field(default_factory=dict)  # the session-end scan's figures
    properties: dict[str, int] = field(default_factory=dict)  # generated examples that held, by property

    def secrets(self) -> set[str]:
        import _recorder

        out = _recorder.issued()
        for path in self.issued_files:
            out |= _recorder.read_file(path)
        return out


LEDGER = Ledger()


WINDOW = 12  # a secret leaks when any 12 characters of it appear
_RUN = re.compile(r"[A-Za-z0-9_\-]{" + str(WINDOW) + ",}")
# Where a secret is kept on purpose when no keychain works: the sign-in file and the platform's API key file.
# Their modes are still checked.
KEPT_ON_PURPOSE = ("signin.json", "px-api-key")


def plant(path: Path, data: bytes | str) -> Path:
    """Write a file sfwizard will read, private like sfwizard's own (folders 0700, the file 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for parent in [path.parent, *path.parent.parents]:
        if parent.name == "sfwizard-home":
            break
        if parent.exists() and "sfwizard-home" in parent.parts:
            os.chmod(parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, 0o600)
    return path


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def one_line_error(ran: Ran, *must: str) -> str:
    """The run ended with exit 2 and exactly one line on stderr — no traceback — that says ``must``."""
    assert ran.code == 2, (ran.code, ran.err[-2000:])
    assert "Traceback" not in ran.err + ran.out, ran.err[-3000:]
    assert len(ran.lines) == 1, ran.err[-3000:]
    line = ran.lines[0]
    assert line.startswith("sfwizard"), line
    assert " — " in line or " - " in line, f"no way forward in: {line}"  # " - " on an ASCII terminal
    assert len(line) < 1200, f"an error line of {len(line)} characters"
    for text in must:
        assert text in line, (text, line)
    return line


def _texts(path: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of a file; a zip file's members one by one."""
    try:
        data = path.read_bytes()
    except OSError:
        return
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for member in zf.namelist():
                    yield f"{path}!{member}", zf.read(member).decode("utf-8", errors="replace")
            return
        except zipfile.BadZipFile:
            pass
    yield str(path), data.decode("utf-8", errors="replace")


def leak_scan(roots: Iterable[Path], secrets: set[str]) -> tuple[list[str], int]:
    """(matches, files scanned): every file under ``roots`` searched for any WINDOW characters of any secret,
    as written and with Markdown's backslash escapes removed."""
    windows: dict[str, str] = {}
    for secret in secrets:
        for i in range(len(secret) - WINDOW + 1):
            windows.setdefault(secret[i:i + WINDOW], secret)
    matches: list[str] = []
    scanned = 0
    for root in sorted(set(roots)):
        if not root.exists():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            if path.name in KEPT_ON_PURPOSE or path.stat().st_size > 64 * 1024 * 1024:
                continue  # the 50 MB bad inputs hold no secret (made before any sandbox)
            scanned += 1
            for name, text in _texts(path):
                for variant in (text, text.replace("\\", "")):
                    for run in _RUN.findall(variant):
                        for i in range(len(run) - WINDOW + 1):
                            secret = windows.get(run[i:i + WINDOW])
                            if secret is not None:
                                matches.append(f"{name}: {secret[:6]}… (issued secret)")
                                break
    return sorted(set(matches)), scanned


def mode_scan(folders: Iterable[Path]) -> tuple[list[str], int, int]:
    """(wrong, files checked, folders checked): under each folder, files 0600 and folders 0700 (the folder
    itself too, unless it is a test's SFWIZARD_HOME, which the test made)."""
    wrong: list[str] = []
    files = dirs = 0
    for top in sorted(set(folders)):
        if not top.exists():
            continue
        items = [top, *top.rglob("*")] if top.name != "sfwizard-home" else list(top.rglob("*"))
        for p in items:
            if p.is_symlink():
                continue
            mode = stat.S_IMODE(p.stat().st_mode)
            if p.is_dir():
                dirs += 1
                if mode != 0o700:
                    wrong.append(f"{p}: folder {oct(mode)}")
            else:
                files += 1
                if mode != 0o600:
                    wrong.append(f"{p}: file {oct(mode)}")
    return wrong, files, dirs


