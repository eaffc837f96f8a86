"""The vendor egress ranges an admin declared for a platform, kept as that profile's setting between recoveries.

One small YAML file in the user data folder (0600), keyed by profile: ``{gainsight-px: {ranges: [...], source:
URL}}``. The next recovery of the same platform starts from them; the admin can change them at any time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sfwizard import paths
from sfwizard.errors import SfwizardError

FILE = "security-settings.yaml"
MAX_BYTES = 64 * 1024


def _path() -> Path:
    return paths.data_dir() / FILE


def _all() -> dict[str, Any]:
    import yaml

    from sfwizard.fileio import read_text

    path = _path()
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(read_text(path, MAX_BYTES, "security settings"))
    except (SfwizardError, yaml.YAMLError):
        return {}  # a damaged file only loses the saved ranges: the admin enters them again
    return data if isinstance(data, dict) else {}


def load_egress(profile: str) -> dict[str, Any] | None:
    entry = _all().get(profile)
    if not isinstance(entry, dict) or not isinstance(entry.get("ranges"), list):
        return None
    return {"ranges": [str(r) for r in entry["ranges"]], "source": str(entry.get("source") or "")}


def save_egress(profile: str, egress: dict[str, Any]) -> None:
    import yaml

    from sfwizard.fileio import private_dir, write_atomic

    data = _all()
    data[profile] = {"ranges": list(egress.get("ranges") or []), "source": str(egress.get("source") or "")}
    private_dir(paths.data_dir())
    write_atomic(_path(), yaml.safe_dump(data, sort_keys=True).encode(), what="security settings")
