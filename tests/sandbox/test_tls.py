"""The sandbox's own certificates: a local CA and a leaf for localhost, made once, private keys 0600."""

from __future__ import annotations

import ssl

from cryptography import x509

from sfwizard.sandbox.tls import ensure_certificates


def test_certificates_made_once_with_private_keys_0600(tmp_path, assert_no_leak) -> None:
    first = ensure_certificates(tmp_path)
    assert_no_leak([first.ca_key, first.key])  # mode 0600
    mtime = first.cert.stat().st_mtime_ns
    again = ensure_certificates(tmp_path)
    assert again.cert.stat().st_mtime_ns == mtime  # cached, not remade
    ctx = ssl.create_default_context(cafile=str(first.ca_cert))
    ctx.load_verify_locations(cafile=str(first.ca_cert))
    leaf = x509.load_pem_x509_certificate(first.cert.read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(v) for v in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
