"""The Tooling API's query (``/services/data/vNN.0/tooling/query``) for the objects a recovery reads:
``InstalledSubscriberPackage`` with its ``SubscriberPackage`` and ``SubscriberPackageVersion`` — which
managed packages (Skilljar's) are installed, at which version.

The same SOQL engine answers it, over a Tooling view of the org (those three objects, made from
``Org.installed_packages``). Tooling's QueryResult adds ``size``, ``queryLocator`` and ``entityTypeName``
to the data API's shape, and its record URLs live under ``/tooling/sobjects/``. Tooling objects are not
in the data API (``/query`` answers INVALID_TYPE for them), as in Salesforce.
"""

from __future__ import annotations

import re
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.http import Request, Response, json_response
from sfwizard.sandbox.salesforce import soql
from sfwizard.sandbox.salesforce.api import ApiRoute, Ctx, RestError, api_route
from sfwizard.sandbox.salesforce.schema import tooling_objects
from sfwizard.sandbox.salesforce.store import Org


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
    try:
        result = soql.run_query(ctx.state, tooling_view(ctx.org), None, q, version=ctx.version)
    except soql.SoqlError as exc:
        raise RestError(400, exc.code, exc.message) from None
    records = [_tooling_urls(r) for r in result.rows]
    return json_response({"size": result.total_size, "totalSize": result.total_size, "done": True,
                          "queryLocator": None, "entityTypeName": result.sobject, "records": records})


def api_routes() -> list[ApiRoute]:
    return [api_route("GET", r"tooling/query/?", _query)]
