"""The Salesforce reads the shared facts make, as text: a read is memoized by its text, so the read plan and the
check that asks for a fact build the same query the same way (``sfwizard.checks.reads``)."""

from __future__ import annotations

from sfwizard.integrations.salesforce import in_clause, soql_quote

ORG_SOQL = "SELECT Id, Name, IsSandbox, InstanceName, OrganizationType FROM Organization"
USER_FIELDS = "Id, Username, Name, IsActive, ProfileId, Profile.Name, LastPasswordChangeDate, LastLoginDate"
PSET_FIELDS = ("Id, Name, Label, IsOwnedByProfile, PermissionsApiEnabled, PermissionsModifyAllData, "
               "PermissionsViewAllData, PermissionsPasswordNeverExpires, PermissionsApproveUninstalledApps, "
               "PermissionsManageUsers"
               # what the security review reads of the same rows (sfwizard.checks.security_facts): one read for both
               ", PermissionsApiUserOnly, PermissionsCustomizeApplication, PermissionsViewSetup, "
               "PermissionsViewEventLogFiles, ProfileId, Profile.Name")


def user_soql(where: str) -> str:
    return f"SELECT {USER_FIELDS} FROM User WHERE {where} LIMIT 1"


def username_is(username: str) -> str:
    """Usernames compare without case in Salesforce: lower-cased here so every asker writes the same text."""
    return f"Username = {soql_quote(username.lower())}"


def _assigned_to(username: str) -> str:
    """The user's permission sets (the profile's own among them) as a semi-join: no Id needs to be known first."""
    return ("(SELECT PermissionSetId FROM PermissionSetAssignment WHERE Assignee.Username = "
            f"{soql_quote(username.lower())})")


def psets_soql(username: str) -> str:
    return f"SELECT {PSET_FIELDS} FROM PermissionSet WHERE Id IN {_assigned_to(username)}"


def object_perms_soql(username: str, objects: list[str]) -> str:
    return ("SELECT SobjectType, PermissionsRead, PermissionsCreate, PermissionsEdit, PermissionsDelete FROM "
            f"ObjectPermissions WHERE ParentId IN {_assigned_to(username)} AND SobjectType IN {in_clause(objects)}")


def field_perms_soql(username: str, fields: list[str]) -> str:
    return ("SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE ParentId IN "
            f"{_assigned_to(username)} AND Field IN {in_clause(fields)}")


def tokens_soql(app: str) -> str:
    return ("SELECT Id, AppName, UserId, User.Username, User.Name, CreatedDate, LastUsedDate, UseCount "
            f"FROM OauthToken WHERE AppName = {soql_quote(app)} ORDER BY LastUsedDate DESC NULLS LAST LIMIT 500")


# OAuth logins (a connected app's, refresh-token logins included) carry these login types.
OAUTH_LOGIN_TYPES = ("Remote Access 2.0", "Remote Access Client")
APP_LOGINS_SAMPLE = 200


def logins_soql(app: str) -> str:
    """The org's recent OAuth logins; the app's are picked from them by ``app_logins`` (LoginHistory cannot be
    filtered on Application — Salesforce refuses it: the field is Group and Sort, not Filter)."""
    types = ", ".join(soql_quote(t) for t in OAUTH_LOGIN_TYPES)
    return ("SELECT Id, UserId, LoginTime, LoginType, Status, Application FROM LoginHistory "
            f"WHERE LoginType IN ({types}) AND LoginTime = LAST_N_DAYS:30 ORDER BY LoginTime DESC "
            f"LIMIT {APP_LOGINS_SAMPLE}")
