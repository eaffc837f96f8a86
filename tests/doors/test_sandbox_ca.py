"""The sandbox's CA is trusted for this machine only: name-constrained (critical) to localhost, 127.0.0.1 and ::1,
at most a year, its key kept in the 0700 data folder. The review made it sign for login.salesforce.com and
verified that certificate OK against it; now the verification fails."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sfwizard.sandbox import tls


def _leaf_signed_by_the_ca(certs: tls.CertPaths, dns: list[str], ips: list[str], out: Path) -> tuple[Path, Path]:
    ca_key = serialization.load_pem_private_key(certs.ca_key.read_bytes(), None)
    ca = x509.load_pem_x509_certificate(certs.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, (dns or ips)[0])])
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = out / "evil.pem", out / "evil.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _handshake(certs: tls.CertPaths, cert_file: Path, key_file: Path, hostname: str) -> None:
    """A TLS handshake in memory: a client that trusts only the sandbox CA, a server showing ``cert_file``."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(str(cert_file), str(key_file))
    client_ctx = ssl.create_default_context(cafile=str(certs.ca_cert))
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        try:
            client.do_handshake()
            return
        except ssl.SSLWantReadError:
            continue
    raise AssertionError("no handshake")


def test_the_ca_is_name_constrained_and_short_lived(tmp_path: Path) -> None:
    certs = tls.ensure_certificates(tmp_path)
    ca = x509.load_pem_x509_certificate(certs.ca_cert.read_bytes())
    ext = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert ext.critical
    assert {str(getattr(n, "value", n)) for n in ext.value.permitted_subtrees} == \
        {"localhost", "127.0.0.1/32", "::1/128"}
    for cert in (ca, x509.load_pem_x509_certificate(certs.cert.read_bytes())):
        assert cert.not_valid_after_utc - cert.not_valid_before_utc <= dt.timedelta(days=366)
    assert stat.S_IMODE(certs.ca_key.stat().st_mode) == 0o600


@pytest.mark.parametrize("host", ["login.salesforce.com", "evil.example"])
def test_a_certificate_it_signs_for_another_host_fails_verification(tmp_path: Path, host: str) -> None:
    certs = tls.ensure_certificates(tmp_path / "tls")
    cert_file, key_file = _leaf_signed_by_the_ca(certs, [host], [], tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError) as err:
        _handshake(certs, cert_file, key_file, host)
    assert "permitted" in str(err.value).lower() or "constraint" in str(err.value).lower()


def test_an_ip_outside_loopback_fails_too_and_the_sandbox_own_leaf_verifies(tmp_path: Path) -> None:
    certs = tls.ensure_certificates(tmp_path / "tls")
    cert_file, key_file = _leaf_signed_by_the_ca(certs, [], ["10.0.0.1"], tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(certs, cert_file, key_file, "10.0.0.1")
    for host in ("localhost", "127.0.0.1"):
        _handshake(certs, certs.cert, certs.key, host)  # the sandbox's own leaf: fine


def test_an_old_unconstrained_ten_year_ca_is_made_again(tmp_path: Path) -> None:
    certs = tls.ensure_certificates(tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sfwizard sandbox local CA")])
    now = dt.datetime.now(dt.timezone.utc)
    old = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
           .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
           .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(key, hashes.SHA256()))
    certs.ca_cert.write_bytes(old.public_bytes(serialization.Encoding.PEM))
    again = tls.ensure_certificates(tmp_path)
    ca = x509.load_pem_x509_certificate(again.ca_cert.read_bytes())
    assert ca.serial_number != 1
    assert ca.extensions.get_extension_for_class(x509.NameConstraints).critical


def test_outside_the_data_folder_the_ca_key_is_never_written(tmp_path: Path) -> None:
    certs = tls._ensure(tls.cert_paths(tmp_path), keep_ca_key=False)
    assert certs.ca_cert.exists() and certs.cert.exists() and certs.key.exists()
    assert not certs.ca_key.exists()
    assert tls._still_good(certs)  # and the set is complete without it
