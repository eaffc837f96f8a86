"""Standard object definitions: the objects a recovery reads, with describe-accurate field types."""

from __future__ import annotations

from sfwizard.ids import KEY_PREFIXES
from sfwizard.sandbox.salesforce.store import FieldDef, SObjectDef


def F(name: str, type_: str, length: int = 0, *, label: str = "", ref: str | tuple[str, ...] = (),
      rel: str | None = None, ro: bool = False, nillable: bool = True, custom: bool | None = None,
      picklist: tuple[str, ...] = (), name_field: bool = False, create_only: bool = False,
      formula: str = "", filterable: bool = True) -> FieldDef:
    """One field; a ``formula`` makes it a formula field (calculated, never createable or updateable)."""
    ro = ro or bool(formula)
    refs = (ref,) if isinstance(ref, str) and ref else tuple(ref)
    if not length and type_ in ("string", "email", "phone", "url", "picklist", "reference", "id"):
        length = {"id": 18, "reference": 18, "email": 80, "phone": 40, "url": 255}.get(type_, 255)
    if type_ == "textarea" and not length:
        length = 32000
    return FieldDef(
        name=name, type=type_, label=label or _label(name), length=length,
        updateable=not ro and not create_only, createable=not ro, nillable=nillable,
        custom=name.endswith("__c") if custom is None else custom,
        reference_to=refs, relationship_name=rel, picklist_values=picklist, name_field=name_field,
        formula=formula, filterable=filterable,
    )


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    if "__" in base:  # a namespace prefix
        base = base.split("__", 1)[1]
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    out = []
    for i, ch in enumerate(base.replace("_", " ")):
        if ch.isupper() and i and base[i - 1].islower():
            out.append(" ")
        out.append(ch)
    return "".join(out).strip()


def system_fields(owner: bool = True) -> list[FieldDef]:
    fields = [
        F("Id", "id", ro=True, nillable=False),
        F("IsDeleted", "boolean", ro=True, nillable=False),
        F("CreatedDate", "datetime", ro=True, nillable=False),
        F("CreatedById", "reference", ref="User", rel="CreatedBy", ro=True, nillable=False),
        F("LastModifiedDate", "datetime", ro=True, nillable=False),
        F("LastModifiedById", "reference", ref="User", rel="LastModifiedBy", ro=True, nillable=False),
        F("SystemModstamp", "datetime", ro=True, nillable=False),
    ]
    if owner:
        fields.append(F("OwnerId", "reference", ref="User", rel="Owner", nillable=False))
    return fields


def _obj(name: str, label: str, fields: list[FieldDef], *, setup: bool = False, owner: bool = True,
         prefix: str | None = None, label_plural: str = "", custom: bool = False,
         writable: bool = True) -> SObjectDef:
    all_fields = system_fields(owner=owner and not setup) + fields
    return SObjectDef(
        name=name, label=label, label_plural=label_plural,
        key_prefix=prefix or KEY_PREFIXES[name], custom=custom, setup=setup,
        createable=writable, updateable=writable, deletable=writable,
        fields={f.name: f for f in all_fields},
    )


PERMISSION_FLAGS = ("PermissionsApiEnabled", "PermissionsModifyAllData", "PermissionsViewAllData",
                    "PermissionsViewSetup", "PermissionsManageUsers", "PermissionsApproveUninstalledApps",
                    "PermissionsPasswordNeverExpires")


def standard_objects() -> list[SObjectDef]:
    """Fresh definitions (orgs may add custom fields to them, so never share one between orgs)."""
    return [
        _obj("Organization", "Organization", [
            F("Name", "string", 80, name_field=True), F("IsSandbox", "boolean", ro=True),
            F("InstanceName", "string", 5, ro=True), F("OrganizationType", "picklist", ro=True),
            F("PrimaryContact", "string", 80), F("Country", "string", 80),
            F("DefaultLocaleSidKey", "picklist"), F("TimeZoneSidKey", "picklist"),
            F("LanguageLocaleKey", "picklist"), F("TrialExpirationDate", "datetime", ro=True),
            F("NamespacePrefix", "string", 15, ro=True),
        ], setup=True, writable=False),
        _obj("User", "User", [
            F("Username", "string", 80, nillable=False), F("Name", "string", 121, ro=True, name_field=True),
            F("FirstName", "string", 40), F("LastName", "string", 80, nillable=False),
            F("Email", "email", nillable=False), F("Alias", "string", 8),
            F("IsActive", "boolean", nillable=False),
            F("ProfileId", "reference", ref="Profile", rel="Profile", nillable=False),
            F("UserType", "picklist", ro=True), F("LastLoginDate", "datetime", ro=True),
            F("LastPasswordChangeDate", "datetime", ro=True), F("TimeZoneSidKey", "picklist"),
            F("Title", "string", 80), F("CompanyName", "string", 80),
        ], setup=True),
        # Login settings per user (needs Manage Users): frozen, locked out by failed logins.
        _obj("UserLogin", "User Login", [
            F("UserId", "reference", ref="User", rel="User", ro=True), F("IsFrozen", "boolean"),
            F("IsPasswordLocked", "boolean"),
        ], setup=True, owner=False, prefix="06c"),
        _obj("Profile", "Profile", [
            F("Name", "string", 255, nillable=False, name_field=True), F("UserType", "picklist", ro=True),
            F("UserLicenseId", "reference", ro=True), F("Description", "string", 255),
            *[F(p, "boolean", ro=True) for p in PERMISSION_FLAGS],
        ], setup=True, owner=False),
        _obj("PermissionSet", "Permission Set", [
            F("Name", "string", 80, nillable=False), F("Label", "string", 80, nillable=False, name_field=True),
            F("IsOwnedByProfile", "boolean", ro=True),
            F("ProfileId", "reference", ref="Profile", rel="Profile", ro=True),
            F("Description", "string", 255),
            *[F(p, "boolean") for p in PERMISSION_FLAGS],
        ], setup=True, owner=False),
        _obj("PermissionSetAssignment", "Permission Set Assignment", [
            F("AssigneeId", "reference", ref="User", rel="Assignee", nillable=False),
            F("PermissionSetId", "reference", ref="PermissionSet", rel="PermissionSet", nillable=False),
            F("ExpirationDate", "datetime"),
        ], setup=True, owner=False),
        _obj("ObjectPermissions", "Object Permissions", [
            F("ParentId", "reference", ref="PermissionSet", rel="Parent", nillable=False),
            F("SobjectType", "picklist", nillable=False),
            *[F(f"Permissions{p}", "boolean") for p in
              ("Read", "Create", "Edit", "Delete", "ViewAllRecords", "ModifyAllRecords")],
        ], setup=True, owner=False),
        _obj("FieldPermissions", "Field Permissions", [
            F("ParentId", "reference", ref="PermissionSet", rel="Parent", nillable=False),
            F("SobjectType", "picklist", nillable=False), F("Field", "string", 255, nillable=False),
            F("PermissionsRead", "boolean"), F("PermissionsEdit", "boolean"),
        ], setup=True, owner=False),
        _obj("Account", "Account", [
            F("Name", "string", 255, nillable=False, name_field=True), F("Type", "picklist"),
            F("Industry", "picklist"), F("Website", "url"), F("Phone", "phone"),
            F("BillingStreet", "textarea", 255), F("BillingCity", "string", 40),
            F("BillingState", "string", 80), F("BillingPostalCode", "string", 20),
            F("BillingCountry", "string", 80), F("AnnualRevenue", "currency"),
            F("NumberOfEmployees", "int"), F("Description", "textarea"),
            F("AccountNumber", "string", 40), F("Rating", "picklist"),
            F("ParentId", "reference", ref="Account", rel="Parent"),
            F("LastActivityDate", "date", ro=True),
        ]),
        _obj("Contact", "Contact", [
            F("AccountId", "reference", ref="Account", rel="Account"),
            F("FirstName", "string", 40), F("LastName", "string", 80, nillable=False),
            F("Name", "string", 121, ro=True, name_field=True), F("Email", "email"),
            F("Title", "string", 128), F("Phone", "phone"), F("Department", "string", 80),
            F("MailingCity", "string", 40), F("MailingCountry", "string", 80),
            F("LeadSource", "picklist"), F("HasOptedOutOfEmail", "boolean"),
        ]),
        _obj("Lead", "Lead", [
            F("FirstName", "string", 40), F("LastName", "string", 80, nillable=False),
            F("Name", "string", 121, ro=True, name_field=True), F("Company", "string", 255, nillable=False),
            F("Email", "email"), F("Status", "picklist", nillable=False), F("LeadSource", "picklist"),
            F("Title", "string", 128), F("IsConverted", "boolean", ro=True),
        ]),
        _obj("OauthToken", "OAuth Token", [
            F("AppName", "string", 255, ro=True), F("UserId", "reference", ref="User", rel="User", ro=True),
            F("AppMenuItemId", "reference", ro=True), F("RequestToken", "string", 80, ro=True),
            F("AccessToken", "string", 80, ro=True), F("LastUsedDate", "datetime", ro=True),
            F("UseCount", "int", ro=True),
        ], setup=True, owner=False, writable=False),
        _obj("LoginHistory", "Login History", [
            F("UserId", "reference", ro=True), F("LoginTime", "datetime", ro=True),
            F("LoginType", "picklist", ro=True), F("SourceIp", "string", 39, ro=True),
            # Salesforce's object reference: Application, Browser, Platform and ApiType are Group and Sort, not
            # Filter — a WHERE on them is refused ("can not be filtered in a query call").
            F("Status", "string", 128, ro=True), F("Application", "string", 64, ro=True, filterable=False),
            F("Browser", "string", 64, ro=True, filterable=False), F("Platform", "string", 64, ro=True,
                                                                      filterable=False),
            F("LoginUrl", "string", 120, ro=True), F("ApiType", "string", 32, ro=True, filterable=False),
        ], setup=True, owner=False, writable=False),
        _obj("KnowledgeArticleVersion", "Knowledge Article Version", [
            F("KnowledgeArticleId", "reference", ro=True), F("Title", "string", 255, name_field=True),
            F("UrlName", "string", 255), F("Summary", "textarea", 1000),
            F("PublishStatus", "picklist", ro=True, picklist=("Online", "Draft", "Archived")),
            F("Language", "picklist", ro=True), F("ArticleNumber", "string", 30, ro=True),
            F("ArticleType", "string", 40, ro=True), F("VersionNumber", "int", ro=True),
            F("IsVisibleInPkb", "boolean"), F("IsVisibleInCsp", "boolean"),
            F("IsVisibleInPrm", "boolean"), F("IsVisibleInApp", "boolean"),
            F("LastPublishedDate", "datetime", ro=True), F("FirstPublishedDate", "datetime", ro=True),
        ], setup=True, owner=False, writable=False),
    ]


# The Skilljar managed package's objects (namespace ``skilljar``) — what a Skilljar sync writes.
SKILLJAR_OBJECTS: dict[str, tuple[str, str, list[FieldDef]]] = {
    "skilljar__Student__c": ("a0S", "Student", [
        F("Name", "string", 80, name_field=True),
        F("skilljar__Email__c", "email"), F("skilljar__First_Name__c", "string", 80),
        F("skilljar__Last_Name__c", "string", 80),
        F("skilljar__Contact__c", "reference", ref="Contact", rel="skilljar__Contact__r"),
        F("skilljar__Lead__c", "reference", ref="Lead", rel="skilljar__Lead__r"),
        F("skilljar__Skilljar_Id__c", "string", 40), F("skilljar__Last_Active_At__c", "datetime"),
    ]),
    "skilljar__Published_Course__c": ("a0P", "Published Course", [
        F("Name", "string", 80, name_field=True),
        F("skilljar__Course_Title__c", "string", 255), F("skilljar__Skilljar_Id__c", "string", 40),
        F("skilljar__Course_Url__c", "url"), F("skilljar__Published_At__c", "datetime"),
    ]),
    "skilljar__Course_Progress__c": ("a0C", "Course Progress", [
        F("Name", "string", 80, name_field=True),
        F("skilljar__Student__c", "reference", ref="skilljar__Student__c", rel="skilljar__Student__r"),
        F("skilljar__Published_Course__c", "reference", ref="skilljar__Published_Course__c",
          rel="skilljar__Published_Course__r"),
        F("skilljar__Enrolled_At__c", "datetime"), F("skilljar__Completed_At__c", "datetime"),
        F("skilljar__Progress_Percent__c", "percent"), F("skilljar__Status__c", "picklist",
                                                         picklist=("Enrolled", "In Progress", "Completed")),
        F("skilljar__Skilljar_Id__c", "string", 40),
    ]),
}


def tooling_objects() -> list[SObjectDef]:
    """What the Tooling API's query (``/tooling/query``) serves here: the org's installed packages."""
    return [
        _obj("SubscriberPackage", "Subscriber Package", [
            F("NamespacePrefix", "string", 15, ro=True), F("Name", "string", 255, ro=True, name_field=True),
            F("Description", "textarea", 255, ro=True), F("IsPackageValid", "boolean", ro=True),
        ], setup=True, owner=False, writable=False, prefix="033"),
        _obj("SubscriberPackageVersion", "Subscriber Package Version", [
            F("Name", "string", 255, ro=True, name_field=True), F("SubscriberPackageId", "reference", ro=True),
            F("MajorVersion", "int", ro=True), F("MinorVersion", "int", ro=True), F("PatchVersion", "int", ro=True),
            F("BuildNumber", "int", ro=True), F("IsManaged", "boolean", ro=True), F("IsBeta", "boolean", ro=True),
            F("ReleaseState", "picklist", ro=True), F("Package2ContainerOptions", "picklist", ro=True),
        ], setup=True, owner=False, writable=False, prefix="04t"),
        _obj("InstalledSubscriberPackage", "Installed Subscriber Package", [
            F("SubscriberPackageId", "reference", ref="SubscriberPackage", rel="SubscriberPackage", ro=True),
            F("SubscriberPackageVersionId", "reference", ref="SubscriberPackageVersion",
              rel="SubscriberPackageVersion", ro=True),
            F("MinPackageVersionId", "reference", ro=True),
        ], setup=True, owner=False, writable=False, prefix="0A3"),
    ]


def custom_object(name: str, label: str, prefix: str, fields: list[FieldDef]) -> SObjectDef:
    return _obj(name, label, [F("Name", "string", 80, name_field=True), *fields], prefix=prefix, custom=True)
