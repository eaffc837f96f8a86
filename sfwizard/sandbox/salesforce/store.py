"""The imitated Salesforce's data: orgs with their schema, records and permissions, and connected apps.

Records are plain dicts keyed by canonical field names; values are Python values (str, bool, int,
float, None, ``date``, aware ``datetime``) and only become wire JSON at the HTTP edge (``wire.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sfwizard import ids

Record = dict[str, Any]


@dataclass(frozen=True)
class FieldDef:
    """One field as ``describe`` shows it; ``type`` is Salesforce's describe type name."""

    name: str
    type: str  # id string textarea boolean int double currency percent date datetime reference picklist email phone url
    label: str = ""
    length: int = 0
    updateable: bool = True
    createable: bool = True
    custom: bool = False
    nillable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist_values: tuple[str, ...] = ()
    external_id: bool = False
    name_field: bool = False
    formula: str = ""  # a formula field's text (calculated: read-only, computed per record)
    filterable: bool = True  # False: a WHERE on it is refused, as Salesforce refuses it (LoginHistory.Application)


@dataclass
class SObjectDef:
    name: str
    label: str
    key_prefix: str
    label_plural: str = ""
    custom: bool = False
    queryable: bool = True
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    searchable: bool = True
    setup: bool = False  # setup objects: readable with View Setup, not governed by ObjectPermissions
    fields: dict[str, FieldDef] = field(default_factory=dict)
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _rel_by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.label_plural = self.label_plural or self.label + "s"
        self.reindex()

    def reindex(self) -> None:
        self._by_lower = {name.lower(): f for name, f in self.fields.items()}
        self._rel_by_lower = {
            f.relationship_name.lower(): f for f in self.fields.values() if f.relationship_name
        }
        self._formulas: list[tuple[FieldDef, Any]] | None = None

    def formulas(self) -> list[tuple[FieldDef, Any]]:
        """The formula fields, each with its parsed formula (``sandbox.salesforce.formula``), in field order."""
        if self._formulas is None:
            from sfwizard.sandbox.salesforce.formula import Formula

            names = {n.lower(): n for n in self.fields}
            self._formulas = [(f, Formula(f.formula, names)) for f in self.fields.values() if f.formula]
        return self._formulas

    def compute(self, record: Record) -> Record:
        """Fill the record's formula fields from its other values (in place; returned for chaining)."""
        from sfwizard.sandbox.salesforce.formula import stored

        for f, formula in self.formulas():
            record[f.name] = stored(formula.compute(record), f.type)
        return record

    def add_field(self, f: FieldDef) -> None:
        self.fields[f.name] = f
        self.reindex()

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive field look-up, as SOQL does it."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field behind a relationship name (``Owner`` → ``OwnerId``)."""
        return self._rel_by_lower.get(name.lower())


class Table:
    """Records of one object. The base class keeps them in an insertion-ordered dict."""

    def __init__(self, sobject: SObjectDef, pod: str = "5g") -> None:
        self.sobject = sobject
        self.pod = pod  # the Id's instance characters: distinct per org, so two orgs never share an Id
        self._rows: dict[str, Record] = {}
        self._serial = 0

    # -- reading -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(1 for r in self._rows.values() if not r.get("IsDeleted"))

    def count(self, include_deleted: bool = False) -> int:
        return len(self._rows) if include_deleted else len(self)

    def scan(self, include_deleted: bool = False) -> Iterator[Record]:
        """Every record in order. Callers must not mutate what they get."""
        for r in self._rows.values():
            if include_deleted or not r.get("IsDeleted"):
                yield r

    def get(self, record_id: str, include_deleted: bool = False) -> Record | None:
        r = self._rows.get(ids.to18(record_id) if len(record_id) == 15 else record_id)
        if r is None and len(record_id) == 18:
            r = self._rows.get(record_id)
        if r is not None and r.get("IsDeleted") and not include_deleted:
            return None
        return r

    # -- writing -------------------------------------------------------------------------------
    def new_id(self) -> str:
        self._serial += 1
        # Serial numbers far above generated data's so the two never collide.
        return ids.make_id(self.sobject.key_prefix, 50_000_000 + self._serial, pod=self.pod)

    def insert(self, record: Record) -> Record:
        if not record.get("Id"):
            record["Id"] = self.new_id()
        record.setdefault("IsDeleted", False)
        self.sobject.compute(record)
        self._rows[record["Id"]] = record
        return record

    def update(self, record_id: str, changes: Record) -> Record | None:
        r = self.get(record_id)
        if r is None:
            return None
        r.update(changes)
        self.sobject.compute(r)
        return r

    def delete(self, record_id: str) -> bool:
        r = self.get(record_id)
        if r is None:
            return False
        r["IsDeleted"] = True
        return True


class GeneratedTable(Table):
    """``count`` records made on demand by ``factory(i)``; only changed or added ones are held.

    This is how ``large-tenant`` serves 250,000+ Accounts without a dict per row.
    """

    def __init__(self, sobject: SObjectDef, count: int, factory: Callable[[int], Record],
                 pod: str = "5g") -> None:
        super().__init__(sobject, pod)
        self._count = count
        self._factory = factory
        self._changed: dict[int, Record] = {}
        self._index_of_id: Callable[[str], int | None] | None = None
        # The newest value any untouched generated row holds per datetime field; lets a query for
        # "LastModifiedDate > X" skip them as Salesforce's index would (changed rows are still read).
        self.field_max: dict[str, Any] = {}

    def changed_positions(self) -> list[int]:
        return sorted(self._changed)

    def set_id_index(self, index_of_id: Callable[[str], int | None]) -> None:
        """How to map an Id back to its row number (the generator knows its own Id scheme)."""
        self._index_of_id = index_of_id

    def _row(self, i: int) -> Record:
        return self._changed.get(i) or self.sobject.compute(self._factory(i))

    # Positional access, so a query can keep row numbers instead of rows (soql.py pages lazily).
    @property
    def generated_count(self) -> int:
        """Rows the factory makes; rows inserted later live in the base table after them."""
        return self._count

    def row_at(self, position: int) -> Record:
        """The generated row at ``position`` (0 ≤ position < generated_count), changes applied."""
        return self._row(position)

    def __len__(self) -> int:
        deleted = sum(1 for r in self._changed.values() if r.get("IsDeleted"))
        return self._count - deleted + super().__len__()

    def count(self, include_deleted: bool = False) -> int:
        return self._count + super().count(True) if include_deleted else len(self)

    def scan(self, include_deleted: bool = False) -> Iterator[Record]:
        for i in range(self._count):
            r = self._row(i)
            if include_deleted or not r.get("IsDeleted"):
                yield r
        yield from super().scan(include_deleted)

    def get(self, record_id: str, include_deleted: bool = False) -> Record | None:
        rid = ids.to18(record_id) if len(record_id) == 15 else record_id
        i = self._index_of_id(rid) if self._index_of_id else None
        if i is not None and 0 <= i < self._count:
            r = self._row(i)
            if r["Id"] == rid and (include_deleted or not r.get("IsDeleted")):
                return r
            return None
        return super().get(rid, include_deleted)

    def update(self, record_id: str, changes: Record) -> Record | None:
        rid = ids.to18(record_id) if len(record_id) == 15 else record_id
        i = self._index_of_id(rid) if self._index_of_id else None
        if i is not None and 0 <= i < self._count:
            r = self.get(rid)
            if r is None:
                return None
            r = dict(r)
            r.update(changes)
            self._changed[i] = self.sobject.compute(r)
            return r
        return super().update(rid, changes)

    def delete(self, record_id: str) -> bool:
        return self.update(record_id, {"IsDeleted": True}) is not None


@dataclass
class Access:
    """What one user may do, computed from the org's permission records."""

    api_enabled: bool = False
    modify_all: bool = False
    view_all: bool = False
    view_setup: bool = False
    manage_users: bool = False
    objects: dict[str, dict[str, bool]] = field(default_factory=dict)  # lower name → read/create/edit/delete
    fields: dict[str, dict[str, bool]] = field(default_factory=dict)  # "account.px_score__c" → read/edit
    # The user permissions the security objects' access rules read (security.py; SPECIAL_ACCESS below).
    customize_application: bool = False
    view_event_log_files: bool = False

    def object_perm(self, sobject: SObjectDef, perm: str) -> bool:
        if self.modify_all:
            return True
        if sobject.name in _MANAGE_USERS:  # UserLogin: "you need the ManageUsers permission"
            return perm in ("read", "edit") and self.manage_users
        special = SPECIAL_ACCESS.get(sobject.name)
        if special is not None:
            return perm == "read" and special.read(self)
        if sobject.setup:
            return perm == "read" and (self.view_setup or self.view_all or sobject.name in _OPEN_SETUP)
        if perm == "read" and self.view_all:
            return True
        return self.objects.get(sobject.name.lower(), {}).get(perm, False)

    def field_perm(self, sobject: SObjectDef, f: FieldDef, perm: str) -> bool:
        """Read or edit on one field. Standard fields follow the object; custom fields need FLS."""
        obj_perm = "read" if perm == "read" else "edit"
        if not self.object_perm(sobject, obj_perm):
            return False
        if perm == "edit" and not f.updateable:
            return False
        special = SPECIAL_ACCESS.get(sobject.name)
        if special is not None and f.name in special.fields and not self.modify_all:
            return special.fields[f.name](self)
        if self.modify_all or not f.custom or sobject.setup:
            return True
        if perm == "read" and self.view_all:
            return True
        return self.fields.get(f"{sobject.name}.{f.name}".lower(), {}).get(perm, False)


# Setup objects any API user can read (real orgs let every user see their own org and users).
_MANAGE_USERS = {"UserLogin"}
_OPEN_SETUP = {"Organization", "User", "Profile", "PermissionSet", "PermissionSetAssignment",
               "ObjectPermissions", "FieldPermissions", "KnowledgeArticleVersion"}


@dataclass(frozen=True)
class SpecialAccess:
    """An object Salesforce rules apart from the rest (its "Special Access Rules"): who may query it, which of
    its rows each user sees, and fields that need a permission of their own. Registered by security.py."""

    read: Callable[[Access], bool]
    rows: Callable[[Access, str], Callable[[Record], bool] | None] | None = None  # (access, user Id) → row test
    fields: dict[str, Callable[[Access], bool]] = field(default_factory=dict)


SPECIAL_ACCESS: dict[str, SpecialAccess] = {}
# Objects whose records a table of their own keeps (security.py: OauthToken rows carry a DeleteToken).
TABLE_FACTORIES: dict[str, Callable[[SObjectDef, str], Table]] = {}


class Org:
    """One Salesforce org: its identity, schema, tables, API counters and policies."""

    def __init__(self, key: str, org_id: str, name: str, *, instance_name: str = "USA612",
                 is_sandbox: bool = False, organization_type: str = "Enterprise Edition",
                 api_max: int = 100_000, api_used: int = 0, password_expiry_days: int | None = 90,
                 my_domain: str = "", pod: str = "5g") -> None:
        self.key = key
        self.pod = pod
        self.id = org_id
        self.name = name
        self.instance_name = instance_name
        self.is_sandbox = is_sandbox
        self.organization_type = organization_type
        self.my_domain = my_domain
        self.api_max = api_max
        self.api_used = api_used
        self.password_expiry_days = password_expiry_days  # the org-wide password policy (None or 0: never)
        self.profile_password_policies: dict[str, int] = {}  # Profile Id → its own policy's days (0: never)
        self.knowledge_enabled = True
        self.schema: dict[str, SObjectDef] = {}
        self._schema_lower: dict[str, SObjectDef] = {}
        self.tables: dict[str, Table] = {}
        self.data_category_groups: list[dict[str, Any]] = []
        # Managed packages installed (the Tooling API's InstalledSubscriberPackage): {namespace, name, version}
        self.installed_packages: list[dict[str, Any]] = []
        self.time_zone = "America/Los_Angeles"  # Organization.TimeZoneSidKey
        self.expired_passwords: set[str] = set()  # users whose password their policy expired (User Ids)
        self._access_cache: dict[str, Access] = {}

    # -- schema ------------------------------------------------------------------------------------
    def add_sobject(self, sobject: SObjectDef, table: Table | None = None) -> Table:
        self.schema[sobject.name] = sobject
        self._schema_lower[sobject.name.lower()] = sobject
        self.tables[sobject.name] = table or TABLE_FACTORIES.get(sobject.name, Table)(sobject, self.pod)
        return self.tables[sobject.name]

    def sobject(self, name: str) -> SObjectDef | None:
        return self._schema_lower.get(name.lower())

    def table(self, name: str) -> Table:
        sobject = self.sobject(name)
        if sobject is None:
            raise KeyError(name)
        return self.tables[sobject.name]

    def sobject_for_id(self, record_id: str) -> SObjectDef | None:
        for s in self.schema.values():
            if record_id.startswith(s.key_prefix):
                return s
        return None

    # -- users and permissions ---------------------------------------------------------------------
    def user(self, user_id: str) -> Record | None:
        return self.table("User").get(user_id)

    def login_state(self, user_id: str) -> Record:
        """The user's UserLogin row (IsFrozen, IsPasswordLocked), or an empty one."""
        if self.sobject("UserLogin") is not None:
            for row in self.table("UserLogin").scan():
                if row["UserId"] == user_id:
                    return row
        return {}

    def user_by_username(self, username: str) -> Record | None:
        for u in self.table("User").scan():
            if u["Username"].lower() == username.lower():
                return u
        return None

    def invalidate_access(self) -> None:
        self._access_cache.clear()

    def access(self, user_id: str) -> Access:
        """Effective access from the user's permission sets (the profile's own set included)."""
        cached = self._access_cache.get(user_id)
        if cached is not None:
            return cached
        acc = Access()
        ps_ids = {a["PermissionSetId"] for a in self.table("PermissionSetAssignment").scan()
                  if a["AssigneeId"] == user_id}
        user = self.user(user_id)
        if user is not None:  # the profile's permission set applies even without an assignment row
            for ps in self.table("PermissionSet").scan():
                if ps.get("IsOwnedByProfile") and ps.get("ProfileId") == user.get("ProfileId"):
                    ps_ids.add(ps["Id"])
        for ps_id in ps_ids:
            ps = self.table("PermissionSet").get(ps_id)
            if ps is None:
                continue
            acc.api_enabled |= bool(ps.get("PermissionsApiEnabled"))
            acc.modify_all |= bool(ps.get("PermissionsModifyAllData"))
            acc.view_all |= bool(ps.get("PermissionsViewAllData"))
            acc.view_setup |= bool(ps.get("PermissionsViewSetup"))
            acc.manage_users |= bool(ps.get("PermissionsManageUsers"))
            acc.customize_application |= bool(ps.get("PermissionsCustomizeApplication"))
            acc.view_event_log_files |= bool(ps.get("PermissionsViewEventLogFiles"))
        for op in self.table("ObjectPermissions").scan():
            if op["ParentId"] in ps_ids:
                slot = acc.objects.setdefault(op["SobjectType"].lower(), {})
                for perm in ("Read", "Create", "Edit", "Delete"):
                    if op.get(f"Permissions{perm}"):
                        slot[perm.lower()] = True
        for fp in self.table("FieldPermissions").scan():
            if fp["ParentId"] in ps_ids:
                slot = acc.fields.setdefault(fp["Field"].lower(), {})
                for perm in ("Read", "Edit"):
                    if fp.get(f"Permissions{perm}"):
                        slot[perm.lower()] = True
        self._access_cache[user_id] = acc
        return acc


@dataclass
class ConnectedApp:
    """An OAuth client known to the sandbox's login server."""

    name: str
    client_id: str
    client_secret: str
    rotate_refresh_tokens: bool = False
    installed_in: set[str] = field(default_factory=set)  # org keys where the app is installed
    device_flow: bool = True
    # Loopback redirects are always allowed; extra exact redirect URIs (the sandbox's own callbacks).
    redirect_uris: tuple[str, ...] = ()



def system_fields(record: Record, created: datetime, modified: datetime | None = None,
                  by: str | None = None) -> Record:
    """The system fields every record carries (kept where the record already has them)."""
    record.setdefault("IsDeleted", False)
    record.setdefault("CreatedDate", created)
    record.setdefault("LastModifiedDate", modified or created)
    record.setdefault("SystemModstamp", record["LastModifiedDate"])
    if by:
        record.setdefault("CreatedById", by)
        record.setdefault("LastModifiedById", by)
    return record
