"""Describe, single records and sObject Collections of the REST API, with object and field security.

A user sees only objects they can read and fields they have field-level read on; writes check object
create/edit/delete, field edit and each value's type the way Salesforce does, in Salesforce's order.
Every write is validated whole before anything changes, so ``allOrNone`` can refuse without undoing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sfwizard import ids
from sfwizard.sandbox.http import Request, Response, json_response, no_content
from sfwizard.sandbox.salesforce import wire
from sfwizard.sandbox.salesforce.api import NOT_FOUND, ApiRoute, Ctx, RestError, api_route, invalid_field, json_body
from sfwizard.sandbox.salesforce.store import FieldDef, Record, SObjectDef

MAX_COLLECTION = 200
MAX_COLLECTION_GET = 2000
_PERMISSION_OBJECTS = {"User", "Profile", "PermissionSet", "PermissionSetAssignment", "ObjectPermissions",
                       "FieldPermissions"}
_SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
               "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
               "datetime": "xsd:dateTime"}
_SYSTEM_FIELDS = {"Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                  "SystemModstamp"}
_DENIED = "insufficient access rights on object id"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def no_such_column(name: str, sobject: str) -> RestError:
    return RestError(400, "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {sobject}")


# -- permissions ------------------------------------------------------------------------------------

def _fls_edit(ctx: Ctx, sobject: SObjectDef, f: FieldDef) -> bool:
    acc = ctx.access
    if acc.modify_all or not f.custom or sobject.setup:
        return True
    return acc.fields.get(f"{sobject.name}.{f.name}".lower(), {}).get("edit", False)


def can_object(ctx: Ctx, sobject: SObjectDef, perm: str) -> bool:
    flags = {"create": sobject.createable, "edit": sobject.updateable, "delete": sobject.deletable}
    flag = flags.get(perm, True)
    return flag and ctx.access.object_perm(sobject, perm)


def field_readable(ctx: Ctx, sobject: SObjectDef, f: FieldDef) -> bool:
    return ctx.access.field_perm(sobject, f, "read")


def field_createable(ctx: Ctx, sobject: SObjectDef, f: FieldDef) -> bool:
    return f.createable and can_object(ctx, sobject, "create") and _fls_edit(ctx, sobject, f)


def field_updateable(ctx: Ctx, sobject: SObjectDef, f: FieldDef) -> bool:
    return f.updateable and can_object(ctx, sobject, "edit") and _fls_edit(ctx, sobject, f)


def visible_fields(ctx: Ctx, sobject: SObjectDef) -> list[FieldDef]:
    return [f for f in sobject.fields.values() if field_readable(ctx, sobject, f)]


def sobject_or_404(ctx: Ctx, name: str) -> SObjectDef:
    sobject = ctx.readable(name)
    if sobject is None:
        raise RestError(404, "NOT_FOUND", NOT_FOUND)
    return sobject


def wire_record(ctx: Ctx, sobject: SObjectDef, rec: Record, fields: list[FieldDef]) -> dict[str, Any]:
    url = ctx.url(f"sobjects/{sobject.name}/{rec['Id']}")
    out: dict[str, Any] = {"attributes": {"type": sobject.name, "url": url}}
    for f in fields:
        out[f.name] = wire.to_json(rec.get(f.name))
    return out


# -- describe ---------------------------------------------------------------------------------------

def _urls(ctx: Ctx, name: str) -> dict[str, str]:
    base = ctx.url(f"sobjects/{name}")
    return {"compactLayouts": base + "/describe/compactLayouts", "rowTemplate": base + "/{ID}",
            "approvalLayouts": base + "/describe/approvalLayouts",
            "defaultValues": base + "/defaultValues?recordTypeId&fields",
            "listviews": base + "/listviews", "describe": base + "/describe",
            "quickActions": base + "/quickActions", "layouts": base + "/describe/layouts", "sobject": base}


def _global_entry(ctx: Ctx, s: SObjectDef) -> dict[str, Any]:
    return {
        "activateable": False, "associateEntityType": None, "associateParentEntity": None,
        "createable": can_object(ctx, s, "create"), "custom": s.custom, "customSetting": False,
        "deepCloneable": False, "deletable": can_object(ctx, s, "delete"), "deprecatedAndHidden": False,
        "feedEnabled": not s.setup, "hasSubtypes": False, "isInterface": False, "isSubtype": False,
        "keyPrefix": s.key_prefix, "label": s.label, "labelPlural": s.label_plural, "layoutable": not s.setup,
        "mergeable": s.name in ("Account", "Contact", "Lead"), "mruEnabled": not s.setup, "name": s.name,
        "queryable": s.queryable, "replicateable": True, "retrieveable": True, "searchable": s.searchable,
        "triggerable": not s.setup, "undeletable": can_object(ctx, s, "delete") and not s.setup,
        "updateable": can_object(ctx, s, "edit"), "urls": _urls(ctx, s.name),
    }


def _global_describe(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    objects = [_global_entry(ctx, s) for s in sorted(ctx.org.schema.values(), key=lambda s: s.name)
               if ctx.readable(s.name)]
    return json_response({"encoding": "UTF-8", "maxBatchSize": MAX_COLLECTION, "sobjects": objects})


def _sobject_info(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobject = sobject_or_404(ctx, m.group(1))
    return json_response({"objectDescribe": _global_entry(ctx, sobject), "recentItems": []})


def _field_describe(ctx: Ctx, s: SObjectDef, f: FieldDef) -> dict[str, Any]:
    """One field as describe shows it. A formula field says ``calculated: true`` with its ``calculatedFormula``
    and is neither createable nor updateable (Salesforce's DescribeFieldResult: getCalculatedFormula, "custom
    formula fields are always read-only"; the same keys in jsforce's Field type)."""
    text = f.type in ("string", "textarea", "email", "phone", "url", "picklist", "id", "reference")
    numeric = f.type in ("double", "currency", "percent")
    return {
        "aggregatable": f.type != "textarea", "aiPredictionField": False, "autoNumber": False,
        "byteLength": f.length * 3 if text else 0, "calculated": bool(f.formula),
        "calculatedFormula": f.formula or None,
        "cascadeDelete": False, "caseSensitive": False, "compoundFieldName": None, "controllerName": None,
        "createable": field_createable(ctx, s, f), "custom": f.custom,
        "defaultValue": False if f.type == "boolean" else None, "defaultValueFormula": None,
        "defaultedOnCreate": f.type == "boolean" or f.name == "OwnerId" or f.name in _SYSTEM_FIELDS,
        "dependentPicklist": False, "deprecatedAndHidden": False, "digits": 9 if f.type == "int" else 0,
        "displayLocationInDecimal": False, "encrypted": False, "externalId": f.external_id,
        "extraTypeInfo": None, "filterable": f.type != "textarea" and f.filterable, "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": f.type not in ("textarea", "double", "currency", "percent", "datetime"),
        "highScaleNumber": False, "htmlFormatted": False, "idLookup": f.name == "Id" or f.external_id,
        "inlineHelpText": None, "label": f.label, "length": f.length if text else 0, "mask": None,
        "maskType": None, "name": f.name, "nameField": f.name_field, "namePointing": False,
        "nillable": f.nillable, "permissionable": f.custom or (f.nillable and f.name not in _SYSTEM_FIELDS),
        "picklistValues": [{"active": True, "defaultValue": i == 0 and not f.nillable, "label": v,
                            "validFor": None, "value": v} for i, v in enumerate(f.picklist_values)],
        "polymorphicForeignKey": len(f.reference_to) > 1, "precision": 18 if numeric else 0,
        "queryByDistance": False, "referenceTargetField": None, "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship_name, "relationshipOrder": None, "restrictedDelete": False,
        "restrictedPicklist": False, "scale": 2 if f.type == "currency" else 0, "searchPrefilterable": False,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"), "sortable": f.type != "textarea",
        "type": f.type, "unique": False, "updateable": field_updateable(ctx, s, f),
        "writeRequiresMasterRead": False,
    }


def _child_relationships(ctx: Ctx, sobject: SObjectDef) -> list[dict[str, Any]]:
    out = []
    for child in ctx.org.schema.values():
        if not ctx.readable(child.name):
            continue
        for f in child.fields.values():
            if sobject.name not in f.reference_to or not f.relationship_name:
                continue
            if f.name in ("CreatedById", "LastModifiedById", "OwnerId"):
                continue  # real orgs list these too, but under names no recovery needs
            rel = child.label_plural.replace(" ", "")
            if f.custom:  # custom lookups: the plural child name with the __r suffix
                rel = child.name.removesuffix("__c").split("__")[-1] + "s__r"
            out.append({"cascadeDelete": False, "childSObject": child.name, "deprecatedAndHidden": False,
                        "field": f.name, "junctionIdListNames": [], "junctionReferenceTo": [],
                        "relationshipName": rel, "restrictedDelete": False})
    return out


def _describe(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    s = sobject_or_404(ctx, m.group(1))
    out = _global_entry(ctx, s)
    out.update({
        "actionOverrides": [], "childRelationships": _child_relationships(ctx, s), "compactLayoutable": True,
        "defaultImplementation": None, "extendedBy": None, "extendsInterfaces": None,
        "fields": [_field_describe(ctx, s, f) for f in visible_fields(ctx, s)], "implementedBy": None,
        "implementsInterfaces": None, "listviewable": None, "lookupLayoutable": None, "namedLayoutInfos": [],
        "networkScopeFieldName": None, "recordTypeInfos": [], "searchLayoutable": True,
        "sobjectDescribeOption": "FULL", "supportedScopes": [{"label": "All", "name": "everything"}],
    })
    return json_response(out)


# -- validating writes ------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _convert(ctx: Ctx, sobject: SObjectDef, f: FieldDef, value: Any) -> Any:
    if isinstance(value, (dict, list)):
        token = "START_OBJECT" if isinstance(value, dict) else "START_ARRAY"
        raise RestError(400, "JSON_PARSER_ERROR",
                       f"Cannot deserialize instance of {f.type} from {token} value")
    try:
        out = wire.from_json(f, value)
    except wire.WireValueError as exc:
        if "too large" in str(exc):
            raise RestError(400, "STRING_TOO_LONG", f"{f.label}: {exc}", [f.name]) from None
        raise RestError(400, "JSON_PARSER_ERROR",
                       f"Cannot deserialize instance of {f.type} from VALUE_STRING value {value!s:.40} "
                       "or request may be missing a required field") from None
    if out is None:
        return None
    if f.type == "email" and not _EMAIL.match(out):
        raise RestError(400, "INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {out}", [f.name])
    if f.type in ("reference", "id") and not ids.is_valid(out):
        raise RestError(400, "MALFORMED_ID", f"{f.label}: id value of incorrect type: {out}", [f.name])
    if f.type == "reference":
        out = ids.to18(out)
    return out


def prepare_values(ctx: Ctx, sobject: SObjectDef, body: Any, *, create: bool,
                   existing: Record | None = None) -> dict[str, Any]:
    """Check a create or update body the way Salesforce does; return converted values, change nothing."""
    if not isinstance(body, dict):
        kind = "START_ARRAY" if isinstance(body, list) else "VALUE"
        raise RestError(400, "JSON_PARSER_ERROR",
                       f"Cannot deserialize instance of {sobject.name} from {kind} value")
    if not can_object(ctx, sobject, "create" if create else "edit"):
        raise RestError(403, "INSUFFICIENT_ACCESS_OR_READONLY", _DENIED)
    fields: list[tuple[FieldDef, Any]] = []
    for key, value in body.items():
        if key == "attributes":
            continue
        f = sobject.field(key)
        if f is None or not field_readable(ctx, sobject, f):
            raise no_such_column(key, sobject.name)
        if not create and f.name == "Id" and existing is not None and ids.same_id(str(value), existing["Id"]):
            continue
        fields.append((f, value))
    denied = [f.name for f, _ in fields
              if not (field_createable(ctx, sobject, f) if create else field_updateable(ctx, sobject, f))]
    if denied:
        raise RestError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                       f"Unable to create/update fields: {', '.join(denied)}. Please check the security "
                       "settings of this field and verify that it is read/write for your profile or "
                       "permission set.", denied)
    values = {f.name: _convert(ctx, sobject, f, v) for f, v in fields}
    merged = {**(existing or {}), **values}
    missing = [f.name for f in sobject.fields.values()
               if f.createable and not f.nillable and f.type not in ("boolean", "picklist")
               and f.name != "OwnerId" and (create or f.name in values) and merged.get(f.name) in (None, "")]
    if missing:
        raise RestError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                       missing)
    return values


def _computed_name(sobject: SObjectDef, rec: Record) -> None:
    f = sobject.field("Name")
    if f is not None and not f.createable and "LastName" in sobject.fields:
        rec["Name"] = " ".join(x for x in (rec.get("FirstName"), rec.get("LastName")) if x)


def apply_create(ctx: Ctx, sobject: SObjectDef, values: dict[str, Any]) -> Record:
    now = ctx.state.now()
    rec: Record = {f.name: (False if f.type == "boolean" else None) for f in sobject.fields.values()}
    for f in sobject.fields.values():
        if f.type == "picklist" and not f.nillable and f.picklist_values:
            rec[f.name] = f.picklist_values[0]
    rec.update(values)
    rec.update({"Id": None, "IsDeleted": False, "CreatedDate": now, "LastModifiedDate": now,
                "SystemModstamp": now, "CreatedById": ctx.user["Id"], "LastModifiedById": ctx.user["Id"]})
    if "OwnerId" in sobject.fields and not rec.get("OwnerId"):
        rec["OwnerId"] = ctx.user["Id"]
    _computed_name(sobject, rec)
    rec = ctx.org.table(sobject.name).insert(rec)
    if sobject.name in _PERMISSION_OBJECTS:
        ctx.org.invalidate_access()
    return rec


def apply_update(ctx: Ctx, sobject: SObjectDef, record_id: str, values: dict[str, Any]) -> None:
    table = ctx.org.table(sobject.name)
    changes = dict(values)
    changes.update({"LastModifiedDate": ctx.state.now(), "SystemModstamp": ctx.state.now(),
                    "LastModifiedById": ctx.user["Id"]})
    current = table.get(record_id)
    if current is not None and ("FirstName" in changes or "LastName" in changes):
        merged = {**current, **changes}
        _computed_name(sobject, merged)
        if "Name" in merged:
            changes["Name"] = merged["Name"]
    table.update(record_id, changes)
    if sobject.name in _PERMISSION_OBJECTS:
        ctx.org.invalidate_access()


def apply_delete(ctx: Ctx, sobject: SObjectDef, record_id: str) -> None:
    table = ctx.org.table(sobject.name)
    table.update(record_id, {"SystemModstamp": ctx.state.now()})  # getDeleted reports this as deletedDate
    table.delete(record_id)
    if sobject.name in _PERMISSION_OBJECTS:
        ctx.org.invalidate_access()


def find_record(ctx: Ctx, sobject: SObjectDef, record_id: str, *, single: bool = True) -> Record:
    """The live record, or the error Salesforce gives for a bad, unknown or deleted Id."""
    if not ids.is_valid(record_id) or not record_id.startswith(sobject.key_prefix):
        if single:
            raise RestError(404, "NOT_FOUND",
                           f"Provided external ID field does not exist or is not accessible: {record_id}")
        raise RestError(400, "MALFORMED_ID", f"malformed id {record_id}")
    rec = ctx.org.table(sobject.name).get(record_id, include_deleted=True)
    if rec is None:
        if single:
            raise RestError(404, "NOT_FOUND", NOT_FOUND)
        raise RestError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    if rec.get("IsDeleted"):
        raise RestError(404, "ENTITY_IS_DELETED", "entity is deleted") if single else \
            RestError(400, "ENTITY_IS_DELETED", "entity is deleted")
    return rec


# -- single records ---------------------------------------------------------------------------------

def _selected_fields(ctx: Ctx, sobject: SObjectDef, names: str | None) -> list[FieldDef]:
    if names is None:
        return visible_fields(ctx, sobject)
    out = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        f = sobject.field(name)
        if f is None or not field_readable(ctx, sobject, f):
            raise invalid_field(name, sobject.name)
        out.append(f)
    return out


def _get_record(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobject = sobject_or_404(ctx, m.group(1))
    rec = find_record(ctx, sobject, m.group(2))
    fields = _selected_fields(ctx, sobject, req.arg("fields"))
    if req.arg("fields") is not None and not any(f.name == "Id" for f in fields):
        fields.append(sobject.fields["Id"])  # Salesforce adds the Id to a ?fields= answer
    return json_response(wire_record(ctx, sobject, rec, fields))


def _create(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobject = sobject_or_404(ctx, m.group(1))
    values = prepare_values(ctx, sobject, json_body(req), create=True)
    rec = apply_create(ctx, sobject, values)
    return json_response({"id": rec["Id"], "success": True, "errors": []}, 201)


def _update(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobject = sobject_or_404(ctx, m.group(1))
    body = json_body(req)
    rec = find_record(ctx, sobject, m.group(2))
    values = prepare_values(ctx, sobject, body, create=False, existing=rec)
    apply_update(ctx, sobject, rec["Id"], values)
    return no_content()


def _delete(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobject = sobject_or_404(ctx, m.group(1))
    if not can_object(ctx, sobject, "delete"):
        raise RestError(403, "INSUFFICIENT_ACCESS_OR_READONLY", _DENIED)
    rec = find_record(ctx, sobject, m.group(2))
    apply_delete(ctx, sobject, rec["Id"])
    return no_content()


# -- sObject Collections ----------------------------------------------------------------------------

def _result(record_id: str | None, error: RestError | None) -> dict[str, Any]:
    if error is None:
        return {"id": record_id, "success": True, "errors": []}
    return {"success": False, "errors": [error.item()]}


_ROLLED_BACK = RestError(400, "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                        "Record rolled back because not all records were valid and the request was using "
                        "AllOrNone header")


def _run_collection(items: list[Any], prepare: Callable[[Any], Callable[[], str]],
                    all_or_none: bool) -> Response:
    """Validate every item, then apply (or, under allOrNone with any failure, apply none)."""
    plans: list[tuple[Callable[[], str] | None, RestError | None]] = []
    for item in items:
        try:
            plans.append((prepare(item), None))
        except RestError as exc:
            plans.append((None, exc))
    failed = any(err for _, err in plans)
    out = []
    for plan, err in plans:
        if err is not None:
            out.append(_result(None, err))
        elif all_or_none and failed:
            out.append(_result(None, _ROLLED_BACK))
        else:
            out.append(_result(plan(), None))  # type: ignore[misc]
    return json_response(out)


def _too_many() -> RestError:
    return RestError(400, "EXCEEDED_ID_LIMIT",
                    f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call")


def _collection_body(req: Request) -> tuple[list[Any], bool]:
    body = json_body(req)
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise RestError(400, "JSON_PARSER_ERROR", "The request body must contain a records array")
    if len(records) > MAX_COLLECTION:
        raise _too_many()
    return records, bool(body.get("allOrNone"))


def _typed(ctx: Ctx, item: Any) -> SObjectDef:
    attrs = item.get("attributes") if isinstance(item, dict) else None
    kind = attrs.get("type") if isinstance(attrs, dict) else None
    if not kind:
        raise RestError(400, "INVALID_TYPE", "Must specify a type in attributes field")
    sobject = ctx.readable(kind)
    if sobject is None:
        raise RestError(400, "INVALID_TYPE", f"sObject type '{kind}' is not supported.")
    return sobject


def _collection_create(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    records, all_or_none = _collection_body(req)

    def prepare(item: Any) -> Callable[[], str]:
        sobject = _typed(ctx, item)
        if "Id" in item or "id" in item:
            raise RestError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        values = prepare_values(ctx, sobject, item, create=True)
        return lambda: apply_create(ctx, sobject, values)["Id"]

    return _run_collection(records, prepare, all_or_none)


def _collection_update(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    records, all_or_none = _collection_body(req)

    def prepare(item: Any) -> Callable[[], str]:
        sobject = _typed(ctx, item)
        rid = item.get("Id") or item.get("id")
        if not rid:
            raise RestError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        rec = find_record(ctx, sobject, str(rid), single=False)
        values = prepare_values(ctx, sobject, {k: v for k, v in item.items() if k not in ("Id", "id")},
                                create=False, existing=rec)
        return lambda: (apply_update(ctx, sobject, rec["Id"], values), rec["Id"])[1]

    return _run_collection(records, prepare, all_or_none)


def _id_list(req: Request) -> list[str]:
    raw = req.arg("ids")
    if not raw:
        raise RestError(400, "MISSING_ARGUMENT", "Missing argument: ids")
    return [x.strip() for x in raw.split(",") if x.strip()]


def _collection_delete(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    id_list = _id_list(req)
    if len(id_list) > MAX_COLLECTION:
        raise _too_many()

    def prepare(rid: str) -> Callable[[], str]:
        sobject = ctx.org.sobject_for_id(rid) if ids.is_valid(rid) else None
        if sobject is None:
            raise RestError(400, "MALFORMED_ID", f"malformed id {rid}")
        if ctx.readable(sobject.name) is None or not can_object(ctx, sobject, "delete"):
            raise RestError(400, "INSUFFICIENT_ACCESS_OR_READONLY", _DENIED)
        rec = find_record(ctx, sobject, rid, single=False)
        return lambda: (apply_delete(ctx, sobject, rec["Id"]), rec["Id"])[1]

    return _run_collection(id_list, prepare, (req.arg("allOrNone") or "").lower() == "true")


def _collection_get(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    """GET with ``?ids=&fields=``, or POST with ``{"ids": [...], "fields": [...]}`` for long lists."""
    sobject = sobject_or_404(ctx, m.group(1))
    if req.method == "POST":
        body = json_body(req)
        body = body if isinstance(body, dict) else {}
        id_list = [str(x) for x in body.get("ids") or []]
        names = ",".join(str(x) for x in body.get("fields") or [])
        if not id_list:
            raise RestError(400, "MISSING_ARGUMENT", "Missing argument: ids")
    else:
        id_list, names = _id_list(req), req.arg("fields") or ""
    if len(id_list) > MAX_COLLECTION_GET:
        raise RestError(400, "EXCEEDED_ID_LIMIT", f"cannot retrieve more than {MAX_COLLECTION_GET} records")
    if not names:
        raise RestError(400, "MISSING_ARGUMENT", "Missing argument: fields")
    fields = _selected_fields(ctx, sobject, names)
    out: list[Any] = []
    for rid in id_list:
        ok = ids.is_valid(rid) and rid.startswith(sobject.key_prefix)
        rec = ctx.org.table(sobject.name).get(rid) if ok else None
        out.append(wire_record(ctx, sobject, rec, fields) if rec else None)
    return json_response(out)


# -- getUpdated / getDeleted ------------------------------------------------------------------------

def _window(ctx: Ctx, req: Request) -> tuple[datetime, datetime]:
    def arg(name: str) -> datetime:
        raw = req.arg(name)
        if not raw:
            raise RestError(400, "MISSING_ARGUMENT", f"Missing argument: {name}")
        try:  # a bare '+' in a query string arrives as a space
            return wire.parse_datetime(raw.replace(" ", "+"))
        except ValueError:
            raise RestError(400, "INVALID_REPLICATION_DATE", f"Invalid {name} date: {raw}") from None

    start, end = arg("start"), arg("end")
    now = ctx.state.now()
    if end <= start:
        raise RestError(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
    if start < now - timedelta(days=30):
        raise RestError(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago")
    return start, min(end, now)


def _updated(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobject = sobject_or_404(ctx, m.group(1))
    start, end = _window(ctx, req)
    found = [r["Id"] for r in ctx.org.table(sobject.name).scan()
             if r.get("SystemModstamp") is not None and start <= r["SystemModstamp"] <= end]
    return json_response({"ids": found, "latestDateCovered": wire.format_datetime(end)})


def _deleted(ctx: Ctx, req: Request, m: re.Match[str]) -> Response:
    sobject = sobject_or_404(ctx, m.group(1))
    start, end = _window(ctx, req)
    gone = [{"deletedDate": wire.format_datetime(r["SystemModstamp"]), "id": r["Id"]}
            for r in ctx.org.table(sobject.name).scan(include_deleted=True)
            if r.get("IsDeleted") and start <= (r.get("SystemModstamp") or _EPOCH) <= end]
    earliest = (ctx.state.now() - timedelta(days=30)).replace(second=0, microsecond=0)
    return json_response({"deletedRecords": gone, "earliestDateAvailable": wire.format_datetime(earliest),
                          "latestDateCovered": wire.format_datetime(end)})


def api_routes() -> list[ApiRoute]:
    obj = r"sobjects/(\w+)"
    return [
        api_route("GET", r"sobjects/?", _global_describe),
        api_route("GET", obj + r"/?", _sobject_info),
        api_route("POST", obj + r"/?", _create),
        api_route("GET", obj + r"/describe/?", _describe),
        api_route("GET", obj + r"/updated/?", _updated),
        api_route("GET", obj + r"/deleted/?", _deleted),
        api_route("GET", obj + r"/(\w+)/?", _get_record),
        api_route("PATCH", obj + r"/(\w+)/?", _update),
        api_route("DELETE", obj + r"/(\w+)/?", _delete),
        api_route("POST", r"composite/sobjects/?", _collection_create),
        api_route("PATCH", r"composite/sobjects/?", _collection_update),
        api_route("DELETE", r"composite/sobjects/?", _collection_delete),
        api_route("GET", r"composite/sobjects/(\w+)/?", _collection_get),
        api_route("POST", r"composite/sobjects/(\w+)/?", _collection_get),
    ]
