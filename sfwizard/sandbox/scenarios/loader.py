"""Scenarios: the whole sandbox state from ONE YAML file, validated with ``file:line:column`` errors.

A scenario may ``extends:`` another (mappings merge deeply, lists replace), so the built-ins are
short overrides of ``healthy``. Times are relative to load time (``-3d``), so none goes stale.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from sfwizard import yamlspec as y
from sfwizard.errors import SfwizardError
from sfwizard.sandbox.px.state import Attribute, KnowledgeSettings, Mapping, PxIntegration, PxState
from sfwizard.sandbox.salesforce.schema import F
from sfwizard.sandbox.salesforce.store import GeneratedTable, Org
from sfwizard.sandbox.salesforce.tokens import Grant, token_store
from sfwizard.sandbox.scenarios import builder, generate, validate
from sfwizard.sandbox.scenarios import security as security_block
from sfwizard.sandbox.skilljar.state import SkilljarState
from sfwizard.sandbox.state import SandboxState
from sfwizard.sandbox.statuspage.state import Incident, Maintenance, StatusComponent, StatusPageState
from sfwizard.sandbox.tls import CertPaths

SCHEMA_VERSION = 1
MAX_BYTES = 1024 * 1024  # a scenario file (the built-ins are under 6 KB; large tenants are generated, not listed)
PERMS = y.ListOf(y.Enum(("read", "create", "edit", "delete", "view_all", "modify_all")))
FIELD_TYPES = ("string", "textarea", "boolean", "int", "double", "currency", "percent", "date", "datetime",
               "reference", "picklist", "email", "phone", "url")
# What Salesforce's password policies offer (Setup → Password Policies; 0 is "Never expires").
EXPIRY_DAYS = (0, 30, 60, 90, 180, 365)


def _time() -> y.Spec:
    return y.Optional(y.RelTime())


def _count_or_list() -> y.Spec:
    # Explicit records are checked against their object's fields once the org's schema is built
    # (_check_records), where unknown fields, wrong types and relative times are handled with positions.
    return y.OneOf((y.Obj({"generate": y.Int(0)}, required=("generate",)), y.ListOf(y.MapOf(y.AnyValue()))))


class _OrgId(y.Spec):
    """An Organization Id: 00D…, 15 or 18 characters (an 18-character one with its checksum)."""

    def check(self, value: Any, where: y.Where) -> Any:
        from sfwizard import ids

        if not isinstance(value, str) or not value.startswith("00D") or not ids.is_valid(value):
            raise where.error(f"expected an Organization Id (00D…, 15 or 18 characters); got {y.show(value)}")
        return ids.to18(value)


class _Domain(y.Spec):
    """A My Domain: its name (``acme``) or host (``acme.my.salesforce.com``, ``acme--uat.sandbox.my…``)."""

    def check(self, value: Any, where: y.Where) -> Any:
        import re

        if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9-]+)*", value):
            raise where.error(f"expected a My Domain like acme or acme.my.salesforce.com; got {y.show(value)}")
        return value if "." in value else f"{value}.my.salesforce.com"


class _Faults(y.Spec):
    """The ``faults:`` block: each key and value parsed as ``--fault key=value`` would be, at its position."""

    def check(self, value: Any, where: y.Where) -> Any:
        from sfwizard.sandbox.faults import apply_spec
        from sfwizard.sandbox.state import Faults

        if not isinstance(value, dict):
            raise where.error(f"expected a mapping of fault: value; got {y.kind_of(value)}")
        out = {}
        for key, v in value.items():
            at = where.at_key(value, key)
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                raise at.error(f"expected a value like 0.5, 200 or salesforce; got {y.kind_of(v)}")
            try:
                apply_spec(Faults(), f"{key}={v}")
            except SfwizardError as exc:
                raise at.error(exc.message.removeprefix("bad --fault ")) from None
            out[str(key)] = v
        return out


class _TimeZone(y.Spec):
    """A time zone as Salesforce (TimeZoneSidKey), Statuspage (page.time_zone) and PX (timeZone) name one:
    an IANA name like Europe/Paris. Salesforce refuses a TimeZoneSidKey its picklist does not hold."""

    def check(self, value: Any, where: y.Where) -> Any:
        zones = _zones()
        known = value in zones if zones else bool(re.fullmatch(r"[A-Za-z_]+(/[A-Za-z0-9_+-]+)+|GMT|UTC", str(value)))
        if not isinstance(value, str) or not known:
            import difflib

            near = difflib.get_close_matches(str(value), sorted(zones), n=1)
            raise where.error(f"expected a time zone like Europe/Paris or America/New_York; got {y.show(value)}"
                              + (f" (did you mean {near[0]!r}?)" if near else ""))
        return value


def _zones() -> set[str]:
    import zoneinfo

    return set(zoneinfo.available_timezones())


def _version() -> y.Spec:
    return y.Scalar((str,), "a package version", lambda v: bool(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", v)),
                    "a package version is MAJOR.MINOR.PATCH.BUILD, like 1.42.0.3")


# A formula field returns one of these (Salesforce's formula return types as describe names them).
FORMULA_TYPES = ("string", "boolean", "double", "currency", "percent", "date", "datetime")
FIELD = y.Obj({"type": y.Enum(FIELD_TYPES), "label": y.Str(), "length": y.Int(0), "values": y.ListOf(y.Str()),
               "reference_to": y.Str(), "relationship_name": y.Str(), "updateable": y.Bool(),
               # a formula field: computed from the record's other fields, never written (describe: calculated)
               "formula": y.Str()},
              required=("type",))
_PERM_KEYS = {"api_enabled": y.Bool(), "modify_all": y.Bool(), "view_all": y.Bool(), "view_setup": y.Bool(),
              "manage_users": y.Bool(), "approve_uninstalled": y.Bool(), "password_never_expires": y.Bool(),
              "label": y.Str(), "objects": y.MapOf(PERMS), "fields": y.MapOf(PERMS)}
PERMSET = y.Obj(_PERM_KEYS)
# A profile is a permission set of its own plus, optionally, a password policy that overrides the org's.
PROFILE = y.Obj({**_PERM_KEYS, "password_expiry_days": y.Enum(EXPIRY_DAYS)})
USER = y.Obj({"username": y.Str(), "first_name": y.Str(), "last_name": y.Str(), "email": y.Str(),
              "title": y.Str(), "profile": y.Str(), "permission_sets": y.ListOf(y.Str()), "active": y.Bool(),
              "password_changed": _time(), "last_login": _time(),
              # what Setup → Users shows: an expired password (its policy expired it: the user's API calls answer
              # INVALID_OPERATION_WITH_EXPIRED_PASSWORD), a lockout (too many failed logins), a frozen user
              "password_expired": y.Bool(), "locked": y.Bool(), "frozen": y.Bool(), "time_zone": _TimeZone()},
             required=("username", "first_name", "last_name", "profile"))
ARTICLE = y.Obj({"title": y.Str(), "url_name": y.Str(), "summary": y.Str(), "categories": y.ListOf(y.Str()),
                 "visible_in": y.ListOf(y.Enum(("pkb", "csp", "prm", "app"))),
                 "status": y.Enum(("Online", "Draft", "Archived"))}, required=("title",))
LOGIN = y.Obj({"user": y.Str(), "app": y.Str(), "at": y.RelTime(), "status": y.Str(),
               "type": y.Enum(("Remote Access 2.0", "Application", "Remote Access Client", "SAML Sfdc Initiated SSO"))},
              required=("user", "at", "status"))
ORG = y.Obj({
    "name": y.Str(), "org_id": _OrgId(), "my_domain": _Domain(), "copy_of": y.Str(),
    # what kind of sandbox ``copy_of`` makes (Salesforce's license types): full copies every record, partial a
    # sample of ``copied_records`` an object (Salesforce's 10,000), developer and developer_pro metadata only —
    # users, profiles, permission sets and the schema, no records; copied records keep production's Ids
    "sandbox_type": y.Enum(("full", "partial", "developer", "developer_pro")), "copied_records": y.Int(1),
    "instance_name": y.Str(), "is_sandbox": y.Bool(), "organization_type": y.Str(),
    "password_expiry_days": y.Optional(y.Enum(EXPIRY_DAYS)), "api": y.Obj({"max": y.Int(1), "used": y.Int(0)}),
    "knowledge": y.Bool(), "skilljar_package": y.Bool(),
    # the installed Skilljar package's version, as the Tooling API shows it (MAJOR.MINOR.PATCH.BUILD)
    "skilljar_package_version": _version(),
    # the newest version published (no API says it: a person reads it off the listing; the demo shows it)
    "skilljar_package_latest": _version(),
    # managed packages installed (the Tooling API's InstalledSubscriberPackage), with the newest published
    "packages": y.ListOf(y.Obj({"namespace": y.Str(), "name": y.Str(), "version": _version(), "latest": _version()},
                               required=("namespace", "name", "version"))),
    "time_zone": _TimeZone(),  # Organization.TimeZoneSidKey (the users' default)
    "custom_objects": y.MapOf(y.Obj({"label": y.Str(), "prefix": y.Str(), "fields": y.MapOf(FIELD)},
                                    required=("label", "prefix"))),
    "custom_fields": y.MapOf(y.MapOf(FIELD)),
    "profiles": y.MapOf(PROFILE), "permission_sets": y.MapOf(PERMSET), "users": y.MapOf(USER),
    "records": y.MapOf(_count_or_list()),
    "changed_since_disconnect": y.MapOf(y.Int(0)),
    "knowledge_articles": y.OneOf((y.Obj({"generate": y.Int(0)}, required=("generate",)), y.ListOf(ARTICLE))),
    "data_categories": y.MapOf(y.ListOf(y.Str())),
    "login_history": y.ListOf(LOGIN),
}, required=("name",))
APP = y.Obj({"name": y.Str(), "installed_in": y.ListOf(y.Str()), "rotate_refresh_tokens": y.Bool(),
             "device_flow": y.Bool()}, required=("name",))
MAPPING = y.Obj({"salesforce": y.Str(), "platform": y.Str(), "direction": y.Enum(("sf_to_px", "px_to_sf"))},
                required=("salesforce", "platform", "direction"))
PLATFORM = y.Obj({
    "org": y.Str(), "integration_user": y.Str(), "connected_app": y.Str(), "region": y.Enum(("US", "EU", "US2")),
    "status": y.Enum(("UP", "DOWN")), "authorized": y.Bool(), "disconnected": _time(), "last_success": _time(),
    # A new Authorize after the disconnect, approved in ``org`` (which may differ from the org the data
    # lives in) by ``user`` (a user key of that org) at ``at``.
    "authorized_in": y.Obj({"org": y.Str(), "user": y.Str(), "at": y.RelTime()}, required=("org", "user", "at")),
    "last_error": y.Optional(y.Str()), "records_processed": y.Int(0), "sync_duration_seconds": y.Float(0, 600),
    "matching": y.MapOf(y.Obj({"salesforce": y.Str(), "platform": y.Str()})),
    "mappings": y.ListOf(MAPPING), "custom_objects": y.ListOf(y.Str()),
    "push": y.Obj({"enabled": y.Bool(), "schedule_gmt": y.ListOf(y.Str())}),
    "attributes": y.MapOf(y.ListOf(y.Obj({"api_name": y.Str(), "display_name": y.Str(),
                                          "type": y.Enum(("STRING", "NUMBER", "BOOLEAN", "DATE_TIME", "DATE",
                                                          "DATETIME")),
                                          "state": y.Enum(("ENABLED", "DISABLED", "DELETED")),
                                          "default_value": y.Optional(y.Str())},
                                         required=("api_name", "type")))),
    # PX accounts / users the Salesforce integration did not match (no sfdcId / sfdcContactId)
    "unmatched": y.Obj({"accounts": y.Int(0), "users": y.Int(0)}),
    "knowledge": y.Obj({"used": y.Bool(), "enabled": y.Bool(), "categories": y.ListOf(y.Str()),
                        "accessibility": y.ListOf(y.Enum(("Public", "Customer", "Partner", "Internal")))}),
    "time_zone": _TimeZone(),  # the subscription's time zone (GET /v1/admin/subscription: timeZone)
}, required=("org", "integration_user", "connected_app"))
SKILLJAR = y.Obj({"org": y.Str(), "integration_user": y.Str(), "connected_app": y.Str(),
                  "status": y.Enum(("connected", "disconnected")), "disconnected": _time(), "last_sync": _time(),
                  "reconnected": _time(), "pending": y.Obj({"generate": y.Int(0)}), "window_days": y.Int(1),
                  # what earlier syncs wrote: any courses, in any language, and how many learners
                  "courses": y.ListOf(y.Scalar((str,), "a course title", lambda v: 0 < len(v.strip()) <= 255,
                                               "a course title is 1 to 255 characters (skilljar__Course_Title__c)")),
                  "students": y.Int(0)},
                 required=("org", "integration_user", "connected_app"))
_UPDATE = y.Obj({"status": y.Str(), "body": y.Str(), "at": y.RelTime()}, required=("status", "body", "at"))
STATUS = y.Obj({
    "name": y.Str(), "url": y.Str(), "indicator": y.Enum(("none", "minor", "major", "critical", "maintenance")),
    "description": y.Str(), "time_zone": _TimeZone(),  # page.time_zone: the page's times carry its offset
    "components": y.ListOf(y.Obj({"name": y.Str(), "status": y.Enum((
        "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")),
        "group": y.Str()}, required=("name",))),
    "incidents": y.ListOf(y.Obj({
        "name": y.Str(), "status": y.Enum(("investigating", "identified", "monitoring", "resolved", "postmortem")),
        "impact": y.Enum(("none", "minor", "major", "critical")), "created": y.RelTime(),
        "components": y.ListOf(y.Str()), "updates": y.ListOf(_UPDATE)},
        required=("name", "status", "impact", "created"))),
    # Statuspage's scheduled maintenances: announced windows, shown apart from incidents.
    "maintenances": y.ListOf(y.Obj({
        "name": y.Str(), "status": y.Enum(("scheduled", "in_progress", "verifying", "completed")),
        "impact": y.Enum(("none", "minor", "major", "critical", "maintenance")),
        "scheduled_for": y.RelTime(), "scheduled_until": y.RelTime(), "components": y.ListOf(y.Str()),
        "updates": y.ListOf(_UPDATE)},
        required=("name", "status", "scheduled_for", "scheduled_until"))),
})
_IDS = y.ListOf(y.Str())
EXPECT = y.Obj({
    # What ``sfwizard check --demo --scenario THIS --json`` must show (the diagnosis suite asserts it).
    "exit_code": y.Enum((0, 1, 2)), "fail": _IDS, "warn": _IDS, "pass": _IDS, "manual": _IDS, "skipped": _IDS,
    "not_failing": _IDS, "may_fail": _IDS, "reasons": y.MapOf(y.Str()), "symptoms": _IDS,
    "evidence": y.MapOf(y.MapOf(y.AnyValue())),
})
SCENARIO = y.Obj({
    "schema": y.Enum((SCHEMA_VERSION,)), "name": y.Str(), "description": y.Str(), "extends": y.Optional(y.Str()),
    "seed": y.Int(0), "profile": y.Enum(("gainsight-px", "skilljar")), "api_version": y.Str(),
    "orgs": y.MapOf(ORG), "connected_apps": y.MapOf(APP), "platform": y.Optional(PLATFORM),
    "skilljar": y.Optional(SKILLJAR), "status_page": STATUS, "faults": _Faults(),
    "login": y.Obj({"remembered_session": y.Str()}), "expect": EXPECT,
    "security": security_block.SPEC,  # what a security review finds (scenarios/security.py)
}, required=("schema", "name", "orgs"))


# -- finding and merging files ------------------------------------------------------------------------

SUITE = "diagnosis"  # the diagnosis suite: scenarios with an ``expect:`` block, in scenarios/diagnosis/


def builtin_scenarios() -> list[tuple[str, str]]:
    """(name, description) of every built-in scenario, then the diagnosis suite's as ``diagnosis/NAME``."""
    out = []
    root = resources.files("sfwizard.sandbox.scenarios")
    for folder, prefix, mark in ((root, "", ""), (root.joinpath(SUITE), f"{SUITE}/", "[diagnosis suite] ")):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                raw = y.load_text(entry.read_text(encoding="utf-8"), entry.name)
                out.append((prefix + entry.name[:-5], mark + str(raw.get("description", ""))))
    return out


def diagnosis_suite() -> list[Path]:
    """The suite's files (each with an ``expect:`` block), for tests and ``benchmarks/diagnosis_suite.py``."""
    folder = resources.files("sfwizard.sandbox.scenarios").joinpath(SUITE)
    return sorted(Path(str(e)) for e in folder.iterdir() if e.name.endswith(".yaml")) if folder.is_dir() else []


def _read(name_or_path: str, base: Path | None = None) -> tuple[str, str]:
    """(text, display name) for a built-in name or a path: at most MAX_BYTES of UTF-8 text."""
    from sfwizard.fileio import decode_text, read_text

    candidate = Path(name_or_path)
    if base is not None and not candidate.is_absolute():
        candidate = base / candidate
    if name_or_path.endswith((".yaml", ".yml")) or candidate.exists():
        try:
            return read_text(candidate, MAX_BYTES, "scenario"), str(candidate)
        except SfwizardError as exc:
            if exc.message.startswith("cannot read"):
                raise SfwizardError(exc.message, "check the path, or use a built-in name (sfwizard scenarios)") \
                    from None
            raise
    entry = resources.files("sfwizard.sandbox.scenarios").joinpath(f"{name_or_path}.yaml")
    if "/" not in name_or_path.replace(f"{SUITE}/", "", 1) and not name_or_path.startswith(".") and entry.is_file():
        return decode_text(entry.read_bytes(), f"{name_or_path}.yaml", "scenario"), f"{name_or_path}.yaml"
    import difflib

    every = [n for n, _ in builtin_scenarios()]
    near = difflib.get_close_matches(name_or_path, every, n=1)
    names = ", ".join(n for n in every if not n.startswith(f"{SUITE}/"))
    suite = sum(1 for n in every if n.startswith(f"{SUITE}/"))
    raise SfwizardError(f"unknown scenario {y.show(name_or_path)}" + (f" (did you mean {near[0]!r}?)" if near else ""),
                        f"use one of: {names}, the {suite} of the diagnosis suite ({SUITE}/NAME: sfwizard scenarios "
                        "lists them), or a path to a YAML file")


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        out = y.LDict(base)
        out.mark = getattr(override, "mark", getattr(base, "mark", (1, 1)))
        out.key_marks = {**getattr(base, "key_marks", {}), **getattr(override, "key_marks", {})}
        for key, value in override.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    return override


# What a child scenario never inherits: its own name, words and expectations.
_NOT_INHERITED = ("name", "description", "expect")
# What a full-copy sandbox does not copy from production: its identity, and what happened after the copy.
_NOT_COPIED = ("name", "org_id", "my_domain", "copy_of", "is_sandbox", "instance_name", "changed_since_disconnect",
               "login_history", "api")


def _resolve(name_or_path: str, seen: tuple[str, ...] = (), base: Path | None = None) -> tuple[Any, str]:
    text, display = _read(name_or_path, base)
    raw = y.load_text(text, display)
    if not isinstance(raw, dict):
        raise SfwizardError(f"{display}:1:1: a scenario is a mapping of keys", "see sfwizard/scenarios/healthy.yaml")
    parent = raw.get("extends")
    if parent is not None and not isinstance(parent, str):
        line, col = getattr(raw, "key_marks", {}).get("extends", (1, 1))
        raise SfwizardError(f"{display}:{line}:{col}: extends: expected the name or path of a scenario; got "
                            f"{y.kind_of(parent)}", "fix the file and try again")
    if parent:
        if parent in seen:
            raise SfwizardError(f"{display}: scenarios extend each other in a loop: {' → '.join(seen + (parent,))}",
                                "remove one of the extends")
        here = Path(display).parent if Path(display).exists() else None
        base_raw, _ = _resolve(parent, seen + (name_or_path,), here)
        for key in _NOT_INHERITED:
            base_raw.pop(key, None)
        raw = _merge(base_raw, raw)
        raw["extends"] = None
    return raw, display


def _expand_copies(raw: Any, doc: validate.Doc) -> None:
    """``copy_of: prod``: the org starts as production's copy (schema, people, records, their Ids), then
    its own keys override. A copy of a copy is refused: Salesforce copies production."""
    orgs = raw.get("orgs") if isinstance(raw, dict) else None
    if not isinstance(orgs, dict):
        return
    for key, o in list(orgs.items()):
        source = o.get("copy_of") if isinstance(o, dict) else None
        if source is None:
            continue
        if not isinstance(source, str) or source not in orgs or source == key:
            raise doc.error(("orgs", key, "copy_of"),
                            f"expected the key of another org in this file; got {y.show(source)}")
        if isinstance(orgs[source], dict) and orgs[source].get("copy_of"):
            raise doc.error(("orgs", key, "copy_of"), f"{source!r} is itself a copy: copy production instead")
        kind = o.get("sandbox_type", "full")
        dropped = _NOT_COPIED + (("records", "knowledge_articles") if kind.startswith("developer") else ())
        base = y.LDict({k: v for k, v in orgs[source].items() if k not in dropped})
        base.mark, base.key_marks = getattr(orgs[source], "mark", (1, 1)), getattr(orgs[source], "key_marks", {})
        if kind == "partial" and isinstance(base.get("records"), dict):  # a sample: the first N of each object
            most = o.get("copied_records", 10_000) if isinstance(o.get("copied_records", 0), int) else 10_000
            sample = y.LDict({obj: ({"generate": min(spec["generate"], most)} if isinstance(spec, dict)
                                    and isinstance(spec.get("generate"), int) else spec[:most]
                                    if isinstance(spec, list) else spec)
                              for obj, spec in base["records"].items()})
            sample.mark, sample.key_marks = getattr(base["records"], "mark", (1, 1)), \
                getattr(base["records"], "key_marks", {})
            base["records"] = sample
        merged = _merge(base, o)
        merged.setdefault("is_sandbox", True)
        orgs[key] = merged


# -- building state ---------------------------------------------------------------------------------

def load_scenario(name_or_path: str) -> SandboxState:
    """Load, validate and build a scenario. Errors are one line: ``file:line:column: message``."""
    raw, display = _resolve(name_or_path)
    state = builder.new_state()
    doc = validate.Doc(raw, display, state.loaded_at)
    _expand_copies(raw, doc)
    spec = y.validate(raw, SCENARIO, display, now=state.loaded_at)
    validate.check_references(doc, spec)
    return _build(state, spec, doc)


def load_expectation(name_or_path: str) -> dict[str, Any]:
    """The scenario's ``expect:`` block, validated (empty when it has none)."""
    raw, display = _resolve(name_or_path)
    _expand_copies(raw, validate.Doc(raw, display, datetime.now(timezone.utc)))
    spec = y.validate(raw, SCENARIO, display)
    return dict(spec.get("expect") or {})


def _build(state: SandboxState, s: dict[str, Any], doc: validate.Doc) -> SandboxState:
    state.scenario_name = s["name"]
    state.scenario_description = s.get("description", "")
    state.scenario_path = doc.display
    state.seed = s.get("seed", 1)
    state.profile = s.get("profile", "gainsight-px")
    state.api_version = s.get("api_version", "60.0")
    user_ids: dict[tuple[str, str], str] = {}
    changed: dict[str, dict[str, int]] = {}  # org key → {object: records changed since the disconnect}
    dead = validate.dead_windows(s)
    apps = s.get("connected_apps") or {}
    copies = {k for k, o in s["orgs"].items() if o.get("copy_of")}
    # Production first: a full copy takes its source's instance characters, so its records keep their Ids.
    for org_key in sorted(s["orgs"], key=lambda k: k in copies):
        o = s["orgs"][org_key]
        pod = state.orgs[o["copy_of"]].pod if o.get("copy_of") else None
        _build_org(state, doc, org_key, o, user_ids, dead, pod)
        _build_logins(state, state.orgs[org_key], o.get("login_history") or [], user_ids, apps)
        changed[org_key] = o.get("changed_since_disconnect") or {}
    state.orgs = {k: state.orgs[k] for k in s["orgs"]}  # the file's order (the first org is the default)
    state.default_org_key = next(iter(s["orgs"]))
    state.user_roles = {(org_key, uid): role for (org_key, role), uid in user_ids.items()}
    for key, a in apps.items():
        app = builder.add_connected_app(state, a["name"], rotate_refresh_tokens=a.get("rotate_refresh_tokens", False),
                                        installed_in=a.get("installed_in", list(state.orgs)),
                                        device_flow=a.get("device_flow", True))
        state.app_keys[key] = app.client_id
    if "sfwizard" not in state.app_keys:  # the wizard's own app is always there
        wizard = builder.add_connected_app(state, "sfwizard", installed_in=list(state.orgs))
        state.app_keys["sfwizard"] = wizard.client_id
    login = s.get("login") or {}
    if login.get("remembered_session"):
        org_key, _, role = login["remembered_session"].partition(".")
        state.login_hint = (org_key, user_ids[(org_key, role)])
    if s.get("platform"):
        _build_px(state, s["platform"], user_ids, changed.get(s["platform"]["org"], {}))
    if s.get("skilljar"):
        _build_skilljar(state, s["skilljar"], user_ids)
    _build_status(state, s.get("status_page") or {})
    security_block.build(state, s, doc)
    from sfwizard.sandbox.faults import apply_spec

    for key, value in (s.get("faults") or {}).items():
        apply_spec(state.faults, f"{key}={value}")
    return state


def _build_org(state: SandboxState, doc: validate.Doc, key: str, o: dict[str, Any],
               user_ids: dict[tuple[str, str], str],
               dead: dict[tuple[str, str], list[tuple[datetime, datetime | None]]], pod: str | None) -> None:
    api = o.get("api") or {}
    expiry = o.get("password_expiry_days", 90)
    org = builder.add_org(state, key, o["name"], instance_name=o.get("instance_name", "USA612"),
                          is_sandbox=o.get("is_sandbox", False),
                          organization_type=o.get("organization_type", "Enterprise Edition"),
                          api_max=api.get("max", 100_000), api_used=api.get("used", 0),
                          password_expiry_days=expiry or None,  # 0 and null: passwords never expire
                          skilljar_package=o.get("skilljar_package", False), org_id=o.get("org_id"),
                          my_domain=o.get("my_domain", ""), pod=pod,
                          skilljar_package_version=o.get("skilljar_package_version",
                                                         builder.SKILLJAR_PACKAGE_VERSION),
                          skilljar_package_latest=o.get("skilljar_package_latest"),
                          time_zone=o.get("time_zone", builder.TIME_ZONE))
    org.knowledge_enabled = o.get("knowledge", True)
    for i, pkg in enumerate(o.get("packages") or []):
        if any(p["namespace"].lower() == pkg["namespace"].lower() for p in org.installed_packages):
            raise doc.error(("orgs", key, "packages", i, "namespace"),
                            f"a package in namespace {pkg['namespace']!r} is installed already: an org holds one "
                            "version of a managed package")
        org.installed_packages.append(dict(pkg))
    for name, c in (o.get("custom_objects") or {}).items():
        fields = c.get("fields") or {}
        builder.add_custom_object(org, name, c["label"], c["prefix"],
                                  [_field(doc, ("orgs", key, "custom_objects", name, "fields", f), f, fields[f])
                                   for f in fields])
        _check_formulas(doc, org, name, ("orgs", key, "custom_objects", name, "fields"))
    for obj, fields in (o.get("custom_fields") or {}).items():
        if org.sobject(obj) is None:
            raise doc.error(("orgs", key, "custom_fields", obj), f"no object {obj!r} in org {key} to add fields to")
        for fname, f in fields.items():
            builder.add_field(org, obj, _field(doc, ("orgs", key, "custom_fields", obj, fname), fname, f))
        _check_formulas(doc, org, obj, ("orgs", key, "custom_fields", obj))
    for name, p in (o.get("profiles") or {}).items():
        builder.add_profile(state, org, name, **_perms(p), password_expiry_days=p.get("password_expiry_days"))
    for label, p in (o.get("permission_sets") or {}).items():
        builder.add_permission_set(state, org, p.get("label", label), api_name=label.replace(" ", "_"),
                                   **_perms(p))
    for role, u in (o.get("users") or {}).items():
        changed = u.get("password_changed")
        if u.get("password_expired") and changed is None:  # expired by its policy: older than the policy
            changed = state.loaded_at - timedelta(days=(validate.password_policy_days(o, u) or 90) + 5)
        rec = builder.add_user(state, org, u["username"], first_name=u["first_name"], last_name=u["last_name"],
                               email=u.get("email"), profile=u["profile"], title=u.get("title"),
                               permission_sets=u.get("permission_sets", []), active=u.get("active", True),
                               password_changed=changed, last_login=u.get("last_login"),
                               time_zone=u.get("time_zone"), password_expired=u.get("password_expired", False),
                               locked=u.get("locked", False), frozen=u.get("frozen", False))
        user_ids[(key, role)] = rec["Id"]
    owners = [uid for (k, role), uid in user_ids.items() if k == key and role != "integration"] \
        or [uid for (k, _), uid in user_ids.items() if k == key]
    records = o.get("records") or {}
    users = {role: uid for (k, role), uid in user_ids.items() if k == key}
    explicit = validate.check_records(doc, key, org, records, users, dead)
    _build_records(state, org, records, explicit, owners, state.loaded_at)
    _build_knowledge(state, org, o)


def _build_logins(state: SandboxState, org: Org, logins: list[dict[str, Any]],
                  user_ids: dict[tuple[str, str], str], apps: dict[str, Any]) -> None:
    """The scenario's own LoginHistory rows (failed logins above all), beside what the builder makes."""
    history = org.table("LoginHistory")
    for entry in logins:
        at = entry["at"]
        app = apps[entry["app"]]["name"] if entry.get("app") else "Browser"
        history.insert({"UserId": user_ids[(org.key, entry["user"])], "LoginTime": at,
                        "LoginType": entry.get("type") or ("Remote Access 2.0" if entry.get("app") else "Application"),
                        "SourceIp": "34.201.12.7", "Status": entry["status"], "Application": app,
                        "Browser": "Unknown", "Platform": "Unknown", "LoginUrl": "login.salesforce.com",
                        "ApiType": None, "CreatedDate": at, "LastModifiedDate": at, "SystemModstamp": at})


def _field(doc: validate.Doc, path: tuple[str, ...], name: str, f: dict[str, Any]) -> Any:
    ref = f.get("reference_to", "")
    if f.get("formula") is not None:
        if f["type"] not in FORMULA_TYPES:
            raise doc.error((*path, "type"), f"a formula returns {', '.join(FORMULA_TYPES)} (Checkbox, Currency, "
                                             f"Date, Date/Time, Number, Percent, Text); not {f['type']}")
        if f.get("updateable"):
            raise doc.error((*path, "updateable"), "a formula field is never updateable: Salesforce computes it")
    return F(name, f["type"], f.get("length", 0), label=f.get("label", ""), ref=ref,
             rel=f.get("relationship_name") or (name[:-3] + "__r" if ref and name.endswith("__c") else None),
             picklist=tuple(f.get("values", ())), ro=not f.get("updateable", True), formula=f.get("formula") or "")


def _check_formulas(doc: validate.Doc, org: Org, obj: str, path: tuple[str, ...]) -> None:
    """Every formula of the object parses and names only its fields, as Salesforce's formula editor checks
    before it saves the field (the error names the formula's line:column in the file)."""
    from sfwizard.sandbox.salesforce.formula import Formula, FormulaError

    sobject = org.table(obj).sobject
    for f in [f for f in sobject.fields.values() if f.formula]:
        try:
            Formula(f.formula, {n.lower(): n for n in sobject.fields})
        except FormulaError as exc:
            raise doc.error((*path, f.name, "formula"), f"{exc} (at character {exc.column + 1} of the formula)") \
                from None
    sobject.formulas()


def _perms(p: dict[str, Any]) -> dict[str, Any]:
    return {k: p[k] for k in ("api_enabled", "modify_all", "view_all", "view_setup", "manage_users",
                              "approve_uninstalled", "password_never_expires", "objects", "fields") if k in p}


def _count(spec: Any) -> int | None:
    return spec.get("generate") if isinstance(spec, dict) else None


def _build_records(state: SandboxState, org: Org, records: dict[str, Any], explicit: dict[str, list[dict]],
                   owners: list[str], now: datetime) -> None:
    seed = state.seed
    accounts_spec = records.get("Account", {"generate": 0})
    n_accounts = _count(accounts_spec)
    accounts: list[dict[str, Any]] = []
    if n_accounts is not None and n_accounts > 2000:
        # Big tenants: rows made on demand, nothing held until changed.
        sobject = org.table("Account").sobject
        table = GeneratedTable(sobject, n_accounts, lambda i: generate.account(seed, i, org, owners, now), org.pod)
        table.set_id_index(generate.account_index(org))
        newest = now - timedelta(days=4)  # generate.account keeps LastModifiedDate older than this
        table.field_max = {"LastModifiedDate": newest, "SystemModstamp": newest, "CreatedDate": newest}
        org.tables["Account"] = table
        sample = [table.row_at(i) for i in range(min(n_accounts, 400))]
    elif n_accounts is not None:
        for i in range(n_accounts):
            accounts.append(org.table("Account").insert(generate.account(seed, i, org, owners, now)))
        sample = accounts
    else:
        for values in explicit.get("Account", []):
            accounts.append(builder.insert(state, org, "Account", dict(values), owner=owners[0]))
        state.explicit_ids.update(a["Id"] for a in accounts)
        sample = accounts
    for obj, spec in records.items():
        if obj == "Account":
            continue
        n = _count(spec)
        table = org.table(obj)
        if n is None:
            for values in explicit.get(table.sobject.name, []):
                state.explicit_ids.add(builder.insert(state, org, obj, dict(values), owner=owners[0])["Id"])
            continue
        for i in range(n):
            parent = sample[i % len(sample)] if sample else None
            if obj == "Contact" and parent:
                table.insert(generate.contact(seed, i, org, parent, owners, now))
            elif obj == "Lead":
                table.insert(generate.lead(seed, i, owners, now))
            elif obj.endswith("__c") and parent and {"Account__c", "Plan__c", "Seats__c", "Renewal_Date__c"} <= \
                    set(table.sobject.fields):
                table.insert(generate.subscription(seed, i, parent, owners, now))  # (the built-ins' own object)
            elif table.sobject.custom:  # any custom object, whatever its fields are called
                table.insert(generate.custom_record(seed, i, table.sobject, parent, owners, now))
            else:
                builder.insert(state, org, obj, {"Name": f"{table.sobject.label} {i + 1}"}, owner=owners[0])


def _build_knowledge(state: SandboxState, org: Org, o: dict[str, Any]) -> None:
    groups = o.get("data_categories") or {}
    org.data_category_groups = [
        {"name": g, "label": g.replace("_", " "), "categories": [{"name": c, "label": c.replace("_", " ")}
                                                                  for c in cats]}
        for g, cats in groups.items()]
    flat = [f"{g}.{c}" for g, cats in groups.items() for c in cats]
    spec = o.get("knowledge_articles") or []
    table = org.table("KnowledgeArticleVersion")
    articles: list[dict[str, Any]] = []
    if isinstance(spec, dict):
        articles = [generate.article(state.seed, i, state.loaded_at, flat) for i in range(spec["generate"])]
    else:
        for i, a in enumerate(spec):
            base = generate.article(state.seed, i, state.loaded_at, flat)
            vis = set(a.get("visible_in", ("pkb", "csp", "prm", "app")))
            base.update({"Title": a["title"], "Summary": a.get("summary", base["Summary"]),
                         "UrlName": a.get("url_name") or base["UrlName"], "PublishStatus": a.get("status", "Online"),
                         "IsVisibleInPkb": "pkb" in vis, "IsVisibleInCsp": "csp" in vis,
                         "IsVisibleInPrm": "prm" in vis, "IsVisibleInApp": "app" in vis,
                         "_categories": a.get("categories", base["_categories"])})
            articles.append(base)
    for art in articles:
        art["KnowledgeArticleId"] = "kA0" + art["ArticleNumber"][-12:]
        table.insert(art)


# -- platforms --------------------------------------------------------------------------------------

_PX_STANDARD = {
    "account": [("id", "Id", "STRING"), ("name", "Name", "STRING"), ("sfdcId", "SFDC Id", "STRING"),
                ("industry", "Industry", "STRING"), ("numberOfEmployees", "Number of Employees", "NUMBER"),
                ("website", "Website", "STRING"), ("plan", "Plan", "STRING"), ("createDate", "Created", "DATE_TIME"),
                ("lastSeenDate", "Last Seen", "DATE_TIME")],
    "user": [("identifyId", "Identify Id", "STRING"), ("email", "Email", "STRING"),
             ("firstName", "First Name", "STRING"), ("lastName", "Last Name", "STRING"),
             ("accountId", "Account Id", "STRING"), ("sfdcContactId", "SFDC Contact Id", "STRING"),
             ("lastSeenDate", "Last Seen", "DATE_TIME"), ("title", "Title", "STRING")],
}
_SF_TO_PX_TYPE = {"int": "NUMBER", "double": "NUMBER", "currency": "NUMBER", "percent": "NUMBER",
                  "boolean": "BOOLEAN", "date": "DATE_TIME", "datetime": "DATE_TIME"}


def _issue_integration_tokens(state: SandboxState, org: Org, user_id: str, client_id: str,
                              granted: datetime, last_used: datetime, revoked: bool,
                              history_days: int = 21) -> tuple[str, str]:
    app = state.connected_apps[client_id]
    access, refresh = token_store(state).issue(state, Grant(org.key, user_id, client_id), with_refresh=True)
    assert refresh is not None
    table = org.table("OauthToken")
    if revoked:
        token_store(state).revoke(refresh.token)
    else:
        table.insert({"AppName": app.name, "UserId": user_id, "AppMenuItemId": None, "RequestToken": None,
                      "AccessToken": None, "CreatedDate": granted, "LastModifiedDate": last_used,
                      "SystemModstamp": last_used, "LastUsedDate": last_used, "UseCount": 4000})
    # The integration's logins over the weeks before (six a day is plenty to look real).
    end = min(last_used, state.loaded_at)
    at = max(end - timedelta(days=history_days), granted)
    history = org.table("LoginHistory")
    while at <= end:
        history.insert({"UserId": user_id, "LoginTime": at, "LoginType": "Remote Access 2.0",
                        "SourceIp": "34.201.12.7", "Status": "Success", "Application": app.name,
                        "Browser": "Unknown", "Platform": "Unknown", "LoginUrl": "login.salesforce.com",
                        "ApiType": None, "CreatedDate": at, "LastModifiedDate": at, "SystemModstamp": at})
        at += timedelta(hours=8)
    return access.token, refresh.token


def _build_px(state: SandboxState, p: dict[str, Any], user_ids: dict[tuple[str, str], str],
              changed: dict[str, int]) -> None:
    now = state.loaded_at
    org = state.orgs[p["org"]]
    user_id = user_ids[(p["org"], p["integration_user"])]
    client_id = state.app_keys[p["connected_app"]]
    disconnected = p.get("disconnected")
    auth = p.get("authorized_in")
    last_success = p.get("last_success") or (disconnected if disconnected else now - timedelta(hours=2))
    if auth and not p.get("last_success"):
        last_success = disconnected or auth["at"]
    status = p.get("status", "UP")
    access, refresh = _issue_integration_tokens(state, org, user_id, client_id, now - timedelta(days=200),
                                                disconnected or last_success, revoked=disconnected is not None)
    mappings = [Mapping(m["salesforce"], m["platform"], m["direction"]) for m in p.get("mappings", [])]
    push = p.get("push") or {}
    live = disconnected is None
    integration = PxIntegration(
        org_key=org.key, user_id=user_id, client_id=client_id, status=status,
        authorized=p.get("authorized", live or auth is not None), disconnected_at=disconnected,
        last_success=last_success, last_error=p.get("last_error"), records_processed=p.get("records_processed", 0),
        access_token=access if live else None, refresh_token=refresh if live else None,
        matching=p.get("matching") or {}, mappings=mappings, custom_objects=p.get("custom_objects", []),
        push_enabled=push.get("enabled", True),
        push_schedule_gmt=push.get("schedule_gmt", ["03:00", "11:00", "19:00"]),
        sync_duration_s=float(p.get("sync_duration_seconds", 4.0)), home_org_key=org.key, home_user_id=user_id)
    knowledge = p.get("knowledge") or {}
    px = PxState(integration=integration, region=p.get("region", "US"), time_zone=p.get("time_zone", org.time_zone),
                 knowledge=KnowledgeSettings(used=knowledge.get("used", True),
                                             enabled=knowledge.get("enabled", False),
                                             categories=knowledge.get("categories", []),
                                             accessibility=knowledge.get("accessibility", [])))
    px.attributes = _px_attributes(org, mappings, p.get("attributes") or {})
    unmatched = p.get("unmatched") or {}
    px.unmatched_accounts, px.unmatched_users = unmatched.get("accounts", 0), unmatched.get("users", 0)
    _push_history(state, org, user_id, mappings, (disconnected or last_success) - timedelta(hours=1))
    px.synced_at = last_success
    # Changes since the last sync (or, once a new token went elsewhere, since the disconnect) were made by
    # people in the org the data lives in: the platform still holds the old values.
    px.synced = _changes_since(state, org, disconnected if auth else last_success, mappings, changed)
    if auth:
        _authorized_elsewhere(state, px, auth, user_ids, last_success, status)
    state.platform = px


def _authorized_elsewhere(state: SandboxState, px: PxState, auth: dict[str, Any],
                          user_ids: dict[tuple[str, str], str], last_success: datetime, status: str) -> None:
    """A new Authorize after the disconnect, approved by ``auth.user`` in ``auth.org`` at ``auth.at``: the
    platform holds that token, and a sync after it read (and pushed into) that org."""
    integ = px.integration
    org = state.orgs[auth["org"]]
    user_id = user_ids[(auth["org"], auth["user"])]
    at = auth["at"]
    synced_since = last_success >= at
    access, refresh = _issue_integration_tokens(state, org, user_id, integ.client_id, at,
                                                last_success if synced_since else at, revoked=False,
                                                history_days=0)
    integ.org_key, integ.user_id = org.key, user_id
    integ.access_token, integ.refresh_token, integ.authorized = access, refresh, True
    integ.status = status
    if synced_since:
        px.data_org_key = org.key
        _push_history(state, org, user_id, integ.mappings, last_success)
    else:
        px.data_org_key = integ.home_org_key


def _push_history(state: SandboxState, org: Org, user_id: str, mappings: list[Mapping], at: datetime) -> None:
    """What the last push at ``at`` wrote: PX values in PX_ fields, by the integration user.

    Only into fields the sync engine would write today (``push_error``): a push target without the PX_
    prefix, or one the user cannot edit, never received a value from this user.
    """
    from sfwizard.sandbox.px.sync import platform_value, push_error, salesforce_value

    user = org.user(user_id)
    assert user is not None
    for obj in sorted({m.sf_object for m in mappings if m.direction == "px_to_sf"}):
        maps = [m for m in mappings if m.direction == "px_to_sf" and m.sf_object == obj
                and org.sobject(obj) is not None and push_error(org, user, m) is None]
        if not maps:
            continue
        table = org.table(obj)
        for row in _first_rows(table, 200, state.explicit_ids):
            values: dict[str, Any] = {"LastModifiedById": user_id, "LastModifiedDate": at, "SystemModstamp": at}
            for m in maps:
                f = table.sobject.field(m.sf_field)
                assert f is not None  # push_error refuses a missing field
                v = platform_value(m.px_attribute, row["Id"], at)
                values[f.name] = salesforce_value(f.type, v, at.tzinfo)
            table.update(row["Id"], values)


def _px_attributes(org: Org, mappings: list[Mapping], extra: dict[str, Any]) -> dict[str, list[Attribute]]:
    out: dict[str, list[Attribute]] = {k: [Attribute(a, d, t) for a, d, t in v] for k, v in _PX_STANDARD.items()}
    for m in mappings:
        known = {a.api_name.lower() for a in out.setdefault(m.px_object, [])}
        if m.px_attribute.lower() in known:
            continue
        sobject = org.sobject(m.sf_object)
        f = sobject.field(m.sf_field) if sobject else None
        px_type = _SF_TO_PX_TYPE.get(f.type, "STRING") if f else "STRING"
        out[m.px_object].append(Attribute(m.px_attribute, m.px_attribute[:1].upper() + m.px_attribute[1:],
                                          px_type, custom=True))
    for kind, attrs in extra.items():
        listed = out.setdefault(kind, [])
        for a in attrs:  # a scenario's attribute replaces one of the same name (to disable it, say)
            known = next((x for x in listed if x.api_name.lower() == a["api_name"].lower()), None)
            attr = Attribute(a["api_name"], a.get("display_name", known.display_name if known else a["api_name"]),
                             a["type"], custom=known.custom if known else True, state=a.get("state", "ENABLED"),
                             default_value=a.get("default_value"))
            if known is None:
                listed.append(attr)
            else:
                listed[listed.index(known)] = attr
    return out


def _changes_since(state: SandboxState, org: Org, since: datetime, mappings: list[Mapping],
                   spec: dict[str, int]) -> dict[str, dict]:
    """Records changed in Salesforce after PX last synced: PX still holds their old values.

    ``changed_since_disconnect`` in the org decides how many; each gets a new value for a mapped
    field and a LastModifiedDate after ``since``, by a person (never the integration user, whose token
    is dead or idle in that time). Returns {sfdcId: {attribute: old value}}.
    """
    synced: dict[str, dict] = {}
    by_object: dict[str, list[Mapping]] = {}
    for m in mappings:
        if m.direction == "sf_to_px":
            by_object.setdefault(m.sf_object, []).append(m)
    people = _people(state, org)
    for obj, count in spec.items():
        table = org.table(obj)
        maps = by_object.get(obj, [])
        rows = _first_rows(table, count, state.explicit_ids)
        for k, row in enumerate(rows):
            when = since + (state.loaded_at - since) * ((k + 1) / (len(rows) + 1))
            old = {m.px_attribute: row.get(m.sf_field) for m in maps}
            changes: dict[str, Any] = {"LastModifiedDate": when, "SystemModstamp": when,
                                       "LastModifiedById": people[k % len(people)]}
            editable = [m for m in maps if m.sf_field not in ("Name", "Email", "FirstName", "LastName")]
            for m in editable[:2]:  # change a couple of mapped fields, as a person editing the record would
                changes[m.sf_field] = _changed_value(row.get(m.sf_field), k)
            table.update(row["Id"], changes)
            if maps:
                synced[row["Id"]] = old
    return synced


def _people(state: SandboxState, org: Org) -> list[str]:
    """The org's users who are people: anyone but an integration user (the scenario's role keys say who)."""
    users = [u["Id"] for u in org.table("User").scan()
             if not state.user_roles.get((org.key, u["Id"]), "").startswith("integration")]
    return users or [u["Id"] for u in org.table("User").scan()]


def _first_rows(table: Any, count: int, skip: Collection[str] = ()) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if count <= 0:
        return rows
    for row in table.scan():
        if row["Id"] in skip:
            continue
        rows.append(row)
        if len(rows) >= count:
            break
    return rows


def _changed_value(value: Any, k: int) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return type(value)(value + 7 + k)
    if isinstance(value, str):
        if value in generate._INDUSTRY:
            return generate._INDUSTRY[(generate._INDUSTRY.index(value) + 1) % len(generate._INDUSTRY)]
        return f"{value} (updated)"
    return value


def _build_skilljar(state: SandboxState, s: dict[str, Any], user_ids: dict[tuple[str, str], str]) -> None:
    now = state.loaded_at
    org = state.orgs[s["org"]]
    user_id = user_ids[(s["org"], s["integration_user"])]
    client_id = state.app_keys[s["connected_app"]]
    disconnected = s.get("disconnected")
    reconnected = s.get("reconnected")
    last_sync = s.get("last_sync") or disconnected or now - timedelta(hours=1)
    access, refresh = _issue_integration_tokens(state, org, user_id, client_id, now - timedelta(days=300),
                                                disconnected or last_sync, revoked=disconnected is not None)
    if reconnected is not None:  # Reconnect clicked: a new grant, used since; Backfill not clicked yet
        access, refresh = _issue_integration_tokens(state, org, user_id, client_id, reconnected,
                                                    max(reconnected, now - timedelta(minutes=20)), revoked=False,
                                                    history_days=0)
    courses = tuple(s.get("courses") or generate.COURSES)
    _skilljar_history(state, org, user_id, last_sync, courses, s.get("students", 40))
    pending_n = (s.get("pending") or {}).get("generate", 0)
    since = last_sync
    connected = disconnected is None or reconnected is not None
    state.skilljar = SkilljarState(
        org_key=org.key, user_id=user_id, client_id=client_id,
        status="connected" if reconnected is not None
        else s.get("status", "connected" if connected else "disconnected"),
        disconnected_at=disconnected,
        last_sync_at=last_sync, window_days=s.get("window_days", 21),
        pending=[generate.student(state.seed, i, now, since, courses) for i in range(pending_n)],
        access_token=access if reconnected is not None else None,
        refresh_token=refresh if reconnected is not None else None)


def _skilljar_history(state: SandboxState, org: Org, user_id: str, last_sync: datetime,
                      titles: tuple[str, ...] = generate.COURSES, students: int = 40) -> None:
    """What earlier syncs wrote: the courses (any titles, any language), students and their progress, last
    written at ``last_sync``."""
    if org.sobject("skilljar__Student__c") is None or not students:
        return
    courses = []
    for i, title in enumerate(titles):
        courses.append(org.table("skilljar__Published_Course__c").insert({
            "Name": title[:80], "skilljar__Course_Title__c": title, "skilljar__Skilljar_Id__c": f"course-{i + 1}",
            "skilljar__Course_Url__c": f"https://academy.example/courses/{i + 1}",
            "skilljar__Published_At__c": last_sync - timedelta(days=200), "OwnerId": user_id,
            "CreatedById": user_id, "LastModifiedById": user_id, "CreatedDate": last_sync - timedelta(days=200),
            "LastModifiedDate": last_sync - timedelta(days=30 - i), "SystemModstamp": last_sync}))
    for i in range(students):
        st = generate.student(state.seed + 99, i, last_sync, last_sync - timedelta(days=60), titles)
        at = min(st["updated_at"], last_sync) if i else last_sync
        student = org.table("skilljar__Student__c").insert({
            "Name": f"{st['first_name']} {st['last_name']}", "skilljar__Email__c": st["email"],
            "skilljar__First_Name__c": st["first_name"], "skilljar__Last_Name__c": st["last_name"],
            "skilljar__Skilljar_Id__c": st["skilljar_id"], "skilljar__Last_Active_At__c": at, "OwnerId": user_id,
            "CreatedById": user_id, "LastModifiedById": user_id, "CreatedDate": at - timedelta(days=10),
            "LastModifiedDate": at, "SystemModstamp": at})
        org.table("skilljar__Course_Progress__c").insert({
            "Name": f"{st['first_name']} – {st['course']}"[:80], "skilljar__Student__c": student["Id"],
            "skilljar__Published_Course__c": courses[i % len(courses)]["Id"],
            "skilljar__Enrolled_At__c": at - timedelta(days=9), "skilljar__Progress_Percent__c": st["progress"],
            "skilljar__Status__c": "Completed" if st["progress"] >= 100 else "In Progress",
            "skilljar__Skilljar_Id__c": f"prog-{st['skilljar_id']}", "OwnerId": user_id, "CreatedById": user_id,
            "LastModifiedById": user_id, "CreatedDate": at - timedelta(days=9), "LastModifiedDate": at,
            "SystemModstamp": at})


def _build_status(state: SandboxState, s: dict[str, Any]) -> None:
    ids_by_name = {c["name"]: secrets.token_hex(6) for c in s.get("components", [])}
    page = StatusPageState(
        name=s.get("name", "Gainsight"), url=s.get("url", "https://status.gainsight.com"),
        indicator=s.get("indicator", "none"), description=s.get("description", "All Systems Operational"),
        time_zone=s.get("time_zone", "Etc/UTC"),
        components=[StatusComponent(c["name"], c.get("status", "operational"), id=ids_by_name[c["name"]],
                                    group=c.get("group", "")) for c in s.get("components", [])])
    for inc in s.get("incidents", []):
        page.incidents.append(Incident(
            name=inc["name"], status=inc["status"], impact=inc["impact"], created_at=inc["created"],
            components=inc.get("components", []), id=secrets.token_hex(6),
            shortlink=f"https://stspg.io/{secrets.token_hex(3)}",
            updates=[{"status": u["status"], "body": u["body"], "created_at": u["at"]}
                     for u in inc.get("updates", [])]))
    for mnt in s.get("maintenances", []):
        page.maintenances.append(Maintenance(
            name=mnt["name"], status=mnt["status"], impact=mnt.get("impact", "maintenance"),
            scheduled_for=mnt["scheduled_for"], scheduled_until=mnt["scheduled_until"],
            components=mnt.get("components", []), id=secrets.token_hex(6),
            shortlink=f"https://stspg.io/{secrets.token_hex(3)}",
            updates=[{"status": u["status"], "body": u["body"], "created_at": u["at"]}
                     for u in mnt.get("updates", [])]))
    state.status_page = page


# -- the connection line ------------------------------------------------------------------------------

def connection_info(state: SandboxState, certs: CertPaths) -> dict[str, Any]:
    """What ``sfwizard sandbox`` prints: everything a client needs, secrets made for this run only."""
    base = state.base_url
    org = state.default_org
    wizard = state.connected_apps[state.app_keys["sfwizard"]]
    admin = _role_user(state, org.key, "admin")
    users = []
    for o in state.orgs.values():
        for u in o.table("User").scan():
            pw = state.passwords.get((o.key, u["Username"].lower()))
            if pw:
                users.append({"org": o.key, "org_name": o.name, "username": u["Username"], "password": pw,
                              "role": _role_of(state, o, u)})
    integ_username = None
    if state.platform is not None:
        integ = state.platform.integration
        u = state.orgs[integ.org_key].user(integ.user_id) if integ.user_id else None
        integ_username = u["Username"] if u else None
    elif state.skilljar is not None:
        u = state.orgs[state.skilljar.org_key].user(state.skilljar.user_id)
        integ_username = u["Username"] if u else None
    return {
        "instance_url": base, "login_url": base, "ca_cert": str(certs.ca_cert),
        "client_id": wizard.client_id, "client_secret": wizard.client_secret,
        "username": admin["Username"], "password": state.passwords[(org.key, admin["Username"].lower())],
        "px_api_url": base + "/px/v1", "px_api_key": state.px_api_key, "status_url": base + "/status",
        "admin_url": base + "/", "scenario": state.scenario_name, "profile": state.profile, "org_id": org.id,
        "api_version": state.api_version, "integration_username": integ_username, "users": users,
        "declared_egress": security_block.declared_egress(state),
    }


def _role_user(state: SandboxState, org_key: str, role: str) -> dict[str, Any]:
    org = state.orgs[org_key]
    for u in org.table("User").scan():
        if _role_of(state, org, u) == role:
            return u
    return next(iter(org.table("User").scan()))


def _role_of(state: SandboxState, org: Org, user: dict[str, Any]) -> str:
    """The scenario's role key (admin, integration, rep…); for states built in code, a guess from access."""
    role = state.user_roles.get((org.key, user["Id"]))
    if role:
        return role
    access = org.access(user["Id"])
    if access.modify_all:
        return "admin"
    return "integration" if access.api_enabled else "user"
