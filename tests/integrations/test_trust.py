"""Trust like ``sf`` and ``gh``: the OS trust store by default, an extra CA added to it (never replacing
it), the same for httpx and the requests session under simple-salesforce, and a certificate failure named
as such with its fix. Verification is never switched off.

The "OS trust store" is played by ``SSL_CERT_FILE`` (OpenSSL's, which truststore reads on Linux) holding
the sandbox's CA, as a company proxy's CA sits in the system store; a second, unrelated CA stands for
an extra CA that must not push the system's out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations import credentials, signin
from sfwizard.integrations.salesforce import SalesforceAPI
from sfwizard.integrations.transport import CallCounter, Http, requests_session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def other_ca(tmp_path_factory) -> str:
    """A CA that signed nothing the sandbox serves (a proxy's CA on a machine that needs none)."""
    from sfwizard.sandbox.tls import ensure_certificates

    return str(ensure_certificates(tmp_path_factory.mktemp("other-tls")).ca_cert)


@pytest.fixture
def system_trusts(monkeypatch, tls_certs):
    """Make the sandbox's CA part of the 'system' trust store (as a TLS-inspecting proxy's CA would be)."""
    def _set(ca: str | None) -> None:
        if ca is None:
            monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        else:
            monkeypatch.setenv("SSL_CERT_FILE", ca)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return _set


def _status(url: str) -> str:
    return url + "/status/api/v2/status.json"


# -- the system's trust store is used, and an extra CA adds to it ------------------------------------------

def test_httpx_trusts_the_system_store_without_any_extra_ca(sandbox, system_trusts, tls_certs) -> None:
    system_trusts(str(tls_certs.ca_cert))
    http = Http(None)
    try:
        assert http.request("GET", _status(sandbox.base_url), label="status").status_code == 200
    finally:
        http.close()


def test_an_extra_ca_adds_to_the_system_store_for_httpx(sandbox, system_trusts, tls_certs, other_ca) -> None:
    system_trusts(str(tls_certs.ca_cert))
    http = Http(other_ca)  # the sandbox's CA is only in the "system" store
    try:
        assert http.request("GET", _status(sandbox.base_url), label="status").status_code == 200
    finally:
        http.close()


def test_an_extra_ca_is_trusted_when_the_system_does_not_know_it(sandbox, system_trusts, tls_certs,
                                                                  other_ca) -> None:
    system_trusts(other_ca)
    http = Http(str(tls_certs.ca_cert))
    try:
        assert http.request("GET", _status(sandbox.base_url), label="status").status_code == 200
    finally:
        http.close()


def test_the_requests_session_trusts_the_same(sandbox, system_trusts, tls_certs, other_ca) -> None:
    system_trusts(str(tls_certs.ca_cert))
    for extra in (None, other_ca):  # system store alone; system store plus an unrelated extra CA
        session = requests_session(extra, CallCounter())
        try:
            assert session.get(_status(sandbox.base_url)).status_code == 200
        finally:
            session.close()


def test_requests_ca_bundle_does_not_replace_what_we_trust(sandbox, system_trusts, tls_certs, other_ca,
                                                           monkeypatch) -> None:
    system_trusts(other_ca)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_ca)  # requests would let this override session.verify
    session = requests_session(str(tls_certs.ca_cert), CallCounter())
    try:
        assert session.get(_status(sandbox.base_url)).status_code == 200
    finally:
        session.close()


def test_simple_salesforce_runs_over_the_system_store(sandbox, system_trusts, tls_certs) -> None:
    system_trusts(str(tls_certs.ca_cert))
    tokens = _sign_in(sandbox)
    api = SalesforceAPI(tokens.instance_url, tokens.access_token, ca_cert=None)
    assert api.query("SELECT Id FROM Organization")[0]["Id"] == sandbox.state.default_org.id


def _sign_in(sandbox) -> signin.TokenSet:
    from sfwizard.demo import demo_sign_in

    return demo_sign_in(sandbox.info())


# -- a certificate failure is named, with its fix ------------------------------------------------------------

def test_httpx_names_an_untrusted_certificate_and_does_not_retry(sandbox, system_trusts, other_ca) -> None:
    system_trusts(other_ca)
    counter = CallCounter()
    http = Http(None, counter=counter)
    try:
        with pytest.raises(SfwizardError) as err:
            http.request("GET", _status(sandbox.base_url), label="status")
    finally:
        http.close()
    e = err.value
    assert e.kind == "tls"
    host = f"127.0.0.1:{sandbox.port}"
    assert e.message.startswith(f"the certificate of {host} is not trusted (CERTIFICATE_VERIFY_FAILED")
    assert "SFWIZARD_CA_CERT=/path/ca.pem" in e.hint and "cannot reach" not in str(e)
    assert counter.total == 1  # no retry mends a certificate


def test_simple_salesforce_names_an_untrusted_certificate(sandbox, system_trusts, other_ca) -> None:
    system_trusts(other_ca)
    api = SalesforceAPI(sandbox.base_url, "00Dx!not-used", ca_cert=None)
    with pytest.raises(SfwizardError) as err:
        api.limits()
    assert err.value.kind == "tls" and "CERTIFICATE_VERIFY_FAILED" in err.value.message
    assert "SFWIZARD_CA_CERT" in err.value.hint
    assert api.counter.total == 1


def test_a_ca_file_that_cannot_be_read_is_one_line(tmp_path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    for path in (str(bad), str(tmp_path / "missing.pem")):
        with pytest.raises(SfwizardError) as err:
            Http(path)
        assert err.value.kind == "tls" and path in err.value.message and "SFWIZARD_CA_CERT" in err.value.hint


def test_the_check_runner_gives_a_certificate_failure_its_own_reason() -> None:
    from sfwizard.checks.base import CheckSpec, Status
    from sfwizard.checks.context import CheckContext
    from sfwizard.checks.runner import run_checks
    from sfwizard.integrations.transport import tls_error
    from sfwizard.profiles import load_profile

    def raises(ctx):
        raise tls_error("status.gainsight.com", None)

    spec = CheckSpec("x", "x", "before", raises, ("gainsight-px",), ())
    r = run_checks(CheckContext(load_profile("gainsight-px")), [spec])[0]
    assert (r.status, r.reason) == (Status.FAIL, "net.tls_untrusted")
    assert "SFWIZARD_CA_CERT" in r.resolution


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
def test_check_against_an_untrusted_certificate_says_so_even_with_debug(sandbox, other_ca, debug) -> None:
    """What a person behind a TLS-inspecting proxy sees: the certificate named, not 'cannot reach'."""
    credentials.save(_sign_in(sandbox))
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")}
    env["SSL_CERT_FILE"] = other_ca  # the "system" does not know the sandbox's CA, nor is it given
    out = _cli("check", *debug, env=env)
    assert out.returncode == (1 if debug else 2)  # --debug lets the traceback through; its last line says the same
    assert f"the certificate of 127.0.0.1:{sandbox.port} is not trusted (CERTIFICATE_VERIFY_FAILED" in out.stderr
    assert "SFWIZARD_CA_CERT=/path/ca.pem" in out.stderr
    assert "cannot reach" not in out.stderr
    env["SFWIZARD_CA_CERT"] = str(sandbox.certs.ca_cert)  # the fix it names
    fixed = _cli("check", "--only", "identity.org", env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert "Northwind Traders" in fixed.stdout


def test_the_readme_says_how_trust_works() -> None:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "SFWIZARD_CA_CERT=/path/ca.pem" in text and "*in addition* to the system's" in text
    assert "truststore" in text and "Verification is never switched off" in text


def test_macos_and_windows_use_truststore_linux_the_same_bundle_once(monkeypatch, tls_certs) -> None:
    import ssl

    import truststore

    from sfwizard.integrations.transport import ssl_context

    for platform in ("darwin", "win32"):
        monkeypatch.setattr(sys, "platform", platform)
        assert isinstance(ssl_context(), truststore.SSLContext)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_certs.ca_cert))
    ctx = ssl_context()
    assert type(ctx) is ssl.SSLContext and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] >= 1  # the "system" bundle, loaded when the context is made
