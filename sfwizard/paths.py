"""Where sfwizard keeps its files (platformdirs), overridable for tests with SFWIZARD_HOME."""

from __future__ import annotations

import os
from pathlib import Path


def _base(kind: str) -> Path:
    home = os.environ.get("SFWIZARD_HOME")
    if home:
        return Path(home) / kind
    import platformdirs

    if kind == "data":
        return Path(platformdirs.user_data_dir("sfwizard", appauthor=False))
    if kind == "config":
        return Path(platformdirs.user_config_dir("sfwizard", appauthor=False))
    return Path(platformdirs.user_state_dir("sfwizard", appauthor=False))


def data_dir() -> Path:
    path = _base("data")
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    path = _base("config")
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_file() -> Path:
    """Where ``config.yaml`` lives (the folder is not created just to say so)."""
    return _base("config") / "config.yaml"


def tls_dir() -> Path:
    path = data_dir() / "sandbox-tls"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
