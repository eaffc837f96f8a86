"""The sandbox's own certificate authority and a leaf for localhost, 127.0.0.1 and ::1.

Made once on first use and cached in the user data directory (every file 0600 in a 0700 folder), so later
starts only load files; a damaged file is made again. Where the data folder cannot be written (read-only, a
file in its place) they are made in a private temporary folder for this process instead — without the CA's
key, which never leaves the data folder (it is only needed to sign the leaf, done in memory). EC P-256 keeps
creation to a few milliseconds.

Whoever trusts this CA (``NODE_EXTRA_CA_CERTS``, a browser, ``SFWIZARD_CA_CERT``) trusts it for this machine
only: the CA is name-constrained (RFC 5280 §4.2.1.10, critical) to localhost, 127.0.0.1 and ::1, so a
certificate it signed for any other host (login.salesforce.com) fails verification; and it lives at most a
year. A CA from an earlier sfwizard (ten years, no constraints) is made again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path

from sfwizard import paths
from sfwizard.errors import SfwizardError

log = logging.getLogger("sfwizard.sandbox")
_fallback: list[Path] = []  # this process's temporary folder, when the data folder cannot be written

_RENEW_BEFORE = dt.timedelta(days=30)
LIFETIME = dt.timedelta(days=365)  # the CA's and the leaf's: at most a year
_PERMITTED = ("localhost", "127.0.0.1/32", "::1/128")


def _permitted_subtrees() -> list:
    from cryptography import x509

    return [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_network("127.0.0.1/32")),
            x509.IPAddress(ipaddress.ip_network("::1/128"))]


def _constrained(cert) -> bool:
    """Whether a CA certificate carries exactly our critical name constraints."""
    from cryptography import x509

    try:
        ext = cert.extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        return False
    permitted = {str(getattr(n, "value", n)) for n in (ext.value.permitted_subtrees or [])}
    return ext.critical and permitted == set(_PERMITTED) and not ext.value.excluded_subtrees


@dataclass(frozen=True)
class CertPaths:
    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path


def cert_paths(directory: Path | None = None) -> CertPaths:
    d = directory or paths.tls_dir()
    return CertPaths(d / "ca.pem", d / "ca.key", d / "localhost.pem", d / "localhost.key")


def _write(path: Path, data: bytes) -> None:
    from sfwizard.fileio import write_atomic

    write_atomic(path, data, mode=0o600, what="the sandbox's certificate")


def _still_good(p: CertPaths) -> bool:
    from cryptography import x509

    from sfwizard.fileio import read_capped

    try:
        if not all(x.exists() for x in (p.ca_cert, p.cert, p.key)):
            return False
        now = dt.datetime.now(dt.timezone.utc)
        for cert_file in (p.ca_cert, p.cert):
            cert = x509.load_pem_x509_certificate(read_capped(cert_file, 64 * 1024, "certificate"))
            if cert.not_valid_after_utc - now < _RENEW_BEFORE:
                return False
            if cert.not_valid_after_utc - cert.not_valid_before_utc > LIFETIME + dt.timedelta(days=1):
                return False  # an older sfwizard's ten-year CA
            if cert_file == p.ca_cert and not _constrained(cert):
                return False  # an older sfwizard's CA that could sign for any host
    except (SfwizardError, ValueError, OSError):
        return False  # damaged, truncated, or not a certificate: made again
    return True


def ensure_certificates(directory: Path | None = None) -> CertPaths:
    """Return the certificate files, creating them first if missing, damaged or near expiry."""
    if directory is not None:
        return _ensure(cert_paths(directory))
    if _fallback:
        return _ensure(cert_paths(_fallback[0]), keep_ca_key=False)
    try:
        return _ensure(cert_paths())
    except SfwizardError as exc:
        import tempfile

        _fallback.append(Path(tempfile.mkdtemp(prefix="sfwizard-tls-")))  # 0700
        log.info("the sandbox's certificates cannot be kept in the data folder (%s); using %s for this run",
                    exc.message, _fallback[0])
        return _ensure(cert_paths(_fallback[0]), keep_ca_key=False)


def _ensure(p: CertPaths, keep_ca_key: bool = True) -> CertPaths:
    """Make the files unless they are still good. ``keep_ca_key`` False (a folder outside the data folder): the
    CA's key is used in memory to sign the leaf and never written."""
    if _still_good(p):
        return p
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sfwizard sandbox"),
        x509.NameAttribute(NameOID.COMMON_NAME, "sfwizard sandbox local CA"),
    ])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=_permitted_subtrees(), excluded_subtrees=None),
                       critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        # within the CA's year (browsers refuse server certificates that live longer than 398 days anyway)
        .not_valid_before(now).not_valid_after(now + LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_format = dict(encoding=pem, format=serialization.PrivateFormat.PKCS8,
                      encryption_algorithm=serialization.NoEncryption())
    if keep_ca_key:
        _write(p.ca_key, ca_key.private_bytes(**key_format))
    else:
        p.ca_key.unlink(missing_ok=True)
    _write(p.key, leaf_key.private_bytes(**key_format))
    _write(p.ca_cert, ca_cert.public_bytes(pem))
    # The leaf file carries the chain so clients that only trust the CA can build the path.
    _write(p.cert, leaf_cert.public_bytes(pem))
    return p


def leaf_spki_sha256(p: CertPaths) -> str:
    """Base64 SHA-256 of the leaf's public key, for Chromium's --ignore-certificate-errors-spki-list."""
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(p.cert.read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()
