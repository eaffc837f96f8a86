"""The integration user's permissions, named exactly as Setup shows them."""

from __future__ import annotations

from sfwizard.checks.base import Outcome, check, fail, ok, skipped
from sfwizard.checks.context import CheckContext, _snapshot_attr


def _user_or_none(ctx: CheckContext):
    user = ctx.integration_user()
    return user, (ctx.user_access(user["Id"]) if user else None)


def _no_user() -> Outcome:
    return skipped("the integration user is not known yet",
                   "no token or login for the connected app, and no snapshot naming the user; "
                   "authorize first or take a snapshot")


@check("perm.api_enabled", "Integration user has API Enabled", "reauthorize")
def api_enabled(ctx: CheckContext) -> Outcome:
    user, access = _user_or_none(ctx)
    if user is None:
        return _no_user()
    sets = [p.get("Label") or p.get("Name") for p in access.permission_sets]
    evidence = {"user": user["Username"], "permission_sets": sets, "active": user.get("IsActive")}
    if not user.get("IsActive"):
        return fail(f"{user['Username']} is deactivated", "an inactive user cannot hold an OAuth token",
                    "reactivate the integration user (Setup → Users) or re-authorize as an active one", **evidence)
    if not access.api_enabled:
        return fail(f"{user['Username']} lacks the API Enabled permission",
                    "the integration calls the REST API; without API Enabled Salesforce answers "
                    "API_CURRENTLY_DISABLED ('Access Denied')",
                    "add API Enabled to the user's profile or to a permission set assigned to them", **evidence)
    return ok(f"{user['Username']} has API Enabled", **evidence)


def _missing(ctx: CheckContext, direction: str, perm: str) -> tuple[list[str], dict]:
    user = ctx.integration_user()
    access = ctx.user_access(user["Id"])
    missing: list[str] = []
    objects = set()
    for m in ctx.mappings():
        if _snapshot_attr(m, "direction") != direction:
            continue
        field_name = _snapshot_attr(m, "salesforce")
        sobject = field_name.split(".", 1)[0]
        objects.add(sobject)
        obj_perm = "read" if perm == "read" else "edit"
        if not access.object_perm(sobject, obj_perm):
            label = f"{obj_perm.title()} on object {sobject}"
            if label not in missing:
                missing.append(label)
        elif not access.field_perm(field_name, perm):
            missing.append(f"{perm.title()} access on field {field_name} (field-level security)")
    if direction == "sf_to_px":
        for sobject in _snapshot_attr(ctx.snapshot, "custom_objects") or []:
            name = sobject if isinstance(sobject, str) else _snapshot_attr(sobject, "name")
            objects.add(name)
            if not access.object_perm(name, "read"):
                missing.append(f"Read on object {name}")
    return missing, {"user": user["Username"], "objects": sorted(objects)}


@check("perm.read_sources", "Integration user can read every mapped source", "reauthorize",
       needs=("salesforce", "snapshot"))
def read_sources(ctx: CheckContext) -> Outcome:
    if ctx.integration_user() is None:
        return _no_user()
    missing, evidence = _missing(ctx, "sf_to_px", "read")
    if missing:
        return fail(f"the integration user cannot read {len(missing)} mapped source(s): {missing[0]}",
                    "missing object or field-level read stops the fetch ('Access Denied')",
                    "grant in a permission set for the integration user: " + "; ".join(missing),
                    missing=missing, **evidence)
    return ok("the integration user can read every mapped object and field", **evidence)


@check("perm.edit_targets", "Integration user can write every push target", "reauthorize",
       profiles=("gainsight-px",), needs=("salesforce", "snapshot"))
def edit_targets(ctx: CheckContext) -> Outcome:
    if ctx.integration_user() is None:
        return _no_user()
    missing, evidence = _missing(ctx, "px_to_sf", "edit")
    if missing:
        return fail(f"the integration user cannot write {len(missing)} push target(s): {missing[0]}",
                    "pushes into those fields fail with INSUFFICIENT_ACCESS_OR_READONLY or "
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "grant in a permission set for the integration user: " + "; ".join(missing),
                    missing=missing, **evidence)
    return ok("the integration user can edit every push target (object and field level)", **evidence)
