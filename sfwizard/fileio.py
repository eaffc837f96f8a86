"""Files on disk: written so that a crash at any moment leaves the old copy or the new one, never half of one,
private to the user (0600 files in 0700 folders); read with a size cap and decoded with a position on error.

Every failure here is one ``SfwizardError`` naming the file and what to do (a full disk, a folder that is a
file, no permission), never an OSError traceback; what was already on disk is left as it was.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

from sfwizard.errors import SfwizardError

FILE_MODE = 0o600
DIR_MODE = 0o700
MB = 1024 * 1024


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _hint(exc: OSError, path: Path) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"free some space on the disk holding {path.parent}, then try again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"make {path.parent} writable for you, or set SFWIZARD_HOME to a folder you can write"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return "a file stands where a folder should be (or the other way round): move it aside, or choose " \
               "another path"
    return "check the path and the disk, then try again"


def save_error(path: Path, exc: OSError, what: str = "") -> SfwizardError:
    """An OSError met while writing ``path``, as one line with a way forward."""
    return SfwizardError(f"cannot save {what + ' ' if what else ''}{path}: {_why(exc)}", _hint(exc, path),
                         kind="save", fix="storage")


def private_dir(path: Path) -> Path:
    """``path`` as a folder of the user's own (created 0700; made 0700 when sfwizard's and wider)."""
    if path.exists() and not path.is_dir():
        raise SfwizardError(f"cannot use the folder {path}: a file is in its place",
                            "move the file aside, or set SFWIZARD_HOME to a folder you can write", kind="save",
                            fix="storage")
    try:
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
            os.chmod(path, DIR_MODE)
    except OSError as exc:
        raise SfwizardError(f"cannot use the folder {path}: {_why(exc)}", _hint(exc, path / "x"), kind="save",
                            fix="storage") from None
    return path


def output_dir(path: Path) -> Path:
    """A folder the user named for output (``report -o DIR``): checked to be one, and what sfwizard has to create
    of it (every missing level) made 0700. An existing folder keeps its mode: it is the user's."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SfwizardError(f"-o {path}: a file, not a folder", "give a folder for the report and the bundle "
                            "(it is created when missing)")
    missing = [p for p in (path, *path.parents) if not p.exists()]
    try:
        for level in reversed(missing):
            level.mkdir(mode=DIR_MODE)
    except FileExistsError:
        pass  # made meanwhile by someone else: used as it is
    except OSError as exc:
        raise SfwizardError(f"cannot create the folder {path}: {_why(exc)}",
                            "give a folder you can write to with -o DIR") from None
    if not path.is_dir():
        raise SfwizardError(f"-o {path}: not a folder", "give a folder for the report and the bundle")
    return path


def write_atomic(path: Path, data: bytes, mode: int = FILE_MODE, what: str = "") -> None:
    """Temp file in the same folder, fsync, rename over the target, fsync the folder.

    On any failure (a full disk, a folder that is a file, no permission) the target keeps its old content,
    the temp file is removed, and one ``SfwizardError`` says what could not be saved.
    """
    path = Path(path)
    # unique per process and thread: two threads saving at once never share (or delete) a temp file
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise save_error(path, exc, what) from None


def append_private(path: Path, data: bytes) -> None:
    """Append ``data`` and fsync; the file is created 0600. A torn last line (a killed writer) is ended first,
    so this append never glues onto it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data
            if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
                os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise save_error(path, exc) from None


def write_private(path: Path, data: bytes) -> None:
    """A small file written in place (the lock's owner note): 0600 from its creation."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
                os.fchmod(fd, FILE_MODE)
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise save_error(path, exc) from None


# -- reading ------------------------------------------------------------------------------------------------

def read_capped(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of ``path``, refusing (before reading them) more than ``limit`` bytes, a folder, or a special
    file (a FIFO would block, /dev/zero never ends)."""
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise SfwizardError(f"cannot read {what} {path}: it is a folder", "give the path of a file")
        if not stat.S_ISREG(info.st_mode):
            raise SfwizardError(f"cannot read {what} {path}: not a regular file", "give the path of a file")
        if info.st_size > limit:
            raise SfwizardError(f"{path}: too large for a {what} ({_size(info.st_size)}; at most {_size(limit)})",
                                f"check that this is the {what} you meant")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise SfwizardError(f"cannot read {what} {path}: {_why(exc)}", "check the path") from None
    if len(data) > limit:  # it grew while we looked
        raise SfwizardError(f"{path}: too large for a {what} (more than {_size(limit)})",
                            f"check that this is the {what} you meant")
    return data


def decode_text(data: bytes, filename: str, what: str = "file") -> str:
    """UTF-8 text (a leading byte-order mark dropped; CRLF line ends are left to the parser, which reads them as
    LF); a byte that is not UTF-8, or a NUL, is one ``file:line:column`` error."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(data, exc.start)
        raise SfwizardError(f"{filename}:{line}:{col}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
                            f"save the {what} as UTF-8") from None
    nul = text.find("\0")
    if nul >= 0:
        line, col = _position(text, nul)
        raise SfwizardError(f"{filename}:{line}:{col}: a NUL byte (this is not a text file)",
                            f"check that this is the {what} you meant") from None
    return text


def read_text(path: Path, limit: int, what: str = "file") -> str:
    """``read_capped`` then ``decode_text``."""
    return decode_text(read_capped(path, limit, what), str(path), what)


def _position(data: bytes | str, offset: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line = data.count(newline, 0, offset) + 1  # type: ignore[arg-type]
    col = offset - (data.rfind(newline, 0, offset) + 1) + 1  # type: ignore[arg-type]
    return line, col


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"
