"""The sandbox's PX ``filter`` and ``sort`` on accounts and users, as the contract words them: the documented
operators, ``;`` as AND, a repeated ``filter=`` as OR, not case-sensitive; ``-`` to sort descending; a scroll
keeps its query; ``totalHits`` counts every match; unmatched records (no sfdcId) first and filterable; the
scenario key ``platform.unmatched`` validated like every other.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations.transport import ssl_context
from sfwizard.sandbox.px import query
from sfwizard.sandbox.px.api import account_id


def _scenario(tmp_path, body: str, name: str = "px", extends: str = "healthy") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"schema: 1\nname: {name}\nextends: {extends}\n{body}")
    return str(path)


@pytest.fixture
def px(start_sandbox, tmp_path):
    sb = start_sandbox(_scenario(tmp_path, "platform:\n  unmatched: {accounts: 12, users: 30}\n"))
    info = sb.info()
    client = httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=20,
                          headers={"X-APTRINSIC-API-KEY": info["px_api_key"]})

    def get(kind: str, *filters: str, expect: int = 200, **params: Any) -> Any:
        r = client.get(info["px_api_url"] + f"/{kind}", params=[*(("filter", f) for f in filters),
                                                               *params.items()])
        assert r.status_code == expect, r.text
        return r.json()

    yield get, sb
    client.close()


def _all(get, kind: str, *filters: str, size: int = 50, **params: Any) -> tuple[list[dict], int]:
    """Scroll to the end (short page), the filter and sort given on the first call only."""
    body = get(kind, *filters, pageSize=size, **params)
    rows, total = list(body[kind]), body["totalHits"]
    while len(body[kind]) == size:
        body = get(kind, pageSize=size, scrollId=body["scrollId"])
        rows += body[kind]
    return rows, total


def test_unmatched_records_come_first_and_filter_away(px) -> None:
    get, sb = px
    everything, total = _all(get, "accounts")
    assert total == len(everything) == 162
    assert [bool(a["sfdcId"]) for a in everything[:12]] == [False] * 12 and all(a["sfdcId"] for a in everything[12:])
    matched, matched_total = _all(get, "accounts", "sfdcId~?*")
    assert matched_total == len(matched) == 150 and all(a["sfdcId"] for a in matched)
    unset, unset_total = _all(get, "accounts", "sfdcId==")
    assert unset_total == len(unset) == 12 and not any(a["sfdcId"] for a in unset)
    assert _all(get, "accounts", "sfdcId!=")[1] == 150
    users, users_total = _all(get, "users", "sfdcContactId~?*", size=200)
    assert users_total == len(users) == 420
    assert get("users", "sfdcContactId==", pageSize=1)["totalHits"] == 30


def test_operators_and_case(px) -> None:
    get, sb = px
    with sb.state.lock:
        rows = list(sb.state.default_org.table("Account").scan())
    one = rows[3]
    assert [a["sfdcId"] for a in get("accounts", f"sfdcId=={one['Id']}")["accounts"]] == [one["Id"]]
    assert get("accounts", f"name=={one['Name'].upper()}")["totalHits"] == 1  # filters are not case-sensitive
    n = one["NumberOfEmployees"]
    counts = {op: get("accounts", f"numberOfEmployees{op}{n}", pageSize=1)["totalHits"]
              for op in ("==", "!=", "<", "<=", ">", ">=")}
    by_hand = {"==": sum(r["NumberOfEmployees"] == n for r in rows), "<": sum(r["NumberOfEmployees"] < n for r in rows),
               ">": sum(r["NumberOfEmployees"] > n for r in rows)}
    assert counts["=="] == by_hand["=="] and counts["<"] == by_hand["<"] and counts[">"] == by_hand[">"]
    assert counts["<="] == by_hand["<"] + by_hand["=="] and counts[">="] == by_hand[">"] + by_hand["=="]
    assert counts["!="] == 162 - by_hand["=="]  # unmatched accounts have no number: "not equal"
    word = one["Name"].split()[0]
    like = get("accounts", f"name~{word.lower()}*", pageSize=1000)["accounts"]
    assert like and all(a["name"].lower().startswith(word.lower()) for a in like)
    assert get("accounts", f"name!~{word}*", pageSize=1)["totalHits"] == 162 - len(like)
    assert get("accounts", "name~?", pageSize=1)["totalHits"] == 0  # "?" is exactly one character


def test_semicolon_is_and_a_repeated_filter_is_or(px) -> None:
    get, sb = px
    a_and_b = get("accounts", "industry==Technology;location.countryCode==USA", pageSize=1000)["accounts"]
    assert a_and_b and all(a["industry"] == "Technology" and a["location"]["countryCode"] == "USA" for a in a_and_b)
    either = get("accounts", "industry==Technology", "industry==Retail", pageSize=1000)
    assert {a["industry"] for a in either["accounts"]} == {"Technology", "Retail"}
    assert either["totalHits"] == get("accounts", "industry==Technology", pageSize=1)["totalHits"] + \
        get("accounts", "industry==Retail", pageSize=1)["totalHits"]
    tier = get("accounts", "customAttributes.customerTier==gold", pageSize=1000)["accounts"]
    assert tier and {a["customAttributes"]["customerTier"] for a in tier} == {"Gold"}


def test_sort_ascending_descending_and_by_two_keys(px) -> None:
    get, _ = px
    by_name, _ = _all(get, "accounts", "sfdcId~?*", sort="name", size=40)
    names = [a["name"].casefold() for a in by_name]
    assert names == sorted(names) and len(names) == 150
    biggest, _ = _all(get, "accounts", sort="-numberOfEmployees", size=40)
    sizes = [a["numberOfEmployees"] for a in biggest]
    present = [s for s in sizes if s is not None]
    assert present == sorted(present, reverse=True) and sizes[len(present):] == [None] * 12  # unset last
    two, _ = _all(get, "users", "sfdcContactId~?*", sort="lastName;-firstName", size=100)
    keys = [(u["lastName"].casefold(), u["firstName"].casefold()) for u in two]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    for a, b in zip(keys, keys[1:], strict=False):
        if a[0] == b[0]:
            assert a[1] >= b[1]


def test_a_scroll_keeps_its_query_and_refuses_another(px) -> None:
    get, _ = px
    first = get("accounts", "sfdcId==", pageSize=5)
    second = get("accounts", pageSize=5, scrollId=first["scrollId"])  # the filter is not repeated
    assert not any(a["sfdcId"] for a in first["accounts"] + second["accounts"]) and len(second["accounts"]) == 5
    repeated = get("accounts", "sfdcId==", pageSize=5, scrollId=first["scrollId"])
    assert repeated["accounts"] == second["accounts"]
    other = get("accounts", "sfdcId~?*", pageSize=5, scrollId=first["scrollId"], expect=400)
    assert "another filter" in other["externalapierror"]["message"]


@pytest.mark.parametrize("kind,bad", [("accounts", "nosuchfield==1"), ("accounts", "name"), ("accounts", "name=x"),
                                      ("users", "id==a@b.example"), ("accounts", "location==x")])
def test_a_bad_filter_is_400(px, kind: str, bad: str) -> None:
    get, _ = px
    body = get(kind, bad, expect=400)
    assert body["externalapierror"]["status"] == "BAD_REQUEST"


def test_a_bad_sort_is_400(px) -> None:
    get, _ = px
    assert get("accounts", sort="-nosuch", expect=400)["externalapierror"]["message"].startswith("Bad request")


def test_account_by_pxs_own_id_not_by_the_sfdc_id(px) -> None:
    get, sb = px
    with sb.state.lock:
        row = dict(next(iter(sb.state.default_org.table("Account").scan())))
    info = sb.info()
    with httpx.Client(verify=ssl_context(info["ca_cert"]), headers={"X-APTRINSIC-API-KEY": info["px_api_key"]}) as c:
        by_id = c.get(f"{info['px_api_url']}/accounts/{account_id(row['Id'])}")
        by_sfdc = c.get(f"{info['px_api_url']}/accounts/{row['Id']}")
        unmatched = get("accounts", "sfdcId==", pageSize=1)["accounts"][0]
        one_unmatched = c.get(f"{info['px_api_url']}/accounts/{unmatched['id']}")
    assert by_id.status_code == 200 and by_id.json()["sfdcId"] == row["Id"]
    assert by_sfdc.status_code == 404 and by_sfdc.json()["externalapierror"]["message"] == "Account not found"
    assert one_unmatched.json() == unmatched


def test_large_tenant_filters_matched_records_without_reading_them_all(start_sandbox, tmp_path) -> None:
    sb = start_sandbox(_scenario(tmp_path, "platform:\n  unmatched: {accounts: 1500}\n", "big", "large-tenant"))
    info = sb.info()
    table = sb.state.default_org.table("Account")
    changed_before = len(table._changed)
    with httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=20,
                      headers={"X-APTRINSIC-API-KEY": info["px_api_key"]}) as c:
        t0 = time.monotonic()
        body = c.get(info["px_api_url"] + "/accounts", params={"filter": "sfdcId~?*", "pageSize": 1000}).json()
        everything = c.get(info["px_api_url"] + "/accounts", params={"pageSize": 1}).json()
        elapsed = time.monotonic() - t0
    assert body["totalHits"] == 250_000 and len(body["accounts"]) == 1000 and all(a["sfdcId"] for a in body["accounts"])
    assert everything["totalHits"] == 251_500
    assert elapsed < 3.0 and len(table._changed) == changed_before


# -- the scenario key -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,says", [("{accounts: -1}", "platform.unmatched.accounts: must be at least 0"),
                                        ("{accounts: many}", "platform.unmatched.accounts: expected an integer"),
                                        ("{visitors: 3}", "visitors")])
def test_a_bad_unmatched_key_names_file_line_and_column(tmp_path, value: str, says: str) -> None:
    from sfwizard.sandbox.scenarios.loader import load_scenario

    path = _scenario(tmp_path, f"platform:\n  unmatched: {value}\n")
    with pytest.raises(SfwizardError) as err:
        load_scenario(path)
    m = re.match(rf"{re.escape(path)}:(\d+):(\d+): ", err.value.message)
    assert m and int(m.group(1)) == 5, err.value.message  # the unmatched: line
    assert says in err.value.message


def test_attribute_states_and_default_values_from_the_scenario(start_sandbox, tmp_path) -> None:
    sb = start_sandbox(_scenario(tmp_path, "platform:\n  attributes:\n    account:\n"
                                           "      - {api_name: customerTier, type: STRING, state: DISABLED}\n"
                                           "      - {api_name: renewalBand, type: STRING, state: DELETED, "
                                           "default_value: none}\n"))
    info = sb.info()
    with httpx.Client(verify=ssl_context(info["ca_cert"]), headers={"X-APTRINSIC-API-KEY": info["px_api_key"]}) as c:
        attrs = {a["apiName"]: a for a in c.get(info["px_api_url"] + "/admin/model/account/attributes").json()}
    assert attrs["customerTier"]["state"] == "DISABLED" and attrs["customerTier"]["origin"] == "CUSTOM"
    assert list(attrs).count("customerTier") == 1  # replaced, not listed twice
    assert (attrs["renewalBand"]["state"], attrs["renewalBand"]["defaultValue"]) == ("DELETED", "none")
    assert attrs["name"]["defaultValue"] is None and attrs["lastSeenDate"]["type"] == "DATE_TIME"


# -- the filter language on its own ------------------------------------------------------------------------------

def test_presence_only_recognises_any_value_and_no_value() -> None:
    def parse(*values: str) -> query.Filters:
        return query.parse_filters(values, lambda name: True)

    assert query.presence_only(parse("sfdcId~?*"), "sfdcId") is True
    assert query.presence_only(parse("sfdcId!="), "sfdcId") is True
    assert query.presence_only(parse("sfdcId=="), "sfdcId") is False
    assert query.presence_only(parse("sfdcId~001*"), "sfdcId") is None
    assert query.presence_only(parse("sfdcId~?*;name==x"), "sfdcId") is None
    assert query.presence_only(parse("sfdcId~?*", "sfdcId=="), "sfdcId") is None

