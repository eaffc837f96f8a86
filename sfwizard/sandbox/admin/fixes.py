"""The fixes the wizard asks people to make, as the vendors' own pages make them: Salesforce Setup (grant API
Enabled and object/field access in a permission set, reactivate a user, reset a password and unlock, revoke a
stray OAuth token, install a connected app or the Skilljar package), the platform's field mapping (push into a
PX_ field), and the status page's all-clear (the vendor resolving its incident).

A page at ``/setup`` ("Salesforce Setup", the sandbox's stand-in) holds a button for each, and each is a JSON
endpoint under ``/__sandbox__/`` (what the demo's ``v`` posts). What they change is what Salesforce or the
platform would change: permission records, the User row, the login password, OauthToken rows and grants, the
connected app's installation, the mapping — the checks then see it exactly as they would see a person's fix.
"""

from __future__ import annotations

import logging
import secrets
import weakref
from typing import Any
from urllib.parse import parse_qs

from sfwizard.sandbox.http import Request, Response, Route, html_response, json_response, redirect, route
from sfwizard.sandbox.integration import Refused, iso
from sfwizard.sandbox.salesforce.store import FieldDef, Org, Record
from sfwizard.sandbox.salesforce.tokens import token_store
from sfwizard.sandbox.state import SandboxState
from sfwizard.sandbox.templates import Markup, asset, fill, join, render

log = logging.getLogger("sfwizard.sandbox")
_PACKAGE = "sfwizard.sandbox.admin"
FIX_SET = "Integration_Access"  # the permission set a grant creates when the user holds none of its own
# The outcome of a person's last form post, shown once on the Setup page.
_NOTICE: weakref.WeakKeyDictionary[SandboxState, tuple[str, str]] = weakref.WeakKeyDictionary()


# -- the fixes (callers hold state.lock) -------------------------------------------------------------------------

def _user(state: SandboxState, username: str | None) -> tuple[Org, Record]:
    found = state.org_of_user(username or "") if username else None
    if found is None:
        raise Refused(404, "not_found", f"no user {username!r} in any org of this sandbox")
    return found


def _org(state: SandboxState, named: Any) -> Org:
    """An org by its key, its Id or its name; the default org when none is named."""
    text = str(named or "")
    for org in state.orgs.values():
        if text in (org.key, org.id, org.id[:15], org.name):
            return org
    if text:
        raise Refused(404, "not_found", f"no org {text!r} in this sandbox")
    return state.default_org


def _stamp(state: SandboxState, record: Record) -> Record:
    now = state.now()
    record.update({"LastModifiedDate": now, "SystemModstamp": now})
    return record


def _own_permission_set(state: SandboxState, org: Org, user: Record) -> Record:
    """The permission set an admin edits for this user: the first assigned one of its own (not a profile's);
    with none, a new one assigned to the user, as an admin would make."""
    assigned = {a["PermissionSetId"] for a in org.table("PermissionSetAssignment").scan()
                if a["AssigneeId"] == user["Id"]}
    own = sorted((ps for ps in org.table("PermissionSet").scan()
                  if ps["Id"] in assigned and not ps.get("IsOwnedByProfile")), key=lambda ps: ps["Label"])
    if own:
        return own[0]
    now = state.now()
    ps = org.table("PermissionSet").insert({
        "Name": FIX_SET, "Label": "Integration Access", "IsOwnedByProfile": False, "ProfileId": None,
        "Description": None, "PermissionsApiEnabled": False, "PermissionsModifyAllData": False,
        "PermissionsViewAllData": False, "PermissionsViewSetup": False, "PermissionsManageUsers": False,
        "PermissionsApproveUninstalledApps": False, "PermissionsPasswordNeverExpires": False,
        "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now, "IsDeleted": False})
    org.table("PermissionSetAssignment").insert({"AssigneeId": user["Id"], "PermissionSetId": ps["Id"],
                                                 "ExpirationDate": None, "CreatedDate": now,
                                                 "LastModifiedDate": now, "SystemModstamp": now})
    return ps


_FLAGS = {"api_enabled": "PermissionsApiEnabled", "manage_users": "PermissionsManageUsers",
          "approve_uninstalled": "PermissionsApproveUninstalledApps"}


def grant(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """Setup → Permission Sets → (the user's) → System Permissions / Object Settings: ``api_enabled``,
    ``manage_users``, ``objects`` {Object: [read, edit…]}, ``fields`` {Object.Field: [read, edit]}."""
    org, user = _user(state, body.get("username"))
    ps = _own_permission_set(state, org, user)
    said = []
    for key, column in _FLAGS.items():
        if body.get(key):
            ps[column] = True
            said.append(key.replace("_", " "))
    objects = body.get("objects") or {}
    fields = body.get("fields") or {}
    if not isinstance(objects, dict) or not isinstance(fields, dict):
        raise Refused(400, "bad_request", "objects and fields are mappings of name → [read, edit]")
    for name, perms in objects.items():
        sobject = org.sobject(str(name))
        if sobject is None:
            raise Refused(404, "not_found", f"no object {name} in {org.name}")
        want = {str(p).lower() for p in perms or ["read"]}
        row = next((r for r in org.table("ObjectPermissions").scan()
                    if r["ParentId"] == ps["Id"] and r["SobjectType"].lower() == sobject.name.lower()), None)
        if row is None:
            row = org.table("ObjectPermissions").insert({
                "ParentId": ps["Id"], "SobjectType": sobject.name, "PermissionsRead": False,
                "PermissionsCreate": False, "PermissionsEdit": False, "PermissionsDelete": False,
                "PermissionsViewAllRecords": False, "PermissionsModifyAllRecords": False,
                "CreatedDate": state.now()})
        row["PermissionsRead"] = True  # Edit needs Read, as Setup enforces
        for perm in ("create", "edit", "delete"):
            if perm in want:
                row[f"Permissions{perm.title()}"] = True
        _stamp(state, row)
        said.append(f"{'/'.join(sorted(want))} on {sobject.name}")
    for name, perms in fields.items():
        obj, _, fname = str(name).partition(".")
        sobject = org.sobject(obj)
        f = sobject.field(fname) if sobject else None
        if sobject is None or f is None:
            raise Refused(404, "not_found", f"no field {name} in {org.name}")
        want = {str(p).lower() for p in perms or ["read"]}
        full = f"{sobject.name}.{f.name}"
        row = next((r for r in org.table("FieldPermissions").scan()
                    if r["ParentId"] == ps["Id"] and r["Field"].lower() == full.lower()), None)
        if row is None:
            row = org.table("FieldPermissions").insert({"ParentId": ps["Id"], "SobjectType": sobject.name,
                                                        "Field": full, "PermissionsRead": False,
                                                        "PermissionsEdit": False, "CreatedDate": state.now()})
        row["PermissionsRead"] = True
        row["PermissionsEdit"] = bool(row["PermissionsEdit"]) or "edit" in want
        _stamp(state, row)
        said.append(f"{'/'.join(sorted(want))} on field {full}")
    _stamp(state, ps)
    org.invalidate_access()
    log.info("granted %s to %s in %s (%s)", ", ".join(said) or "nothing", user["Username"], org.name, ps["Label"])
    return {"username": user["Username"], "permission_set": ps["Label"], "granted": said,
            "message": f"{ps['Label']}: granted {', '.join(said) or 'nothing new'} to {user['Username']}"}


def reactivate(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """Setup → Users → Edit → Active."""
    org, user = _user(state, body.get("username"))
    user["IsActive"] = True
    _stamp(state, user)
    org.invalidate_access()
    return {"username": user["Username"], "active": True, "message": f"{user['Username']} is active again"}


def reset_password(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """Setup → Users → Reset Password (and Unlock): a new password, the failed logins forgiven. The new password
    is answered once, to whoever stands in for the person who received the reset e-mail."""
    org, user = _user(state, body.get("username"))
    password = secrets.token_urlsafe(12)
    state.passwords[(org.key, user["Username"].lower())] = password
    user["LastPasswordChangeDate"] = state.now()
    user["IsActive"] = True
    _stamp(state, user)
    return {"username": user["Username"], "password": password,
            "message": f"the password of {user['Username']} was reset and the user unlocked"}


def revoke_token(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """Setup → Connected Apps OAuth Usage → (the app) → Revoke, for one user: its tokens die, its row goes."""
    org, user = _user(state, body.get("username"))
    app_name = str(body.get("app") or "")
    apps = [a for a in state.connected_apps.values() if a.name.lower() == app_name.lower()]
    if not apps:
        raise Refused(404, "not_found", f"no connected app named {app_name!r}")
    n = sum(token_store(state).revoke_grant(org.key, user["Id"], a.client_id) for a in apps)
    table = org.table("OauthToken")
    for row in list(table.scan()):
        if row["UserId"] == user["Id"] and row["AppName"].lower() == app_name.lower():
            table.delete(row["Id"])
    return {"username": user["Username"], "app": apps[0].name, "revoked": n,
            "message": f"revoked the {apps[0].name} token(s) of {user['Username']}"}


def install_app(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """Setup → Connected Apps OAuth Usage → Install: the app is no longer blocked as uninstalled."""
    app_name = str(body.get("app") or "")
    org = _org(state, body.get("org"))
    apps = [a for a in state.connected_apps.values() if a.name.lower() == app_name.lower()]
    if not apps:
        raise Refused(404, "not_found", f"no connected app named {app_name!r}")
    for a in apps:
        a.installed_in.add(org.key)
    return {"app": apps[0].name, "org": org.name, "message": f"{apps[0].name} is installed in {org.name}"}


def install_package(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """The Skilljar managed package installed in an org (its objects, readable and writable by the
    integration user's permission set)."""
    from sfwizard.sandbox.salesforce.schema import SKILLJAR_OBJECTS, custom_object
    from sfwizard.sandbox.scenarios.builder import SKILLJAR_PACKAGE_VERSION

    org = _org(state, body.get("org"))
    for name, (prefix, label, fields) in SKILLJAR_OBJECTS.items():
        if org.sobject(name) is None:
            org.add_sobject(custom_object(name, label, prefix, list(fields)))
    if not any(p.get("namespace") == "skilljar" for p in org.installed_packages):
        org.installed_packages.append({"namespace": "skilljar", "name": "Skilljar",
                                       "version": SKILLJAR_PACKAGE_VERSION})
    sj = state.skilljar
    user = org.user(sj.user_id) if sj is not None and sj.user_id and sj.org_key == org.key else None
    if user is not None:
        grant(state, {"username": user["Username"],
                      "objects": {n: ["read", "create", "edit"] for n in SKILLJAR_OBJECTS}})
    return {"org": org.name, "message": f"the Skilljar package is installed in {org.name}"}


def remap_push(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """The platform's field mappings: a push into a field without the PX_ prefix goes to the PX_ field of the
    same name (created in Salesforce first when missing, as the Salesforce admin would)."""
    from sfwizard.sandbox.px.state import px_state
    from sfwizard.sandbox.px.sync import PREFIX

    integ = px_state(state).integration
    target = str(body.get("salesforce") or "")
    mapping = next((m for m in integ.mappings if m.direction == "px_to_sf" and m.salesforce.lower() == target.lower()),
                   None)
    if mapping is None:
        raise Refused(404, "not_found", f"no push mapping into {target!r}")
    org = state.orgs[integ.org_key]
    sobject = org.sobject(mapping.sf_object)
    if sobject is None:
        raise Refused(404, "not_found", f"no object {mapping.sf_object} in {org.name}")
    name = mapping.sf_field if mapping.sf_field.startswith(PREFIX) else PREFIX + mapping.sf_field
    old = sobject.field(mapping.sf_field)
    if sobject.field(name) is None:
        sobject.add_field(FieldDef(name, old.type if old and old.updateable else "double",
                                   label=name.removesuffix("__c").replace("_", " "), custom=True))
    before = mapping.salesforce
    mapping.salesforce = f"{sobject.name}.{name}"
    integ.last_error = None
    return {"from": before, "to": mapping.salesforce, "message": f"the push into {before} now goes to "
                                                                 f"{mapping.salesforce}"}


def all_clear(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """The vendor's all-clear: its open incidents resolved, maintenances completed, every component operational."""
    sp = state.status_page
    if sp is None:
        raise Refused(404, "not_configured", "this scenario has no status page")
    now = state.now()
    for inc in sp.incidents:
        if inc.status not in ("resolved", "postmortem"):
            inc.status = "resolved"
            inc.updates.insert(0, {"status": "resolved", "created_at": now,
                                   "body": "Resolved: customers can re-authorize the Salesforce integration now."})
    for mnt in sp.maintenances:
        if mnt.status != "completed":
            mnt.status = "completed"
            mnt.updates.insert(0, {"status": "completed", "created_at": now, "body": "The maintenance is complete."})
    for c in sp.components:
        c.status = "operational"
    sp.indicator, sp.description = "none", "All Systems Operational"
    return {"indicator": "none", "message": f"{sp.name}'s status page: all clear"}


FIXES = {"salesforce/grant": grant, "salesforce/reactivate": reactivate, "salesforce/password": reset_password,
         "salesforce/revoke-token": revoke_token, "salesforce/install-app": install_app,
         "salesforce/install-package": install_package, "px/remap": remap_push, "status/all-clear": all_clear}


# -- the wire -------------------------------------------------------------------------------------------------

def _body(req: Request) -> dict[str, Any]:
    """JSON, or a form post from the page (``objects``/``fields`` as ``name:perm`` lines)."""
    if "json" in (req.header("content-type") or ""):
        data = req.json()
        if data is not None and not isinstance(data, dict):
            raise Refused(400, "bad_request", "the body is a JSON object")
        return data or {}
    form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    out: dict[str, Any] = {k: v[0] for k, v in form.items() if k not in ("objects", "fields")}
    for key in ("api_enabled", "manage_users"):
        if key in out:
            out[key] = out[key] in ("on", "true", "1")
    for key in ("objects", "fields"):
        pairs = [line.split(":", 1) for v in form.get(key, []) for line in v.split() if ":" in line]
        if pairs:
            out[key] = {name: perm.split("/") for name, perm in pairs}
    return out


def _fix(state: SandboxState, req: Request, m: Any) -> Response:
    action = FIXES[m.group(1)]
    with state.lock:
        try:
            result = action(state, _body(req))
        except ValueError:
            result, status = {"error": "bad_request", "reason": "the body is not valid JSON"}, 400
        except Refused as r:
            result, status = {"error": r.error, "reason": r.reason}, r.status
        else:
            status = 200
        if "text/html" in (req.header("accept") or "") and req.method == "POST":
            shown = {k: v for k, v in result.items() if k != "password"}  # a page never shows a password
            _NOTICE[state] = ("error" if status >= 400 else "ok",
                              str(shown.get("reason") or shown.get("message") or "done"))
            return redirect("/setup", 303)
    return json_response(result, status)


def setup_state(state: SandboxState) -> dict[str, Any]:
    """What the Setup stand-in shows: users with their access, OAuth usage, connected apps (no secret)."""
    orgs = []
    for org in state.orgs.values():
        users = []
        for u in org.table("User").scan():
            acc = org.access(u["Id"])
            assigned = {a["PermissionSetId"] for a in org.table("PermissionSetAssignment").scan()
                        if a["AssigneeId"] == u["Id"]}
            sets = [ps["Label"] for ps in org.table("PermissionSet").scan()
                    if ps["Id"] in assigned and not ps.get("IsOwnedByProfile")]
            users.append({"username": u["Username"], "active": bool(u.get("IsActive")), "api_enabled": acc.api_enabled,
                          "permission_sets": sets, "password_changed": iso(u.get("LastPasswordChangeDate"))})
        names = {u["Id"]: u["Username"] for u in org.table("User").scan()}
        tokens = [{"app": t["AppName"], "user": names.get(t["UserId"], t["UserId"]),
                   "created": iso(t.get("CreatedDate")), "last_used": iso(t.get("LastUsedDate"))}
                  for t in org.table("OauthToken").scan()]
        apps = [{"name": a.name, "installed": org.key in a.installed_in} for a in state.connected_apps.values()]
        orgs.append({"key": org.key, "name": org.name, "id": org.id, "is_sandbox": org.is_sandbox, "users": users,
                     "tokens": tokens, "apps": apps})
    return {"orgs": orgs}


def _post(action: str, label: str, **fields: Any) -> Markup:
    hidden = join(fill('<input type="hidden" name="$k" value="$v">', k=k, v=v) for k, v in fields.items())
    return fill('<form method="post" action="/__sandbox__/$action">$hidden<button type="submit">$label</button>'
                "</form>", action=action, hidden=hidden, label=label)


def _page(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        s = setup_state(state)
        notice = _NOTICE.pop(state, None)
    return html_response(setup_page(state.scenario_name, s, notice))


def setup_page(scenario: str, s: dict[str, Any], notice: tuple[str, str] | None = None) -> str:
    """The Setup stand-in for ``setup_state``'s answer, with a one-time ``(kind, text)`` notice."""
    sections = []
    for o in s["orgs"]:
        users = join(fill("<tr><td>$u</td><td>$active</td><td>$api</td><td>$sets</td><td>$actions</td></tr>",
                          u=u["username"], active="Active" if u["active"] else "Inactive",
                          api="API Enabled" if u["api_enabled"] else "no API", sets=", ".join(u["permission_sets"]),
                          actions=join([_post("salesforce/grant", "Grant API Enabled", username=u["username"],
                                              api_enabled="on"),
                                        _post("salesforce/reactivate", "Activate", username=u["username"]),
                                        _post("salesforce/password", "Reset password (and unlock)",
                                              username=u["username"])]))
                     for u in o["users"])
        tokens = join(fill("<tr><td>$app</td><td>$user</td><td>$created</td><td>$used</td><td>$revoke</td></tr>",
                           app=t["app"], user=t["user"], created=t["created"], used=t["last_used"],
                           revoke=_post("salesforce/revoke-token", "Revoke", username=t["user"], app=t["app"]))
                      for t in o["tokens"]) or Markup("<tr><td colspan=5 class=muted>no OAuth grants</td></tr>")
        apps = join(fill("<li>$name: $state $install</li>", name=a["name"],
                         state="installed" if a["installed"] else "not installed",
                         install=Markup("") if a["installed"] else
                         _post("salesforce/install-app", "Install", app=a["name"], org=o["key"])) for a in o["apps"])
        sections.append(render(_PACKAGE, "fixes.html", org=o["name"], org_id=o["id"],
                               kind="Sandbox" if o["is_sandbox"] else "Production", users=users, tokens=tokens,
                               apps=apps))
    return render(_PACKAGE, "page.html", scenario=scenario, description="Salesforce Setup (stand-in)",
                  notice=fill('<p class="notice $kind">$text</p>', kind=notice[0], text=notice[1]) if notice
                  else Markup(), cards=Markup("\n".join(sections)), style=asset(_PACKAGE, "admin.css"),
                  script=Markup(""))


def routes() -> list[Route]:
    return [route("GET", "/setup", _page),
            route("POST", r"/__sandbox__/(" + "|".join(FIXES) + ")", _fix)]
