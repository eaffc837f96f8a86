"""From command-line arguments to a Connection: the only place the CLI turns a Namespace into typed values."""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfwizard.recovery.connection import Connection


def open_for(args: argparse.Namespace) -> AbstractContextManager[Connection]:
    """The bundled sandbox with --demo, else the saved sign-in. A --snapshot file is read first, so a
    broken one stops the run before anything touches the network (and is never silently ignored)."""
    from sfwizard.recovery.connection import load_snapshot, open_saved

    snapshot_path = Path(args.snapshot) if getattr(args, "snapshot", None) else None
    profile = getattr(args, "profile", None)
    if getattr(args, "demo", False):
        from sfwizard.demo import open_demo

        return open_demo(args.scenario, profile, snapshot=load_snapshot(snapshot_path))
    return open_saved(profile, snapshot_path=snapshot_path)
