"""The recovery session: saved atomically after every step, resumable, one wizard at a time.

A kill -9 at any moment loses at most the step under way: ``session.json`` is replaced by rename
(the previous good copy kept as ``session.json.bak``), and the JSONL history is appended with fsync
and read back skipping a torn last line.

What is read back is checked before it is used: a file too large, not JSON, or with a field of the wrong
type is damaged. A damaged ``session.json`` is set aside as ``session.json.damaged`` and the session resumes
from ``.bak``; with no good backup either, the fields that are wrong go back to their defaults (the rest is
kept, and the damaged copy with it); a session with neither file readable is left untouched and named, never
silently replaced. Every file is 0600 in a 0700 folder; a save that fails (a full disk) is one
``SfwizardError`` and leaves the last good copy in place.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import stat
import threading
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sfwizard import paths
from sfwizard.errors import SfwizardError
from sfwizard.fileio import (
    append_private,
    decode_text,
    private_dir,
    read_capped,
    save_error,
    write_atomic,
    write_private,
)

SCHEMA_VERSION = 1
MAX_BYTES = 16 * 1024 * 1024  # session.json: the latest result of each check, confirmations, notes (~30 KB)
HISTORY_TAIL_BYTES = 32 * 1024 * 1024  # history.jsonl is read from its last 32 MB (about 1,500 runs)
HISTORY_LINE_BYTES = 4 * 1024 * 1024  # a longer line is no run sfwizard wrote
log = logging.getLogger(__name__)
_SAVING = threading.RLock()
_warned: set[str] = set()  # damaged sessions already named in this process

# What each field of session.json must be: a type, or (list, item type) / (dict, value type).
_TEXT = (str, type(None))
FIELD_TYPES: dict[str, Any] = {
    "id": str, "profile": str, "created_at": str, "updated_at": str, "step": str,
    "completed": (list, str), "results": (list, dict), "confirmations": (list, dict), "snapshot_path": _TEXT,
    "identity": dict, "reauthorized_at": _TEXT, "disconnected_at": _TEXT, "notes": (list, str),
    "skips": (list, dict), "facts": (dict, dict), "demo_scenario": _TEXT, "finished_at": _TEXT,
    "schema_version": int, "result_basis": (dict, dict), "sign_in_state": dict,
}


def _snapshot(value: Any) -> Any:
    """A copy of nested dicts and lists, each level copied in one step (``dict.copy`` and ``list.copy`` run in C,
    without letting another thread in), so nothing read here can change size while it is read."""
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.copy().items()}
    if isinstance(value, list):
        return [_snapshot(v) for v in value.copy()]
    return value


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sessions_dir() -> Path:
    return private_dir(paths.data_dir() / "sessions")


@dataclass
class RecoverySession:
    id: str
    profile: str
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    step: str = "before"
    completed: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)  # the latest result of each check
    confirmations: list[dict[str, Any]] = field(default_factory=list)  # {step, item, who, role, at}
    snapshot_path: str | None = None
    identity: dict[str, Any] = field(default_factory=dict)  # org and user, never a token
    reauthorized_at: str | None = None
    disconnected_at: str | None = None
    notes: list[str] = field(default_factory=list)
    skips: list[dict[str, Any]] = field(default_factory=list)  # {step, reason, who, at}: a step passed over
    facts: dict[str, Any] = field(default_factory=dict)  # what the wizard saw happen: signed_in, sync_completed…
    demo_scenario: str | None = None  # set for a --demo session (never offered to resume a real one)
    finished_at: str | None = None
    schema_version: int = SCHEMA_VERSION
    result_basis: dict[str, dict[str, str]] = field(default_factory=dict)  # check id → what it was judged on
    # Where this recovery's Salesforce sign-in is kept and for how long: {"store": "keychain" | "file" | "memory",
    # "kept": the person chose to keep it after the session, "revoked_at": ISO time it was revoked, or None}.
    sign_in_state: dict[str, Any] = field(default_factory=dict)
    _lock: Any = field(default=None, repr=False, compare=False)
    _extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def dir(self) -> Path:
        return sessions_dir() / self.id

    # -- life cycle ------------------------------------------------------------------------------
    @classmethod
    def new(cls, profile: str, demo_scenario: str | None = None) -> RecoverySession:
        s = cls(id=datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2), profile=profile,
                demo_scenario=demo_scenario)
        private_dir(s.dir)
        s.acquire()
        try:
            s.save()
        except BaseException:
            s.release()
            raise
        return s

    @classmethod
    def load(cls, session_id: str, lock: bool = True) -> RecoverySession:
        bad_id = not session_id or "/" in session_id or "\\" in session_id or session_id.startswith(".")
        path = sessions_dir() / session_id / "session.json"
        if bad_id or not path.parent.is_dir():
            raise SfwizardError(f"no recovery session {session_id!r} in {sessions_dir()}",
                                "check the session id, or start a new session", fix="session.new")
        # Lock before reading: a holder that saves and exits just before us must not leave us a stale copy.
        held = _acquire(path.parent, session_id) if lock else None
        try:
            data = _resume_data(path, session_id, repair=lock)
            known = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
            s = cls(**{k: v for k, v in data.items() if k in known})
            # keys this version does not know (a newer sfwizard's) are kept and written back on save
            s._extra = {k: v for k, v in data.items() if k not in known and not k.startswith("_")}
        except BaseException:
            if held is not None:
                held.release()
            raise
        s._lock = held
        return s

    @classmethod
    def latest(cls, profile: str, *, demo: bool | None = None, unfinished: bool = False,
               scenario: str | None = None) -> RecoverySession | None:
        """The newest session of ``profile`` (locked), or None. ``demo`` True/False keeps only demo or only
        real sessions (``scenario``: only demo sessions of that scenario); ``unfinished`` skips finished ones (what
        the wizard offers to resume).

        A session that cannot be read at all (neither ``session.json`` nor its ``.bak``) is never taken for
        "no session": it is named once, in a warning, and left untouched on disk."""
        found = None
        for info in cls.list_sessions():
            if info["profile"] != profile:
                continue
            if demo is not None and bool(info["demo_scenario"]) != demo:
                continue
            if scenario is not None and info["demo_scenario"] != scenario:
                continue
            if unfinished and info["finished_at"]:
                continue
            found = info
            break
        for sid, problem in cls.damaged_sessions():
            if found is not None and sid < found["id"]:
                continue  # older than the session resumed: it would not have been picked anyway
            if sid not in _warned:
                _warned.add(sid)
                log.warning("recovery session %s cannot be read (%s); it is left as it is in %s — repair "
                            "session.json there or delete the folder; %s", sid, problem, sessions_dir() / sid,
                            f"using session {found['id']}" if found else "a new session is started")
        return cls.load(found["id"]) if found is not None else None

    resume = latest

    @classmethod
    def for_run(cls, profile: str, demo_scenario: str | None = None) -> RecoverySession:
        """The session a command's run is recorded in (locked): the newest of its own kind, else a new one. A demo
        run (``demo_scenario`` set) only ever reads and writes demo sessions of that scenario, a real run only
        real ones: a demo's results or snapshot never end up in a real report, nor the other way round."""
        found = cls.latest(profile, demo=demo_scenario is not None, scenario=demo_scenario)
        return found if found is not None else cls.new(profile, demo_scenario=demo_scenario)

    @staticmethod
    def list_sessions() -> list[dict[str, Any]]:
        """Every readable session, newest first: id, profile, step, completed count, updated_at."""
        out = []
        for sid, d in _session_dirs():
            # a session.json with a wrong-typed field is still this session: load() repairs it
            data = _read_json(d / "session.json") or _read_json(d / "session.json.bak") \
                or _read_session(d / "session.json")[0]
            if data is not None:
                out.append({"id": sid, "profile": data["profile"], "step": _text(data.get("step")),
                            "completed": len(_list(data.get("completed"))),
                            "updated_at": _text(data.get("updated_at")) or None,
                            "demo_scenario": _text(data.get("demo_scenario")) or None,
                            "finished_at": _text(data.get("finished_at")) or None})
        return out

    @staticmethod
    def damaged_sessions() -> list[tuple[str, str]]:
        """(id, what is wrong) of every session folder holding a session that cannot be read, newest first."""
        out = []
        for sid, d in _session_dirs():
            files = [d / "session.json", d / "session.json.bak"]
            if not any(f.exists() for f in files):
                continue  # a stray folder: no session was ever saved here
            problems = []
            for f in files:
                data, problem = _read_session(f)
                if data is not None:
                    break
                problems.append(problem)
            else:
                out.append((sid, "; ".join(problems)))
        return out

    def acquire(self) -> None:
        if self._lock is None:
            self._lock = _acquire(self.dir, self.id)

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- saving ----------------------------------------------------------------------------------
    def save(self) -> None:
        """Replace session.json atomically, the previous good copy kept as .bak. When the write fails (a full
        disk, a folder gone read-only) the previous copy is put back and one SfwizardError says so. The wizard
        saves from its UI and from its workers: one save at a time."""
        with _SAVING:
            self._save()

    def _save(self) -> None:
        self.updated_at = _now()
        path = self.dir / "session.json"
        backup = path.with_name("session.json.bak")
        data = json.dumps(self.to_dict(), indent=2, default=str).encode()
        moved = False
        try:
            if _read_json(path) is not None:  # keep the last good copy; load() falls back to it
                os.replace(path, backup)
                moved = True
            write_atomic(path, data, mode=0o600)
            _private(backup)
        except (OSError, SfwizardError) as exc:
            if moved and not path.exists():
                try:
                    os.replace(backup, path)  # the last good copy stays where load() looks first
                except OSError:
                    pass
            if isinstance(exc, SfwizardError):
                raise
            raise save_error(path, exc, "the recovery session") from None

    def to_dict(self) -> dict[str, Any]:
        """What is saved: every field, with what people and servers wrote (identity, results, notes, confirmations,
        skips, facts) through the redaction layer — a token a server echoed into an error never reaches the disk."""
        from sfwizard.redact import _secret_key, default

        # A copy first, level by level: a worker records results while the UI saves (one save at a time, but not
        # one change at a time), and reading a dict another thread is growing fails.
        out = _snapshot({**self._extra,
                         **{f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}})
        # who and which org, never a credential, even if a caller hands one over with the identity
        out["identity"] = {k: v for k, v in out["identity"].items() if not (isinstance(k, str) and _secret_key(k))}
        for key in ("identity", "results", "notes", "confirmations", "skips", "facts"):
            out[key] = default().obj(out[key])
        return out

    def complete_step(self, step: str, next_step: str) -> None:
        if step not in self.completed:
            self.completed.append(step)
        self.step = next_step
        self.save()

    def confirm(self, step: str, item: str, who: str, role: str) -> None:
        self.confirmations.append({"step": step, "item": item, "who": who, "role": role, "at": _now()})
        self.save()

    def note_fact(self, name: str, value: Any = True) -> None:
        """Record something the wizard saw happen (signed in, snapshot saved, a sync completed)."""
        self.facts[name] = {"value": value, "at": _now()}
        self.save()

    def record_run(self, results: list[dict[str, Any]], calls: dict[str, int] | None = None) -> None:
        """Keep the latest result of each check and append the run to history.jsonl."""
        with _SAVING:
            latest = {r["id"]: r for r in self.results if isinstance(r, dict) and "id" in r}
            latest.update({r["id"]: r for r in results})
            self.results = list(latest.values())
            from sfwizard.redact import default

            run = default().obj({"at": _now(), "results": results, "api_calls": calls or {}})
            line = json.dumps(run, default=str) + "\n"
            # a torn line from a killed process is ended first: this run is never glued onto it
            append_private(self.dir / "history.jsonl", line.encode("utf-8"))
            self.save()

    def history(self) -> list[dict[str, Any]]:
        """Every run in history.jsonl (its last HISTORY_TAIL_BYTES), skipping what is not a run: a torn last
        line, a line too long, text that is not JSON."""
        path = self.dir / "history.jsonl"
        out: list[dict[str, Any]] = []
        try:
            fh = open(path, "rb")
        except OSError:
            return out
        with fh:
            size = os.fstat(fh.fileno()).st_size
            if size > HISTORY_TAIL_BYTES:
                fh.seek(size - HISTORY_TAIL_BYTES)
                fh.readline()  # the rest of a line cut by the seek
            while True:
                raw = fh.readline(HISTORY_LINE_BYTES + 1)
                if not raw:
                    break
                if len(raw) > HISTORY_LINE_BYTES:
                    while raw and not raw.endswith(b"\n"):  # skip the rest of the overlong line
                        raw = fh.readline(HISTORY_LINE_BYTES)
                    continue
                if not raw.lstrip().startswith(b"{"):
                    continue  # not a run (binary, a torn tail, text)
                try:
                    run = json.loads(raw.decode("utf-8", errors="replace"))
                except (ValueError, RecursionError):
                    continue  # a torn last line from a killed process
                if isinstance(run, dict) and isinstance(run.get("results"), list):
                    out.append(run)
        return out


def _private(path: Path) -> None:
    """A copy sfwizard keeps (the .bak, a damaged file set aside) made 0600 whatever mode it was found with."""
    try:
        if path.exists() and stat.S_IMODE(path.stat().st_mode) != 0o600:
            os.chmod(path, 0o600)
    except OSError:
        pass


def _session_dirs() -> list[tuple[str, Path]]:
    base = sessions_dir()
    return [(p.name, p) for p in sorted(base.iterdir(), key=lambda p: p.name, reverse=True)
            if p.is_dir() and not p.name.startswith(".")]


def _acquire(directory: Path, session_id: str) -> Any:
    """The session's lock, taken without waiting; a clear error naming the holder when it is taken."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(directory / ".lock"), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        owner = directory / ".owner"
        try:
            pid = read_capped(owner, 64, "lock owner").decode("ascii", errors="replace").strip()
        except SfwizardError:
            pid = "?"
        raise SfwizardError(f"another sfwizard is working on session {session_id} (pid {pid or '?'})",
                            "finish or close it first, or start a new session", fix="session.new") from None
    except OSError as exc:
        raise save_error(directory / ".lock", exc, "the session's lock") from None
    try:
        write_private(directory / ".owner", str(os.getpid()).encode())
    except SfwizardError:
        lock.release()
        raise
    return lock


def _check_types(data: dict[str, Any]) -> list[str]:
    """The fields of a session's data that are not what a session holds (named as ``field: expected …``)."""
    wrong = []
    for name, expected in FIELD_TYPES.items():
        if name not in data:
            continue
        value = data[name]
        if isinstance(expected, tuple) and len(expected) == 2 and expected[0] in (list, dict):
            outer, inner = expected
            items = value if outer is list else value.values() if isinstance(value, dict) else None
            if not isinstance(value, outer) or any(not isinstance(v, inner) for v in items or ()):
                wrong.append(f"{name}: expected a {'list' if outer is list else 'mapping'} of "
                             f"{_type_word(inner).removeprefix('a ')}s")
        elif isinstance(value, bool) or not isinstance(value, expected):
            wrong.append(f"{name}: expected {_type_word(expected)}")
    return wrong


def _type_word(t: Any) -> str:
    if t == _TEXT:
        return "a string or null"
    return {str: "a string", dict: "a mapping", int: "a number", list: "a list"}.get(t, getattr(t, "__name__", "?"))


def _read_session(path: Path) -> tuple[dict[str, Any] | None, str]:
    """(data, "") for a readable session file; (None, what is wrong) otherwise. Wrong-typed fields other than
    id and profile are reported in the data as ``_wrong`` (the caller decides to repair or fall back)."""
    name = str(path)
    if not path.exists():
        return None, f"{name} is missing"
    try:
        raw = read_capped(path, MAX_BYTES, "recovery session")
    except SfwizardError as exc:
        return None, exc.message
    try:
        data = json.loads(decode_text(raw, name, "recovery session"))
    except SfwizardError as exc:  # not UTF-8, a NUL byte
        return None, exc.message
    except json.JSONDecodeError as exc:
        return None, f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}"
    except (ValueError, RecursionError):
        return None, f"{name}: not JSON"
    if not isinstance(data, dict):
        return None, f"{name}: not a session (a JSON {type(data).__name__})"
    if not isinstance(data.get("id"), str) or not isinstance(data.get("profile"), str):
        return None, f"{name}: not a session (no id or profile)"
    wrong = _check_types(data)
    if wrong:
        data = {**data, "_wrong": wrong}
    return data, ""


def _read_json(path: Path) -> dict[str, Any] | None:
    """A session file's data when it is whole and well typed; None otherwise."""
    data, _ = _read_session(path)
    return None if data is None or "_wrong" in data else data


def _resume_data(path: Path, session_id: str, *, repair: bool) -> dict[str, Any]:
    """What load() resumes from: session.json when it is good, else .bak, else session.json with its wrong
    fields set back to their defaults. A damaged session.json is set aside (``repair``: the lock is held)."""
    data, problem = _read_session(path)
    if data is not None and "_wrong" not in data:
        return data
    backup_path = path.with_name("session.json.bak")
    backup = _read_json(backup_path)
    why = problem or f"{path}: " + "; ".join(data["_wrong"])  # type: ignore[index]
    if backup is None and data is None:
        _, backup_problem = _read_session(backup_path)
        raise SfwizardError(f"session {session_id} cannot be read ({why}; its backup: {backup_problem})",
                            "both files are left as they are: repair session.json by hand, or start a new "
                            "session (sfwizard --new); the history file next to it is kept", fix="session.new")
    if repair and path.exists():
        aside = path.with_name("session.json.damaged")
        try:
            os.replace(path, aside)
            _private(aside)  # kept as it was found, but private like every file sfwizard keeps
            why += f"; the damaged file is kept as {aside.name}"
        except OSError:
            pass
    if backup is not None:
        log.warning("%s is damaged or missing (%s); resuming from the previous save (session.json.bak)", path, why)
        return backup
    assert data is not None
    wrong = {w.split(":", 1)[0] for w in data.pop("_wrong")}
    log.warning("%s has fields of the wrong type (%s) and no good backup; they start again empty, the rest is "
                "kept", path, why)
    return {k: v for k, v in data.items() if k not in wrong}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
