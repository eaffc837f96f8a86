"""What a Salesforce admin changes in Setup to make one integration harder to abuse, done to the sandbox's org.

The sandbox's admin pages (``sandbox.admin.security``) call these: who may use a connected app (admin-approved
users only, through profiles and permission sets), its refresh token policy, a profile's login IP ranges, an
integration user with API Only User (and a profile of its own), and a permission set deployed from the
metadata XML sfwizard writes — assigned to the integration user, replacing its other sets if asked. Each
change leaves a Setup Audit Trail row by the org's admin, as Setup does.

Plain functions over ``SandboxState``; callers hold ``state.lock``. A change Salesforce would refuse raises
``Refused`` with a reason a person can act on.
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ET
from typing import Any

from sfwizard.sandbox.integration import Refused
from sfwizard.sandbox.salesforce import security as sec
from sfwizard.sandbox.salesforce.store import Org, Record, system_fields
from sfwizard.sandbox.state import SandboxState

MD = "{http://soap.sforce.com/2006/04/metadata}"
MAX_XML = 512 * 1024
# Metadata API userPermissions names → the PermissionSet fields they set.
USER_PERMISSIONS = {"ApiEnabled": "PermissionsApiEnabled", "ApiUserOnly": "PermissionsApiUserOnly",
                    "ModifyAllData": "PermissionsModifyAllData", "ViewAllData": "PermissionsViewAllData",
                    "ViewSetup": "PermissionsViewSetup", "ManageUsers": "PermissionsManageUsers",
                    "CustomizeApplication": "PermissionsCustomizeApplication",
                    "ViewEventLogFiles": "PermissionsViewEventLogFiles",
                    "PasswordNeverExpires": "PermissionsPasswordNeverExpires",
                    "ApproveUninstalledApps": "PermissionsApproveUninstalledApps"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")


# -- finding things -----------------------------------------------------------------------------------------------

def org_of(state: SandboxState, key: str | None) -> Org:
    if key:
        if key not in state.orgs:
            raise Refused(404, "not_found", f"no org {key!r} (known: {', '.join(state.orgs)})")
        return state.orgs[key]
    platform = state.platform or state.skilljar
    return state.orgs.get(getattr(platform, "org_key", "") or "", state.default_org)


def admin_of(state: SandboxState, org: Org) -> str | None:
    """Who the changes are made as: the scenario's admin, else the first user with Modify All Data."""
    for (key, uid), role in state.user_roles.items():
        if key == org.key and role == "admin":
            return uid
    for u in org.table("User").scan():
        if org.access(u["Id"]).modify_all:
            return str(u["Id"])
    return None


def user_by_username(org: Org, username: str) -> Record:
    user = org.user_by_username(username or "")
    if user is None:
        raise Refused(404, "not_found", f"no user {username!r} in {org.name}")
    return user


def _app(state: SandboxState, org: Org, name: str) -> Record:
    for app in state.connected_apps.values():
        if app.name == name and org.key in app.installed_in:
            return sec.ensure_app_row(state, org, app)
    row = sec.app_row(org, name or "")
    if row is None:
        known = [r["Name"] for r in org.table("ConnectedApplication").scan()]
        raise Refused(404, "not_found",
                      f"no connected app {name!r} installed in {org.name} (known: {', '.join(known)})")
    return row


def _sets_named(org: Org, name: str) -> list[Record]:
    """A profile's own permission set, or a permission set by API name or label."""
    profile = next((p for p in org.table("Profile").scan() if p["Name"].lower() == name.lower()), None)
    out = []
    for ps in org.table("PermissionSet").scan():
        if profile is not None and ps.get("IsOwnedByProfile") and ps.get("ProfileId") == profile["Id"]:
            out.append(ps)
        elif not ps.get("IsOwnedByProfile") and name.lower() in (ps["Name"].lower(), ps["Label"].lower()):
            out.append(ps)
    if not out:
        raise Refused(400, "bad_request", f"no profile or permission set named {name!r} in {org.name}")
    return out


def _stamp(state: SandboxState, record: Record, by: str | None) -> Record:
    return system_fields(record, state.now(), by=by)


# -- who may use a connected app ----------------------------------------------------------------------------------

def set_app_access(state: SandboxState, org: Org, app_name: str, admin_approved: bool, approved: list[str]) -> Record:
    """Permitted Users: "Admin approved users are pre-authorized" (or all users may self-authorize), and the
    profiles and permission sets approved for the app (replacing the ones before)."""
    row = _app(state, org, app_name)
    by = admin_of(state, org)
    sets = [ps for name in approved for ps in _sets_named(org, name)]
    table = org.table("SetupEntityAccess")
    for sea in list(table.scan()):
        if sea["SetupEntityId"] == row["Id"]:
            table.delete(sea["Id"])
    for ps in sets:
        table.insert(_stamp(state, {"ParentId": ps["Id"], "SetupEntityId": row["Id"],
                                    "SetupEntityType": "ConnectedApplication"}, by))
    row["OptionsAllowAdminApprovedUsersOnly"] = bool(admin_approved)
    row["LastModifiedDate"] = row["SystemModstamp"] = state.now()
    who = "Admin approved users are pre-authorized" if admin_approved else "All users may self-authorize"
    sec.audit(state, org, by, "changedConnAppPolicies", "Connected Apps",
              f"Changed the OAuth policy of connected app {row['Name']}: Permitted Users: {who}; approved: "
              + (", ".join(ps["Label"] for ps in sets) or "none"))
    return row


def set_refresh_policy(state: SandboxState, org: Org, app_name: str, policy: str, period: int | None,
                       unit: str = "days") -> Record:
    if policy not in ("until_revoked", "expire_after", "expire_if_unused"):
        raise Refused(400, "bad_request", "policy is until_revoked, expire_after or expire_if_unused")
    if unit not in sec.REFRESH_UNITS:
        raise Refused(400, "bad_request", f"unit is one of {', '.join(sec.REFRESH_UNITS)}")
    if policy != "until_revoked" and (not isinstance(period, int) or isinstance(period, bool) or period < 1):
        raise Refused(400, "bad_request", f"the {policy} policy needs a period of 1 or more {unit}")
    row = _app(state, org, app_name)
    sec.set_refresh_policy(state, row, policy, period, unit)
    words = {"until_revoked": "valid until revoked", "expire_after": f"expires after {period} {unit}",
             "expire_if_unused": f"expires if not used for {period} {unit}"}[policy]
    sec.audit(state, org, admin_of(state, org), "changedConnAppPolicies", "Connected Apps",
              f"Changed the refresh token policy of connected app {row['Name']}: {words}")
    return row


# -- login IP ranges --------------------------------------------------------------------------------------------

def parse_range(value: Any) -> tuple[str, str, str | None]:
    """``a.b.c.d/nn``, ``start-end``, one address, or ``{start, end, description}``."""
    description = None
    try:
        if isinstance(value, dict):
            start, end = str(ipaddress.ip_address(str(value.get("start", "")).strip())), \
                str(ipaddress.ip_address(str(value.get("end", "")).strip()))
            description = value.get("description")
        else:
            text = str(value).strip()
            if "/" in text:
                net = ipaddress.ip_network(text, strict=False)
                start, end = str(net.network_address), str(net.broadcast_address)
            elif "-" in text and ":" not in text:
                a, _, b = text.partition("-")
                start, end = str(ipaddress.ip_address(a.strip())), str(ipaddress.ip_address(b.strip()))
            else:
                start = end = str(ipaddress.ip_address(text))
    except ValueError:
        raise Refused(400, "bad_request", f"not an IP range: {str(value)[:60]!r} (use 34.201.12.0/24 or a-b)") from None
    lo, hi = ipaddress.ip_address(start), ipaddress.ip_address(end)
    if lo.version != hi.version:
        raise Refused(400, "bad_request", f"the range mixes IPv4 and IPv6: {start} – {end}")
    if hi < lo:  # type: ignore[operator]
        raise Refused(400, "bad_request", f"the range's end {end} comes before its start {start}")
    return start, end, description


def set_login_ip_ranges(state: SandboxState, org: Org, profile_name: str, ranges: list[Any]) -> list[Record]:
    """The profile's Login IP Ranges, replacing the ones before (none: no restriction)."""
    profile = next((p for p in org.table("Profile").scan() if p["Name"].lower() == (profile_name or "").lower()), None)
    if profile is None:
        raise Refused(404, "not_found", f"no profile {profile_name!r} in {org.name}")
    parsed = [parse_range(r) for r in ranges]
    by = admin_of(state, org)
    table = org.table("LoginIpRange")
    for r in list(table.scan()):
        if r["ProfileId"] == profile["Id"]:
            table.delete(r["Id"])
    rows = [table.insert(_stamp(state, {"ProfileId": profile["Id"], "StartAddress": a, "EndAddress": b,
                                        "Description": d}, by)) for a, b, d in parsed]
    sec.audit(state, org, by, "profileLoginIpRangesChanged", "Manage Users",
              f"Changed login IP ranges for profile {profile['Name']}: "
              + (", ".join(f"{a} – {b}" for a, b, _ in parsed) or "none"))
    return rows


# -- an API-only integration user ---------------------------------------------------------------------------------

API_ONLY_SET = "Integration_API_Only"


def make_api_only(state: SandboxState, org: Org, username: str, profile_name: str | None = None) -> Record:
    """API Only User for the integration user (a permission set of that name, assigned), and, when asked, a
    profile of its own for it (the user moves to that profile)."""
    user = user_by_username(org, username)
    by = admin_of(state, org)
    if profile_name:
        profile = next((p for p in org.table("Profile").scan() if p["Name"].lower() == profile_name.lower()), None)
        if profile is None:
            raise Refused(404, "not_found", f"no profile {profile_name!r} in {org.name}")
        if profile["Id"] != user["ProfileId"]:
            _move_profile(state, org, user, profile, by)
    ps = next((p for p in org.table("PermissionSet").scan() if p["Name"] == API_ONLY_SET), None)
    if ps is None:
        ps = org.table("PermissionSet").insert(_stamp(state, {
            "Name": API_ONLY_SET, "Label": "Integration API Only", "IsOwnedByProfile": False, "ProfileId": None,
            "Description": "API Only User: no login to the Salesforce UI", "PermissionsApiUserOnly": True,
            "PermissionsApiEnabled": True}, by))
        sec.audit(state, org, by, "PermSetCreate", "Manage Users", f"Created permission set {ps['Label']}")
    _assign(state, org, user, ps, by)
    org.invalidate_access()
    return user


def _move_profile(state: SandboxState, org: Org, user: Record, profile: Record, by: str | None) -> None:
    table = org.table("PermissionSetAssignment")
    owned = {ps["Id"] for ps in org.table("PermissionSet").scan() if ps.get("IsOwnedByProfile")}
    for a in list(table.scan()):
        if a["AssigneeId"] == user["Id"] and a["PermissionSetId"] in owned:
            table.delete(a["Id"])
    new = next(ps for ps in org.table("PermissionSet").scan()
               if ps.get("IsOwnedByProfile") and ps.get("ProfileId") == profile["Id"])
    table.insert(_stamp(state, {"AssigneeId": user["Id"], "PermissionSetId": new["Id"], "ExpirationDate": None}, by))
    old = user["ProfileId"]
    user["ProfileId"] = profile["Id"]
    user["LastModifiedDate"] = user["SystemModstamp"] = state.now()
    old_name = next((p["Name"] for p in org.table("Profile").scan() if p["Id"] == old), old)
    sec.audit(state, org, by, "profileChanged", "Manage Users",
              f"Changed profile for user {user['Username']} from {old_name} to {profile['Name']}")


def _assign(state: SandboxState, org: Org, user: Record, ps: Record, by: str | None) -> None:
    table = org.table("PermissionSetAssignment")
    if any(a["AssigneeId"] == user["Id"] and a["PermissionSetId"] == ps["Id"] for a in table.scan()):
        return
    table.insert(_stamp(state, {"AssigneeId": user["Id"], "PermissionSetId": ps["Id"], "ExpirationDate": None}, by))
    sec.audit(state, org, by, "PermSetAssign", "Manage Users",
              f"Permission set {ps['Label']}: assigned to {user['Username']}")


# -- deploying a permission set from its metadata XML ----------------------------------------------------------------

def _text(el: ET.Element, name: str) -> str | None:
    child = el.find(MD + name)
    return child.text.strip() if child is not None and child.text is not None else None


def _flag(el: ET.Element, name: str) -> bool:
    return (_text(el, name) or "").lower() == "true"


def deploy_permission_set(state: SandboxState, org: Org, name: str, xml: str, *, assign_to: str | None = None,
                          replace: bool = False) -> dict[str, Any]:
    """A PermissionSet's ``.permissionset-meta.xml`` deployed as the Metadata API would: created or replaced
    whole (object, field and user permissions), every object and field checked to exist first. ``assign_to``
    (a username) gets it; ``replace`` takes the user's other permission sets away (not its profile's)."""
    if not _NAME.fullmatch(name or ""):
        raise Refused(400, "bad_request", f"not a permission set API name: {str(name)[:60]!r}")
    if len(xml.encode()) > MAX_XML:
        raise Refused(413, "too_large", "the metadata file is larger than 512 KB")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise Refused(400, "deploy_failed", f"the file is not XML: {exc}") from None
    if root.tag != MD + "PermissionSet":
        raise Refused(400, "deploy_failed", "the file's root element is not a PermissionSet in the metadata namespace")
    problems: list[str] = []
    objects: list[tuple[str, dict[str, bool]]] = []
    for op in root.findall(MD + "objectPermissions"):
        obj = _text(op, "object") or ""
        sobject = org.sobject(obj)
        if sobject is None:
            problems.append(f"In field: object - no CustomObject named {obj} found")
            continue
        objects.append((sobject.name, {k: _flag(op, k) for k in ("allowRead", "allowCreate", "allowEdit",
                                                                 "allowDelete", "viewAllRecords", "modifyAllRecords")}))
    fields: list[tuple[str, str, bool, bool]] = []
    for fp in root.findall(MD + "fieldPermissions"):
        full = _text(fp, "field") or ""
        obj, _, fname = full.partition(".")
        sobject = org.sobject(obj)
        f = sobject.field(fname) if sobject else None
        if sobject is None or f is None:
            problems.append(f"In field: field - no CustomField named {full} found")
            continue
        if not f.nillable and f.createable:
            problems.append(f"You cannot deploy to a required field: {sobject.name}.{f.name}")
            continue
        fields.append((sobject.name, f"{sobject.name}.{f.name}", _flag(fp, "readable") or _flag(fp, "editable"),
                       _flag(fp, "editable")))
    flags: dict[str, bool] = {}
    for up in root.findall(MD + "userPermissions"):
        perm = _text(up, "name") or ""
        if perm not in USER_PERMISSIONS:
            problems.append(f"Unknown user permission: {perm}")
            continue
        flags[USER_PERMISSIONS[perm]] = _flag(up, "enabled")
    if problems:
        raise Refused(400, "deploy_failed", "; ".join(problems[:5]))
    user = user_by_username(org, assign_to) if assign_to else None
    by = admin_of(state, org)
    table = org.table("PermissionSet")
    ps = next((p for p in table.scan() if not p.get("IsOwnedByProfile") and p["Name"] == name), None)
    label = _text(root, "label") or name
    values = {**{f: False for f in USER_PERMISSIONS.values()}, **flags, "Label": label,
              "Description": _text(root, "description")}
    if ps is None:
        ps = table.insert(_stamp(state, {"Name": name, "IsOwnedByProfile": False, "ProfileId": None, **values}, by))
        sec.audit(state, org, by, "PermSetCreate", "Manage Users", f"Created permission set {label}")
    else:
        ps.update(values)
        ps["LastModifiedDate"] = ps["SystemModstamp"] = state.now()
    for child in ("ObjectPermissions", "FieldPermissions"):  # a deploy replaces the set's contents whole
        t = org.table(child)
        for row in list(t.scan()):
            if row["ParentId"] == ps["Id"]:
                t.delete(row["Id"])
    for obj, p in objects:
        org.table("ObjectPermissions").insert(_stamp(state, {
            "ParentId": ps["Id"], "SobjectType": obj, "PermissionsRead": p["allowRead"] or p["allowEdit"],
            "PermissionsCreate": p["allowCreate"], "PermissionsEdit": p["allowEdit"],
            "PermissionsDelete": p["allowDelete"], "PermissionsViewAllRecords": p["viewAllRecords"],
            "PermissionsModifyAllRecords": p["modifyAllRecords"]}, by))
    for obj, full, read, edit in fields:
        org.table("FieldPermissions").insert(_stamp(state, {"ParentId": ps["Id"], "SobjectType": obj, "Field": full,
                                                            "PermissionsRead": read, "PermissionsEdit": edit}, by))
    sec.audit(state, org, by, "PermSetFlsChanged", "Manage Users",
              f"Deployed permission set {label}: {len(objects)} object(s), {len(fields)} field(s)")
    removed: list[str] = []
    if user is not None:
        _assign(state, org, user, ps, by)
        if replace:
            owned = {p["Id"] for p in table.scan() if p.get("IsOwnedByProfile")}
            assignments = org.table("PermissionSetAssignment")
            for a in list(assignments.scan()):
                if a["AssigneeId"] == user["Id"] and a["PermissionSetId"] not in owned | {ps["Id"]}:
                    other = table.get(a["PermissionSetId"])
                    assignments.delete(a["Id"])
                    removed.append(other["Name"] if other else a["PermissionSetId"])
                    sec.audit(state, org, by, "PermSetUnassign", "Manage Users",
                              f"Permission set {other['Label'] if other else '?'}: unassigned from {user['Username']}")
    org.invalidate_access()
    return {"permission_set": name, "id": ps["Id"], "objects": len(objects), "fields": len(fields),
            "assigned_to": user["Username"] if user else None, "removed": removed}
