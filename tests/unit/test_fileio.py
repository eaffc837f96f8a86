"""Files on disk: private modes, atomic writes that survive a full disk, capped reads, text decoded with a
position, output folders checked."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from sfwizard import fileio
from sfwizard.errors import SfwizardError


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_writes_are_private_and_folders_too(tmp_path: Path) -> None:
    target = tmp_path / "new" / "file.json"
    fileio.write_atomic(target, b"{}")
    fileio.append_private(tmp_path / "new" / "history.jsonl", b"{}\n")
    fileio.write_private(tmp_path / "new" / ".owner", b"123")
    assert _mode(target.parent) == 0o700
    assert {_mode(p) for p in target.parent.iterdir()} == {0o600}
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    assert _mode(fileio.private_dir(loose)) == 0o700  # sfwizard's own folder made private again


def test_a_full_disk_keeps_the_old_file_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "session.json"
    fileio.write_atomic(target, b"old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SfwizardError) as err:
        fileio.write_atomic(target, b"new", what="the session")
    assert err.value.message == f"cannot save the session {target}: No space left on device"
    assert "free some space" in err.value.hint and err.value.kind == "save"
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["session.json"]  # no temp file left behind


def test_an_append_after_a_torn_line_starts_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(b'{"a": 1}\n{"torn')
    fileio.append_private(path, b'{"b": 2}\n')
    assert path.read_bytes() == b'{"a": 1}\n{"torn\n{"b": 2}\n'
    assert _mode(path) == 0o600  # made private on the way


def test_a_folder_that_is_a_file_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("x")
    with pytest.raises(SfwizardError) as err:
        fileio.private_dir(tmp_path / "data")
    assert str(tmp_path / "data") in err.value.message
    assert err.value.kind == "save" and err.value.hint
    with pytest.raises(SfwizardError):
        fileio.write_atomic(tmp_path / "data" / "x.json", b"{}")


def test_reads_are_capped_and_refuse_what_is_not_a_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(5 * 1024 * 1024)  # sparse: nothing is read to refuse it
    with pytest.raises(SfwizardError, match=r"too large for a snapshot \(5\.0 MB; at most 1\.0 MB\)"):
        fileio.read_capped(big, 1024 * 1024, "snapshot")
    with pytest.raises(SfwizardError, match="it is a folder"):
        fileio.read_capped(tmp_path, 10, "snapshot")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(SfwizardError, match="not a regular file"):  # an open() would block forever
        fileio.read_capped(fifo, 10, "snapshot")
    with pytest.raises(SfwizardError, match="No such file"):
        fileio.read_capped(tmp_path / "none", 10, "snapshot")


@pytest.mark.parametrize("data,text,error", [
    (b"\xef\xbb\xbfa: 1\n", "a: 1\n", None),
    (b"a: 1\r\nb: 2\r\n", "a: 1\r\nb: 2\r\n", None),  # CRLF is the parser's to read
    (b"a: 1\nb: \xff\n", None, "f.yaml:2:4: not UTF-8 text (byte 0xff)"),
    (b"a: 1\nbb: x\x00y\n", None, "f.yaml:2:6: a NUL byte"),
])
def test_text_is_utf8_with_a_position_for_what_is_not(data: bytes, text: str | None, error: str | None) -> None:
    if error is None:
        assert fileio.decode_text(data, "f.yaml") == text
        return
    with pytest.raises(SfwizardError) as err:
        fileio.decode_text(data, "f.yaml")
    assert err.value.message.startswith(error)


def test_output_folders(tmp_path: Path) -> None:
    made = fileio.output_dir(tmp_path / "a" / "b")
    assert _mode(tmp_path / "a") == _mode(made) == 0o700
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)
    assert _mode(fileio.output_dir(mine)) == 0o755  # the user's folder keeps its mode
    (tmp_path / "f").write_text("x")
    with pytest.raises(SfwizardError, match="a file, not a folder"):
        fileio.output_dir(tmp_path / "f")
    with pytest.raises(SfwizardError, match="Not a directory"):
        fileio.output_dir(tmp_path / "f" / "sub")
