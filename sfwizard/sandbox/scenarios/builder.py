"""Build sandbox state in code: orgs, profiles, permission sets, users, connected apps.

The scenario loader turns YAML into these calls; tests may call them directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.salesforce.schema import SKILLJAR_OBJECTS, custom_object, standard_objects
from sfwizard.sandbox.salesforce.security import extend_standard
from sfwizard.sandbox.salesforce.store import ConnectedApp, FieldDef, Org, Record, Table, system_fields
from sfwizard.sandbox.state import SandboxState

_PODS = ("5g", "8a", "3k", "7q", "9x")
SKILLJAR_PACKAGE_VERSION = "1.42.0.3"  # the sandbox's default: Skilljar publishes no version numbers
TIME_ZONE = "America/Los_Angeles"  # an org's TimeZoneSidKey unless the scenario says otherwise



def stamp(state: SandboxState, record: Record, created: datetime | None = None,
          modified: datetime | None = None, by: str | None = None) -> Record:
    """System fields for a scenario's record: created 400 days before load unless said otherwise."""
    return system_fields(record, created or state.loaded_at - timedelta(days=400), modified, by)

def new_state(name: str = "custom", seed: int = 1, profile: str = "gainsight-px") -> SandboxState:
    state = SandboxState()
    state.scenario_name = name
    state.seed = seed
    state.profile = profile
    state.px_api_key = secrets.token_urlsafe(24)
    return state


def add_org(state: SandboxState, key: str, name: str, *, instance_name: str = "USA612",
            is_sandbox: bool = False, organization_type: str = "Enterprise Edition",
            api_max: int = 100_000, api_used: int = 0, password_expiry_days: int | None = 90,
            skilljar_package: bool = False, org_id: str | None = None, my_domain: str = "",
            pod: str | None = None, skilljar_package_version: str = SKILLJAR_PACKAGE_VERSION,
            skilljar_package_latest: str | None = None, time_zone: str = TIME_ZONE) -> Org:
    """An org with the standard objects. ``pod`` is the instance characters of its record Ids: a full-copy
    sandbox shares production's, so every copied record keeps its production Id (as Salesforce copies do)."""
    index = len(state.orgs)
    pod = pod or _PODS[index % len(_PODS)]
    org = Org(key, org_id or ids.make_id("00D", 1_000_000 + index * 7919, pod=_PODS[index % len(_PODS)]), name,
              instance_name=instance_name, is_sandbox=is_sandbox, organization_type=organization_type,
              api_max=api_max, api_used=api_used, password_expiry_days=password_expiry_days, my_domain=my_domain,
              pod=pod)
    for sobject in extend_standard(standard_objects()):  # with what a security review reads (issue 22)
        org.add_sobject(sobject)
    if skilljar_package:
        for obj_name, (prefix, label, fields) in SKILLJAR_OBJECTS.items():
            org.add_sobject(custom_object(obj_name, label, prefix, list(fields)))
        org.installed_packages.append({"namespace": "skilljar", "name": "Skilljar",
                                       "version": skilljar_package_version,
                                       **({"latest": skilljar_package_latest} if skilljar_package_latest else {})})
    org.time_zone = time_zone
    stamp(state, org.table("Organization").insert({
        "Id": org.id, "Name": name, "IsSandbox": is_sandbox, "InstanceName": instance_name,
        "OrganizationType": organization_type, "PrimaryContact": None, "Country": "US",
        "DefaultLocaleSidKey": "en_US", "TimeZoneSidKey": time_zone,
        "LanguageLocaleKey": "en_US", "TrialExpirationDate": None, "NamespacePrefix": None,
    }))
    state.orgs[key] = org
    if not state.default_org_key:
        state.default_org_key = key
    return org


def add_custom_object(org: Org, name: str, label: str, prefix: str, fields: Iterable[FieldDef]) -> Table:
    return org.add_sobject(custom_object(name, label, prefix, list(fields)))


def add_field(org: Org, sobject_name: str, f: FieldDef) -> None:
    org.table(sobject_name).sobject.add_field(f)


def _perm_flags(api_enabled: bool, modify_all: bool, view_all: bool, view_setup: bool,
                manage_users: bool, approve_uninstalled: bool, password_never_expires: bool = False) -> dict[str, bool]:
    return {
        "PermissionsApiEnabled": api_enabled, "PermissionsModifyAllData": modify_all,
        "PermissionsViewAllData": view_all or modify_all, "PermissionsViewSetup": view_setup or modify_all,
        "PermissionsManageUsers": manage_users or modify_all,
        "PermissionsApproveUninstalledApps": approve_uninstalled,
        "PermissionsPasswordNeverExpires": password_never_expires,
    }


def _grant(state: SandboxState, org: Org, ps_id: str, objects: dict[str, Iterable[str]],
           fields: dict[str, Iterable[str]]) -> None:
    for sobject_name, perms in objects.items():
        p = {x.lower() for x in perms}
        stamp(state, org.table("ObjectPermissions").insert({
            "ParentId": ps_id, "SobjectType": sobject_name,
            "PermissionsRead": "read" in p or bool(p), "PermissionsCreate": "create" in p,
            "PermissionsEdit": "edit" in p, "PermissionsDelete": "delete" in p,
            "PermissionsViewAllRecords": "view_all" in p, "PermissionsModifyAllRecords": "modify_all" in p,
        }))
    for field_name, perms in fields.items():
        p = {x.lower() for x in perms}
        stamp(state, org.table("FieldPermissions").insert({
            "ParentId": ps_id, "SobjectType": field_name.split(".", 1)[0], "Field": field_name,
            "PermissionsRead": "read" in p or "edit" in p, "PermissionsEdit": "edit" in p,
        }))
    org.invalidate_access()


def add_profile(state: SandboxState, org: Org, name: str, *, api_enabled: bool = True,
                modify_all: bool = False, view_all: bool = False, view_setup: bool = False,
                manage_users: bool = False, approve_uninstalled: bool = False, password_never_expires: bool = False,
                objects: dict[str, Iterable[str]] | None = None,
                fields: dict[str, Iterable[str]] | None = None,
                password_expiry_days: int | None = None) -> Record:
    """A profile and the permission set it owns (as real orgs model it).

    ``password_expiry_days`` is the profile's own password policy (ProfilePasswordPolicy, 0 = never);
    None leaves the profile on the org-wide policy.
    """
    flags = _perm_flags(api_enabled, modify_all, view_all, view_setup, manage_users, approve_uninstalled,
                        password_never_expires)
    profile = stamp(state, org.table("Profile").insert({"Name": name, "UserType": "Standard",
                                                         "UserLicenseId": None, "Description": None, **flags}))
    ps = stamp(state, org.table("PermissionSet").insert({
        "Name": "X00e" + profile["Id"][3:15], "Label": "00e" + profile["Id"][3:15], "IsOwnedByProfile": True,
        "ProfileId": profile["Id"], "Description": None, **flags}))
    _grant(state, org, ps["Id"], objects or {}, fields or {})
    if password_expiry_days is not None:
        org.profile_password_policies[profile["Id"]] = password_expiry_days
    return profile


def add_permission_set(state: SandboxState, org: Org, label: str, *, api_name: str | None = None,
                       api_enabled: bool = False, modify_all: bool = False, view_all: bool = False,
                       view_setup: bool = False, manage_users: bool = False,
                       approve_uninstalled: bool = False, password_never_expires: bool = False,
                       objects: dict[str, Iterable[str]] | None = None,
                       fields: dict[str, Iterable[str]] | None = None) -> Record:
    flags = _perm_flags(api_enabled, modify_all, view_all, view_setup, manage_users, approve_uninstalled,
                        password_never_expires)
    ps = stamp(state, org.table("PermissionSet").insert({
        "Name": api_name or "".join(ch if ch.isalnum() else "_" for ch in label), "Label": label,
        "IsOwnedByProfile": False, "ProfileId": None, "Description": None, **flags}))
    _grant(state, org, ps["Id"], objects or {}, fields or {})
    return ps


def _profile_by_name(org: Org, name: str) -> Record:
    for p in org.table("Profile").scan():
        if p["Name"].lower() == name.lower():
            return p
    raise KeyError(f"no profile named {name!r}")


def _ps_by_label(org: Org, label: str) -> Record:
    for ps in org.table("PermissionSet").scan():
        if not ps["IsOwnedByProfile"] and label.lower() in (ps["Label"].lower(), ps["Name"].lower()):
            return ps
    raise KeyError(f"no permission set named {label!r}")


def add_user(state: SandboxState, org: Org, username: str, *, first_name: str, last_name: str,
             email: str | None = None, profile: str, permission_sets: Iterable[str] = (),
             active: bool = True, password_changed: datetime | None = None,
             last_login: datetime | None = None, title: str | None = None,
             password: str | None = None, time_zone: str | None = None, password_expired: bool = False,
             locked: bool = False, frozen: bool = False) -> Record:
    """A user; the password (made fresh each start unless given) lives only in memory.

    ``password_expired``: its policy expired the password (its API calls answer
    INVALID_OPERATION_WITH_EXPIRED_PASSWORD); ``locked`` and ``frozen`` are its UserLogin row's IsPasswordLocked
    and IsFrozen (logins refused)."""
    prof = _profile_by_name(org, profile)
    user = stamp(state, org.table("User").insert({
        "Username": username, "FirstName": first_name, "LastName": last_name,
        "Name": f"{first_name} {last_name}".strip(), "Email": email or username.split("@")[0] + "@example.com",
        "Alias": (first_name[:1] + last_name[:4]).lower(), "IsActive": active, "ProfileId": prof["Id"],
        "UserType": "Standard", "LastLoginDate": last_login, "Title": title,
        "LastPasswordChangeDate": password_changed or state.loaded_at - timedelta(days=30),
        "TimeZoneSidKey": time_zone or org.time_zone, "CompanyName": org.name,
    }))
    stamp(state, org.table("UserLogin").insert({"UserId": user["Id"], "IsFrozen": frozen,
                                                "IsPasswordLocked": locked}))
    if password_expired:
        org.expired_passwords.add(user["Id"])
    # Every user also holds the profile's own permission set, as PermissionSetAssignment shows it.
    owned = next(ps for ps in org.table("PermissionSet").scan()
                 if ps["IsOwnedByProfile"] and ps["ProfileId"] == prof["Id"])
    stamp(state, org.table("PermissionSetAssignment").insert(
        {"AssigneeId": user["Id"], "PermissionSetId": owned["Id"], "ExpirationDate": None}))
    for label in permission_sets:
        stamp(state, org.table("PermissionSetAssignment").insert(
            {"AssigneeId": user["Id"], "PermissionSetId": _ps_by_label(org, label)["Id"], "ExpirationDate": None}))
    org.invalidate_access()
    state.passwords[(org.key, username.lower())] = password or secrets.token_urlsafe(12)
    return user


def add_connected_app(state: SandboxState, name: str, *, client_id: str | None = None,
                      rotate_refresh_tokens: bool = False, installed_in: Iterable[str] = (),
                      device_flow: bool = True, redirect_uris: Iterable[str] = ()) -> ConnectedApp:
    """An OAuth client. Its client secret is made fresh at each start and never stored."""
    app = ConnectedApp(
        name=name,
        client_id=client_id or "3MVG9" + secrets.token_urlsafe(40).replace("-", "A").replace("_", "b"),
        client_secret=secrets.token_hex(32).upper(),
        rotate_refresh_tokens=rotate_refresh_tokens, installed_in=set(installed_in),
        device_flow=device_flow, redirect_uris=tuple(redirect_uris),
    )
    state.connected_apps[app.client_id] = app
    return app


def insert(state: SandboxState, org: Org, sobject_name: str, values: dict[str, Any],
           created: datetime | None = None, modified: datetime | None = None, owner: str | None = None) -> Record:
    table = org.table(sobject_name)
    record = dict(values)
    if "OwnerId" in table.sobject.fields and owner:
        record.setdefault("OwnerId", owner)
    return table.insert(stamp(state, record, created, modified, by=owner))
