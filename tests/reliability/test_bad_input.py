"""Every file sfwizard reads, fed the bad-input corpus through every entry point that reads it.

Handled means: a hostile file is one ``SfwizardError`` (one line, naming the file, ``file:line:column`` where
there is a position, a way forward) or, for what sfwizard keeps itself (the recovery session, its history),
a fall-back that loses nothing already saved; an odd but valid file (a byte-order mark, CRLF line ends) loads
exactly as the plain one; nothing takes long, nothing grows memory without bound.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import corpus
import pytest
from _support import one_line_error, plant

from sfwizard.errors import SfwizardError

GENERIC = corpus.generic()
MEMBERS = [*GENERIC, "wrong-types", "unknown-keys", *corpus.VALID]
SLOW = 30.0  # seconds: today a 50 MB file ran for minutes; anything handled here takes well under a second


@pytest.fixture(scope="module")
def generic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, content in GENERIC.items():
        corpus.write(folder, name, content)
    return folder


def _good(kind: str) -> bytes:
    if kind == "snapshot":
        from sfwizard import snapshot

        return snapshot.dump(snapshot.build({
            "profile": "gainsight-px", "taken_at": "2026-11-20T10:00:00+00:00",
            "org": {"id": "00D000000000001", "name": "Northwind 北風", "instance": "USA612"},
            "integration_user": {"username": "px.integration@northwind.example"},
            "mappings": [{"salesforce": "Account.Industry", "platform": "account.industry", "direction": "sf_to_px"},
                         {"salesforce": "Account.PX_Score__c", "platform": "account.score", "direction": "px_to_sf"}],
        })).encode()
    if kind == "scenario":
        return b"schema: 1\nname: hostile-test\ndescription: a good scenario\nextends: healthy\n"
    if kind == "session":
        from sfwizard.recovery.session import RecoverySession

        s = RecoverySession(id="20260101-000000-abcd", profile="gainsight-px", step="impact",
                            completed=["before"], facts={"signed_in": {"value": True, "at": "2026-01-01T00:00:00"}})
        return json.dumps(s.to_dict(), indent=2).encode()
    if kind == "config":
        return b"client_id: abc123\nport: 1717\n"
    from sfwizard.integrations.signin import TokenSet

    tokens = TokenSet(access_token="00D000000000001!" + "a" * 40, instance_url="https://x.my.salesforce.com",
                      login_url="https://login.salesforce.com", client_id="cid", refresh_token="5Aep" + "b" * 40)
    return tokens.to_json().encode()


def _content(kind: str, name: str, generic_dir: Path) -> Path | bytes:
    if name in GENERIC:
        return generic_dir / name
    return corpus.variants(kind, _good(kind))[name]


def _place(target: Path, content: Path | bytes, *, copy: bool = False) -> Path:
    """Put a corpus member where sfwizard reads it: a symbolic link to the shared file (no 50 MB copies; what
    sfwizard writes replaces the link, never the file), or a copy where sfwizard appends to it."""
    if isinstance(content, Path):
        if copy:
            return plant(target, content.read_bytes())
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        target.unlink(missing_ok=True)
        target.symlink_to(content)
        return target
    return plant(target, content)


def _named(exc: SfwizardError, path: Path) -> None:
    text = str(exc)
    assert "\n" not in text, text
    assert str(path) in exc.message or path.name in exc.message, exc.message
    assert exc.hint, exc.message
    assert len(text) < 1200, f"{len(text)} characters"


@pytest.fixture
def timed():
    t0 = time.monotonic()
    yield
    assert time.monotonic() - t0 < SLOW


# -- snapshots ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MEMBERS)
def test_snapshot_load(name: str, generic_dir: Path, tmp_path: Path, bad_input, timed) -> None:
    from sfwizard import snapshot

    with bad_input("snapshot load", name):
        path = _place(tmp_path / f"{name}.yaml", _content("snapshot", name, generic_dir))
        if name in corpus.VALID:
            good = plant(tmp_path / "good.yaml", _good("snapshot"))
            assert snapshot.load(path) == snapshot.load(good)
            return
        with pytest.raises(SfwizardError) as err:
            snapshot.load(path)
        _named(err.value, path)


@pytest.mark.parametrize("name", MEMBERS)
def test_sfwizard_diff(name: str, generic_dir: Path, tmp_path: Path, bad_input, sfwizard_cli, timed) -> None:
    with bad_input("sfwizard diff", name):
        good = plant(tmp_path / "good.yaml", _good("snapshot"))
        path = _place(tmp_path / f"{name}.yaml", _content("snapshot", name, generic_dir))
        ran = sfwizard_cli("diff", str(good), str(path))
        if name in corpus.VALID:
            assert (ran.code, ran.out.strip(), ran.err) == (0, "No differences.", "")
            return
        one_line_error(ran, str(path))


@pytest.mark.parametrize("name", [n for n in MEMBERS if n not in corpus.VALID])
def test_check_snapshot_refuses_before_any_network(name: str, generic_dir: Path, tmp_path: Path, bad_input,
                                                    sfwizard_cli, monkeypatch, timed) -> None:
    """``check --demo --snapshot BROKEN``: the file stops the run at once (the lead's opener reads it first),
    never silently ignored; no sandbox is started for it."""
    import sfwizard.demo as demo

    started: list[str] = []
    monkeypatch.setattr(demo, "open_demo", lambda *a, **k: started.append("demo") or (_ for _ in ()).throw(
        AssertionError("the demo started before the snapshot was read")))
    with bad_input("check --snapshot", name):
        path = _place(tmp_path / f"{name}.yaml", _content("snapshot", name, generic_dir))
        one_line_error(sfwizard_cli("check", "--demo", "--snapshot", str(path)), str(path))
        one_line_error(sfwizard_cli("check", "--snapshot", str(path)), str(path))  # the saved sign-in's path
        assert started == []


@pytest.mark.parametrize("name", corpus.VALID)
def test_check_snapshot_reads_a_valid_odd_file(name: str, generic_dir: Path, tmp_path: Path, bad_input,
                                               sfwizard_cli) -> None:
    with bad_input("check --snapshot", name):
        path = _place(tmp_path / f"{name}.yaml", _content("snapshot", name, generic_dir))
        ran = sfwizard_cli("check", "--demo", "--scenario", "healthy", "--only", "mapping.salesforce_fields",
                           "--snapshot", str(path))
        assert ran.code in (0, 1), ran.err
        assert "mapping.salesforce_fields" in ran.out


# -- scenarios --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MEMBERS)
def test_scenario_load(name: str, generic_dir: Path, tmp_path: Path, bad_input, timed) -> None:
    from sfwizard.sandbox.scenarios.loader import load_scenario

    with bad_input("scenario load", name):
        path = _place(tmp_path / f"{name}.yaml", _content("scenario", name, generic_dir))
        if name in corpus.VALID:
            state = load_scenario(str(path))
            assert (state.scenario_name, state.scenario_description) == ("hostile-test", "a good scenario")
            return
        with pytest.raises(SfwizardError) as err:
            load_scenario(str(path))
        _named(err.value, path)


@pytest.mark.parametrize("name", [n for n in MEMBERS if n not in corpus.VALID])
def test_sandbox_scenario(name: str, generic_dir: Path, tmp_path: Path, bad_input, sfwizard_cli, timed) -> None:
    with bad_input("sandbox --scenario", name):
        path = _place(tmp_path / f"{name}.yaml", _content("scenario", name, generic_dir))
        one_line_error(sfwizard_cli("sandbox", "--scenario", str(path)), str(path))


# -- the recovery session and its history ---------------------------------------------------------------------

def _session_dir(sid: str = "20260101-000000-abcd") -> Path:
    from sfwizard.recovery.session import sessions_dir

    d = sessions_dir() / sid
    d.mkdir(mode=0o700, exist_ok=True)
    return d


@pytest.mark.parametrize("name", MEMBERS)
def test_session_load_falls_back_and_keeps_the_damaged_file(name: str, generic_dir: Path, bad_input, caplog,
                                                            timed) -> None:
    from sfwizard.recovery.session import RecoverySession

    with bad_input("session load", name):
        d = _session_dir()
        backup = json.loads(_good("session"))
        backup.update(step="before", completed=[])  # the previous save: one step behind
        plant(d / "session.json.bak", json.dumps(backup))
        content = _content("session", name, generic_dir)
        _place(d / "session.json", content)
        with caplog.at_level(logging.WARNING):
            s = RecoverySession.load("20260101-000000-abcd")
        s.release()
        if name in (*corpus.VALID, "unknown-keys"):
            assert (s.step, s.completed) == ("impact", ["before"])  # read as written
            assert "damaged" not in caplog.text
            if name == "unknown-keys":  # a newer sfwizard's key is kept, not dropped by the next save
                s.acquire()
                s.save()
                s.release()
                assert json.loads((d / "session.json").read_text())["from_the_future"] == {"x": 1}
            return
        assert (s.step, s.completed) == ("before", [])  # resumed from the backup
        assert "resuming from the previous save" in caplog.text
        kept = d / "session.json.damaged"
        assert kept.exists()  # nothing already saved is lost: the damaged file is set aside, not overwritten
        if isinstance(content, bytes):
            assert kept.read_bytes() == content


@pytest.mark.parametrize("name", [n for n in GENERIC if n != "50mb"] + ["50mb"])
def test_history_lines_that_are_not_runs_are_skipped(name: str, generic_dir: Path, bad_input, timed) -> None:
    from sfwizard.recovery.session import RecoverySession

    with bad_input("session history", name):
        s = RecoverySession.new("gainsight-px")
        try:
            _place(s.dir / "history.jsonl", _content("session", name, generic_dir), copy=True)
            assert s.history() == []
            s.record_run([{"id": "a", "status": "pass"}])  # appended after it, never glued onto its tail
            assert [r["results"][0]["id"] for r in s.history()] == ["a"]
        finally:
            s.release()


# -- settings and the saved sign-in -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", MEMBERS)
def test_config_yaml(name: str, generic_dir: Path, bad_input, monkeypatch, timed) -> None:
    from sfwizard import paths
    from sfwizard.integrations import settings

    monkeypatch.delenv("SFWIZARD_PORT", raising=False)
    with bad_input("settings config.yaml", name):
        path = _place(paths.config_file(), _content("config", name, generic_dir))
        if name in (*corpus.VALID, "empty"):
            conf = settings.resolve()
            assert (conf.client_id, conf.port) == ((None, 1717) if name == "empty" else ("abc123", 1717))
            return
        with pytest.raises(SfwizardError) as err:
            settings.resolve()
        _named(err.value, path)


@pytest.mark.parametrize("name", MEMBERS)
def test_signin_json(name: str, generic_dir: Path, bad_input, timed) -> None:
    from sfwizard import paths
    from sfwizard.integrations import credentials
    from sfwizard.integrations.signin import SignInRequired, TokenSet

    with bad_input("signin.json", name):
        path = _place(paths.data_dir() / "signin.json", _content("signin", name, generic_dir))
        if name in corpus.VALID:
            assert credentials.load() == TokenSet.from_json(_good("signin").decode())
            return
        if name == "empty":
            assert credentials.load() is None  # nothing saved: "not signed in"
            return
        with pytest.raises(SignInRequired) as err:
            credentials.load()
        assert "\n" not in str(err.value) and "sfwizard login" in str(err.value)
        assert path.exists()  # kept as it was: signing in again replaces it


# -- in a child process, under a memory limit ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["50mb", "alias-bomb", "deep-nesting", "long-line"])
def test_hostile_files_cost_little_memory_and_time(name: str, generic_dir: Path, bad_input, sfwizard_process) -> None:
    """Today a 50 MB file ran for minutes into GBs and an alias bomb ended in MemoryError: under a 1 GB
    address-space limit (the interpreter and its libraries take ~400 MB of it) each is one line, quickly."""
    with bad_input("sfwizard diff (child, 1 GB)", name):
        path = generic_dir / name
        t0 = time.monotonic()
        one_line_error(sfwizard_process("diff", str(path), str(path), limit_mb=1024, timeout=60), str(path))
        one_line_error(sfwizard_process("sandbox", "--scenario", str(path), limit_mb=1024, timeout=60), str(path))
        assert time.monotonic() - t0 < 2 * SLOW
