"""Stand-ins for the Salesforce Setup pages an admin uses to harden one integration, at ``/__sandbox__/security``.

A page a person clicks (``GET /__sandbox__/security``) and its JSON twin for programs, as the other admin
controls are: each action is a POST that answers JSON, or — for a form posted from the page — a 303 back to the
page with the outcome shown once.

    GET  /__sandbox__/security/state                 every org: apps, who may use them, IP ranges, users
    POST /__sandbox__/security/connected-app         {app, admin_approved, approved: [profile or set names]}
    POST /__sandbox__/security/refresh-policy        {app, policy, period, unit}
    POST /__sandbox__/security/login-ip-ranges       {profile, ranges: ["34.201.12.0/24" | {start, end}]}
    POST /__sandbox__/security/api-only              {user, profile?}
    POST /__sandbox__/security/permission-set        {name, xml, assign_to?, replace?} (or the XML as the body,
                                                     with ?name=&assign_to=&replace=)
Every body may name an ``org`` key (default: the integration's org).
"""

from __future__ import annotations

import weakref
from typing import Any
from urllib.parse import parse_qs

from sfwizard.sandbox.admin import hardening
from sfwizard.sandbox.http import Request, Response, Route, html_response, json_response, redirect, route
from sfwizard.sandbox.integration import Refused, iso
from sfwizard.sandbox.salesforce import security as sec
from sfwizard.sandbox.salesforce.store import Org
from sfwizard.sandbox.state import SandboxState
from sfwizard.sandbox.templates import Markup, asset, fill, join, render

_PACKAGE = "sfwizard.sandbox.admin"
PAGE = "/__sandbox__/security"
_NOTICES: weakref.WeakKeyDictionary[SandboxState, tuple[str, str]] = weakref.WeakKeyDictionary()


# -- what the pages show --------------------------------------------------------------------------------------------

def security_json(state: SandboxState) -> dict[str, Any]:
    """Every org as its Setup pages show it: connected apps and who may use them, profiles' login IP ranges,
    users with their profile, permission sets and API Only User; no token, no DeleteToken."""
    ss = sec.security_state(state)
    orgs = []
    for org in state.orgs.values():
        profiles = {p["Id"]: p for p in org.table("Profile").scan()}
        sets = {ps["Id"]: ps for ps in org.table("PermissionSet").scan()}
        apps = []
        for row in org.table("ConnectedApplication").scan():
            approved = [_set_name(sets.get(a["ParentId"]), profiles) for a in org.table("SetupEntityAccess").scan()
                        if a["SetupEntityId"] == row["Id"]]
            apps.append({"name": row["Name"], "admin_approved": bool(row.get("OptionsAllowAdminApprovedUsersOnly")),
                         "approved": approved, "refresh_policy": _policy(row),
                         "refresh_period": row.get("RefreshTokenValidityPeriod"),
                         "refresh_unit": ss.refresh_units.get(row["Id"], "days")})
        ranges = {}
        for r in org.table("LoginIpRange").scan():
            ranges.setdefault(profiles[r["ProfileId"]]["Name"] if r["ProfileId"] in profiles else r["ProfileId"],
                              []).append({"start": r["StartAddress"], "end": r["EndAddress"],
                                          "description": r.get("Description")})
        users = []
        for u in org.table("User").scan():
            mine = sec.permission_set_ids(org, u)
            users.append({"username": u["Username"], "role": state.user_roles.get((org.key, u["Id"])),
                          "profile": profiles.get(u["ProfileId"], {}).get("Name"),
                          "permission_sets": sorted(sets[i]["Name"] for i in mine
                                                    if i in sets and not sets[i].get("IsOwnedByProfile")),
                          "api_only": any(sets[i].get("PermissionsApiUserOnly") for i in mine if i in sets)})
        orgs.append({"key": org.key, "name": org.name, "id": org.id,
                     "event_monitoring": ss.event_monitoring.get(org.key, "none"), "connected_apps": apps,
                     "login_ip_ranges": ranges, "profiles": sorted(p["Name"] for p in profiles.values()),
                     "permission_sets": sorted(ps["Name"] for ps in sets.values() if not ps.get("IsOwnedByProfile")),
                     "users": users, "audit_trail_rows": len(org.table("SetupAuditTrail")),
                     "last_change": iso(max((r["CreatedDate"] for r in org.table("SetupAuditTrail").scan()),
                                            default=None))})
    return {"orgs": orgs, "declared_egress": dict(ss.declared_egress)}


def _set_name(ps: dict[str, Any] | None, profiles: dict[str, Any]) -> str:
    if ps is None:
        return "?"
    if ps.get("IsOwnedByProfile"):
        return profiles.get(ps.get("ProfileId"), {}).get("Name", ps["Name"])
    return str(ps["Name"])


def _policy(row: dict[str, Any]) -> str:
    if not row.get("RefreshTokenValidityPeriod"):
        return "until_revoked"
    return "expire_if_unused" if row.get("OptionsRefreshTokenValidityMetric") else "expire_after"


# -- the page ------------------------------------------------------------------------------------------------------

_POLICIES = (("until_revoked", "Refresh token is valid until revoked"), ("expire_after", "Expire refresh token after"),
             ("expire_if_unused", "Expire refresh token if not used for"))


def _checked(on: bool) -> Markup:
    return Markup(" checked" if on else "")


def _org_section(o: dict[str, Any]) -> Markup:
    choices = o["profiles"] + o["permission_sets"]
    apps = join(fill(
        '<form method="post" action="$page/connected-app"><input type="hidden" name="org" value="$org">'
        '<input type="hidden" name="app" value="$app"><h3>$app</h3>'
        '<p><label><input type="checkbox" name="admin_approved"$admin> Admin approved users are pre-authorized'
        '</label></p><p>Profiles and permission sets approved: $boxes</p>'
        '<button type="submit">Save policies</button></form>'
        '<form method="post" action="$page/refresh-policy"><input type="hidden" name="org" value="$org">'
        '<input type="hidden" name="app" value="$app"><p>Refresh token policy: $radios '
        '<input name="period" size="4" value="$period"> <select name="unit">$units</select> '
        '<button type="submit">Save</button></p></form>',
        page=PAGE, org=o["key"], app=a["name"], admin=_checked(a["admin_approved"]),
        boxes=join(fill('<label><input type="checkbox" name="approved" value="$v"$c> $v</label> ', v=c,
                        c=_checked(c in a["approved"])) for c in choices),
        radios=join(fill('<label><input type="radio" name="policy" value="$v"$c> $w</label> ', v=v, w=w,
                         c=_checked(a["refresh_policy"] == v)) for v, w in _POLICIES),
        period=a["refresh_period"] or "", units=join(fill('<option$s>$u</option>', u=u, s=Markup(
            " selected" if a["refresh_unit"] == u else "")) for u in sec.REFRESH_UNITS))
        for a in o["connected_apps"] if a["name"] != "sfwizard")
    ranges = join(fill(
        '<form method="post" action="$page/login-ip-ranges"><input type="hidden" name="org" value="$org">'
        '<input type="hidden" name="profile" value="$profile"><p><b>$profile</b>: '
        '<input name="ranges" size="48" value="$value" placeholder="34.201.12.0/24, 10.0.0.1-10.0.0.9"> '
        '<button type="submit">Save login IP ranges</button></p></form>',
        page=PAGE, org=o["key"], profile=p,
        value=", ".join(f"{r['start']}-{r['end']}" for r in o["login_ip_ranges"].get(p, [])))
        for p in o["profiles"])
    users = join(fill(
        '<tr><td>$username</td><td>$role</td><td>$profile</td><td>$sets</td><td>$api_only</td><td>'
        '<form method="post" action="$page/api-only"><input type="hidden" name="org" value="$org">'
        '<input type="hidden" name="user" value="$username"><select name="profile"><option value="">(keep profile)'
        '</option>$profiles</select> <button type="submit">Make API only</button></form></td></tr>',
        page=PAGE, org=o["key"], username=u["username"], role=u["role"] or "", profile=u["profile"],
        sets=", ".join(u["permission_sets"]) or "—", api_only="yes" if u["api_only"] else "no",
        profiles=join(fill("<option>$p</option>", p=p) for p in o["profiles"]))
        for u in o["users"])
    deploy = fill(
        '<form method="post" action="$page/permission-set"><input type="hidden" name="org" value="$org">'
        '<p>API name <input name="name" value="PX_Integration_Least_Privilege"> assign to '
        '<input name="assign_to" size="34"> <label><input type="checkbox" name="replace"> and take the '
        "user's other permission sets away</label></p>"
        '<p><textarea name="xml" rows="6" cols="90" placeholder="the .permissionset-meta.xml sfwizard wrote">'
        '</textarea></p><button type="submit">Deploy</button></form>', page=PAGE, org=o["key"])
    return fill('<section><h2>$name <span class=muted>($id) · Event Monitoring: $em</span></h2>'
                '<h3>Connected apps · Manage Policies</h3>$apps<h3>Profiles · Login IP Ranges</h3>$ranges'
                '<h3>Users</h3><table><tr><th>Username</th><th>Role</th><th>Profile</th><th>Permission sets</th>'
                '<th>API only</th><th></th></tr>$users</table><h3>Deploy a permission set</h3>$deploy</section>',
                name=o["name"], id=o["id"], em=o["event_monitoring"], apps=apps, ranges=ranges, users=users,
                deploy=deploy)


def security_page(state: SandboxState, notice: tuple[str, str] | None = None) -> str:
    data = security_json(state)
    return render(_PACKAGE, "security.html", scenario=state.scenario_name, style=asset(_PACKAGE, "admin.css"),
                  notice=fill('<p class="notice $kind">$text</p>', kind=notice[0], text=notice[1]) if notice
                  else Markup(), orgs=join(_org_section(o) for o in data["orgs"]))


# -- the actions ---------------------------------------------------------------------------------------------------

def _from_page(req: Request) -> bool:
    return req.method == "POST" and "text/html" in (req.header("accept") or "")


def _body(req: Request) -> dict[str, Any]:
    ctype = req.header("content-type") or ""
    if "json" in ctype:
        try:
            data = req.json()
        except (ValueError, UnicodeDecodeError):
            raise Refused(400, "bad_request", "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise Refused(400, "bad_request", "the body is a JSON object")
        return data
    if "xml" in ctype:  # the permission set file itself, its name in the query string
        return {**{k: v[0] for k, v in req.query.items()}, "xml": req.body.decode("utf-8", "replace")}
    form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    out: dict[str, Any] = {k: v[0] for k, v in form.items()}
    out["approved"] = form.get("approved", [])
    out["admin_approved"] = "admin_approved" in form
    out["replace"] = "replace" in form
    if "ranges" in form:
        out["ranges"] = [r for r in form["ranges"][0].replace("\n", ",").split(",") if r.strip()]
    return out


def _answer(state: SandboxState, req: Request, body: dict[str, Any], status: int = 200) -> Response:
    if _from_page(req):
        _NOTICES[state] = ("error" if status >= 400 else "ok", str(body.get("reason") or body.get("message") or "done"))
        return redirect(PAGE, 303)
    return json_response(body, status)


def _action(handler: Any) -> Any:
    def run(state: SandboxState, req: Request, m: Any) -> Response:
        with state.lock:
            try:
                body = _body(req)
                org = hardening.org_of(state, body.get("org") or None)
                result = handler(state, org, body)
            except Refused as r:
                return _answer(state, req, {"error": r.error, "reason": r.reason}, r.status)
        return _answer(state, req, result)
    return run


def _connected_app(state: SandboxState, org: Org, b: dict[str, Any]) -> dict[str, Any]:
    approved = b.get("approved") or []
    if not isinstance(approved, list):
        raise Refused(400, "bad_request", "approved is a list of profile or permission set names")
    row = hardening.set_app_access(state, org, str(b.get("app") or ""), bool(b.get("admin_approved")),
                                   [str(a) for a in approved])
    return {"app": row["Name"], "admin_approved": row["OptionsAllowAdminApprovedUsersOnly"], "approved": approved,
            "message": f"{row['Name']}: policies saved"}


def _refresh(state: SandboxState, org: Org, b: dict[str, Any]) -> dict[str, Any]:
    period = b.get("period")
    if isinstance(period, str):
        period = int(period) if period.strip().isdigit() else None
    row = hardening.set_refresh_policy(state, org, str(b.get("app") or ""), str(b.get("policy") or ""), period,
                                       str(b.get("unit") or "days"))
    return {"app": row["Name"], "policy": _policy(row), "period": row.get("RefreshTokenValidityPeriod"),
            "message": f"{row['Name']}: refresh token policy saved"}


def _ranges(state: SandboxState, org: Org, b: dict[str, Any]) -> dict[str, Any]:
    ranges = b.get("ranges") or []
    if not isinstance(ranges, list):
        raise Refused(400, "bad_request", "ranges is a list like [\"34.201.12.0/24\"]")
    rows = hardening.set_login_ip_ranges(state, org, str(b.get("profile") or ""), ranges)
    return {"profile": b.get("profile"), "ranges": [{"start": r["StartAddress"], "end": r["EndAddress"]} for r in rows],
            "message": f"{b.get('profile')}: {len(rows)} login IP range(s) saved"}


def _api_only(state: SandboxState, org: Org, b: dict[str, Any]) -> dict[str, Any]:
    user = hardening.make_api_only(state, org, str(b.get("user") or ""), str(b.get("profile") or "") or None)
    return {"user": user["Username"], "api_only": True, "message": f"{user['Username']} is now an API-only user"}


def _permission_set(state: SandboxState, org: Org, b: dict[str, Any]) -> dict[str, Any]:
    result = hardening.deploy_permission_set(
        state, org, str(b.get("name") or ""), str(b.get("xml") or ""), assign_to=str(b.get("assign_to") or "") or None,
        replace=b.get("replace") in (True, "true", "1", "on"))
    return {**result, "message": f"permission set {result['permission_set']} deployed"
                                 + (f" and assigned to {result['assigned_to']}" if result["assigned_to"] else "")}


def _state(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        return json_response(security_json(state))


def _page(state: SandboxState, req: Request, m: Any) -> Response:
    with state.lock:
        notice = _NOTICES.pop(state, None)
        return html_response(security_page(state, notice))


def routes() -> list[Route]:
    return [
        route("GET", PAGE + "/?", _page),
        route("GET", PAGE + "/state", _state),
        route("POST", PAGE + "/connected-app", _action(_connected_app)),
        route("POST", PAGE + "/refresh-policy", _action(_refresh)),
        route("POST", PAGE + "/login-ip-ranges", _action(_ranges)),
        route("POST", PAGE + "/api-only", _action(_api_only)),
        route("POST", PAGE + "/permission-set", _action(_permission_set)),
    ]


__all__ = ["routes", "security_json", "security_page"]
