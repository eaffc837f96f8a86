"""Core behaviour with no sandbox scenario: import hygiene, Ids, certificates, fault specs, ports."""

from __future__ import annotations

import socket
import ssl
import stat

import pytest

from sfwizard import ids
from sfwizard.errors import SfwizardError


def test_id_checksum_matches_salesforce_example() -> None:
    # The 15→18 example from Salesforce's documentation.
    assert ids.to18("001D000000IqhSL") == "001D000000IqhSLIAZ"
    assert ids.is_valid("001D000000IqhSLIAZ")
    assert not ids.is_valid("001D000000IqhSLIAA")
    assert ids.same_id("001D000000IqhSL", "001D000000IqhSLIAZ")


def test_make_id_is_valid_prefixed_and_distinct() -> None:
    made = {ids.make_id("003", n) for n in range(2000)}
    assert len(made) == 2000
    assert all(i.startswith("003") and len(i) == 18 and ids.is_valid(i) for i in made)


def test_certificates_made_once_with_private_keys_0600(tmp_path) -> None:
    from sfwizard.sandbox.tls import ensure_certificates

    first = ensure_certificates(tmp_path)
    for key in (first.ca_key, first.key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    mtime = first.cert.stat().st_mtime_ns
    again = ensure_certificates(tmp_path)
    assert again.cert.stat().st_mtime_ns == mtime  # cached, not remade
    ctx = ssl.create_default_context(cafile=str(first.ca_cert))
    ctx.load_verify_locations(cafile=str(first.ca_cert))
    from cryptography import x509

    leaf = x509.load_pem_x509_certificate(first.cert.read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(v) for v in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]


@pytest.mark.parametrize("spec,attr,value", [
    ("latency=50~10", "latency_ms", 50), ("error=0.25:500", "error_status", 500), ("drop=0.1", "drop_rate", 0.1),
    ("expire-token=3", "token_expires_after", 3), ("request-limit=7", "request_limit_after", 7),
    ("px-rate=5", "px_rate_per_second", 5), ("px-429=0.5", "px_429_rate", 0.5),
])
def test_fault_specs_parse(spec: str, attr: str, value: object) -> None:
    from sfwizard.sandbox.faults import apply_spec
    from sfwizard.sandbox.state import Faults

    f = Faults()
    apply_spec(f, spec)
    assert getattr(f, attr) == value


@pytest.mark.parametrize("spec", ["bogus=1", "error=2", "error=0.1:404", "latency=x", "drop"])
def test_bad_fault_spec_is_one_line_error(spec: str) -> None:
    from sfwizard.sandbox.faults import apply_spec
    from sfwizard.sandbox.state import Faults

    with pytest.raises(SfwizardError) as err:
        apply_spec(Faults(), spec)
    assert "\n" not in str(err.value) and spec.split("=")[0] in str(err.value)


def test_port_in_use_is_a_clear_error(tls_certs) -> None:
    from sfwizard.sandbox.scenarios.builder import new_state
    from sfwizard.sandbox.server import Sandbox

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SfwizardError) as err:
            Sandbox(new_state(), port=port, certs=tls_certs)
    assert f"port {port}" in err.value.message and "--port" in err.value.hint
