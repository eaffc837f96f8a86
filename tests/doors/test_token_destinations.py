"""A token goes only where Salesforce is: https, and a Salesforce host, the login host the person chose, or (for the
sandbox the person started on this machine) a loopback host. A hostile login server's instance_url, identity URL
or a query's nextRecordsUrl is refused with one line, and nothing reaches the place it named."""

from __future__ import annotations

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations import signin
from sfwizard.integrations.transport import (
    Http,
    UntrustedUrl,
    is_salesforce_host,
    next_records_path,
    token_destination,
)

LOGIN = "https://login.salesforce.com"


@pytest.mark.parametrize("url", [
    "https://acme.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com",
    "https://acme-dev-ed.develop.my.salesforce.com", "https://na1.salesforce.com",
    "https://acme.lightning.force.com", "https://acme.my.salesforce.mil", "https://x.cloudforce.com",
    "https://acme.my.salesforce.com:443/", "https://ACME.MY.SALESFORCE.COM.",
])
def test_salesforce_hosts_are_trusted(url: str) -> None:
    assert token_destination(url, LOGIN) == url.strip()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:19504",                      # the review's reproduction: clear text on loopback
    "http://acme.my.salesforce.com",               # Salesforce, but not over TLS
    "https://evil.example",                        # not Salesforce
    "https://salesforce.com.evil.example",         # a suffix trick
    "https://evilsalesforce.com",                  # no dot before the domain
    "https://acme.my.salesforce.com@evil.example", # user info that moves the host
    "https://127.0.0.1:8443",                      # loopback, but the login was Salesforce's
    "https://localhost", "ftp://acme.my.salesforce.com", "", "acme.my.salesforce.com", "https://",
])
def test_anything_else_is_refused_with_one_line(url: str) -> None:
    with pytest.raises(UntrustedUrl) as err:
        token_destination(url, LOGIN)
    assert "\n" not in str(err.value)
    assert err.value.hint


def test_the_login_host_itself_and_the_local_sandbox_are_trusted() -> None:
    # a custom login domain (or an Experience Cloud site) the person typed is where its own instance may be
    assert token_destination("https://login.acme.com", "https://login.acme.com")
    # the sandbox the person started: login and instance both on this machine
    assert token_destination("https://127.0.0.1:8443", "https://127.0.0.1:8443")
    assert token_destination("https://localhost:9999", "https://127.0.0.1:8443")
    with pytest.raises(UntrustedUrl):  # still never in clear text
        token_destination("http://127.0.0.1:8443", "https://127.0.0.1:8443")
    with pytest.raises(UntrustedUrl):  # a sandbox login does not make the internet trusted
        token_destination("https://evil.example", "https://127.0.0.1:8443")


def test_lookalike_hosts_are_not_salesforce() -> None:
    assert is_salesforce_host("salesforce.com") and is_salesforce_host("a.b.force.com")
    assert not is_salesforce_host("notsalesforce.com") and not is_salesforce_host("salesforce.com.au.evil")


def _hostile_token_answer(instance_url: str, id_url: str = "") -> dict:
    return {"access_token": "00D000000000001!" + "q" * 40, "instance_url": instance_url, "id": id_url,
            "token_type": "Bearer", "issued_at": "1700000000000", "signature": "x", "scope": "api"}


@pytest.mark.parametrize("where", ["http", "internet"])
def test_a_hostile_token_answer_sends_nothing_to_the_place_it_names(hostile, recorder, make_tokens, tls_certs,
                                                                   where: str) -> None:
    """The review's attack: a login server answered instance_url http://127.0.0.1:PORT and the next call
    (userinfo) carried the bearer token there in clear text. Now the refresh itself is refused."""
    instance = recorder.url if where == "http" else "https://evil.example"
    hostile.answer = lambda path: (200, _hostile_token_answer(instance))
    tokens = make_tokens(login_url="https://login.salesforce.com", instance_url="https://x.my.salesforce.com")
    # the login server is the hostile one (on loopback); its answer names a place outside the family
    tokens = signin.TokenSet(**{**tokens.__dict__, "login_url": hostile.url})
    saved: list = []
    if where == "http":
        with pytest.raises(UntrustedUrl, match="https"):
            signin.refresh(tokens, saved.append, ca_cert=str(tls_certs.ca_cert))
    else:
        with pytest.raises(UntrustedUrl, match="not a Salesforce host"):
            signin.refresh(tokens, saved.append, ca_cert=str(tls_certs.ca_cert))
    assert saved == []  # nothing was kept
    assert recorder.requests == []  # and nothing went there


def test_a_hostile_identity_url_is_refused(hostile, make_tokens, tls_certs) -> None:
    hostile.answer = lambda path: (200, _hostile_token_answer("https://x.my.salesforce.com",
                                                              "https://evil.example/id/00D/005"))
    tokens = signin.TokenSet(**{**make_tokens().__dict__, "login_url": "https://login.salesforce.com"})
    body = hostile.answer("/")[1]
    with pytest.raises(UntrustedUrl, match="identity URL"):
        signin._token_set(body, tokens.login_url, "cid", "web")


def test_a_saved_sign_in_pointing_elsewhere_is_not_used(make_tokens) -> None:
    bad = make_tokens(instance_url="http://127.0.0.1:19504", login_url="https://login.salesforce.com")
    with pytest.raises(SfwizardError, match="https"):
        signin.TokenSet.from_json(bad.to_json())


def test_plain_http_is_refused_before_anything_is_sent(recorder) -> None:
    http = Http()
    try:
        with pytest.raises(UntrustedUrl, match="plain http"):
            http.request("GET", recorder.url + "/services/oauth2/userinfo", label="oauth",
                         headers={"Authorization": "Bearer 00Dsecret"})
    finally:
        http.close()
    assert recorder.requests == []


def test_the_salesforce_session_never_sends_a_token_over_http(recorder) -> None:
    """userinfo() and the Bulk results call build their URL from the instance: an http instance sends nothing."""
    from sfwizard.integrations.salesforce import SalesforceAPI

    api = SalesforceAPI(recorder.url, "00D000000000001!" + "z" * 40)
    with pytest.raises(UntrustedUrl):
        api.userinfo()
    assert recorder.requests == []


@pytest.mark.parametrize("value", ["@evil.example/services/data/v60.0/query/01g-2000",
                                   ".evil.example/x", ":443@evil.example/x", "//evil.example/x", "https://evil.example/x",
                                   "", "services/data/v60.0/query/01g"])
def test_a_next_records_url_that_moves_the_host_is_refused(value: str) -> None:
    with pytest.raises(UntrustedUrl):
        next_records_path(value)
    assert next_records_path("/services/data/v60.0/query/01gD0000000abc-2000") == \
        "/services/data/v60.0/query/01gD0000000abc-2000"


def test_a_hostile_next_page_is_never_fetched(hostile, tls_certs) -> None:
    """An org (or something answering for it) that names another host as the next page: the paging stops there."""
    from sfwizard.integrations.salesforce import SalesforceAPI

    def answer(path: str):
        return 200, {"totalSize": 4000, "done": False, "records": [{"Id": "001"}],
                     "nextRecordsUrl": "@evil.example/services/data/v60.0/query/01g-2000"}

    hostile.answer = answer
    api = SalesforceAPI(hostile.url, "00D000000000001!" + "z" * 40, ca_cert=str(tls_certs.ca_cert))
    with pytest.raises(UntrustedUrl, match="next page"):
        api.query("SELECT Id FROM Account")
    assert len(hostile.requests) == 1  # the first page only
