"""The recovery session: saved atomically after every step, resumable, one wizard at a time.

A kill -9 at any moment loses at most the step under way: ``session.json`` is replaced by rename
(the previous good copy kept as ``session.json.bak``), and the JSONL history is appended with fsync
and read back skipping a torn last line.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sfwizard import paths
from sfwizard.errors import SfwizardError
from sfwizard.fileio import write_atomic

SCHEMA_VERSION = 1
log = logging.getLogger(__name__)
_SAVING = threading.RLock()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sessions_dir() -> Path:
    d = paths.data_dir() / "sessions"
    d.mkdir(parents=True, exist_ok=True)
    return d


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
    _lock: Any = field(default=None, repr=False, compare=False)

    @property
    def dir(self) -> Path:
        return sessions_dir() / self.id

    # -- life cycle ------------------------------------------------------------------------------
    @classmethod
    def new(cls, profile: str, demo_scenario: str | None = None) -> RecoverySession:
        s = cls(id=datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2), profile=profile,
                demo_scenario=demo_scenario)
        s.dir.mkdir(parents=True, exist_ok=True)
        s.acquire()
        s.save()
        return s

    @classmethod
    def load(cls, session_id: str, lock: bool = True) -> RecoverySession:
        bad_id = not session_id or "/" in session_id or "\\" in session_id or session_id.startswith(".")
        path = sessions_dir() / session_id / "session.json"
        if bad_id or not path.parent.is_dir():
            raise SfwizardError(f"no recovery session {session_id!r} in {sessions_dir()}",
                                "check the session id, or start a new session")
        # Lock before reading: a holder that saves and exits just before us must not leave us a stale copy.
        held = _acquire(path.parent, session_id) if lock else None
        try:
            data = _read_json(path)
            if data is None:
                backup = _read_json(path.with_name("session.json.bak"))
                if backup is None:
                    raise SfwizardError(f"session {session_id} cannot be read ({path})",
                                        "start a new session; the history file next to it is kept")
                log.warning("%s is damaged or missing; resuming from the previous save (session.json.bak)", path)
                data = backup
            known = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
            s = cls(**{k: v for k, v in data.items() if k in known})
        except BaseException:
            if held is not None:
                held.release()
            raise
        s._lock = held
        return s

    @classmethod
    def latest(cls, profile: str, *, demo: bool | None = None, unfinished: bool = False) -> RecoverySession | None:
        """The newest session of ``profile`` (locked), or None. ``demo`` True/False keeps only demo or only
        real sessions; ``unfinished`` skips finished ones (what the wizard offers to resume)."""
        for info in cls.list_sessions():
            if info["profile"] != profile:
                continue
            if demo is not None and bool(info["demo_scenario"]) != demo:
                continue
            if unfinished and info["finished_at"]:
                continue
            return cls.load(info["id"])
        return None

    resume = latest

    @staticmethod
    def list_sessions() -> list[dict[str, Any]]:
        """Every readable session, newest first: id, profile, step, completed count, updated_at."""
        out = []
        for sid in sorted((p.name for p in sessions_dir().iterdir() if p.is_dir()), reverse=True):
            d = sessions_dir() / sid
            data = _read_json(d / "session.json") or _read_json(d / "session.json.bak")
            if data is not None:
                out.append({"id": sid, "profile": data["profile"], "step": data.get("step", ""),
                            "completed": len(data.get("completed") or []), "updated_at": data.get("updated_at"),
                            "demo_scenario": data.get("demo_scenario"), "finished_at": data.get("finished_at")})
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
        with _SAVING:  # the wizard saves from its UI and from its workers: one save at a time
            self._save()

    def _save(self) -> None:
        self.updated_at = _now()
        path = self.dir / "session.json"
        if _read_json(path) is not None:  # keep the last good copy; load() falls back to it
            os.replace(path, path.with_name("session.json.bak"))
        data = self.to_dict()
        write_atomic(path, json.dumps(data, indent=2, default=str).encode(), mode=0o600)

    def to_dict(self) -> dict[str, Any]:
        from sfwizard.redact import _secret_key

        out = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        # who and which org, never a credential, even if a caller hands one over with the identity
        out["identity"] = {k: v for k, v in self.identity.items() if not (isinstance(k, str) and _secret_key(k))}
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
            latest = {r["id"]: r for r in self.results}
            latest.update({r["id"]: r for r in results})
            self.results = list(latest.values())
            line = json.dumps({"at": _now(), "results": results, "api_calls": calls or {}}, default=str) + "\n"
            with open(self.dir / "history.jsonl", "ab+") as fh:
                if fh.seek(0, os.SEEK_END) > 0:
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n":  # a torn line from a killed process: never glue this run onto it
                        line = "\n" + line
                fh.write(line.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
            self.save()

    def history(self) -> list[dict[str, Any]]:
        path = self.dir / "history.jsonl"
        out = []
        if path.exists():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    run = json.loads(line)
                except ValueError:
                    continue  # a torn last line from a killed process
                if isinstance(run, dict) and isinstance(run.get("results"), list):
                    out.append(run)
        return out


def _acquire(directory: Path, session_id: str) -> Any:
    """The session's lock, taken without waiting; a clear error naming the holder when it is taken."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(directory / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        owner = directory / ".owner"
        pid = owner.read_text().strip() if owner.exists() else "?"
        raise SfwizardError(f"another sfwizard is working on session {session_id} (pid {pid or '?'})",
                            "finish or close it first, or start a new session") from None
    (directory / ".owner").write_text(str(os.getpid()))
    return lock


def _read_json(path: Path) -> dict[str, Any] | None:
    """A session file's data, or None when it is missing, not JSON or not a session (a JSON list, ``{}``…)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not isinstance(data.get("profile"), str):
        return None
    return data
