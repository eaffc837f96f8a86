"""Salesforce reads, memoized and batched: independent reads travel together in composite/batch requests (up to 25
each), so a fact that needs three queries costs one round trip; what the plan fetched is not asked again.

A used-up API limit, a lost sign-in or an org that does not answer stops every later Salesforce read of the run
(``stopped``): nothing is asked again once it is known that nothing can answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from sfwizard.checks.memo import Memo
from sfwizard.integrations.salesforce import BATCH_MAX, Read

if TYPE_CHECKING:
    from sfwizard.integrations.salesforce import SalesforceAPI

T = TypeVar("T")

_IO = threading.local()  # set in the runner's I/O threads: a fact asked there runs its reads in line


def io_pool(workers: int) -> ThreadPoolExecutor:
    """The pool a run's concurrent reads go through (``CheckContext.io``)."""
    def mark() -> None:
        _IO.worker = True

    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sfwizard-io", initializer=mark)


def stops_salesforce(exc: BaseException) -> bool:
    """A used-up API limit, a lost sign-in or an org that does not answer: no later Salesforce call can work."""
    from sfwizard.integrations.salesforce import ApiLimitExceeded, PasswordExpired, SalesforceUnreachable
    from sfwizard.integrations.signin import SignInRequired

    return isinstance(exc, (ApiLimitExceeded, PasswordExpired, SignInRequired, SalesforceUnreachable))


def key_of(read: Read) -> str:
    return f"sf:{read.kind}:{read.arg}"


class SalesforceReads(Memo):
    """Mixed into ``CheckContext`` (its fields: ``sf``, ``io``, ``_stop``)."""

    sf: SalesforceAPI | None
    io: Executor | None
    _stop: BaseException | None

    def read(self, read: Read) -> Any:
        """One Salesforce read, memoized by its text (what ``prefetch`` fetched is not asked again)."""
        return self.memo(key_of(read), lambda: self._read_one(read))

    def query(self, soql: str) -> list[dict[str, Any]]:
        return self.read(Read("query", soql))  # type: ignore[no-any-return]

    def count(self, soql: str) -> int:
        return self.read(Read("count", soql))  # type: ignore[no-any-return]

    def search(self, sosl: str) -> list[dict[str, Any]]:
        return self.read(Read("search", sosl))  # type: ignore[no-any-return]

    def tooling(self, soql: str) -> list[dict[str, Any]]:
        """A Tooling API query (no composite/batch carries one: each is its own request)."""
        def fetch() -> list[dict[str, Any]]:
            self._halt_if_stopped()
            return self._noting_stops(lambda: self.salesforce.tooling_query(soql))
        return self.memo("tooling:" + soql, fetch)

    def rest_get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """A REST resource no composite/batch carries (``support/dataCategoryGroups``): its own request."""
        def fetch() -> Any:
            self._halt_if_stopped()
            return self._noting_stops(lambda: self.salesforce.get(path, params))
        return self.memo("get:" + path + "?" + "&".join(f"{k}={v}" for k, v in sorted((params or {}).items())), fetch)

    def prefetch(self, items: Iterable[Read | Callable[[], Any]]) -> None:
        """Fetch these reads at once: Salesforce reads not known yet in composite/batch requests (25 a request),
        each other item (a fact's bound method: a platform or status-page call, a Tooling query) alongside,
        all concurrently when the runner gave an I/O pool. Answers and errors land in the memo; nothing is
        raised here (whoever reads a fact gets its error)."""
        reads: list[Read] = []
        calls: list[Callable[[], Any]] = []
        for item in items:
            (reads if isinstance(item, Read) else calls).append(item)  # type: ignore[arg-type]
        unique = list(dict.fromkeys(reads))
        claimed = set(self.claim([key_of(r) for r in unique]))
        todo = [r for r in unique if key_of(r) in claimed]
        jobs: list[Callable[[], None]] = [lambda c=c: self._fetch(c) for c in _split(todo)]
        jobs += [lambda c=c: _quietly(c) for c in calls]
        self._run_all(jobs)

    def _run_all(self, jobs: list[Callable[[], None]]) -> None:
        if len(jobs) > 1 and self.io is not None and not getattr(_IO, "worker", False):
            futures = [self.io.submit(job) for job in jobs[1:]]
            jobs[0]()
            for f in futures:
                f.result()
        else:
            for job in jobs:
                job()

    def _fetch(self, reads: list[Read]) -> None:
        """One composite/batch request (or a plain call for a lone read) and its answers into the memo."""
        settled = False
        try:
            try:
                self._halt_if_stopped()
                if len(reads) == 1 and reads[0].kind != "describe":
                    try:
                        answers = [self._direct(reads[0])]
                    except Exception as exc:  # noqa: BLE001 - the read's answer is its error
                        if stops_salesforce(exc):
                            raise
                        answers = [exc]
                else:
                    answers = self.salesforce.batch(reads)
            except BaseException as exc:
                if stops_salesforce(exc):
                    self.note_stop(exc)
                for read in reads:
                    self.settle(key_of(read), error=exc)
                settled = True
                return
            for read, answer in zip(reads, answers, strict=True):
                if isinstance(answer, BaseException) and stops_salesforce(answer):
                    self.note_stop(answer)
                    self.settle(key_of(read), error=answer)
                elif isinstance(answer, BaseException) and read.kind == "describe":
                    self.settle(key_of(read), value=None)  # an object not there (or hidden): None, as describe()
                elif isinstance(answer, BaseException):
                    self.settle(key_of(read), error=answer)
                else:
                    self.settle(key_of(read), value=answer)
            settled = True
        finally:
            if not settled:  # a bug on the way: whoever asks computes it
                for read in reads:
                    self.settle(key_of(read), abandon=True)

    def _read_one(self, read: Read) -> Any:
        self._halt_if_stopped()
        return self._noting_stops(lambda: self._direct(read))

    def _direct(self, read: Read) -> Any:
        sf = self.salesforce
        if read.kind == "query":
            return sf.query(read.arg)
        if read.kind == "count":
            return sf.count(read.arg)
        if read.kind == "search":
            return sf.search(read.arg)
        if read.kind == "describe":
            return sf.describe([read.arg])[read.arg]
        if read.kind == "limits":
            return sf.limits()
        raise ValueError(f"unknown read {read.kind}")

    def _noting_stops(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except BaseException as exc:
            if stops_salesforce(exc):
                self.note_stop(exc)
            raise

    def note_stop(self, exc: BaseException) -> None:
        """Salesforce can no longer answer this run (a used-up limit, a lost sign-in, an org gone quiet)."""
        with self._lock:
            if self._stop is None:
                self._stop = exc

    @property
    def stopped(self) -> BaseException | None:
        """What stopped the Salesforce reads of this run, if anything did."""
        return self._stop

    def _halt_if_stopped(self) -> None:
        if self._stop is not None:
            raise self._stop

    @property
    def salesforce(self) -> SalesforceAPI:
        assert self.sf is not None, "a check that calls Salesforce must declare needs=(\"salesforce\",)"
        return self.sf


def _split(reads: list[Read]) -> list[list[Read]]:
    """Reads in requests of at most BATCH_MAX, as evenly as that allows."""
    if not reads:
        return []
    n = -(-len(reads) // BATCH_MAX)
    size = -(-len(reads) // n)
    return [reads[i:i + size] for i in range(0, len(reads), size)]


def _quietly(fn: Callable[[], Any]) -> None:
    """Run a fact for its memo: its error is kept there for whoever asks."""
    try:
        fn()
    except Exception:  # noqa: BLE001 - the memo holds it
        pass
