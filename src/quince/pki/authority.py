"""Quince's certificate authority: the CA, the profile-signing identity, and device certificates.

The CA key signs the device identity certificates handed out through SCEP; a separate identity
issued by the CA signs configuration profiles, so the CA key is used for nothing else. All four
files live in `<var_dir>/pki/` (see keystore.py) and are created once, by `quince init`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from quince.domain.errors import QuinceError
from quince.pki import keystore

CA_KEY_BITS = 3072
SIGNING_KEY_BITS = 3072
CA_DAYS = 3652  # about ten years
SIGNING_DAYS = 1095  # three years; delete signing.* and run `quince init` to issue a new one
DEVICE_DAYS = 365
MIN_DEVICE_KEY_BITS = 2048
MAX_DEVICE_KEY_BITS = 8192
CLOCK_SKEW = timedelta(minutes=5)  # devices with a slightly slow clock still accept new certs

CA_KEY, CA_CERT, SIGNING_KEY, SIGNING_CERT = "ca.key", "ca.crt", "signing.key", "signing.crt"


class PkiError(QuinceError):
    """The PKI directory is missing, incomplete or inconsistent."""


class CertificateRequestRefused(QuinceError):
    """A certificate signing request breaks an issuance rule; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The certificate request was refused: {reason}.")
        self.reason = reason


@dataclass(frozen=True)
class CertificateSummary:
    """What `quince pki show` prints about one certificate."""

    role: str
    subject: str
    serial: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime


def fingerprint_sha256(certificate: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the certificate's DER encoding."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def serial_hex(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "x")


def summarize(role: str, certificate: x509.Certificate) -> CertificateSummary:
    return CertificateSummary(
        role=role,
        subject=certificate.subject.rfc4514_string(),
        serial=serial_hex(certificate),
        fingerprint_sha256=fingerprint_sha256(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )


def _random_serial() -> int:
    # 128 random bits, as the CA/Browser Forum asks (at least 64); never zero.
    return int.from_bytes(secrets.token_bytes(16), "big") or 1


@dataclass(frozen=True)
class Pki:
    """Quince's CA and profile-signing identity, loaded in memory."""

    ca_certificate: x509.Certificate
    ca_key: rsa.RSAPrivateKey
    signing_certificate: x509.Certificate
    signing_key: rsa.RSAPrivateKey

    @property
    def organization(self) -> str:
        """The organization the CA was created for (its subject's O)."""
        names = self.ca_certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(names[0].value) if names else "Quince"

    def device_subject(self, enrollment: str) -> x509.Name:
        """The subject of the identity certificate issued for enrollment session `enrollment` (its
        uuid): `CN=Quince enrollment <uuid>, O=<the CA's organization>`."""
        return _name(device_common_name(enrollment), self.organization)

    def issue_device_certificate(
        self,
        csr: x509.CertificateSigningRequest,
        *,
        enrollment: str,
        validity_days: int = DEVICE_DAYS,
        now: datetime | None = None,
    ) -> x509.Certificate:
        """A client-authentication certificate for the CSR's key, signed by the CA, whose subject
        names the enrollment session it is issued for (`device_subject`).

        The CSR must be signed by its own key (proof of possession) and hold an RSA key of at least
        2048 bits. Only its key is used: its subject and the extensions it asks for are ignored, so
        a request cannot name itself after the CA, another enrollment or anything else.
        """
        key = validate_device_csr(csr)
        if validity_days < 1:
            raise ValueError("validity_days must be at least 1")
        now = now or datetime.now(UTC)
        # Never outlive the CA: a chain whose issuer expired first does not verify.
        not_after = min(now + timedelta(days=validity_days), self.ca_certificate.not_valid_after_utc)
        ca_ski = self.ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        return (
            x509.CertificateBuilder()
            .subject_name(self.device_subject(enrollment))
            .issuer_name(self.ca_certificate.subject)
            .public_key(key)
            .serial_number(_random_serial())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, key_encipherment=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value),
                critical=False,
            )
            .sign(self.ca_key, hashes.SHA256())
        )

    def describe(self) -> list[CertificateSummary]:
        """The CA and signing certificates, for `quince pki show`."""
        return [summarize("ca", self.ca_certificate), summarize("signing", self.signing_certificate)]


def device_common_name(enrollment: str) -> str:
    """The common name of enrollment session `enrollment`'s identity certificate; the enrollment
    profile asks the device for the same one."""
    return f"Quince enrollment {enrollment}"


def validate_device_csr(csr: x509.CertificateSigningRequest) -> rsa.RSAPublicKey:
    """The CSR's key if Quince may certify it; CertificateRequestRefused says which rule it breaks."""
    if not csr.is_signature_valid:
        raise CertificateRequestRefused("its signature does not verify")
    try:
        key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateRequestRefused("its public key cannot be read") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateRequestRefused("only RSA keys are accepted")
    if not MIN_DEVICE_KEY_BITS <= key.key_size <= MAX_DEVICE_KEY_BITS:
        raise CertificateRequestRefused(
            f"the RSA key has {key.key_size} bits; {MIN_DEVICE_KEY_BITS} to "
            f"{MAX_DEVICE_KEY_BITS} are accepted"
        )
    if not csr.subject.rdns:
        raise CertificateRequestRefused("its subject is empty")
    return key


def _key_usage(
    *,
    digital_signature: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64] or "Quince"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
    ])


def create_ca(organization: str, now: datetime | None = None) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A new self-signed CA. It also decrypts SCEP requests, hence keyEncipherment."""
    now = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=CA_KEY_BITS)
    # A random suffix keeps two installs' CAs apart in a device's certificate list.
    name = _name(f"{organization[:40]} MDM CA {secrets.token_hex(4)}", organization)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_random_serial())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(digital_signature=True, key_encipherment=True, key_cert_sign=True, crl_sign=True),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def create_signing_identity(
    ca_certificate: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    organization: str,
    now: datetime | None = None,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A profile-signing certificate issued by the CA (S/MIME-style: digitalSignature)."""
    now = now or datetime.now(UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=SIGNING_KEY_BITS)
    ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    not_after = min(now + timedelta(days=SIGNING_DAYS), ca_certificate.not_valid_after_utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{organization[:40]} MDM Profile Signing", organization))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(_random_serial())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski.value), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    # Unencrypted PKCS#8: the directory and files are private to Quince's user (0700/0600).
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _read_pair(directory: Path, key_name: str, cert_name: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key_path, cert_path = directory / key_name, directory / cert_name
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except FileNotFoundError as exc:
        raise PkiError(f"{exc.filename} is missing; run `quince init` to create Quince's CA.") from exc
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise PkiError(f"{key_path} or {cert_path} is not a readable PEM key or certificate.") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PkiError(f"{key_path} must hold an RSA key.")
    if key.public_key().public_numbers() != _rsa_public(certificate, cert_path).public_numbers():
        raise PkiError(f"{key_path} does not belong to the certificate in {cert_path}.")
    return certificate, key


def _rsa_public(certificate: x509.Certificate, path: Path) -> rsa.RSAPublicKey:
    public = certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise PkiError(f"{path} must hold an RSA certificate.")
    return public


def load(directory: Path) -> Pki:
    """Load the PKI from `directory`; PkiError when a file is missing, unreadable or mismatched."""
    ca_certificate, ca_key = _read_pair(directory, CA_KEY, CA_CERT)
    signing_certificate, signing_key = _read_pair(directory, SIGNING_KEY, SIGNING_CERT)
    try:
        signing_certificate.verify_directly_issued_by(ca_certificate)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise PkiError(f"{directory / SIGNING_CERT} was not issued by {directory / CA_CERT}.") from exc
    return Pki(ca_certificate, ca_key, signing_certificate, signing_key)


def ensure(directory: Path, *, organization: str = "Quince") -> Pki:
    """Load the PKI from `directory`, creating whatever is missing first.

    A missing CA is created (both files); a missing signing identity is issued by the existing CA,
    which is also how it is renewed. Existing files are never overwritten, and a half-present pair
    (a key without its certificate) is an error for a person to look at, not something to repair.
    """
    keystore.ensure_private_dir(directory)
    with keystore.exclusive(directory):
        _create_missing_pair(directory, CA_KEY, CA_CERT, lambda: create_ca(organization))
        _create_missing_pair(
            directory, SIGNING_KEY, SIGNING_CERT,
            lambda: create_signing_identity(*_read_pair(directory, CA_KEY, CA_CERT), organization),
        )
    return load(directory)


def _create_missing_pair(
    directory: Path,
    key_name: str,
    cert_name: str,
    make: Callable[[], tuple[x509.Certificate, rsa.RSAPrivateKey]],
) -> None:
    key_path, cert_path = directory / key_name, directory / cert_name
    present = key_path.exists(), cert_path.exists()
    if all(present):
        return
    if any(present):
        have, lack = (key_path, cert_path) if present[0] else (cert_path, key_path)
        raise PkiError(f"{have} exists but {lack} does not; restore it or remove both.")
    certificate, key = make()
    keystore.write_new(key_path, _key_pem(key))
    keystore.write_new(cert_path, _cert_pem(certificate))
