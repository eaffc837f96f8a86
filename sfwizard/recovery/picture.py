"""The checklist as a picture to share: drawn from the checklist's data (not a screen dump), at a fixed width,
the same whatever the terminal's size — each item's state, who proved or confirmed it and when, the org and the
date. SVG always (hand-written, a monospace system font stack); PNG too where a converter is installed
(rsvg-convert, cairosvg or a headless Chromium — looked for, never required).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sfwizard.recovery.checklist import ItemOutcome, Mark

log = logging.getLogger("sfwizard")

WIDTH = 920  # px: fixed, so the picture is the same at any terminal size
MARGIN = 32
FONT = 14
LINE = 21
CHAR = 8.45  # the advance of a 14 px monospace character
FONTS = "ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
TEXT_COLS = int((WIDTH - 2 * MARGIN - 4 * CHAR) / CHAR)
# state → (glyph, word, colour): colours that read on white and in print
STYLE = {
    Mark.PASS: ("✔", "proven", "#1e7b34"),
    Mark.CONFIRMED: ("✔", "confirmed", "#1d5fae"),
    Mark.FAIL: ("✘", "not done", "#b3261e"),
    Mark.WAITING: ("…", "waiting", "#9a6700"),
    Mark.NOT_APPLICABLE: ("–", "not applicable", "#6b7280"),
}
INK, MUTED, RULE = "#111827", "#4b5563", "#d1d5db"


def local_and_utc(value: Any) -> str:
    """A time once, in one form everywhere: local with UTC beside it ("2026-11-20 10:04 EST (15:04 UTC)")."""
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    local, utc = dt.astimezone(), dt.astimezone(timezone.utc)
    if local.utcoffset() == utc.utcoffset():  # the reader's time is UTC: once is enough
        return f"{utc:%Y-%m-%d %H:%M} UTC"
    day = "" if local.date() == utc.date() else f"{utc:%Y-%m-%d} "
    return f"{local:%Y-%m-%d %H:%M} {local:%Z} ({day}{utc:%H:%M} UTC)"


def _detail(it: ItemOutcome) -> str:
    who = it.confirmed_by or {}
    if it.mark == Mark.CONFIRMED:
        return f"confirmed by {who.get('who', '?')} ({who.get('role', '').replace('_', ' ')}), " \
               f"{local_and_utc(who.get('at', '?'))}"
    if it.mark == Mark.PASS:
        extra = f"; also confirmed by {who.get('who')}" if who else ""
        return "proven by checks " + ", ".join(it.checks) + extra
    return it.why


def svg(items: Sequence[ItemOutcome], *, vendor: str, identity: dict[str, Any], when: datetime,
        session_id: str = "", demo: str | None = None, version: str = "") -> str:
    """The picture as SVG text (every server-provided word escaped; the caller redacts)."""
    rows: list[tuple[str, float, str, dict[str, str]]] = []  # (kind, y, text, attributes)
    y = MARGIN + 22.0

    def put(kind: str, text: str, **attrs: str) -> None:
        nonlocal y
        rows.append((kind, y, text, attrs))

    put("title", f"{vendor} ↔ Salesforce · recovery checklist")
    y += LINE + 8
    org = identity.get("org_name") or "org not signed in"
    kind = "SANDBOX" if identity.get("is_sandbox") else "PRODUCTION" if identity.get("org_id") else ""
    put("meta", f"Org: {org}" + (f" ({identity.get('org_id')})" if identity.get("org_id") else "")
        + (f" · {kind}" if kind else ""))
    y += LINE
    put("meta", f"Date: {local_and_utc(when)}" + (f" · session {session_id}" if session_id else "")
        + (f" · demo scenario {demo}" if demo else ""))
    y += LINE
    done = sum(1 for i in items if i.done)
    put("summary", f"{done} of {len(items)} items done" + (
        "" if done == len(items) else f" · {len(items) - done} open"))
    y += LINE + 6
    put("rule", "")
    y += 14
    group = None
    for it in items:
        if it.item.group != group:
            group = it.item.group
            y += 6
            put("group", group)
            y += LINE
        glyph, word, colour = STYLE[it.mark]
        lines = textwrap.wrap(it.item.item, TEXT_COLS - len(word) - 3) or [""]
        put("item", lines[0], glyph=glyph, colour=colour, word=word)
        for extra in lines[1:]:
            y += LINE
            put("cont", extra)
        for detail in textwrap.wrap(_detail(it), TEXT_COLS)[:3]:
            y += LINE - 3
            put("detail", detail)
        y += LINE + 4
    put("rule", "")
    y += 20
    put("foot", f"sfwizard {version} · drawn from the recovery session's results and confirmations".strip())
    height = int(y + MARGIN)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="{escape(FONTS)}" font-size="{FONT}">',
           f"<title>{escape(vendor)} recovery checklist</title>",
           f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>']
    if demo:
        out.append(f'<rect x="{WIDTH - MARGIN - 70}" y="{MARGIN - 2}" width="70" height="26" rx="4" fill="#b3261e"/>'
                   f'<text x="{WIDTH - MARGIN - 35}" y="{MARGIN + 16}" fill="#ffffff" text-anchor="middle" '
                   'font-weight="bold">DEMO</text>')
    x = MARGIN
    for kind, ry, text, attrs in rows:
        t = escape(text)
        if kind == "title":
            out.append(f'<text x="{x}" y="{ry}" font-size="20" font-weight="bold" fill="{INK}">{t}</text>')
        elif kind in ("meta", "foot"):
            out.append(f'<text x="{x}" y="{ry}" fill="{MUTED}">{t}</text>')
        elif kind == "summary":
            out.append(f'<text x="{x}" y="{ry}" font-weight="bold" fill="{INK}">{t}</text>')
        elif kind == "rule":
            out.append(f'<line x1="{x}" y1="{ry}" x2="{WIDTH - MARGIN}" y2="{ry}" stroke="{RULE}"/>')
        elif kind == "group":
            out.append(f'<text x="{x}" y="{ry}" font-weight="bold" fill="{INK}">{t}</text>')
        elif kind == "item":
            c = attrs["colour"]
            out.append(f'<text x="{x + 4}" y="{ry}" fill="{c}" font-weight="bold">{escape(attrs["glyph"])}</text>'
                       f'<text x="{x + 3 * CHAR:.0f}" y="{ry}" fill="{INK}">{t}</text>'
                       f'<text x="{WIDTH - MARGIN}" y="{ry}" fill="{c}" text-anchor="end">{escape(attrs["word"])}'
                       "</text>")
        elif kind == "cont":
            out.append(f'<text x="{x + 3 * CHAR:.0f}" y="{ry}" fill="{INK}">{t}</text>')
        elif kind == "detail":
            out.append(f'<text x="{x + 3 * CHAR:.0f}" y="{ry}" fill="{MUTED}" font-size="12.5">{t}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(session: Any, items: Sequence[ItemOutcome], path: Path, *, vendor: str,
          when: datetime | None = None, png: bool = True) -> Path | None:
    """Write the SVG at ``path`` (0600, redacted) and, where a converter is installed, a PNG beside it; returns
    the PNG's path, or None when none was made."""
    from sfwizard import __version__
    from sfwizard.fileio import write_atomic
    from sfwizard.redact import default

    r = default()
    identity = r.obj(dict(getattr(session, "identity", {}) or {}))
    text = svg(items, vendor=vendor, identity=identity, when=when or datetime.now(timezone.utc),
               session_id=getattr(session, "id", ""), demo=getattr(session, "demo_scenario", None),
               version=__version__)
    text = r.text(text)
    write_atomic(path, text.encode(), mode=0o600)
    return to_png(path) if png else None


def converter() -> tuple[str, str] | None:
    """The first SVG → PNG converter installed: ("rsvg-convert", path), ("cairosvg", ""), ("chromium", path)."""
    found = shutil.which("rsvg-convert")
    if found:
        return "rsvg-convert", found
    try:
        import cairosvg  # noqa: F401 - only whether it is there
    except ImportError:
        pass
    else:
        return "cairosvg", ""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return "chromium", found
    return None


def to_png(svg_path: Path, timeout: float = 60) -> Path | None:
    """A PNG next to ``svg_path`` (0600), or None when no converter is installed or it failed (logged)."""
    from sfwizard.fileio import write_atomic

    how = converter()
    if how is None:
        return None
    name, exe = how
    out = svg_path.with_suffix(".png")
    size = _size(svg_path)
    try:
        with tempfile.TemporaryDirectory(prefix="sfwizard-png-") as tmp:
            target = Path(tmp) / "checklist.png"
            if name == "rsvg-convert":
                subprocess.run([exe, "--format=png", "--zoom=2", "-o", str(target), str(svg_path)], check=True,
                               timeout=timeout, capture_output=True)
            elif name == "cairosvg":
                import cairosvg

                cairosvg.svg2png(url=str(svg_path), write_to=str(target), scale=2)
            else:
                args = [exe, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                        "--force-device-scale-factor=2",
                        f"--user-data-dir={tmp}/profile", f"--window-size={size[0]},{size[1]}",
                        f"--screenshot={target}", svg_path.resolve().as_uri()]
                if hasattr(os, "geteuid") and os.geteuid() == 0:
                    args.insert(1, "--no-sandbox")  # Chromium refuses to start as root otherwise
                subprocess.run(args, check=True, timeout=timeout, capture_output=True, stdin=subprocess.DEVNULL)
            data = target.read_bytes()
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.info("the checklist's PNG was not made (%s: %s)", name, type(exc).__name__)
        return None
    write_atomic(out, data, mode=0o600)
    return out


def _size(svg_path: Path) -> tuple[int, int]:
    import re

    head = svg_path.read_text(encoding="utf-8")[:400]
    w = re.search(r'width="(\d+)"', head)
    h = re.search(r'height="(\d+)"', head)
    return (int(w.group(1)) if w else WIDTH, int(h.group(1)) if h else 800)
