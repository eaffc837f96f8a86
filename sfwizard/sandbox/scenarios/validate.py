"""What the schema language cannot say about a scenario, said with ``file:line:column`` all the same.

``loader.SCENARIO`` checks each value on its own; this module checks what needs the whole file or the
built schema: names that refer to other parts (orgs, users, apps, status components), times that must
follow one another (no write by the integration user after its token died), explicit records against
their object's fields, and the parent fields a record generator copies from explicit records.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any

from sfwizard import ids
from sfwizard import yamlspec as y
from sfwizard.errors import SfwizardError
from sfwizard.sandbox.salesforce.store import FieldDef, Org, SObjectDef

# What each generator copies from the explicit parent record it hangs a generated child on.
GENERATOR_NEEDS = {"Contact": ("Name", "BillingCity", "BillingCountry")}
# Fields a scenario's explicit record may set although the API cannot (the record's history).
_SYSTEM = {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp", "CreatedById", "LastModifiedById",
           "OwnerId", "IsDeleted"}
_TEXT = {"string", "textarea", "picklist", "multipicklist", "email", "phone", "url", "combobox"}


@dataclass(frozen=True)
class Doc:
    """The merged YAML (with its marks) of one scenario: where each part of it stands in the file."""

    raw: Any
    display: str
    now: datetime

    def at(self, *path: str | int) -> y.Where:
        mark = getattr(self.raw, "mark", (1, 1))
        where = y.Where(self.display, mark[0], mark[1], "", self.now)
        node = self.raw
        for part in path:
            if isinstance(part, int):
                where = where.at_item(node, part)
                node = node[part] if isinstance(node, list) and part < len(node) else None
            else:
                where = where.at_key(node, part)
                node = node.get(part) if isinstance(node, dict) else None
        return where

    def error(self, path: tuple[str | int, ...], message: str) -> SfwizardError:
        return self.at(*path).error(message)


def _near(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _one_of(name: str, choices: list[str], what: str, where: str = "") -> str:
    listed = ", ".join(sorted(choices)[:12]) or "none"
    place = f" in {where}" if where else ""
    return f"unknown {what} {name!r}{place}{_near(name, choices)}; known: {listed}"


# -- references and times ------------------------------------------------------------------------------

def check_references(doc: Doc, s: dict[str, Any]) -> None:
    """Every name that points at another part of the file exists; every time follows what it must."""
    orgs: dict[str, Any] = s.get("orgs") or {}
    apps: dict[str, Any] = s.get("connected_apps") or {}
    for org_key, o in orgs.items():
        profiles = list(o.get("profiles") or {})
        psets = {p.get("label", k).lower() for k, p in (o.get("permission_sets") or {}).items()} | \
            {k.lower() for k in (o.get("permission_sets") or {})} | {k.replace(" ", "_").lower()
                                                                    for k in (o.get("permission_sets") or {})}
        users = o.get("users") or {}
        for role, u in users.items():
            if u["profile"].lower() not in {p.lower() for p in profiles}:
                raise doc.error(("orgs", org_key, "users", role, "profile"),
                                _one_of(u["profile"], profiles, "profile", f"org {org_key}"))
            for i, ps in enumerate(u.get("permission_sets") or []):
                if ps.lower() not in psets:
                    raise doc.error(("orgs", org_key, "users", role, "permission_sets", i),
                                    _one_of(ps, list(o.get("permission_sets") or {}),
                                            "permission set", f"org {org_key}"))
        for i, entry in enumerate(o.get("login_history") or []):
            if entry["user"] not in users:
                raise doc.error(("orgs", org_key, "login_history", i, "user"),
                                _one_of(entry["user"], list(users), "user key", f"org {org_key}"))
            if entry.get("app") and entry["app"] not in apps:
                raise doc.error(("orgs", org_key, "login_history", i, "app"),
                                _one_of(entry["app"], list(apps), "connected app key"))
    for key, a in apps.items():
        for i, org_key in enumerate(a.get("installed_in") or []):
            if org_key not in orgs:
                raise doc.error(("connected_apps", key, "installed_in", i), _one_of(org_key, list(orgs), "org"))
    for part in ("platform", "skilljar"):
        p = s.get(part)
        if not p:
            continue
        _user_ref(doc, orgs, (part,), p["org"], p["integration_user"], "integration_user")
        if p["connected_app"] not in apps:
            raise doc.error((part, "connected_app"), _one_of(p["connected_app"], list(apps), "connected app key"))
    session = (s.get("login") or {}).get("remembered_session")
    if session:
        org_key, _, role = session.partition(".")
        if org_key not in orgs or role not in (orgs[org_key].get("users") or {}):
            raise doc.error(("login", "remembered_session"),
                            f"expected ORG.USER (an org key and one of its user keys); got {y.show(session)}")
    platform = s.get("platform")
    if platform and platform.get("authorized_in"):
        auth = platform["authorized_in"]
        _user_ref(doc, orgs, ("platform", "authorized_in"), auth["org"], auth["user"], "user")
    _check_times(doc, s)
    _check_status_page(doc, s.get("status_page") or {})
    for org_key, o in orgs.items():
        _check_passwords(doc, org_key, o)
        if o.get("sandbox_type") and not o.get("is_sandbox"):
            raise doc.error(("orgs", org_key, "sandbox_type"), "only a sandbox has a sandbox type (is_sandbox: true, "
                                                               "or copy_of: the production org it copies)")
        if o.get("copied_records") is not None and o.get("sandbox_type") != "partial":
            raise doc.error(("orgs", org_key, "copied_records"), "copied_records is how many records a partial "
                                                                 "copy samples an object: give sandbox_type: partial")


def password_policy_days(o: dict[str, Any], u: dict[str, Any]) -> int | None:
    """How many days the user's password lives (None: never), as Salesforce decides it: "Password Never
    Expires" on the profile or an assigned permission set, else the profile's own policy, else the org's."""
    profiles = {k.lower(): p for k, p in (o.get("profiles") or {}).items()}
    psets = {k.lower(): p for k, p in (o.get("permission_sets") or {}).items()}
    psets.update({(p.get("label") or k).lower(): p for k, p in (o.get("permission_sets") or {}).items()})
    profile = profiles.get(u["profile"].lower()) or {}
    if profile.get("password_never_expires") or any(
            (psets.get(name.lower()) or {}).get("password_never_expires") for name in u.get("permission_sets") or []):
        return None
    days = profile.get("password_expiry_days", o.get("password_expiry_days", 90))
    return days or None


def _check_passwords(doc: Doc, org_key: str, o: dict[str, Any]) -> None:
    """An expired password is one its policy expired: refused where the policy never expires it, or where the
    password is younger than the policy (Salesforce expires a password only once it is that old)."""
    now = doc.now
    for role, u in (o.get("users") or {}).items():
        if not u.get("password_expired"):
            continue
        days = password_policy_days(o, u)
        where = ("orgs", org_key, "users", role, "password_expired")
        if days is None:
            raise doc.error(where, f"{u['username']}'s password never expires (Password Never Expires, or a policy "
                                   "of Never): Salesforce cannot have expired it")
        changed = u.get("password_changed")
        if changed is not None and (now - changed).days < days:
            raise doc.error(("orgs", org_key, "users", role, "password_changed"),
                            f"{u['username']}'s password is {(now - changed).days} days old: a {days}-day policy "
                            "has not expired it yet (make it older, or drop password_expired)")


def _user_ref(doc: Doc, orgs: dict[str, Any], path: tuple[str, ...], org_key: str, role: str, key: str) -> None:
    if org_key not in orgs:
        raise doc.error((*path, "org"), _one_of(org_key, list(orgs), "org"))
    users = orgs[org_key].get("users") or {}
    if role not in users:
        raise doc.error((*path, key), _one_of(role, list(users), "user key", f"org {org_key}"))


def _check_times(doc: Doc, s: dict[str, Any]) -> None:
    """A sync cannot succeed after the token died, nor a Reconnect come before the disconnect."""
    p = s.get("platform") or {}
    auth = p.get("authorized_in")
    synced_after_auth = auth and p.get("last_success") and p["last_success"] >= auth["at"]
    if p.get("disconnected") and p.get("last_success") and p["last_success"] > p["disconnected"] \
            and not synced_after_auth:
        raise doc.error(("platform", "last_success"),
                        "the last successful sync is after the disconnect: a sync cannot succeed once the token "
                        "died (make last_success the disconnect time or earlier, or after a new authorization: "
                        "platform.authorized_in)")
    if auth and p.get("disconnected") and auth["at"] < p["disconnected"]:
        raise doc.error(("platform", "authorized_in", "at"), "the new authorization is before the disconnect")
    sj = s.get("skilljar") or {}
    if sj.get("disconnected") and sj.get("last_sync") and sj["last_sync"] > sj["disconnected"]:
        raise doc.error(("skilljar", "last_sync"),
                        "the Last Sync Date is after the disconnect: nothing syncs once the connection is down "
                        "(the disconnect can be later than the last sync, not earlier)")
    if sj.get("reconnected"):
        if not sj.get("disconnected"):
            raise doc.error(("skilljar", "reconnected"),
                            "a Reconnect needs a disconnect before it (skilljar.disconnected)")
        if sj["reconnected"] < sj["disconnected"]:
            raise doc.error(("skilljar", "reconnected"), "the Reconnect is before the disconnect")


def _check_status_page(doc: Doc, sp: dict[str, Any]) -> None:
    names = [c["name"] for c in sp.get("components") or []]
    for kind in ("incidents", "maintenances"):
        for i, item in enumerate(sp.get(kind) or []):
            for j, comp in enumerate(item.get("components") or []):
                if comp not in names:
                    raise doc.error(("status_page", kind, i, "components", j),
                                    _one_of(comp, names, "status page component"))
    for i, m in enumerate(sp.get("maintenances") or []):
        if m["scheduled_until"] <= m["scheduled_for"]:
            raise doc.error(("status_page", "maintenances", i, "scheduled_until"),
                            "the maintenance ends before it starts")


def dead_windows(s: dict[str, Any]) -> dict[tuple[str, str], list[tuple[datetime, datetime | None]]]:
    """(org key, user key) → the spans when that integration user held no live token: no write of theirs
    can fall inside one (a span ends at the next authorization, or never)."""
    out: dict[tuple[str, str], list[tuple[datetime, datetime | None]]] = {}
    p = s.get("platform") or {}
    if p.get("disconnected"):
        auth = p.get("authorized_in")
        again = auth["at"] if auth and (auth["org"], auth["user"]) == (p["org"], p["integration_user"]) else None
        out.setdefault((p["org"], p["integration_user"]), []).append((p["disconnected"], again))
    sj = s.get("skilljar") or {}
    if sj.get("disconnected"):
        out.setdefault((sj["org"], sj["integration_user"]), []).append((sj["disconnected"], sj.get("reconnected")))
    return out


# -- explicit records -------------------------------------------------------------------------------------

def check_records(doc: Doc, org_key: str, org: Org, records: dict[str, Any], users: dict[str, str],
                  dead: dict[tuple[str, str], list[tuple[datetime, datetime | None]]]) -> dict[str, list[dict]]:
    """Explicit records, each field checked against its object and converted (relative times, user keys).

    ``users`` maps this org's user keys to their Ids (a User reference may name a user key). Returns
    object → records ready to insert. Generated counts are left to the generators.
    """
    out: dict[str, list[dict]] = {}
    for obj, spec in records.items():
        base = ("orgs", org_key, "records", obj)
        sobject = org.sobject(obj)
        if sobject is None:
            raise doc.error(base[:-1] + (obj,), _one_of(obj, sorted(org.schema), "object", f"org {org_key}"))
        if isinstance(spec, dict):
            continue
        out[sobject.name] = [_record(doc, base + (i,), sobject, rec, users, dead, org_key)
                             for i, rec in enumerate(spec)]
    for child, needs in GENERATOR_NEEDS.items():
        generated = next((spec for obj, spec in records.items() if obj.lower() == child.lower()
                          and isinstance(spec, dict) and spec.get("generate")), None)
        parents = next(((obj, spec) for obj, spec in records.items() if obj.lower() == "account"
                        and isinstance(spec, list)), None)
        if generated is None or parents is None:
            continue
        for i, rec in enumerate(parents[1]):
            missing = [n for n in needs if rec.get(n) in (None, "")]
            if missing:
                raise doc.error(("orgs", org_key, "records", parents[0], i),
                                f"generating {child} records needs {', '.join(missing)} on every explicit Account: "
                                f"each generated {child} copies its Account's {', '.join(needs)}; add "
                                f"{' and '.join(missing)} to this record, or generate the Accounts")
    return out


def _record(doc: Doc, path: tuple[str | int, ...], sobject: SObjectDef, rec: Any, users: dict[str, str],
            dead: dict[tuple[str, str], list[tuple[datetime, datetime | None]]], org_key: str) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise doc.error(path, f"expected a record (a mapping of {sobject.name} fields to values)")
    out: dict[str, Any] = {}
    names = list(sobject.fields)
    for name, value in rec.items():
        f = sobject.field(str(name))
        if f is None or (not f.createable and f.name not in _SYSTEM and not f.name_field):
            why = "is read-only" if f is not None else "does not exist"
            raise doc.error((*path, name), f"field {name!r} {why} on {sobject.name}{_near(str(name), names)}")
        out[f.name] = _value(doc.at(*path, name), sobject, f, value, users)
    for f in sobject.fields.values():
        if (not f.nillable and f.createable and f.name not in out and f.name not in _SYSTEM
                and f.type not in ("boolean", "id")):
            raise doc.error(path, f"missing required field {f.name!r} of {sobject.name}")
    writer = rec.get("LastModifiedById")
    written = out.get("LastModifiedDate")
    if isinstance(writer, str) and isinstance(written, datetime):
        for start, end in dead.get((org_key, writer), []):
            if written > start and (end is None or written < end):
                raise doc.error((*path, "LastModifiedDate"),
                                f"a write by {writer!r} after its token died ({start:%Y-%m-%d %H:%M} UTC): no "
                                "integration can write without a live token")
    return out


def _value(where: y.Where, sobject: SObjectDef, f: FieldDef, value: Any, users: dict[str, str]) -> Any:
    t = f.type
    if value is None:
        if not f.nillable:
            raise where.error(f"{sobject.name}.{f.name} cannot be empty")
        return None
    if t == "boolean":
        return y.Bool().check(value, where)
    if t == "int":
        return y.Int().check(value, where)
    if t in ("double", "currency", "percent"):
        return float(y.Float().check(value, where))
    if t in ("date", "datetime"):
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(0), tzinfo=timezone.utc)
        when = y.RelTime().check(value, where)
        return when.date() if t == "date" else when
    if t in ("reference", "id"):
        if isinstance(value, str) and value in users and ("User" in f.reference_to or f.name.endswith("ById")
                                                          or f.name == "OwnerId"):
            return users[value]
        if not isinstance(value, str) or not ids.is_valid(value):
            hint = f" or one of this org's user keys ({', '.join(sorted(users))})" if users else ""
            raise where.error(f"expected a record Id{hint}; got {y.show(value)}")
        return ids.to18(value)
    if isinstance(value, bool):  # YAML 1.1 reads NO, yes, on and off as booleans
        raise where.error(f"expected text for {sobject.name}.{f.name} ({t}); got a boolean (YAML reads NO, yes, "
                          "on and off as true/false: quote the value)")
    if not isinstance(value, (str, int, float)):
        raise where.error(f"expected text for {sobject.name}.{f.name} ({t}); got {y.kind_of(value)}")
    text = str(value)
    if f.length and t in _TEXT and len(text) > f.length:
        raise where.error(f"{sobject.name}.{f.name} holds at most {f.length} characters; this has {len(text)}")
    return text
