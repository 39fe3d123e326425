"""Device identity certificates: only for a self-signed RSA >= 2048 CSR, for client authentication,
chained to Quince's CA, with a subject Quince chooses (naming the enrollment) and a random serial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from quince.pki.authority import CertificateRequestRefused, Pki
from tests.support_scep import make_csr, new_key

ENROLLMENT = "4f0c2a9e-7d51-4b8e-9a3c-1e2f3a4b5c6d"  # an enrollment session's uuid


def _csr(bits: int = 2048, cn: str = "Quince device") -> x509.CertificateSigningRequest:
    return make_csr(new_key(bits), "challenge", cn)


def test_the_certificate_chains_to_the_ca_and_is_for_client_authentication(pki: Pki) -> None:
    csr = _csr()
    certificate = pki.issue_device_certificate(csr, enrollment=ENROLLMENT)
    certificate.verify_directly_issued_by(pki.ca_certificate)
    assert certificate.public_key().public_numbers() == csr.public_key().public_numbers()  # type: ignore[union-attr]
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.key_encipherment
    assert not usage.value.key_cert_sign
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_a_csr_naming_the_ca_gets_a_subject_quince_chooses_for_the_enrollment(pki: Pki) -> None:
    key = new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(pki.ca_certificate.subject)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("evil.example")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate = pki.issue_device_certificate(csr, enrollment=ENROLLMENT)
    assert certificate.subject != certificate.issuer
    assert certificate.subject == x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quince"),  # the CA's organization
        x509.NameAttribute(NameOID.COMMON_NAME, f"Quince enrollment {ENROLLMENT}"),
    ])
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_the_subject_names_the_enrollment_whatever_the_csr_asks(pki: Pki) -> None:
    other = "00000000-0000-4000-8000-000000000000"
    certificate = pki.issue_device_certificate(_csr(cn=f"Quince enrollment {other}"), enrollment=ENROLLMENT)
    assert certificate.subject == pki.device_subject(ENROLLMENT)
    assert other not in certificate.subject.rfc4514_string()


def test_serials_are_random_and_at_most_128_bits(pki: Pki) -> None:
    serials = {pki.issue_device_certificate(_csr(), enrollment=ENROLLMENT).serial_number for _ in range(3)}
    assert len(serials) == 3
    assert all(0 < s < 2**128 for s in serials)


def test_validity_is_the_asked_days_and_never_outlives_the_ca(pki: Pki) -> None:
    now = datetime.now(UTC).replace(microsecond=0)  # certificates hold whole seconds
    year = pki.issue_device_certificate(_csr(), enrollment=ENROLLMENT, validity_days=365, now=now)
    assert year.not_valid_after_utc - now == timedelta(days=365)
    assert year.not_valid_before_utc <= now
    forever = pki.issue_device_certificate(_csr(), enrollment=ENROLLMENT, validity_days=36500, now=now)
    assert forever.not_valid_after_utc == pki.ca_certificate.not_valid_after_utc


def test_a_csr_whose_signature_does_not_verify_is_refused(pki: Pki) -> None:
    der = bytearray(_csr().public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der))
    with pytest.raises(CertificateRequestRefused, match="signature"):
        pki.issue_device_certificate(tampered, enrollment=ENROLLMENT)


def test_an_rsa_1024_key_is_refused(pki: Pki) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 (the point)
    with pytest.raises(CertificateRequestRefused, match="1024 bits"):
        pki.issue_device_certificate(make_csr(weak, "challenge"), enrollment=ENROLLMENT)


def test_a_non_rsa_key_is_refused(pki: Pki) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec device")]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(CertificateRequestRefused, match="only RSA"):
        pki.issue_device_certificate(csr, enrollment=ENROLLMENT)


def test_an_empty_subject_is_refused(pki: Pki) -> None:
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(new_key(), hashes.SHA256())
    with pytest.raises(CertificateRequestRefused, match="subject is empty"):
        pki.issue_device_certificate(csr, enrollment=ENROLLMENT)
