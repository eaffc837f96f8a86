"""The sandbox's SOQL engine, driven directly (the REST tests drive it through real clients)."""

from __future__ import annotations

import time
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfwizard.sandbox.salesforce.schema import F
from sfwizard.sandbox.salesforce.soql.engine import SoqlError, compile_where, run_query
from sfwizard.sandbox.salesforce.soql.parse import located
from sfwizard.sandbox.salesforce.store import GeneratedTable
from sfwizard.sandbox.scenarios import builder

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # 02:00 on Nov 20 in Los Angeles (UTC-8)
WSDL_FIELD = ("If you are attempting to use a custom field, be sure to append the '__c' after the custom field "
              "name. Please reference your WSDL or the describe call for the appropriate names.")
WSDL_TYPE = ("If you are attempting to use a custom object, be sure to append the '__c' after the entity name. "
             "Please reference your WSDL or the describe call for the appropriate names.")


class World:
    """One org: an admin, a narrow user, accounts, contacts, Skilljar students, permission sets."""

    def __init__(self) -> None:
        s = self.state = builder.new_state()
        s.now = lambda: NOW  # type: ignore[method-assign]
        org = self.org = builder.add_org(s, "main", "Acme", skilljar_package=True)
        builder.add_field(org, "Account", F("PX_Score__c", "double"))
        builder.add_profile(s, org, "System Administrator", modify_all=True)
        builder.add_profile(s, org, "Narrow", objects={"Account": ["read"]},
                            fields={"Account.PX_Score__c": ["read"]})
        builder.add_profile(s, org, "No FLS", objects={"Account": ["read"], "Contact": ["read"]})
        builder.add_permission_set(s, org, "PX Integration", api_name="PX_Integration", api_enabled=True)
        self.admin = builder.add_user(s, org, "admin@acme.com", first_name="Ada", last_name="Admin",
                                      profile="System Administrator", permission_sets=["PX Integration"])
        self.narrow = builder.add_user(s, org, "narrow@acme.com", first_name="Nat", last_name="Narrow",
                                       profile="Narrow")
        self.nofls = builder.add_user(s, org, "nofls@acme.com", first_name="Nora", last_name="Nofls",
                                      profile="No FLS")
        rows = [  # Name, Industry, employees, PX score, created, last activity
            ("Globex", "Technology", 120, 7.5, NOW - timedelta(days=10), date(2026, 11, 19)),
            ("Initech", "Finance", 45, None, NOW - timedelta(hours=1), date(2026, 11, 20)),
            ("Umbrella", "Health", 900, 2.25, datetime(2026, 11, 20, 7, tzinfo=timezone.utc), None),
            ("O'Brien & Sons", "Technology", None, 9.0, NOW - timedelta(days=400), date(2026, 11, 21)),
            ("acme 100%", None, 10, 1.0, NOW + timedelta(days=1), None),
        ]
        self.accounts = {}
        for name, industry, emp, score, created, activity in rows:
            self.accounts[name] = builder.insert(s, org, "Account", {
                "Name": name, "Industry": industry, "NumberOfEmployees": emp, "PX_Score__c": score,
                "LastActivityDate": activity, "Description": "long text " * 3}, created=created,
                owner=self.admin["Id"])
        self.accounts["Globex"]["ParentId"] = self.accounts["Initech"]["Id"]
        self.contacts = {}
        for first, last, account, email in [("Gil", "Bates", "Globex", "gil@globex.com"),
                                            ("Ida", "Nash", "Initech", "ida@initech.com"),
                                            ("Gwen", "Stone", "Globex", None),
                                            ("Lone", "Wolf", None, "lone@wolf.net")]:
            self.contacts[last] = builder.insert(s, org, "Contact", {
                "FirstName": first, "LastName": last, "Name": f"{first} {last}", "Email": email,
                "AccountId": self.accounts[account]["Id"] if account else None}, owner=self.admin["Id"])
        self.student = builder.insert(s, org, "skilljar__Student__c", {
            "Name": "S-1", "skilljar__Email__c": "gil@globex.com",
            "skilljar__Contact__c": self.contacts["Bates"]["Id"]}, owner=self.admin["Id"])
        builder.insert(s, org, "skilljar__Student__c", {"Name": "S-2", "skilljar__Contact__c": None},
                       owner=self.admin["Id"])
        deleted = builder.insert(s, org, "Account", {"Name": "Gone Inc"}, owner=self.admin["Id"])
        org.table("Account").delete(deleted["Id"])

    def q(self, soql: str, user=None, **kw):
        return run_query(self.state, self.org, user or self.admin, soql, **kw)

    def rows(self, soql: str, user=None, **kw) -> list[dict]:
        return list(self.q(soql, user, **kw).rows)

    def names(self, soql: str, user=None, **kw) -> list[str]:
        return [r["Name"] for r in self.rows(soql, user, **kw)]

    def error(self, soql: str, user=None) -> SoqlError:
        with pytest.raises(SoqlError) as caught:
            self.q(soql, user)
        return caught.value


@lru_cache(maxsize=1)
def shared_world() -> World:
    """For hypothesis, which runs one test many times (read-only use only)."""
    return World()


@pytest.fixture
def w() -> World:
    return World()


# -- SELECT and wire form ------------------------------------------------------------------------

def test_rows_are_wire_form_in_select_order_with_canonical_names(w):
    rows = w.rows("select name, ID, createddate, LASTACTIVITYDATE from ACCOUNT where Name = 'globex'",
                  version="59.0")
    acct = w.accounts["Globex"]
    assert rows == [{
        "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{acct['Id']}"},
        "Name": "Globex", "Id": acct["Id"], "CreatedDate": "2026-11-10T10:00:00.000+0000",
        "LastActivityDate": "2026-11-19"}]
    assert list(rows[0]) == ["attributes", "Name", "Id", "CreatedDate", "LastActivityDate"]


def test_relationship_fields_nest_and_merge(w):
    row = w.rows("SELECT Owner.Name, Id, Owner.Email, Parent.Name FROM Account WHERE Name = 'Globex'")[0]
    admin = w.admin
    assert list(row) == ["attributes", "Owner", "Id", "Parent"]
    assert row["Owner"] == {"attributes": {"type": "User", "url": f"/services/data/v60.0/sobjects/User/{admin['Id']}"},
                            "Name": "Ada Admin", "Email": admin["Email"]}
    assert row["Parent"]["Name"] == "Initech"
    assert w.rows("SELECT Parent.Name FROM Account WHERE Name = 'Initech'")[0]["Parent"] is None


def test_relationship_fields_of_the_recovery_objects(w):
    contact = w.rows("SELECT Name, Account.Name FROM Contact WHERE LastName = 'Wolf'")[0]
    assert contact["Account"] is None
    ps = w.rows("SELECT Assignee.Username, PermissionSet.PermissionsApiEnabled, PermissionSet.Label "
                "FROM PermissionSetAssignment WHERE PermissionSet.IsOwnedByProfile = false")
    assert ps == [{"attributes": ps[0]["attributes"], "Assignee": {
        "attributes": ps[0]["Assignee"]["attributes"], "Username": "admin@acme.com"},
        "PermissionSet": {"attributes": ps[0]["PermissionSet"]["attributes"],
                          "PermissionsApiEnabled": True, "Label": "PX Integration"}}]
    labels = {r["Parent"]["Label"] for r in w.rows("SELECT Parent.Label FROM ObjectPermissions")}
    assert len(labels) == 2
    assert all(label.startswith("00e") for label in labels)  # the profiles' sets
    students = w.rows("SELECT Name, skilljar__Contact__r.Email FROM skilljar__Student__c ORDER BY Name")
    assert [s["skilljar__Contact__r"] and s["skilljar__Contact__r"]["Email"] for s in students] == [
        "gil@globex.com", None]
    assert students[0]["skilljar__Contact__r"]["attributes"]["type"] == "Contact"


def test_object_qualified_and_aliased_names(w):
    # A field qualified with its own object's name or alias comes back under its plain name.
    assert w.names("SELECT Account.Name FROM Account WHERE Account.Name = 'Globex'") == ["Globex"]
    assert w.rows("SELECT a.Name, a.Owner.Name FROM Account a WHERE a.Name = 'Globex'")[0]["Owner"]["Name"] == \
        "Ada Admin"


def test_duplicate_field_is_refused(w):
    e = w.error("SELECT Id, Name, id FROM Account")
    assert (e.code, e.message) == ("INVALID_FIELD", "duplicate field selected: id")


# -- WHERE -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where, expected", [
    ("Name = 'GLOBEX'", ["Globex"]),
    ("Name != 'Globex'", ["Initech", "Umbrella", "O'Brien & Sons", "acme 100%"]),
    ("Name <> 'Globex' AND Industry = 'Technology'", ["O'Brien & Sons"]),
    ("NumberOfEmployees < 45", ["acme 100%"]),
    ("NumberOfEmployees <= 45", ["Initech", "acme 100%"]),
    ("NumberOfEmployees > 120", ["Umbrella"]),
    ("NumberOfEmployees >= 120", ["Globex", "Umbrella"]),
    ("PX_Score__c > 2.5 AND PX_Score__c < 9", ["Globex"]),
    ("PX_Score__c >= -1.5", ["Globex", "Umbrella", "O'Brien & Sons", "acme 100%"]),
    ("Industry = null", ["acme 100%"]),
    ("Industry != null AND PX_Score__c = null", ["Initech"]),
    ("Industry IN ('finance', 'Health')", ["Initech", "Umbrella"]),
    ("Industry NOT IN ('Technology')", ["Initech", "Umbrella", "acme 100%"]),  # nulls pass NOT IN
    ("Industry IN ('Finance', null)", ["Initech", "acme 100%"]),
    ("Name LIKE 'gl%'", ["Globex"]),
    ("Name LIKE '_nitech'", ["Initech"]),
    ("Name LIKE '%100\\%'", ["acme 100%"]),
    ("Name LIKE 'acme 1_0%'", ["acme 100%"]),
    ("Name = 'O\\'Brien & Sons'", ["O'Brien & Sons"]),
    ("NOT Name LIKE '%o%'", ["Initech", "Umbrella", "acme 100%"]),
    ("(Industry = 'Technology' OR Industry = 'Finance') AND NumberOfEmployees > 50", ["Globex"]),
    ("Industry = 'Technology' OR (Industry = 'Finance' AND NumberOfEmployees > 50)",
     ["Globex", "O'Brien & Sons"]),
    ("NOT (Industry = 'Technology' OR Industry = null)", ["Initech", "Umbrella"]),
    ("IsDeleted = false AND Name LIKE 'U%'", ["Umbrella"]),
    ("CreatedDate > 2026-11-20T06:59:59Z AND CreatedDate < 2026-11-20T07:00:01Z", ["Umbrella"]),
    ("CreatedDate = 2026-11-19T23:00:00-08:00", ["Umbrella"]),
    ("CreatedDate = 2026-11-20T12:30:00.000+05:30", ["Umbrella"]),
    ("LastActivityDate = 2026-11-20", ["Initech"]),
    ("LastActivityDate > 2026-11-19", ["Initech", "O'Brien & Sons"]),
    ("Owner.Name = 'ada admin' AND Parent.Name = 'Initech'", ["Globex"]),
    ("Parent.Name = null AND NumberOfEmployees > 100", ["Umbrella"]),
])
def test_where(w, where, expected):
    assert w.names(f"SELECT Name FROM Account WHERE {where}") == expected


def test_keywords_are_case_insensitive(w):
    assert w.names("select Name from Account where name like 'G%' or NAME = 'initech' order by NAME desc "
                   "limit 5 offset 0") == ["Initech", "Globex"]


def test_ids_compare_by_15_characters(w):
    acct = w.accounts["Globex"]
    for form in (acct["Id"], acct["Id"][:15]):
        assert w.names(f"SELECT Name FROM Account WHERE Id = '{form}'") == ["Globex"]
        assert w.names(f"SELECT Name FROM Contact WHERE AccountId IN ('{form}') ORDER BY Name") == [
            "Gil Bates", "Gwen Stone"]


def test_boolean_and_reference_filters_on_setup_objects(w):
    users = w.rows(f"SELECT Username FROM User WHERE IsActive = TRUE AND ProfileId = '{w.admin['ProfileId']}'")
    assert [u["Username"] for u in users] == ["admin@acme.com"]


def test_semi_joins(w):
    assert w.names("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Email != null) "
                   "ORDER BY Name") == ["Globex", "Initech"]
    assert w.names("SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact) "
                   "AND Industry != null") == ["Umbrella", "O'Brien & Sons"]
    # What the integration client runs to read a user's object permissions in one call.
    rows = w.rows("SELECT SobjectType, PermissionsRead, Parent.Label FROM ObjectPermissions WHERE ParentId IN "
                  "(SELECT PermissionSetId FROM PermissionSetAssignment WHERE AssigneeId = "
                  f"'{w.narrow['Id'][:15]}')")
    assert [(r["SobjectType"], r["PermissionsRead"]) for r in rows] == [("Account", True)]


def test_semi_join_restrictions(w):
    e = w.error("SELECT Id FROM Account WHERE Name = 'x' OR Id IN (SELECT AccountId FROM Contact)")
    assert (e.code, e.message) == ("MALFORMED_QUERY",
                                   "Semi join sub-selects are not allowed with the 'OR' operator")
    e = w.error("SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Nope__c)")
    assert e.code == "INVALID_TYPE"
    assert "sObject type 'Nope__c' is not supported." in e.message


# -- date literals -------------------------------------------------------------------------------

@pytest.mark.parametrize("literal, expected", [
    # Days run midnight to midnight in the user's time zone (Los Angeles): 07:00Z on Nov 20 is Nov 19.
    ("CreatedDate = TODAY", ["Initech"]),
    ("CreatedDate = YESTERDAY", ["Umbrella"]),
    ("CreatedDate < TODAY", ["Globex", "Umbrella", "O'Brien & Sons"]),
    ("CreatedDate > TODAY", ["acme 100%"]),
    ("CreatedDate >= TODAY", ["Initech", "acme 100%"]),
    ("CreatedDate <= YESTERDAY", ["Globex", "Umbrella", "O'Brien & Sons"]),
    ("CreatedDate != TODAY", ["Globex", "Umbrella", "O'Brien & Sons", "acme 100%"]),
    ("CreatedDate = LAST_N_DAYS:1", ["Initech", "Umbrella"]),  # yesterday and today
    ("CreatedDate = LAST_N_DAYS:10", ["Globex", "Initech", "Umbrella"]),
    ("CreatedDate = NEXT_N_DAYS:1", ["acme 100%"]),
    ("CreatedDate = LAST_N_HOURS:4", ["Initech", "Umbrella"]),
    ("CreatedDate = LAST_N_HOURS:2", ["Initech"]),
    ("CreatedDate = LAST_N_HOURS:0", []),
    ("LastActivityDate = TODAY", ["Initech"]),
    ("LastActivityDate = YESTERDAY", ["Globex"]),
    ("LastActivityDate = NEXT_N_DAYS:3", ["O'Brien & Sons"]),
    ("LastActivityDate > TODAY", ["O'Brien & Sons"]),
    ("LastActivityDate = LAST_N_DAYS:1", ["Globex", "Initech"]),
])
def test_date_literals(w, literal, expected):
    assert w.names(f"SELECT Name FROM Account WHERE {literal}") == expected


def test_today_follows_the_users_time_zone(w):
    w.admin["TimeZoneSidKey"] = "GMT"
    assert w.names("SELECT Name FROM Account WHERE CreatedDate = TODAY ORDER BY Name") == ["Initech", "Umbrella"]


# -- ORDER BY, LIMIT, OFFSET ---------------------------------------------------------------------

def test_order_by(w):
    assert w.names("SELECT Name FROM Account ORDER BY Name") == [
        "acme 100%", "Globex", "Initech", "O'Brien & Sons", "Umbrella"]  # case-insensitive
    assert w.names("SELECT Name FROM Account ORDER BY Industry, NumberOfEmployees DESC") == [
        "acme 100%", "Initech", "Umbrella", "Globex", "O'Brien & Sons"]  # nulls first when ascending
    assert w.names("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC") == [
        "Umbrella", "Globex", "Initech", "acme 100%", "O'Brien & Sons"]  # nulls last when descending
    assert w.names("SELECT Name FROM Account ORDER BY NumberOfEmployees DESC NULLS FIRST LIMIT 2") == [
        "O'Brien & Sons", "Umbrella"]
    assert w.names("SELECT Name FROM Account ORDER BY Industry ASC NULLS LAST, Name DESC") == [
        "Initech", "Umbrella", "O'Brien & Sons", "Globex", "acme 100%"]
    assert w.names("SELECT Name FROM Contact ORDER BY Account.Name DESC NULLS LAST, LastName") == [
        "Ida Nash", "Gil Bates", "Gwen Stone", "Lone Wolf"]


def test_limit_offset_and_total_size(w):
    res = w.q("SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1")
    assert res.total_size == 2
    assert [r["Name"] for r in res.rows] == ["Globex", "Initech"]
    assert w.q("SELECT Name FROM Account LIMIT 0").total_size == 0
    assert w.q("SELECT Name FROM Account OFFSET 10").rows[:] == []
    e = w.error("SELECT Name FROM Account OFFSET 2001")
    assert (e.code, e.message) == ("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")


def test_query_all_includes_deleted_rows(w):
    assert "Gone Inc" not in w.names("SELECT Name FROM Account")
    assert "Gone Inc" in w.names("SELECT Name FROM Account", include_deleted=True)
    assert w.q("SELECT COUNT() FROM Account", include_deleted=True).total_size == 6
    assert w.names("SELECT Name FROM Account WHERE IsDeleted = true", include_deleted=True) == ["Gone Inc"]


# -- COUNT and aggregates ------------------------------------------------------------------------

def test_count(w):
    res = w.q("SELECT COUNT() FROM Account")
    assert (res.total_size, list(res.rows)) == (5, [])
    assert w.q("SELECT count() FROM Account WHERE Industry = 'Technology'").total_size == 2
    assert w.q("SELECT COUNT() FROM Account LIMIT 3").total_size == 3


def test_aggregates_without_group_by(w):
    rows = w.rows("SELECT COUNT(Id), COUNT(Industry) n, COUNT_DISTINCT(Industry), MAX(NumberOfEmployees), "
                  "MIN(CreatedDate), SUM(NumberOfEmployees), AVG(PX_Score__c), MAX(Name) FROM Account")
    assert rows == [{"attributes": {"type": "AggregateResult"}, "expr0": 5, "n": 4, "expr1": 3, "expr2": 900,
                     "expr3": "2025-10-16T10:00:00.000+0000", "expr4": 1075, "expr5": 4.9375,
                     "expr6": "Umbrella"}]
    empty = w.rows("SELECT COUNT(Id), MAX(NumberOfEmployees), SUM(PX_Score__c) FROM Account WHERE Name = 'x'")
    assert empty == [{"attributes": {"type": "AggregateResult"}, "expr0": 0, "expr1": None, "expr2": None}]


def test_group_by(w):
    res = w.q("SELECT Industry, COUNT(Id) total, SUM(NumberOfEmployees) FROM Account GROUP BY Industry "
              "ORDER BY COUNT(Id) DESC, Industry")
    assert res.total_size == 4
    assert [(r["Industry"], r["total"], r["expr0"]) for r in res.rows] == [
        ("Technology", 2, 120), (None, 1, 10), ("Finance", 1, 45), ("Health", 1, 900)]
    rows = w.rows("SELECT Account.Name, COUNT(Id) FROM Contact GROUP BY Account.Name ORDER BY Account.Name")
    assert [(r["Name"], r["expr0"]) for r in rows] == [(None, 1), ("Globex", 2), ("Initech", 1)]
    assert w.rows("SELECT Industry FROM Account WHERE Industry != null GROUP BY Industry LIMIT 1 OFFSET 1") == [
        {"attributes": {"type": "AggregateResult"}, "Industry": "Finance"}]


def test_aggregate_errors(w):
    e = w.error("SELECT Name, COUNT(Id) FROM Account")
    assert e.code == "MALFORMED_QUERY"
    assert e.message.endswith("Field must be grouped or aggregated: Name")
    e = w.error("SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Name")
    assert e.message.endswith("Ordered field must be grouped or aggregated: Name")
    e = w.error("SELECT SUM(Name) FROM Account")
    assert e.message.endswith("field Name does not support aggregate operator SUM")
    e = w.error("SELECT CreatedDate, COUNT(Id) FROM Account GROUP BY CreatedDate")
    assert e.code == "INVALID_FIELD"
    assert e.message.endswith("field 'CreatedDate' can not be grouped in a query call")
    e = w.error("SELECT Id, Name n FROM Account")
    assert e.message.endswith("unexpected token: 'n'")


# -- errors, in Salesforce's words ---------------------------------------------------------------

def test_invalid_field_message(w):
    e = w.error("SELECT Bogus FROM Account")
    assert (e.code, e.message) == ("INVALID_FIELD", "\nSELECT Bogus FROM Account\n       ^\nERROR at Row:1:Column:8\n"
                                                    "No such column 'Bogus' on entity 'Account'. " + WSDL_FIELD)
    # Verbatim from a real org (the CLI had dropped the leading newline): the quote stops at a word.
    e = w.error("SELECT Id, DepProbeField__c FROM Account LIMIT 1")
    assert e.message == ("\nSELECT Id, DepProbeField__c FROM Account LIMIT\n           ^\nERROR at Row:1:Column:12\n"
                         "No such column 'DepProbeField__c' on entity 'Account'. " + WSDL_FIELD)
    e = w.error("SELECT Id FROM Account WHERE Owner.Bogus__c = 'x'")
    assert "No such column 'Bogus__c' on entity 'User'." in e.message
    assert "Column:30" in e.message
    e = w.error("SELECT Foo__r.Name FROM Account")
    assert (e.code, e.message.split("\n")[-1]) == ("INVALID_FIELD", (
        "Didn't understand relationship 'Foo__r' in field path. If you are attempting to use a custom "
        "relationship, be sure to append the '__r' after the custom relationship name. Please reference your "
        "WSDL or the describe call for the appropriate names."))


def test_invalid_type_message_matches_a_real_org(w):
    # Quoted in a public jsforce/vlocity bug report, header and all.
    e = w.error("Select Value from OmniInteractionConfig where DeveloperName = 'TheFirstInstalledFromPackage'")
    assert (e.code, e.message) == ("INVALID_TYPE", (
        "\nSelect Value from OmniInteractionConfig where DeveloperName\n                  ^\n"
        "ERROR at Row:1:Column:19\nsObject type 'OmniInteractionConfig' is not supported. " + WSDL_TYPE))


def test_error_window_matches_a_real_org():
    # From a real INVALID_FIELD answer: 30 characters each side, widened to whole words.
    fields = "Id,Name,OwnerId,IsDeleted,CreatedDate,LastModifiedDate,SystemModstamp,Ab__c,"
    text = "SELECT " + fields + "CreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c FROM X__c"
    pos = text.index("TPI_Product__c")
    assert pos == 113
    assert located(text, pos, "m") == ("\nCreatedById,OCE__ActualCap__c,TPI_Product__c,Name,OCE__JobId__c\n"
                                       + " " * 30 + "^\nERROR at Row:1:Column:114\nm")
    multi = "SELECT Id\nFROM Contact\nWHERE Name = 'x' AND Email = 'y' OR Phone = 'z'"
    assert located(multi, multi.index("OR"), "m").split("\n")[3] == "ERROR at Row:3:Column:34"


@pytest.mark.parametrize("soql, message", [
    ("SELECT Id FROM Account WHERE", "unexpected token: '<EOF>'"),
    ("SELECT Id, FROM Account", "unexpected token: 'FROM'"),
    ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "unexpected token: 'OR'"),
    ("SELECT Id FROM Account LIMIT 5 LIMIT 6", "unexpected token: 'LIMIT'"),
    ("SELECT Id FROM Account WHERE Name = :name", "Bind variables only allowed in Apex code"),
    ("SELECT Id FROM Account WHERE Id IN ()", "unexpected token: ')'"),
    ("SELECT Id FROM Account WHERE Id = 'abc'", "invalid ID field: abc"),
    ("SELECT Id FROM Account ORDER BY", "unexpected token: '<EOF>'"),
])
def test_malformed_query(w, soql, message):
    e = w.error(soql)
    assert e.code == "MALFORMED_QUERY"
    assert e.message.startswith("\n")
    assert "\nERROR at Row:1:Column:" in e.message
    assert e.message.endswith("\n" + message)


def test_malformed_query_position(w):
    e = w.error("SELECT Id FROM Account WHERE")
    assert e.message == "\nSELECT Id FROM Account WHERE\n" + " " * 28 + "^\nERROR at Row:1:Column:29\n" \
                        "unexpected token: '<EOF>'"


@pytest.mark.parametrize("soql, code, message", [
    ("SELECT Id FROM Account WHERE CreatedDate > 2026-01-01", "INVALID_FIELD",
     ("value of filter criterion for field 'CreatedDate' must be of type dateTime and should not be enclosed "
     "in quotes")),
    ("SELECT Id FROM Account WHERE LastActivityDate = '2026-01-01'", "INVALID_FIELD",
     ("value of filter criterion for field 'LastActivityDate' must be of type date and should not be enclosed "
     "in quotes")),
    ("SELECT Id FROM Account WHERE PX_Score__c = '5'", "MALFORMED_QUERY",
     ("value of filter criterion for field 'PX_Score__c' must be of type double and should not be enclosed "
     "in quotes")),
    ("SELECT Id FROM User WHERE IsActive = 'true'", "INVALID_FIELD",
     ("value of filter criterion for field 'IsActive' must be of type boolean and should not be enclosed "
     "in quotes")),
    ("SELECT Id FROM Account WHERE CreatedDate > 2020-52-12T12:12:00-05:00", "MALFORMED_QUERY",
     "Invalid datetime: 2020-52-12T12:12:00-05:00"),
    ("SELECT Id FROM Account WHERE Name = 'x\\q'", "MALFORMED_QUERY", None),
    ("SELECT Id FROM Account WHERE Name = 'open", "MALFORMED_QUERY", None),
    ("SELECT Id FROM Account WHERE Name = $x", "MALFORMED_QUERY", "line 1:36 unexpected token: '$'"),
])
def test_value_errors(w, soql, code, message):
    e = w.error(soql)
    assert e.code == code
    if message:
        assert e.message == message


def test_long_text_cannot_be_filtered_or_sorted(w):
    assert w.rows("SELECT Description FROM Account WHERE Name = 'Globex'")[0]["Description"].startswith("long")
    e = w.error("SELECT Id FROM Account WHERE Description = 'x'")
    assert e.code == "INVALID_FIELD"
    assert e.message.endswith("field 'Description' can not be filtered in a query call")
    e = w.error("SELECT Id FROM Account ORDER BY Description")
    assert e.message.endswith("field 'Description' can not be sorted in a query call")


# -- permissions -------------------------------------------------------------------------------

def test_object_without_read_does_not_exist(w):
    e = w.error("SELECT Id FROM Contact", user=w.narrow)
    assert e.code == "INVALID_TYPE"
    assert e.message.endswith("sObject type 'Contact' is not supported. " + WSDL_TYPE)
    assert len(w.rows("SELECT Id FROM Contact", user=w.nofls)) == 4
    # Setup objects every API user can read.
    assert len(w.rows("SELECT Id, Username FROM User", user=w.narrow)) == 3


def test_field_without_read_does_not_exist(w):
    assert len(w.rows("SELECT Name, PX_Score__c FROM Account", user=w.narrow)) == 5
    for soql in ("SELECT Name, PX_Score__c FROM Account", "SELECT Name FROM Account WHERE PX_Score__c > 1",
                 "SELECT Name FROM Account ORDER BY PX_Score__c", "SELECT MAX(PX_Score__c) FROM Account"):
        e = w.error(soql, user=w.nofls)
        assert e.code == "INVALID_FIELD"
        assert "No such column 'PX_Score__c' on entity 'Account'." in e.message


def test_relationship_to_unreadable_object_is_not_understood(w):
    e = w.error("SELECT Name, Account.Name FROM Contact", user=w.narrow)
    assert e.code == "INVALID_TYPE"  # Contact itself first
    w.org.table("ObjectPermissions").insert({"ParentId": _profile_ps(w, "No FLS"),
                                             "SobjectType": "skilljar__Student__c",
                                             "PermissionsRead": True})
    w.org.invalidate_access()
    e = w.error("SELECT Name, skilljar__Contact__r.Email FROM skilljar__Student__c", user=w.nofls)
    # Contact is readable but the custom lookup has no field-level read: the path is unknown.
    assert e.code == "INVALID_FIELD"
    assert "Didn't understand relationship 'skilljar__Contact__r'" in e.message
    assert len(w.rows("SELECT Name FROM skilljar__Student__c", user=w.nofls)) == 2


def _profile_ps(w: World, profile: str) -> str:
    prof = next(p for p in w.org.table("Profile").scan() if p["Name"] == profile)
    return next(ps["Id"] for ps in w.org.table("PermissionSet").scan() if ps["ProfileId"] == prof["Id"])


def test_system_context_skips_permissions(w):
    assert run_query(w.state, w.org, None, "SELECT COUNT() FROM Contact").total_size == 4
    assert run_query(w.state, w.org, w.narrow["Id"], "SELECT COUNT() FROM Account").total_size == 5


# -- compile_where (SOSL's RETURNING … WHERE) ----------------------------------------------------

def test_compile_where(w):
    test = compile_where(w.org, w.admin, "account", "Industry = 'technology' AND NumberOfEmployees > 100",
                         now=NOW)
    assert [a["Name"] for a in w.org.table("Account").scan() if test(a)] == ["Globex"]
    with pytest.raises(SoqlError) as caught:
        compile_where(w.org, w.narrow, "Contact", "Name = 'x'")
    assert caught.value.code == "INVALID_TYPE"
    with pytest.raises(SoqlError) as caught:
        compile_where(w.org, w.nofls, "Account", "PX_Score__c > 1")
    assert caught.value.code == "INVALID_FIELD"


# -- properties ----------------------------------------------------------------------------------

CONDITIONS = ["Industry = 'Technology'", "NumberOfEmployees > 50", "PX_Score__c = null", "Name LIKE '%e%'",
              "CreatedDate = LAST_N_DAYS:30", "Industry IN ('Finance', 'Health')", "Owner.Name != null",
              "Id IN (SELECT AccountId FROM Contact)", "LastActivityDate < TODAY"]


def _ids(soql: str) -> set[str]:
    return {r["Id"] for r in shared_world().rows(soql)}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CONDITIONS), st.sampled_from(CONDITIONS), st.booleans())
def test_and_or_not_are_set_algebra(a, b, negate):
    base = "SELECT Id FROM Account WHERE "
    everything = _ids("SELECT Id FROM Account")
    only_a, only_b = _ids(base + a), _ids(base + b)
    if "SELECT AccountId" in a and "SELECT AccountId" in b:
        return  # Salesforce allows one semi-join per field
    assert _ids(f"{base}{a} AND {b}") == only_a & only_b
    if "SELECT" not in a + b:
        assert _ids(f"{base}({a}) OR ({b})") == only_a | only_b
        if negate:
            assert _ids(f"{base}NOT ({a})") == everything - only_a


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 7), st.integers(0, 7), st.sampled_from(["Name", "NumberOfEmployees DESC", "CreatedDate"]))
def test_limit_offset_is_slicing(limit, offset, order):
    world = shared_world()
    soql = f"SELECT Id FROM Account ORDER BY {order}, Id"
    unlimited = world.rows(soql)
    res = world.q(f"{soql} LIMIT {limit} OFFSET {offset}")
    assert list(res.rows) == unlimited[offset:offset + limit]
    assert res.total_size == len(unlimited[offset:offset + limit])


# -- big tables stay lazy ------------------------------------------------------------------------

_INDUSTRIES = ("Technology", "Finance", "Retail", "Health", None)


def _big_world(n: int) -> tuple[World, list[int]]:
    world = World()
    calls = [0]
    owner = world.admin["Id"]

    def factory(i: int) -> dict:
        calls[0] += 1
        return {"Id": f"0015g00{i:011d}", "Name": f"Account {i:06d}", "Industry": _INDUSTRIES[i % 5],
                "NumberOfEmployees": i % 1000, "OwnerId": owner, "IsDeleted": False}

    sobject = world.org.sobject("Account")
    table = GeneratedTable(sobject, n, factory)
    table.set_id_index(lambda rid: int(rid[7:]) if rid[7:].isdigit() else None)
    world.org.add_sobject(sobject, table)
    return world, calls


def test_large_table_is_lazy():
    world, calls = _big_world(250_000)
    assert world.q("SELECT COUNT() FROM Account").total_size == 250_000
    res = world.q("SELECT Id, Name, Owner.Name FROM Account")
    assert calls[0] == 0
    assert res.total_size == 250_000
    assert len(res.rows) == 250_000
    page = res.rows[248_000:250_000]
    assert calls[0] == 2000
    assert len(page) == 2000
    assert page[-1]["Name"] == "Account 249999"
    assert page[-1]["Owner"]["Name"] == "Ada Admin"
    assert res.rows[-1]["Id"] == f"0015g00{249_999:011d}"
    inserted = builder.insert(world.state, world.org, "Account", {"Name": "Late Co"}, owner=world.admin["Id"])
    res = world.q("SELECT Id, Name FROM Account")
    assert len(res.rows) == 250_001
    assert res.rows[250_000]["Id"] == inserted["Id"]


def test_deleted_generated_rows_are_skipped():
    world, _ = _big_world(1000)
    table = world.org.table("Account")
    assert table.delete("0015g0000000000007")
    names = [r["Name"] for r in world.q("SELECT Name FROM Account").rows]
    assert len(names) == 999
    assert "Account 000007" not in names
    assert names[7] == "Account 000008"
    assert world.q("SELECT COUNT() FROM Account", include_deleted=True).total_size == 1000
    assert world.q("SELECT COUNT() FROM Account WHERE Industry = 'Finance'").total_size == 200


@pytest.mark.slow
def test_large_table_scans_stream():
    """250,000 generated rows: WHERE keeps positions only; ORDER BY holds a key per match."""
    world, calls = _big_world(250_000)
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        res = world.q("SELECT Id, Name FROM Account WHERE Industry = 'Retail' AND NumberOfEmployees >= 500")
        where_peak = tracemalloc.get_traced_memory()[1]
        assert res.total_size == 25_000
        assert calls[0] == 250_000
        pages = [res.rows[a:a + 2000] for a in range(0, len(res.rows), 2000)]
        assert sum(map(len, pages)) == 25_000
        assert pages[0][0]["Name"] == "Account 000502"
        del pages
        tracemalloc.reset_peak()
        res = world.q("SELECT Id, Name FROM Account ORDER BY Name DESC LIMIT 3")
        order_peak = tracemalloc.get_traced_memory()[1]
        elapsed = time.perf_counter() - t0
    finally:
        tracemalloc.stop()
    assert [r["Name"] for r in res.rows] == ["Account 249999", "Account 249998", "Account 249997"]
    assert where_peak < 2_000_000, where_peak  # positions, not rows
    assert order_peak < 80_000_000, order_peak
    assert elapsed < 60
