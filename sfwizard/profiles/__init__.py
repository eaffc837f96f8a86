"""Platform profiles: what differs between Gainsight PX and Skilljar, held as YAML data (validated here).

A profile says who takes part, what each person does at each wizard step, the flows and schedule, the
runbook's final checklist (each item proven by checks), and a short runbook text per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sfwizard.errors import SfwizardError

NAMES = ("gainsight-px", "skilljar")
ACTORS = ("platform_admin", "salesforce_admin", "wizard")
CONDITIONS = ("knowledge", "custom_objects", "security_review")


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the runbook's final checklist."""

    group: str
    item: str
    proven_by: tuple[str, ...]  # check ids; all must pass
    when: str | None = None  # a condition (CONDITIONS) under which the item applies
    confirm: bool = False  # a person must also confirm it (no API shows it)
    fact: str | None = None  # a fact the wizard records (e.g. sync_completed)
    key: str | None = None  # the confirmation's key, when a step asks the same question (knowledge.toggle)
    warn_ok: tuple[str, ...] = ()  # warning reasons that still prove it (a caveat, not a contradiction)
    beyond_runbook: bool = False  # sfwizard's own addition, not in the vendor's runbook (the security review)


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
    duration: str = ""
    absent_admin: str = ""
    large_tenant: str = ""
    products: dict[str, str] | None = None
    steps: dict[str, dict[str, str]] | None = None  # step id → actor → what they do
    checklist: tuple[ChecklistItem, ...] = ()
    runbook: dict[str, str] | None = None  # step id → the runbook section, in our words
    ui: dict[str, Any] | None = None  # the platform's own names: mappings_where, mapping_parts, authorize_click…
    # The security review's defaults: the vendor's connected app names, and its egress IP ranges only where a
    # public page publishes them (egress_source: that page) — none is shipped without one.
    security: dict[str, Any] | None = None

    def actors_of(self, step: str) -> dict[str, str]:
        """Who acts at ``step`` and what they do, in a stable order (people first, the wizard last)."""
        said = (self.steps or {}).get(step, {})
        return {a: said[a] for a in ACTORS if a in said}


def _spec() -> Any:
    from sfwizard import yamlspec as y

    text = y.Str()
    item = y.Obj({"group": text, "item": text, "proven_by": y.ListOf(text), "when": y.Enum(CONDITIONS),
                  "confirm": y.Bool(), "fact": text, "key": text, "warn_ok": y.ListOf(text),
                  "beyond_runbook": y.Bool()},
                 required=("group", "item", "proven_by"))
    return y.Obj({
        "name": y.Enum(NAMES), "vendor": text, "connected_app": text, "status_page": text,
        "status_components": y.ListOf(text), "platform_api": y.Bool(),
        "people": y.ListOf(y.Obj({"role": text, "who": text, "can": y.ListOf(text)}, required=("role", "can"))),
        "flows": y.ListOf(y.Obj({"name": text, "direction": text, "what": text})), "shared_token": text,
        "schedule_gmt": y.ListOf(y.Obj({"time": text, "direction": text, "activity": text})),
        "push_prefix": y.Optional(text), "backfill": y.Optional(y.AnyValue()), "support": text,
        "duration": text, "absent_admin": text, "large_tenant": text, "products": y.MapOf(text),
        "steps": y.MapOf(y.Obj({a: text for a in ACTORS})), "checklist": y.ListOf(item),
        "runbook": y.MapOf(text),
        "ui": y.Obj({"mappings_where": text, "mapping_parts": y.ListOf(text), "authorize_click": text,
                     "sync_click": text, "status_where": text}),
        "security": y.Obj({"vendor_apps": y.ListOf(text), "egress_ranges": y.ListOf(text), "egress_source": text,
                           "egress_note": text}),
    }, required=("name", "vendor", "connected_app", "status_page", "people", "flows", "support"))


@cache
def load_profile(name: str) -> Profile:
    if name not in NAMES:
        raise SfwizardError(f"unknown profile {name!r}", "use one of: " + ", ".join(NAMES))
    from sfwizard import yamlspec as y

    filename = f"{name}.yaml"
    from sfwizard.fileio import decode_text

    data = resources.files("sfwizard.profiles").joinpath(filename).read_bytes()
    if len(data) > y.MAX_BYTES:
        raise SfwizardError(f"{filename}: too large for a profile", "reinstall sfwizard")
    text = decode_text(data, filename, "profile")
    try:  # bundled and tested: parsed by libyaml (a fifth of a first screen's wait in pure Python) ...
        import yaml

        raw = y.validate(yaml.load(text, Loader=yaml.CSafeLoader), _spec(), filename)  # noqa: S506 - safe
    except (AttributeError, SfwizardError, yaml.YAMLError):  # ... unless that fails: again, to say where
        raw = y.validate(y.load_text(text, filename), _spec(), filename)
    checklist = tuple(ChecklistItem(group=c["group"], item=c["item"], proven_by=tuple(c["proven_by"]),
                                    when=c.get("when"), confirm=bool(c.get("confirm")), fact=c.get("fact"),
                                    key=c.get("key"), warn_ok=tuple(c.get("warn_ok") or ()),
                                    beyond_runbook=bool(c.get("beyond_runbook")))
                      for c in raw.get("checklist", []))
    return Profile(
        name=raw["name"], vendor=raw["vendor"], connected_app=raw["connected_app"],
        status_page=raw["status_page"], status_components=tuple(raw.get("status_components", ())),
        platform_api=bool(raw.get("platform_api")), people=tuple(raw["people"]), flows=tuple(raw["flows"]),
        shared_token=raw.get("shared_token", ""), schedule_gmt=tuple(raw.get("schedule_gmt", ())),
        push_prefix=raw.get("push_prefix"), backfill=raw.get("backfill"), support=raw["support"],
        duration=raw.get("duration", ""), absent_admin=raw.get("absent_admin", ""),
        large_tenant=raw.get("large_tenant", ""), products=dict(raw.get("products", {})),
        steps={k: dict(v) for k, v in raw.get("steps", {}).items()}, checklist=checklist,
        runbook=dict(raw.get("runbook", {})),
        ui=dict(raw.get("ui") or {}), security=dict(raw.get("security") or {}),
    )
