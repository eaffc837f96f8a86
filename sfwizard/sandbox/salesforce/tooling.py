"""A sliver of the Tooling API (``/services/data/vNN.0/tooling/query``): the objects a recovery reads.

1. Installed packages: ``InstalledSubscriberPackage`` with its ``SubscriberPackage`` and
``SubscriberPackageVersion`` — which managed packages (Skilljar's) are installed, at which version.

The same SOQL engine answers it, over a Tooling view of the org (those three objects, made from
``Org.installed_packages``). Tooling's QueryResult adds ``size``, ``queryLocator`` and ``entityTypeName``
to the data API's shape, and its record URLs live under ``/tooling/sobjects/``. Tooling objects are not
in the data API (``/query`` answers INVALID_TYPE for them), as in Salesforce.

2. Password policies: Salesforce keeps them as metadata, the org's in ``SecuritySettings`` (its
``passwordPolicies``, ``expiration`` one of Never, ThirtyDays, SixtyDays, NinetyDays, SixMonths,
OneYear) and a profile's own in ``ProfilePasswordPolicy`` (``profile`` the profile's name,
``passwordExpiration`` in days, 0 for never),
which overrides the org's for that profile's users. The Tooling API serves such metadata-backed objects
with a ``Metadata`` field that, as for every such object, may be queried only when the answer holds one
record ("Query this field only if the query result contains no more than one record"): list the Ids
first, then one query per record. Reading them needs View Setup and Configuration.

Sources: the Metadata API's ProfilePasswordPolicy (developer.salesforce.com/docs/atlas.en-us.api_meta.meta/
api_meta/meta_profilepasswordpolicy.htm: ``passwordExpiration`` "Number of days until user passwords expire")
and SecuritySettings' PasswordPolicies (…/meta_securitysettings.htm: ``expiration`` enumeration); the Tooling
API query ``SELECT Id, Metadata FROM SecuritySettings LIMIT 1`` as sfdx-hardis makes it (its
``hardis:org:diagnose:mfa`` documentation); Salesforce Labs' OrgCheck reading ProfilePasswordPolicy's
``passwordExpiration``. That the Tooling API lists ProfilePasswordPolicy like other metadata-backed objects is
this sandbox's assumption: the client treats any refusal as "not shown" and falls back to the org's policy.
"""

from __future__ import annotations

import re
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.http import Request, Response, json_response
from sfwizard.sandbox.salesforce import soql
from sfwizard.sandbox.salesforce.api import ApiRoute, Ctx, RestError, api_route, invalid_field
from sfwizard.sandbox.salesforce.schema import tooling_objects
from sfwizard.sandbox.salesforce.store import Org

EXPIRATION = {0: "Never", 30: "ThirtyDays", 60: "SixtyDays", 90: "NinetyDays", 180: "SixMonths", 365: "OneYear"}
_FIELDS = {"SecuritySettings": ("Id", "DeveloperName", "Metadata"),
           "ProfilePasswordPolicy": ("Id", "FullName", "Metadata")}
_ONE_ROW_ONLY = ("Metadata", "FullName")
_QUERY = re.compile(r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)"
                    r"(?:\s+WHERE\s+Id\s*=\s*'(?P<id>\w+)')?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$", re.I | re.S)


def _security_settings(org: Org) -> dict[str, Any]:
    days = org.password_expiry_days or 0
    return {"Id": ids.make_id("0Ae", 1, pod=org.pod), "DeveloperName": "SecuritySettings",
            "Metadata": {"passwordPolicies": {"expiration": EXPIRATION.get(days, "NinetyDays"),
                                              "complexity": "AlphaNumeric", "historyRestriction": "3",
                                              "lockoutInterval": "FifteenMinutes", "maxLoginAttempts": "TenAttempts",
                                              "minimumPasswordLength": 8, "minimumPasswordLifetime": False,
                                              "obscureSecretAnswer": False},
                         "sessionSettings": {"sessionTimeout": "TwoHours", "forceLogoutOnSessionTimeout": False}}}


def _profile_policies(org: Org) -> list[dict[str, Any]]:
    out = []
    for n, (profile_id, days) in enumerate(sorted(org.profile_password_policies.items()), start=1):
        profile = org.table("Profile").get(profile_id)
        name = profile["Name"] if profile else ""
        out.append({"Id": ids.make_id("0Oh", n, pod=org.pod),
                    "FullName": f"PasswordPolicy_For_{re.sub(r'[^A-Za-z0-9]+', '_', name)}_{n}",
                    "Metadata": {"profile": name, "passwordExpiration": days, "lockoutInterval": 15,
                                 "maxLoginAttempts": 10, "minimumPasswordLength": 8, "passwordComplexity": 1,
                                 "passwordHistory": 3, "passwordQuestion": 0, "minimumPasswordLifetime": False,
                                 "obscure": False, "forgotPasswordRedirect": False}})
    return out


def _metadata_query(ctx: Ctx, q: str) -> Response:
    parsed = _QUERY.match(q)
    if not parsed:
        first = (q.strip().split() or ["<EOF>"])[0]
        raise RestError(400, "MALFORMED_QUERY", f"unexpected token: {first}")
    obj = parsed["obj"]
    known = next((k for k in _FIELDS if k.lower() == obj.lower()), None)
    if known is None:
        raise RestError(400, "INVALID_TYPE", f"sObject type '{obj}' is not supported.")
    access = ctx.access
    if not (access.view_setup or access.modify_all):
        raise RestError(403, "INSUFFICIENT_ACCESS", "insufficient access rights: View Setup and Configuration")
    fields = []
    for name in (f.strip() for f in parsed["fields"].split(",")):
        real = next((f for f in _FIELDS[known] if f.lower() == name.lower()), None)
        if real is None:
            raise invalid_field(name, known)
        fields.append(real)
    rows = [_security_settings(ctx.org)] if known == "SecuritySettings" else _profile_policies(ctx.org)
    if parsed["id"]:
        rows = [r for r in rows if ids.same_id(r["Id"], parsed["id"])]
    if parsed["limit"]:
        rows = rows[:int(parsed["limit"])]
    if len(rows) > 1 and any(f in _ONE_ROW_ONLY for f in fields):
        raise RestError(400, "MALFORMED_QUERY", "When retrieving results with Metadata or FullName fields, the "
                                                "query qualifications must specify no more than one row for "
                                                f"retrieval. Result size: {len(rows)}")
    records = [{"attributes": {"type": known, "url": ctx.url(f"tooling/sobjects/{known}/{r['Id']}")},
                **{f: r[f] for f in fields}} for r in rows]
    return json_response({"size": len(records), "totalSize": len(records), "done": True, "queryLocator": None,
                          "entityTypeName": known, "records": records})


def tooling_view(org: Org) -> Org:
    """The org's Tooling objects, made fresh from what is installed (a handful of rows)."""
    view = Org(org.key, org.id, org.name, instance_name=org.instance_name, is_sandbox=org.is_sandbox,
               organization_type=org.organization_type, pod=org.pod)
    for sobject in tooling_objects():
        view.add_sobject(sobject)
    for n, pkg in enumerate(org.installed_packages, start=1):
        major, minor, patch, build = (int(x) for x in pkg["version"].split("."))
        package = view.table("SubscriberPackage").insert({
            "Id": ids.make_id("033", 4100 + n, pod=org.pod), "NamespacePrefix": pkg["namespace"],
            "Name": pkg["name"], "Description": None, "IsPackageValid": True})
        version = view.table("SubscriberPackageVersion").insert({
            "Id": ids.make_id("04t", 4100 + n * 97 + build, pod=org.pod),
            "Name": f"{pkg['name']} {major}.{minor}", "SubscriberPackageId": package["Id"],
            "MajorVersion": major, "MinorVersion": minor, "PatchVersion": patch, "BuildNumber": build,
            "IsManaged": True, "IsBeta": False, "ReleaseState": "Released", "Package2ContainerOptions": "Managed"})
        view.table("InstalledSubscriberPackage").insert({
            "Id": ids.make_id("0A3", 4100 + n, pod=org.pod), "SubscriberPackageId": package["Id"],
            "SubscriberPackageVersionId": version["Id"], "MinPackageVersionId": version["Id"]})
    return view


def _tooling_urls(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _tooling_urls(v) for k, v in value.items()}
        attrs = out.get("attributes")
        if isinstance(attrs, dict) and isinstance(attrs.get("url"), str):
            attrs["url"] = re.sub(r"/services/data/(v[\d.]+)/sobjects/", r"/services/data/\1/tooling/sobjects/",
                                  attrs["url"])
        return out
    return value


def _query(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    q = req.arg("q")
    if q is None or not q.strip():
        raise RestError(400, "MALFORMED_QUERY", "A query string must be provided (the q parameter).")
    target = re.search(r"\bFROM\s+(\w+)", q, re.I)
    if target and target.group(1).lower() in {k.lower() for k in _FIELDS}:
        return _metadata_query(ctx, q)
    try:
        result = soql.run_query(ctx.state, tooling_view(ctx.org), None, q, version=ctx.version)
    except soql.SoqlError as exc:
        raise RestError(400, exc.code, exc.message) from None
    records = [_tooling_urls(r) for r in result.rows]
    return json_response({"size": result.total_size, "totalSize": result.total_size, "done": True,
                          "queryLocator": None, "entityTypeName": result.sobject, "records": records})


def api_routes() -> list[ApiRoute]:
    return [api_route("GET", r"tooling/query/?", _query)]
