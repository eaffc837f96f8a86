"""The formula language the sandbox computes formula fields with: values as Salesforce computes them, and the
editor's refusals (an unknown field, a syntax error, a wrong number of arguments) with the column they are at."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from sfwizard.sandbox.salesforce.formula import Formula, FormulaError, stored

FIELDS = {n.lower(): n for n in ("Name", "Score__c", "Seats__c", "Plan__c", "Renewal__c", "Active__c")}
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text,record,expected", [
    ("Score__c * 2 + 1", {"Score__c": 20.0}, Decimal(41)),
    ("IF(Score__c >= 70, 'Healthy', 'At risk')", {"Score__c": 71}, "Healthy"),
    ("IF(Score__c >= 70, 'Healthy', 'At risk')", {"Score__c": 12.5}, "At risk"),
    ("Name & ' (' & TEXT(Seats__c) & ')'", {"Name": "Acme", "Seats__c": 12.0}, "Acme (12)"),
    ("ISBLANK(Plan__c)", {"Plan__c": None}, True),
    ("BLANKVALUE(Plan__c, 'none')", {"Plan__c": ""}, "none"),
    ("CASE(Plan__c, 'Gold', 3, 'Silver', 2, 1)", {"Plan__c": "Silver"}, Decimal(2)),
    ("CASE(Plan__c, 'Gold', 3, 'Silver', 2, 1)", {"Plan__c": "Bronze"}, Decimal(1)),
    ("AND(Active__c, NOT(ISBLANK(Name)))", {"Active__c": True, "Name": "x"}, True),
    ("Renewal__c - TODAY()", {"Renewal__c": date(2026, 5, 14)}, Decimal(10)),
    ("ROUND(Score__c / 3, 2)", {"Score__c": 10}, Decimal("3.33")),
    ("UPPER(LEFT(Name, 3))", {"Name": "acme"}, "ACM"),
    ("Score__c / Seats__c", {"Score__c": 1, "Seats__c": 0}, None),  # an error is blank, as on the API
    ("Score__c + 1", {"Score__c": None}, None),  # a blank number stays blank (formulaTreatNullNumberAsZero false)
])
def test_values_are_computed_as_salesforce_computes_them(text: str, record: dict, expected: object) -> None:
    assert Formula(text, FIELDS).compute(record, NOW) == expected


def test_a_formula_knows_the_fields_it_reads_by_their_api_names() -> None:
    assert Formula("score__c + SEATS__C", FIELDS).fields == {"Score__c", "Seats__c"}


@pytest.mark.parametrize("text,message,column", [
    ("Scor__c + 1", "Field Scor__c does not exist. Check spelling.", 0),
    ("Score__c + ", "Missing operand", 11),
    ("IF(Score__c > 1, 'a')", "Incorrect number of parameters for function 'IF()'. Expected 3, received 2", 0),
    ("FOO(Score__c)", "Unknown function FOO", 0),
    ("Account.Name", "cross-object reference", 0),
    ("Score__c $ 2", "Syntax error. Found '$'", 9),
    ("(Score__c + 1", "Missing ')'", 13),
])
def test_what_the_formula_editor_refuses_is_refused_with_its_column(text: str, message: str, column: int) -> None:
    with pytest.raises(FormulaError) as err:
        Formula(text, FIELDS)
    assert message in str(err.value)
    assert err.value.column == column


@pytest.mark.parametrize("value,type_,expected", [
    (Decimal("3.5"), "double", 3.5), (Decimal(7), "currency", 7.0), ("x", "string", "x"), (True, "boolean", True),
    (Decimal(2), "string", "2"), (date(2026, 1, 2), "date", date(2026, 1, 2)), (None, "double", None),
])
def test_a_value_is_kept_in_the_fields_type(value: object, type_: str, expected: object) -> None:
    assert stored(value, type_) == expected
