"""The mapping snapshot: what the integration looked like before the recovery, as versioned YAML.

Pre-filled from what the APIs show; the admin completes what no API shows (``to_complete``).
Loading is safe_load-only through ``yamlspec`` (duplicate keys, unknown keys and wrong types are
``file:line:column`` errors), and ``diff`` compares two snapshots line by line.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sfwizard import yamlspec as y
from sfwizard.errors import SfwizardError

SCHEMA_VERSION = 1
MAX_BYTES = 1024 * 1024  # a snapshot of a few thousand mappings is ~0.5 MB
DIRECTIONS = ("sf_to_px", "px_to_sf")
DEFAULT_PUSH_GMT = ("03:00", "11:00", "19:00")


@dataclass(frozen=True)
class OrgIdentity:
    id: str = ""
    name: str = ""
    instance: str = ""
    sandbox: bool = False


@dataclass(frozen=True)
class IntegrationUser:
    username: str = ""
    id: str = ""


@dataclass(frozen=True)
class FieldMapping:
    salesforce: str  # Account.Industry
    platform: str  # account.industry
    direction: str  # sf_to_px | px_to_sf
    type: str = ""  # the platform attribute's type, when known


@dataclass(frozen=True)
class Knowledge:
    used: bool = False
    enabled: bool = False
    categories: tuple[str, ...] = ()
    accessibility: tuple[str, ...] = ()
    known_article: str = ""


@dataclass(frozen=True)
class Snapshot:
    schema_version: int
    taken_at: str
    profile: str
    org: OrgIdentity
    integration_user: IntegrationUser
    flows: tuple[str, ...]
    matching: dict[str, dict[str, str]]
    mappings: tuple[FieldMapping, ...]
    custom_objects: tuple[str, ...]
    push: dict[str, Any]
    schedule_gmt: dict[str, Any]
    knowledge: Knowledge
    to_complete: tuple[str, ...] = ()


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_FRAGILE = re.compile("[\x85\u2028\u2029\ufeff]")


class _Time(y.Spec):
    """A GMT time "HH:MM". Unquoted, YAML 1.1 reads 04:00 as the number 240, so say so."""

    def check(self, value: Any, where: y.Where) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            raise where.error(f"expected a time like \"04:00\" in quotes (unquoted, YAML reads it as the number "
                              f"{value})")
        if not isinstance(value, str) or not _HHMM.match(value):
            raise where.error(f"expected a time like \"04:00\" (24-hour, GMT); got {y.show(value)}")
        return value


_MAPPING = y.Obj({"salesforce": y.Str(), "platform": y.Str(), "direction": y.Enum(DIRECTIONS), "type": y.Str()},
                 required=("salesforce", "platform", "direction"))
SPEC = y.Obj({
    "schema_version": y.Enum((SCHEMA_VERSION,)), "taken_at": y.OneOf((y.Str(), y.RelTime())),
    "profile": y.Enum(("gainsight-px", "skilljar")),
    "org": y.Obj({"id": y.Str(), "name": y.Str(), "instance": y.Str(), "sandbox": y.Bool()}, required=("id",)),
    "integration_user": y.Obj({"username": y.Str(), "id": y.Str()}),
    "flows": y.ListOf(y.Str()),
    "matching": y.MapOf(y.Obj({"salesforce": y.Str(), "platform": y.Str()}, required=("salesforce", "platform"))),
    "mappings": y.ListOf(_MAPPING), "custom_objects": y.ListOf(y.Str()),
    "push": y.Obj({"enabled": y.Bool(), "prefix": y.Str(), "fields": y.ListOf(y.Str()),
                   "schedule_gmt": y.ListOf(_Time())}),
    "schedule_gmt": y.Obj({"fetch": _Time(), "map": _Time(), "push": y.ListOf(_Time())}),
    "knowledge": y.Obj({"used": y.Bool(), "enabled": y.Bool(), "categories": y.ListOf(y.Str()),
                        "accessibility": y.ListOf(y.Enum(("Public", "Customer", "Partner", "Internal"))),
                        "known_article": y.Str()}),
    "to_complete": y.ListOf(y.Str()),
}, required=("schema_version", "profile", "org", "mappings"))


def build(facts: dict[str, Any]) -> Snapshot:
    """A snapshot from plain facts (what the APIs showed, plus the admin's reading of the mapping screens).

    What the facts give is kept as given (a loaded snapshot comes back exactly as written); what they
    leave out gets the platform's defaults, and what only a person can supply is listed in to_complete.
    """
    org = facts.get("org") or {}
    user = facts.get("integration_user") or {}
    profile = facts.get("profile", "gainsight-px")
    mappings = tuple(FieldMapping(m["salesforce"], m["platform"], m["direction"], m.get("type") or "")
                     for m in facts.get("mappings", []))
    push_in, sched_in = facts.get("push") or {}, facts.get("schedule_gmt") or {}
    # push fields: the ones written down plus every Salesforce target of a platform → Salesforce mapping
    push_fields = list(dict.fromkeys([*push_in.get("fields", ()),
                                      *(m.salesforce for m in mappings if m.direction == "px_to_sf")]))
    push_gmt = list(push_in.get("schedule_gmt") or sched_in.get("push") or DEFAULT_PUSH_GMT)
    knowledge = facts.get("knowledge") or {}
    to_complete = list(facts.get("to_complete", []))
    if not mappings:
        to_complete.append("field mappings: copy them from the platform's Salesforce mapping screens "
                           "(no public API lists them)")
    if not user.get("username"):
        to_complete.append("integration_user.username: the Salesforce user the integration runs as")
    taken_at = facts.get("taken_at") or datetime.now(timezone.utc)
    if isinstance(taken_at, datetime):  # an unquoted timestamp in YAML arrives as a datetime
        taken_at = taken_at.isoformat(timespec="seconds")
    return Snapshot(
        schema_version=SCHEMA_VERSION, taken_at=str(taken_at), profile=profile,
        org=OrgIdentity(org.get("id", ""), org.get("name", ""), org.get("instance", ""), bool(org.get("sandbox"))),
        integration_user=IntegrationUser(user.get("username", ""), user.get("id", "")),
        flows=tuple(facts.get("flows", ("Data Integration (bi-directional)",))),
        matching={k: dict(v) for k, v in (facts.get("matching") or {}).items()},
        mappings=mappings, custom_objects=tuple(facts.get("custom_objects", ())),
        push={"enabled": bool(push_in.get("enabled", bool(push_fields))),
              "prefix": push_in.get("prefix", "PX_" if profile == "gainsight-px" else ""),
              "fields": push_fields, "schedule_gmt": push_gmt},
        schedule_gmt={"fetch": sched_in.get("fetch", "00:00"), "map": sched_in.get("map", "04:00"),
                      "push": list(sched_in.get("push") or push_gmt)},
        knowledge=Knowledge(bool(knowledge.get("used", knowledge.get("enabled", False))),
                            bool(knowledge.get("enabled", False)), tuple(knowledge.get("categories", ())),
                            tuple(knowledge.get("accessibility", ())), knowledge.get("known_article", "")),
        to_complete=tuple(dict.fromkeys(to_complete)))  # a loaded snapshot already lists what build adds


def from_sandbox_state(state: dict[str, Any], taken_at: datetime | None = None) -> Snapshot:
    """The demo's stand-in for the admin documenting the PX screens (``/__sandbox__/state``)."""
    px = state.get("px") or {}
    home = px.get("home_org_id") or px.get("org_id")  # where the integration was set up: its data's org
    org = next((o for o in state.get("orgs", []) if o["id"] == home), (state.get("orgs") or [{}])[0])
    facts: dict[str, Any] = {
        "profile": state.get("profile", "gainsight-px"),
        "taken_at": (taken_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "org": {"id": org.get("id", ""), "name": org.get("name", ""), "instance": org.get("instance", ""),
                "sandbox": org.get("is_sandbox", False)},
        "integration_user": {"username": px.get("home_username") or px.get("username")
                             or (state.get("skilljar") or {}).get("username", "")},
        "matching": px.get("matching", {}), "mappings": px.get("mappings", []),
        "custom_objects": px.get("custom_objects", []), "push": px.get("push", {}),
        "schedule_gmt": {k: v for k, v in (("fetch", (px.get("schedule") or {}).get("fetch_gmt")),
                                           ("map", (px.get("schedule") or {}).get("map_gmt"))) if v},
        "knowledge": {**px.get("knowledge", {}),
                      "used": bool(px) and (px.get("knowledge") or {}).get("used", True)},
        "flows": ["Data Integration (bi-directional)", "In-App Hub, formerly Knowledge Center (Salesforce → PX)"] if px
        else ["Data Integration (Skilljar → Salesforce)"],
    }
    return build(facts)


def to_dict(s: Snapshot) -> dict[str, Any]:
    d = asdict(s)
    for key in ("flows", "custom_objects", "to_complete"):
        d[key] = list(d[key])
    d["mappings"] = [{k: v for k, v in m.items() if v != "" or k != "type"} for m in d["mappings"]]
    d["knowledge"]["categories"] = list(d["knowledge"]["categories"])
    d["knowledge"]["accessibility"] = list(d["knowledge"]["accessibility"])
    return d


def dump(s: Snapshot) -> str:
    import yaml

    header = ("# sfwizard mapping snapshot — what the integration looked like before the recovery.\n"
              "# Pre-filled from Salesforce and the platform's APIs. Complete what is listed under to_complete\n"
              "# from the platform's Salesforce screens (matching, mappings, push settings), then keep this file:\n"
              "# after the recovery, `sfwizard check --snapshot THIS` compares it with the live org and platform.\n")
    return header + yaml.dump(to_dict(s), Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=110)


def _dumper() -> Any:
    """SafeDumper that quotes every HH:MM time: PyYAML leaves 03:00 bare but must quote 11:00 (YAML 1.1 would
    read it as the number 660), and a file mixing the two invites the admin to add a bare 19:00."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: Any, value: str) -> Any:
        # Characters YAML reads as line breaks (NEL, LS, PS) or drops (a BOM) are only kept in double quotes,
        # where the emitter escapes them; anywhere else the file would load back different.
        style = '"' if _FRAGILE.search(value) else "'" if _HHMM.match(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def save(s: Snapshot, path: Path) -> None:
    """Written atomically, 0600 (it names the org, its people and its fields)."""
    from sfwizard.fileio import write_atomic

    path = Path(path)
    if path.is_dir():
        raise SfwizardError(f"cannot save the snapshot to {path}: it is a folder", "give a file name, like "
                            f"{path / 'snapshot.yaml'}")
    write_atomic(path, dump(s).encode(), what="the snapshot")


def load(path: str | Path) -> Snapshot:
    """A snapshot file, read with a size cap and checked key by key (``file:line:column`` errors)."""
    p = Path(path)
    raw = y.load_file(p, "snapshot", MAX_BYTES)
    d = y.validate(raw, SPEC, str(p))
    return build({**d, "org": d["org"], "push": d.get("push") or {},
                  "to_complete": d.get("to_complete", []), "knowledge": d.get("knowledge") or {}})


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added removed changed
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+ {self.path}: {self.after!r}"
        if self.kind == "removed":
            return f"- {self.path}: {self.before!r}"
        return f"~ {self.path}: {self.before!r} → {self.after!r}"


def _mapping_keys(mappings: list[dict[str, Any]]) -> list[str]:
    """``mappings[Account.Industry]``; a field mapped twice is told apart by direction, then by target."""
    def count(key: Any) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for m in mappings:
            out[key(m)] = out.get(key(m), 0) + 1
        return out

    by_sf = count(lambda m: m["salesforce"])
    by_dir = count(lambda m: (m["salesforce"], m["direction"]))
    keys = []
    for m in mappings:
        sf = m["salesforce"]
        if by_sf[sf] == 1:
            keys.append(f"mappings[{sf}]")
        elif by_dir[(sf, m["direction"])] == 1:
            keys.append(f"mappings[{sf} {m['direction']}]")
        else:
            keys.append(f"mappings[{sf} → {m['platform']}]")
    return keys


def _flatten(s: Snapshot) -> dict[str, Any]:
    d = to_dict(s)
    out: dict[str, Any] = {}
    mappings = d.pop("mappings")
    for key, m in zip(_mapping_keys(mappings), mappings, strict=True):
        out[f"{key}.platform"] = m["platform"]
        out[f"{key}.direction"] = m["direction"]
        if m.get("type"):
            out[f"{key}.type"] = m["type"]
    d.pop("taken_at", None)
    d.pop("to_complete", None)

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, list):
            out[prefix] = sorted(map(str, value))
        else:
            out[prefix] = value

    walk("", d)
    return out


def diff(before: Snapshot, after: Snapshot) -> list[Change]:
    a, b = _flatten(before), _flatten(after)
    changes = [Change(k, "removed", before=a[k]) for k in a if k not in b]
    changes += [Change(k, "added", after=b[k]) for k in b if k not in a]
    changes += [Change(k, "changed", a[k], b[k]) for k in a if k in b and a[k] != b[k]]
    return sorted(changes, key=lambda c: c.path)
