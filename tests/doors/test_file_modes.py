"""Every file sfwizard writes is 0600 in a 0700 folder, the copy of a damaged session included (the review found
``session.json.damaged`` at 0644)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sfwizard.recovery.session import RecoverySession


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_damaged_session_is_set_aside_private(sfwizard_home: Path) -> None:
    s = RecoverySession.new("gainsight-px")
    s.note_fact("signed_in", "admin@x")
    s.release()
    path = s.dir / "session.json"
    path.write_text("{ not json")  # damaged by hand (an editor, a full disk), with the editor's mode
    os.chmod(path, 0o644)
    os.chmod(path.with_name("session.json.bak"), 0o644)
    resumed = RecoverySession.load(s.id)
    resumed.release()
    aside = path.with_name("session.json.damaged")
    assert aside.read_text() == "{ not json"  # kept as it was found …
    assert _mode(aside) == 0o600  # … but private
    resumed.save()
    for f in s.dir.iterdir():
        if f.is_file():
            assert _mode(f) == 0o600, f.name


def test_every_file_a_recovery_writes_is_private(sfwizard_home: Path) -> None:
    s = RecoverySession.new("gainsight-px")
    s.record_run([{"id": "identity.org", "status": "pass"}])
    s.save()
    s.release()
    for root, dirs, files in os.walk(sfwizard_home):
        for d in dirs:
            assert _mode(Path(root) / d) == 0o700, d
        for f in files:
            assert _mode(Path(root) / f) == 0o600, f
