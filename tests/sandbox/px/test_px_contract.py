"""The sandbox's Gainsight PX API held against PX's published contract — read from the team's wire
reference (/work/shared/REFERENCE.md, ``../shared`` beside the repository in CI), not from our own lists.

REFERENCE.md names part of each schema; the rest of the contract's properties (Swagger "Gainsight PX REST API"
0.1.6, ``api-evangelist/gainsight`` ``openapi/gainsight-px-rest-api-openapi.yml``, as the research note of
2026-11-29 transcribed it) are listed here as CONTRACT_ALSO. The sandbox must serve exactly the union.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from sfwizard.integrations.transport import ssl_context

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT.parent / "shared" / "REFERENCE.md"

# What the contract has beyond what REFERENCE.md names (the note's transcription of the Swagger file).
CONTRACT_ALSO = {
    "account": {"name", "trackedSubscriptionId", "lastSeenDate", "dunsNumber", "industry", "numberOfEmployees",
                "sicCode", "website", "naicsCode", "plan", "numberOfUsers", "propertyKeys", "createDate",
                "lastModifiedDate"},
    "user": {"aptrinsicId", "identifyId", "type", "gender", "email", "firstName", "lastName", "lastSeenDate",
             "signUpDate", "firstVisitDate", "title", "phone", "score", "role", "subscriptionId", "accountId",
             "numberOfVisits", "location", "propertyKeys", "createDate", "lastModifiedDate", "customAttributes",
             "globalUnsubscribe", "channelMetricList", "lastVisitedUserAgentData", "lastInferredLocation",
             "globalId"},
    "subscription": {"id", "name", "iconUrl", "timeZone", "website", "description", "products"},
    "product": {"description", "name", "productKeys"},
    "product_key": {"channel", "productKey", "url"},
    "channel_metric": {"groupId", "channel", "environment", "firstSeenDate", "lastSeenDate"},
    "user_agent": {"rawUserAgent", "device", "platformType", "platformVersion", "browserType", "browserVersion"},
}


def _contract() -> dict[str, Any]:
    """The PX section's field lists, parsed from REFERENCE.md's words."""
    if not REFERENCE.exists():
        pytest.skip(f"the wire reference is not at {REFERENCE} (CI has it in ../shared)")
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index("## Gainsight PX REST API")
    section = " ".join(text[start:text.index("\n## ", start + 1)].split())

    def one(pattern: str) -> str:
        m = re.search(pattern, section)
        assert m, f"REFERENCE.md's PX section no longer says: {pattern}"
        return m.group(1)

    also = one(r"Account also has (.*?)\(11 keys")
    monitoring = one(r'\{"integrationStatuses":\[ ?\{(.*?)\}\]\}')
    return {
        "account": {"id", "sfdcId", *re.findall(r"`(\w+)`", also)},
        "user": {"id", "sfdcContactId"},
        "location": {k.strip() for k in one(r"`location` \(11 keys: ([^)]*)\)").split(",")},
        "attribute": {k.strip() for k in one(r"bare JSON array of `\{([^}]*)\}`").split(",")},
        "attribute_types": set(re.findall(r"[A-Z_]+", one(r"`type` is ([A-Z_, ]+ or [A-Z_]+)"))),
        "attribute_states": set(re.findall(r"[A-Z]+", one(r"`state` is ([A-Z, ]+ or [A-Z]+)"))),
        "monitoring": set(re.findall(r'"(\w+)"', monitoring)) - {"UP", "DOWN"},
        "page": {"totalHits", "scrollId"} & set(re.findall(r'"(\w+)"', one(r"`(\{\"accounts\"\|\"users\".*?\})`"))),
        "envelope": set(re.findall(r'"(\w+)":', one(r"`(\{\"externalapierror\".*?\}\})`"))) - {"externalapierror"},
    }


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return _contract()


@pytest.fixture(scope="module")
def px(tls_certs, tmp_path_factory):
    """A healthy sandbox with unmatched accounts and users beside the matched ones."""
    from sfwizard.sandbox.scenarios.loader import load_scenario
    from sfwizard.sandbox.server import Sandbox

    path = tmp_path_factory.mktemp("scn") / "px.yaml"
    path.write_text("schema: 1\nname: px\nextends: healthy\nplatform:\n  unmatched: {accounts: 7, users: 9}\n")
    sb = Sandbox(load_scenario(str(path)), port=0, certs=tls_certs).start()
    info = sb.info()
    client = httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=10,
                          headers={"X-APTRINSIC-API-KEY": info["px_api_key"]})

    def get(path: str, **params: Any) -> Any:
        r = client.get(info["px_api_url"] + path, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    yield get, client, info
    client.close()
    sb.stop()


def test_the_reference_lists_what_the_contract_says(contract) -> None:
    """The parse itself: REFERENCE.md's lists as they stood when this test was written."""
    assert len(contract["location"]) == 11
    assert contract["account"] >= {"parentGroupId", "renewalDate", "healthScore", "gsId", "nps", "csm",
                                   "customAttributes", "location"}
    assert contract["attribute_types"] == {"STRING", "DATE_TIME", "BOOLEAN", "NUMBER"}
    assert contract["attribute_states"] == {"ENABLED", "DISABLED", "DELETED"}
    assert contract["monitoring"] == {"integrationSyncName", "currentStatus", "lastSuccessfulDate", "lastError",
                                      "numberOfRecordsProcessed"}
    assert contract["envelope"] == {"status", "message", "debugMessage", "subErrors"}


def test_accounts_carry_exactly_the_contracts_fields(px, contract) -> None:
    get, _, _ = px
    page = get("/accounts", pageSize=1000)
    assert set(page) == {"accounts"} | contract["page"]
    wanted = contract["account"] | CONTRACT_ALSO["account"]
    assert len(wanted) == 24
    for account in page["accounts"]:
        assert set(account) == wanted, set(account) ^ wanted
        assert set(account["location"]) == contract["location"]
    matched = [a for a in page["accounts"] if a["sfdcId"]]
    assert len(matched) == 150 and len(page["accounts"]) == 157 == page["totalHits"]
    assert all(a["id"] and a["id"] != a["sfdcId"] for a in page["accounts"])  # PX's own id


def test_users_carry_exactly_the_contracts_fields(px, contract) -> None:
    get, _, _ = px
    page = get("/users", pageSize=1000)
    assert set(page) == {"users"} | contract["page"]
    wanted = contract["user"] | CONTRACT_ALSO["user"]
    assert len(wanted) == 29
    for user in page["users"]:
        assert set(user) == wanted, set(user) ^ wanted
        assert set(user["location"]) == set(user["lastInferredLocation"]) == contract["location"]
        assert {k for m in user["channelMetricList"] for k in m} == CONTRACT_ALSO["channel_metric"]
        assert {k for d in user["lastVisitedUserAgentData"] for k in d["userAgent"]} == CONTRACT_ALSO["user_agent"]
        assert user["id"] == user["identifyId"]  # "Synonym for identifyId"
    assert page["totalHits"] == 420 + 9 and sum(1 for u in page["users"] if not u["sfdcContactId"]) == 9


def test_attributes_carry_exactly_the_contracts_fields(px, contract) -> None:
    get, _, _ = px
    for kind in ("account", "user"):
        attrs = get(f"/admin/model/{kind}/attributes")
        assert isinstance(attrs, list) and attrs
        for a in attrs:
            assert set(a) == contract["attribute"], set(a) ^ contract["attribute"]
            assert a["type"] in contract["attribute_types"] and a["state"] in contract["attribute_states"]


def test_monitoring_rows_carry_exactly_the_contracts_fields_and_no_knowledge_row(px, contract) -> None:
    get, _, _ = px
    rows = get("/admin/monitoring/integrations")["integrationStatuses"]
    assert rows and all(set(r) == contract["monitoring"] for r in rows)
    assert not [r for r in rows if "knowledge" in r["integrationSyncName"].lower()]


def test_errors_carry_the_envelope(px, contract) -> None:
    _, client, info = px
    for path in ("/admin/model/engagement/attributes", "/accounts/not-an-id", "/users/nobody@nowhere.example"):
        r = client.get(info["px_api_url"] + path)
        assert r.status_code == 404 and set(r.json()["externalapierror"]) == contract["envelope"]
    bad = client.get(info["px_api_url"] + "/accounts", params={"filter": "nonsense"})
    assert bad.status_code == 400 and bad.json()["externalapierror"]["status"] == "BAD_REQUEST"


def test_the_subscription_detail_has_the_contracts_shape(px) -> None:
    get, _, _ = px
    sub = get("/admin/subscription")
    assert set(sub) == CONTRACT_ALSO["subscription"] and sub["name"] == "Northwind Traders"
    assert all(set(p) == CONTRACT_ALSO["product"] for p in sub["products"])
    assert all(set(k) == CONTRACT_ALSO["product_key"] for p in sub["products"] for k in p["productKeys"])
