"""Mappings: every mapped field exists with a compatible type, push targets are PX_ and writable,
every platform attribute exists, and the live org still matches the snapshot."""

from __future__ import annotations

from typing import Any

from sfwizard.checks.base import Outcome, check, fail, ok, skipped, warn
from sfwizard.checks.context import CheckContext
from sfwizard.checks.shared_reads import DESCRIBE_CUSTOM, DESCRIBE_MAPPED, PX_ATTRIBUTES

# PX's attribute types (the contract: STRING, DATE_TIME, BOOLEAN, NUMBER) → Salesforce describe types.
COMPATIBLE = {
    "STRING": {"string", "textarea", "picklist", "multipicklist", "email", "phone", "url", "id", "reference",
               "combobox"},
    "NUMBER": {"int", "double", "currency", "percent", "long"},
    "BOOLEAN": {"boolean"},
    "DATE_TIME": {"datetime", "date"},
}
COMPATIBLE["DATE"] = COMPATIBLE["DATETIME"] = COMPATIBLE["DATE_TIME"]  # older snapshots' spellings
LIVE = "ENABLED"  # an attribute DISABLED or DELETED in PX cannot receive data: it does not count


def _fields_by_object(ctx: CheckContext) -> dict[str, dict[str, dict[str, Any]]]:
    objects = sorted({m.salesforce.split(".", 1)[0] for m in ctx.mappings()})
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, desc in ctx.describes(objects).items():
        out[name] = {f["name"].lower(): f for f in (desc or {}).get("fields", [])} if desc else {}
    return out


def _px_attributes(ctx: CheckContext) -> dict[str, dict]:
    """platform attribute ("account.industry") → its metadata, from the attribute model."""
    out: dict[str, dict] = {}
    if ctx.px is None:
        return out
    for kind in ("account", "user"):
        for a in ctx.px_attributes(kind):
            name = a.get("apiName") or a.get("name") or ""
            out[f"{kind}.{name}".lower()] = a
    return out


def _px_types(ctx: CheckContext) -> dict[str, str]:
    """platform attribute → its type, for the attributes that can receive data (ENABLED)."""
    return {name: str(a.get("type") or a.get("dataType") or "STRING").upper()
            for name, a in _px_attributes(ctx).items() if str(a.get("state") or LIVE).upper() == LIVE}


@check("mapping.salesforce_fields", "Mapped Salesforce fields exist with compatible types", "mappings",
       needs=("salesforce", "snapshot", "data_org"), reads=(DESCRIBE_MAPPED, PX_ATTRIBUTES))
def salesforce_fields(ctx: CheckContext) -> Outcome:
    if not ctx.mappings():
        return skipped("skip.no_mappings", "the snapshot documents no mapping: no field to compare")
    fields = _fields_by_object(ctx)
    px_types = _px_types(ctx)
    missing, mismatched = [], []
    for m in ctx.mappings():
        sobject, _, name = m.salesforce.partition(".")
        f = fields.get(sobject, {}).get(name.lower())
        if f is None:
            missing.append(f"{sobject}.{name}")
            continue
        px_type = (m.type or px_types.get(m.platform.lower()) or "").upper()
        if px_type in COMPATIBLE and f["type"] not in COMPATIBLE[px_type]:
            mismatched.append(f"{sobject}.{name} is {f['type']}, the platform expects {px_type}")
    evidence = {"mappings": len(ctx.mappings()), "objects": sorted(fields), "missing": missing,
                "type_mismatches": mismatched}
    if missing:
        return fail("mapping.field_missing",
                    f"{len(missing)} mapped Salesforce field(s) do not exist or are hidden: {missing[0]}",
                    "a field was deleted or renamed, or field-level security hides it from the signed-in user",
                    "restore the field or remap it in the platform's field mappings", **evidence)
    if mismatched:
        return warn("mapping.type_mismatch", f"{len(mismatched)} mapping(s) have incompatible types: {mismatched[0]}",
                    "values will be dropped or rejected during the sync",
                    "map each attribute to a field of a compatible type", **evidence)
    return ok(f"all {len(ctx.mappings())} mapped Salesforce fields exist with compatible types", **evidence)


@check("mapping.push_targets", "Push targets are PX_ fields and writable", "mappings",
       profiles=("gainsight-px",), needs=("salesforce", "snapshot", "data_org"), reads=(DESCRIBE_MAPPED,))
def push_targets(ctx: CheckContext) -> Outcome:
    prefix = ctx.profile.push_prefix or "PX_"
    fields = _fields_by_object(ctx)
    pushes = [m.salesforce for m in ctx.push_mappings()]
    if not pushes:
        return skipped("skip.no_mappings", "the snapshot documents no push to Salesforce: no target to compare")
    no_prefix = [p for p in pushes if not p.split(".", 1)[1].startswith(prefix)]
    read_only, formulas = [], []
    for p in pushes:
        sobject, _, name = p.partition(".")
        f = fields.get(sobject, {}).get(name.lower())
        if f is not None and not f.get("updateable"):
            read_only.append(p)
            if f.get("calculated"):
                formulas.append({"field": p, "formula": f.get("calculatedFormula")})
    evidence = {"push_targets": pushes, "without_prefix": no_prefix, "not_updateable": read_only,
                "formula_fields": formulas}
    if no_prefix:
        return fail("mapping.push_without_prefix",
                    f"{len(no_prefix)} push target(s) lack the {prefix} prefix: {', '.join(no_prefix)}",
                    f"the platform only pushes into Salesforce fields whose name starts with {prefix}",
                    f"create {prefix}-prefixed fields and point the push mappings at them", **evidence)
    if read_only:
        why = (f"{formulas[0]['field']} is a formula field (Salesforce computes it: {formulas[0]['formula']}), "
               "which no push and no permission can write" if formulas
               else "read-only fields cannot be written by the push")
        return fail("mapping.push_read_only", f"{len(read_only)} push target(s) are read-only: {', '.join(read_only)}",
                    why, f"point the push mappings at writable {prefix} fields (create plain fields for what the "
                    "platform pushes)", **evidence)
    return ok(f"all {len(pushes)} push targets are {prefix} fields and writable", **evidence)


@check("mapping.platform_attributes", "Mapped platform attributes exist", "mappings",
       profiles=("gainsight-px",), needs=("platform", "snapshot"), reads=(PX_ATTRIBUTES,))
def platform_attributes(ctx: CheckContext) -> Outcome:
    targets = [m.platform for m in ctx.mappings()]
    if not targets:
        return skipped("skip.no_mappings", "the snapshot documents no mapping: no attribute to compare")
    every = _px_attributes(ctx)
    known = _px_types(ctx)
    missing = [t for t in targets if t.lower() not in known]
    states = {t: str(every[t.lower()].get("state")).upper() for t in missing if t.lower() in every}
    evidence = {"attributes_known": len(known), "mapped": len(targets), "missing": missing,
                "not_enabled": states}
    if missing:
        first = missing[0] + (f" (it is {states[missing[0]]})" if missing[0] in states else "")
        return fail("mapping.attribute_missing", f"{len(missing)} mapped attribute(s) do not exist in PX or cannot "
                    f"receive data: {first}",
                    "the attribute was deleted, disabled or renamed in PX (a DISABLED or DELETED attribute "
                    "receives no data)",
                    "enable or recreate the attribute in PX (Administration → Attributes), or remap", **evidence)
    return ok(f"all {len(targets)} mapped platform attributes exist", **evidence)


@check("mapping.live_vs_snapshot", "Live org matches the mapping snapshot", "validate",
       needs=("salesforce", "snapshot", "data_org"), reads=(DESCRIBE_MAPPED, DESCRIBE_CUSTOM))
def live_vs_snapshot(ctx: CheckContext) -> Outcome:
    prefix = ctx.profile.push_prefix
    fields = _fields_by_object(ctx)
    documented = {m.salesforce.lower() for m in ctx.mappings()}
    undocumented = sorted(
        f"{obj}.{f['name']}" for obj, fs in fields.items() for f in fs.values()
        if prefix and f["name"].startswith(prefix) and f"{obj}.{f['name']}".lower() not in documented)
    custom = list(ctx.custom_objects())
    gone = [name for name, desc in ctx.describes(custom).items() if desc is None] if custom else []
    evidence = {"undocumented_push_fields": undocumented, "custom_objects": custom, "custom_objects_missing": gone}
    if gone:
        return fail("mapping.custom_object_missing",
                    f"custom object(s) in the snapshot are gone or hidden: {', '.join(gone)}",
                    "the object was deleted, renamed or the signed-in user cannot see it",
                    "restore the object or update the sync's custom objects", **evidence)
    if undocumented:
        return warn("mapping.undocumented_push_field",
                    f"{len(undocumented)} {prefix} field(s) exist but are not in the snapshot: {undocumented[0]}",
                    "the snapshot may be incomplete", "add them to the snapshot's mappings if the sync uses them",
                    **evidence)
    return ok("the live org matches the snapshot's objects and push fields", **evidence)
