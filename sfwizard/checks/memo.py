"""Facts computed once per run, whichever threads ask and when (the runner runs checks concurrently).

The first asker computes a fact; askers meanwhile wait on its Future and get its value or its error (an error is
an answer too: asking again does not call again). The read plan claims facts ahead (``claim``) and settles them
when their answers come in; a claim given up without an answer (``abandon``) leaves the fact to its next asker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


class _Abandoned(Exception):
    """The fetch gave up without an answer: whoever asks computes the fact itself."""


@dataclass
class _Pending:
    future: Future[Any]
    owner: int | None  # the computing thread (None: claimed by the read plan)


class Memo:
    """Mixed into ``CheckContext``, whose dataclass fields hold the state: ``_memo`` (key → value; tests may seed
    it), ``_slots`` (key → a fact in flight, or its error) and ``_lock``."""

    _memo: dict[str, Any]
    _slots: dict[str, _Pending]
    _lock: threading.Lock

    def memo(self, key: str, fn: Callable[[], T]) -> T:
        """The fact ``key``, computed by ``fn`` once per context."""
        me = threading.get_ident()
        while True:
            with self._lock:
                if key in self._memo:
                    return self._memo[key]  # type: ignore[no-any-return]
                pending = self._slots.get(key)
                mine = pending is None
                if pending is None:
                    pending = self._slots[key] = _Pending(Future(), me)
            if mine:
                return self._compute(key, fn)
            if pending.owner == me and not pending.future.done():
                raise RuntimeError(f"the fact {key!r} asked for itself")
            try:
                return pending.future.result()  # type: ignore[no-any-return]
            except _Abandoned:
                continue

    def known(self, key: str) -> bool:
        """Whether the fact ``key`` has a value already (nothing is computed or awaited)."""
        with self._lock:
            return key in self._memo

    def claim(self, keys: list[str]) -> list[str]:
        """The keys neither known nor in flight, now claimed by the caller (who must settle each of them)."""
        out = []
        with self._lock:
            for key in keys:
                if key not in self._memo and key not in self._slots:
                    self._slots[key] = _Pending(Future(), None)
                    out.append(key)
        return out

    def _compute(self, key: str, fn: Callable[[], T]) -> T:
        try:
            value = fn()
        except BaseException as exc:
            self.settle(key, error=exc)
            raise
        self.settle(key, value=value)
        return value

    def settle(self, key: str, *, value: Any = None, error: BaseException | None = None,
               abandon: bool = False) -> None:
        """The answer to a fact in flight: its value, its error (kept: later askers get the same), or none."""
        with self._lock:
            pending = self._slots.get(key)
            if pending is None or pending.future.done():
                return
            if abandon:
                del self._slots[key]
                pending.future.set_exception(_Abandoned())
            elif error is not None:
                pending.future.set_exception(error)
            else:
                self._memo[key] = value
                del self._slots[key]
                pending.future.set_result(value)
