"""Platform profiles: what differs between Gainsight PX and Skilljar, held as YAML data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sfwizard.errors import SfwizardError

NAMES = ("gainsight-px", "skilljar")


@dataclass(frozen=True)
class Profile:
    name: str
    vendor: str
    connected_app: str
    status_page: str
    status_components: tuple[str, ...]
    platform_api: bool
    people: tuple[dict[str, Any], ...]
    flows: tuple[dict[str, Any], ...]
    shared_token: str
    schedule_gmt: tuple[dict[str, str], ...]
    push_prefix: str | None
    backfill: dict[str, Any] | None
    support: str


@cache
def load_profile(name: str) -> Profile:
    if name not in NAMES:
        raise SfwizardError(f"unknown profile {name!r}", "use one of: " + ", ".join(NAMES))
    import yaml

    text = resources.files("sfwizard.profiles").joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return Profile(
        name=raw["name"], vendor=raw["vendor"], connected_app=raw["connected_app"],
        status_page=raw["status_page"], status_components=tuple(raw["status_components"]),
        platform_api=bool(raw["platform_api"]), people=tuple(raw["people"]), flows=tuple(raw["flows"]),
        shared_token=raw["shared_token"], schedule_gmt=tuple(raw["schedule_gmt"]),
        push_prefix=raw["push_prefix"], backfill=raw["backfill"], support=raw["support"],
    )
