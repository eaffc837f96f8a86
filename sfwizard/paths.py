"""Where sfwizard keeps its files (platformdirs), overridable for tests with SFWIZARD_HOME.

Its folders are private (0700) and what it writes in them is 0600 (``fileio``). A folder that cannot be made
or used (read-only, a file in its place) is one ``SfwizardError`` with the way forward.
"""

from __future__ import annotations

import os
from pathlib import Path

from sfwizard.fileio import private_dir


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
    return private_dir(_base("data"))


def config_dir() -> Path:
    return private_dir(_base("config"))


def config_file() -> Path:
    """Where ``config.yaml`` lives (the folder is not created just to say so)."""
    return _base("config") / "config.yaml"


def log_file() -> Path:
    """The log the support bundle carries (its folder is not created just to say so)."""
    return _base("data") / "sfwizard.log"


def tls_dir() -> Path:
    return private_dir(data_dir() / "sandbox-tls")
