"""The integration user's permissions, named exactly as Setup shows them."""

from __future__ import annotations

from typing import Any

from sfwizard.checks.base import Outcome, check, fail, ok, skipped
from sfwizard.checks.context import CheckContext
from sfwizard.checks.salesforce_facts import UserAccess
from sfwizard.checks.shared_reads import ACCESS, DESCRIBE_MAPPED, INTEGRATION_USER


def _user_or_none(ctx: CheckContext) -> tuple[dict[str, Any] | None, UserAccess | None]:
    user = ctx.integration_user()
    return user, (ctx.user_access(user) if user else None)


def _no_user() -> Outcome:
    return skipped("skip.no_integration_user", "the integration user is not known yet",
                   "no token or login for the connected app, and no snapshot naming the user; "
                   "authorize first or take a snapshot")


@check("perm.api_enabled", "Integration user has API Enabled", "reauthorize", needs=("salesforce", "data_org"),
       reads=(INTEGRATION_USER, ACCESS))
def api_enabled(ctx: CheckContext) -> Outcome:
    user, access = _user_or_none(ctx)
    if user is None or access is None:
        return _no_user()
    sets = [p.get("Label") or p.get("Name") for p in access.permission_sets]
    evidence = {"user": user["Username"], "permission_sets": sets, "active": user.get("IsActive")}
    if not user.get("IsActive"):
        return fail("perm.user_inactive", f"{user['Username']} is deactivated",
                    "an inactive user cannot hold an OAuth token",
                    "reactivate the integration user (Setup → Users) or re-authorize as an active one", **evidence)
    if not access.api_enabled:
        return fail("perm.api_disabled", f"{user['Username']} lacks the API Enabled permission",
                    "the integration calls the REST API; without API Enabled Salesforce answers "
                    "API_CURRENTLY_DISABLED ('Access Denied')",
                    "add API Enabled to the user's profile or to a permission set assigned to them", **evidence)
    return ok(f"{user['Username']} has API Enabled", **evidence)


def _missing(ctx: CheckContext, user: dict[str, Any], perm: str) -> dict[str, Any]:
    """What the user lacks on the mapped objects and fields: ``perm`` is "read" (sources) or "edit" (pushes).

    ``missing`` names each gap as Setup does; ``missing_objects`` and ``missing_fields`` list the same
    gaps as API names, for programs.
    """
    access = ctx.user_access(user)
    mappings = ctx.source_mappings() if perm == "read" else ctx.push_mappings()
    formulas = _formula_fields(ctx) if perm == "edit" else set()
    missing: list[str] = []
    missing_objects: list[str] = []
    missing_fields: list[str] = []
    objects = set()
    for m in mappings:
        sobject = m.salesforce.split(".", 1)[0]
        objects.add(sobject)
        if not access.object_perm(sobject, perm):
            if sobject not in missing_objects:
                missing_objects.append(sobject)
                missing.append(f"{perm.title()} on object {sobject}")
        elif m.salesforce.lower() in formulas:
            continue  # no permission makes a formula field writable: mapping.push_targets names it
        elif not access.field_perm(m.salesforce, perm):
            missing_fields.append(m.salesforce)
            missing.append(f"{perm.title()} access on field {m.salesforce} (field-level security)")
    if perm == "read":
        for name in ctx.custom_objects():
            objects.add(name)
            if not access.object_perm(name, "read"):
                missing_objects.append(name)
                missing.append(f"Read on object {name}")
    return {"user": user["Username"], "objects": sorted(objects), "missing": missing,
            "missing_objects": missing_objects, "missing_fields": missing_fields}


def _formula_fields(ctx: CheckContext) -> set[str]:
    """The mapped fields that are formula fields ("object.field", lower case), from the describes."""
    objects = sorted({m.salesforce.split(".", 1)[0] for m in ctx.mappings()})
    return {f"{obj}.{f['name']}".lower() for obj, d in ctx.describes(objects).items() if d
            for f in d.get("fields", []) if f.get("calculated")}


@check("perm.read_sources", "Integration user can read every mapped source", "reauthorize",
       needs=("salesforce", "snapshot", "data_org"), reads=(INTEGRATION_USER, ACCESS))
def read_sources(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None:
        return _no_user()
    evidence = _missing(ctx, user, "read")
    if not evidence["objects"]:
        return skipped("skip.no_mappings", "the snapshot documents no source field or custom object: nothing to "
                       "compare the user's access with", **evidence)
    missing = evidence["missing"]
    if missing:
        # an object-level gap is named first: granting a field's read is useless without its object's
        reason = "perm.object_read_missing" if evidence["missing_objects"] else "perm.field_read_missing"
        return fail(reason, f"the integration user cannot read {len(missing)} mapped source(s): {missing[0]}",
                    "missing object or field-level read stops the fetch ('Access Denied')",
                    "grant in a permission set for the integration user: " + "; ".join(missing), **evidence)
    return ok("the integration user can read every mapped object and field", **evidence)


@check("perm.edit_targets", "Integration user can write every push target", "reauthorize",
       profiles=("gainsight-px",), needs=("salesforce", "snapshot", "data_org"),
       reads=(INTEGRATION_USER, ACCESS, DESCRIBE_MAPPED))
def edit_targets(ctx: CheckContext) -> Outcome:
    user = ctx.integration_user()
    if user is None:
        return _no_user()
    evidence = _missing(ctx, user, "edit")
    if not evidence["objects"]:
        return skipped("skip.no_mappings", "the snapshot documents no push target: nothing to compare the user's "
                       "access with", **evidence)
    missing = evidence["missing"]
    if missing:
        reason = "perm.object_edit_missing" if evidence["missing_objects"] else "perm.field_edit_missing"
        return fail(reason, f"the integration user cannot write {len(missing)} push target(s): {missing[0]}",
                    "pushes into those fields fail with INSUFFICIENT_ACCESS_OR_READONLY or "
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "grant in a permission set for the integration user: " + "; ".join(missing), **evidence)
    return ok("the integration user can edit every push target (object and field level)", **evidence)
