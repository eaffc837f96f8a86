"""The reliability suite's shared parts: the ledger of faults and bad inputs, the secrets the sandbox issued,
the leak and mode scan, and the figures printed at the end of a run.

- ``fault(name)``: a context manager around one injected fault; it counts as survived when the block's
  assertions hold.
- ``bad_input(entry, name)``: the same for one hostile file through one entry point.
- ``plant(path, data)``: put a hostile file where sfwizard will read it (0600, so the mode scan sees only
  what sfwizard wrote wrong).
- ``sfwizard_cli(*args)``: ``sfwizard`` in this process (quick); ``sfwizard_process(*args)``: in a child
  process, as a person runs it, recording the secrets its sandbox issues.
- The scan: every file under every test's SFWIZARD_HOME and every report folder a test names is searched
  for every secret the sandbox issued (``_recorder``), and under the reliability tests' homes and report
  folders every file must be 0600 and every folder 0700. ``test_leak_scan.py`` asserts it after
  representative runs; the session's end scans everything again and fails the run on a match.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import _recorder  # noqa: E402 - from this folder
from _support import LEDGER, Ran, leak_scan, mode_scan  # noqa: E402


def pytest_collection_finish(session: pytest.Session) -> None:
    """Record the sandbox's secrets from before the first test runs (every folder's tests, not only ours)."""
    _recorder.install()


# -- per test -----------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _scanned(tmp_path: Path, sfwizard_home: Path) -> Iterator[None]:
    LEDGER.roots.add(tmp_path)
    LEDGER.private.add(sfwizard_home)
    yield


@pytest.fixture
def fault() -> Callable[[str], contextlib.AbstractContextManager[None]]:
    @contextlib.contextmanager
    def injected(name: str) -> Iterator[None]:
        counts = LEDGER.faults.setdefault(name, [0, 0])
        counts[0] += 1
        yield
        counts[1] += 1

    return injected


@pytest.fixture
def bad_input() -> Callable[[str, str], contextlib.AbstractContextManager[None]]:
    @contextlib.contextmanager
    def tried(entry: str, name: str) -> Iterator[None]:
        LEDGER.bad_inputs[(entry, name)] = False
        yield
        LEDGER.bad_inputs[(entry, name)] = True

    return tried


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A folder for ``report -o`` (not created: sfwizard makes it); mode-scanned with the homes."""
    out = tmp_path / "reports"
    LEDGER.private.add(out)
    return out


@pytest.fixture
def sfwizard_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """``sfwizard_cli(*args)``: the command in this process; exit code, stdout, stderr. The log handlers it
    adds (a file in the test's home) are removed again."""
    from sfwizard.cli import main

    def run(*args: str) -> Ran:
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own exits
            code = exc.code if isinstance(exc.code, int) else 2
        finally:
            for h in root.handlers[:]:
                if h not in handlers:
                    root.removeHandler(h)
                    h.close()
            root.setLevel(level)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return run


@pytest.fixture
def sfwizard_process(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Ran]:
    """``sfwizard_process(*args, env=…, timeout=…, limit_mb=…)``: a child process, as a person runs it, in this
    test's SFWIZARD_HOME; the secrets its sandbox issues are recorded for the scan (in a folder not scanned)."""
    issued = tmp_path_factory.mktemp("issued") / "issued.txt"
    LEDGER.issued_files.add(str(issued))

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
            limit_mb: int | None = None) -> Ran:
        def limit() -> None:
            if limit_mb:
                import resource

                resource.setrlimit(resource.RLIMIT_AS, (limit_mb * 1024 * 1024, limit_mb * 1024 * 1024))

        code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import _recorder; _recorder.main()"
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "SFW_ISSUED_FILE": str(issued), **(env or {})},
                              timeout=timeout, preexec_fn=limit if limit_mb else None)
        return Ran(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clients' retry waits, shortened to 10 ms (what is tested is that they happen, and how long they
    would have been: the list holds each wait asked for, a Retry-After included)."""
    from sfwizard.integrations.transport import RetryPolicy

    asked: list[float] = []
    real = RetryPolicy.delay

    def delay(self: Any, attempt: int, retry_after: str | None = None) -> float:
        asked.append(real(self, attempt, retry_after))
        return 0.01

    monkeypatch.setattr(RetryPolicy, "delay", delay)
    from urllib3.util.retry import Retry  # simple-salesforce's retries (urllib3's own backoff)

    real_backoff = Retry.get_backoff_time

    def backoff(self: Any) -> float:
        asked.append(real_backoff(self))
        return 0.0

    monkeypatch.setattr(Retry, "get_backoff_time", backoff)
    return asked


# -- the scan -------------------------------------------------------------------------------------------------

def all_homes(config: pytest.Config) -> set[Path]:
    """Every test's SFWIZARD_HOME, as the root conftest registered them (all folders' tests, not only ours)."""
    for plugin in config.pluginmanager.get_plugins():
        homes = getattr(plugin, "SFWIZARD_HOMES", None)
        if isinstance(homes, list):
            return set(homes)
    return set()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Scan everything once more at the very end; a leak or a wrong mode fails the run."""
    if not LEDGER.roots:
        return
    secrets = LEDGER.secrets()
    matches, scanned = leak_scan(LEDGER.roots | all_homes(session.config), secrets)
    wrong, files, dirs = mode_scan(LEDGER.private)
    LEDGER.final = {"secrets": len(secrets), "matches": matches, "scanned": scanned, "wrong": wrong,
                    "files": files, "dirs": dirs}
    if (matches or wrong) and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not LEDGER.roots:
        return
    tr = terminalreporter
    injected = sum(c[0] for c in LEDGER.faults.values())
    survived = sum(c[1] for c in LEDGER.faults.values())
    handled = sum(LEDGER.bad_inputs.values())
    entries = len({e for e, _ in LEDGER.bad_inputs})
    files = len({f for _, f in LEDGER.bad_inputs})
    final = LEDGER.final
    tr.section("sfwizard reliability figures")
    tr.write_line(f"faults injected: {injected} ({len(LEDGER.faults)} kinds), survived: {survived}")
    tr.write_line(f"bad inputs tried: {len(LEDGER.bad_inputs)} ({files} distinct inputs through {entries} entry "
                  f"points), handled: {handled}")
    for name, n in sorted(LEDGER.properties.items()):
        tr.write_line(f"property examples: {name}: {n}")
    if final:
        tr.write_line(f"leak scan: {final['scanned']} files searched for {final['secrets']} issued secrets, "
                      f"matches: {len(final['matches'])}")
        tr.write_line(f"modes: {final['files']} files (0600) and {final['dirs']} folders (0700) checked, "
                      f"wrong: {len(final['wrong'])}")
        for line in (final["matches"] + final["wrong"])[:20]:
            tr.write_line(f"  {line}", red=True)
    not_survived = sorted(name for name, (i, s) in LEDGER.faults.items() if s < i)
    if not_survived:
        tr.write_line("faults not survived: " + ", ".join(not_survived), red=True)
