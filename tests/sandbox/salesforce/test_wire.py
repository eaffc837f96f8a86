"""Wire details the sandbox shares with real orgs: a statement that is not a query, and a refused token."""

from __future__ import annotations

import pytest


@pytest.fixture
def api(start_sandbox, ca_session):
    """(base URL of the REST API, a session signed in as the admin of a tenant from the diagnosis suite)."""
    from sfwizard.demo import demo_sign_in
    from sfwizard.sandbox.scenarios.loader import diagnosis_suite

    path = next(p for p in diagnosis_suite() if p.stem == "marlow-explicit-records")
    info = start_sandbox(str(path)).info()
    tokens = demo_sign_in(info)
    ca_session.headers["Authorization"] = f"Bearer {tokens.access_token}"
    return f"{tokens.instance_url}/services/data/v{info['api_version']}", ca_session


@pytest.mark.parametrize("soql,token", [("SELEKT Id FROM Account", "SELEKT"), ("selec id from account", "selec")])
def test_a_statement_that_is_not_a_query_is_refused_as_real_orgs_word_it(api, soql: str, token: str) -> None:
    # Real orgs answer [{"message": "unexpected token: SELEC", "errorCode": "MALFORMED_QUERY"}] for
    # "SELEC id,accountNumber,name from account": no quoted window, no position, no quotes
    # (http://danlb.blogspot.com/2013/09/salesforce-rest-exceptions.html).
    base, http = api
    resp = http.get(f"{base}/query", params={"q": soql})
    assert resp.status_code == 400
    assert resp.json() == [{"message": f"unexpected token: {token}", "errorCode": "MALFORMED_QUERY"}]


def test_a_bad_token_inside_a_query_still_gets_the_window_and_position(api) -> None:
    base, http = api
    resp = http.get(f"{base}/query", params={"q": "SELECT Id FROM Account WHERE"})
    message = resp.json()[0]["message"]
    assert resp.status_code == 400 and "ERROR at Row:1:Column:29" in message and "'<EOF>'" in message


def test_a_refused_token_names_the_scheme(api) -> None:
    base, http = api
    resp = http.get(f"{base}/limits", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Token"
    assert resp.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_other_errors_carry_no_authenticate_header(api) -> None:
    base, http = api
    resp = http.get(f"{base}/sobjects/NoSuchThing__c/describe")
    assert resp.status_code == 404 and "WWW-Authenticate" not in resp.headers
