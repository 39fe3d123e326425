"""Quince's CA and profile-signing identity: created once, private files, loaded back unchanged."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from quince.pki import authority
from quince.pki.authority import Pki, PkiError

FILES = ("ca.key", "ca.crt", "signing.key", "signing.crt")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_creates_the_ca_and_signing_identity_readable_only_by_quince(tmp_path: Path) -> None:
    directory = tmp_path / "var" / "pki"
    authority.ensure(directory)
    assert _mode(directory) == 0o700
    for name in FILES:
        assert _mode(directory / name) == 0o600, name
    assert (directory / "ca.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (directory / "ca.crt").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_a_second_ensure_loads_the_same_pki_and_rewrites_nothing(tmp_path: Path) -> None:
    first = authority.ensure(tmp_path / "pki")
    before = {name: (tmp_path / "pki" / name).read_bytes() for name in FILES}
    second = authority.ensure(tmp_path / "pki")
    assert {name: (tmp_path / "pki" / name).read_bytes() for name in FILES} == before
    assert second.ca_certificate == first.ca_certificate
    assert second.signing_certificate == first.signing_certificate
    assert second.ca_key.private_numbers() == first.ca_key.private_numbers()


def test_load_reads_back_what_ensure_created(tmp_path: Path) -> None:
    created = authority.ensure(tmp_path / "pki")
    loaded = authority.load(tmp_path / "pki")
    assert loaded.describe() == created.describe()
    assert loaded.signing_key.private_numbers() == created.signing_key.private_numbers()


def test_ensure_tightens_an_existing_directory(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    authority.ensure(directory)
    assert _mode(directory) == 0o700


def test_the_ca_certificate_is_a_ca_for_ten_years(pki: Pki) -> None:
    ca = pki.ca_certificate
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature and usage.key_encipherment
    assert ca.issuer == ca.subject
    ca.verify_directly_issued_by(ca)
    lifetime = ca.not_valid_after_utc - ca.not_valid_before_utc
    assert 3650 <= lifetime.days <= 3660
    assert pki.ca_key.key_size >= 3072


def test_the_signing_certificate_is_issued_by_the_ca_for_signatures_only(pki: Pki) -> None:
    signing = pki.signing_certificate
    signing.verify_directly_issued_by(pki.ca_certificate)
    assert not signing.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = signing.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign and not usage.key_encipherment
    eku = signing.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert signing.not_valid_after_utc <= pki.ca_certificate.not_valid_after_utc
    assert signing.public_key().public_numbers() == pki.signing_key.public_key().public_numbers()


def test_a_removed_signing_identity_is_issued_again_by_the_same_ca(tmp_path: Path) -> None:
    first = authority.ensure(tmp_path / "pki")
    (tmp_path / "pki" / "signing.key").unlink()
    (tmp_path / "pki" / "signing.crt").unlink()
    renewed = authority.ensure(tmp_path / "pki")
    assert renewed.ca_certificate == first.ca_certificate
    assert renewed.signing_certificate != first.signing_certificate
    renewed.signing_certificate.verify_directly_issued_by(first.ca_certificate)


def test_a_key_without_its_certificate_is_reported_not_replaced(tmp_path: Path) -> None:
    authority.ensure(tmp_path / "pki")
    (tmp_path / "pki" / "ca.crt").unlink()
    key_before = (tmp_path / "pki" / "ca.key").read_bytes()
    with pytest.raises(PkiError, match=r"ca\.key exists but .*ca\.crt does not"):
        authority.ensure(tmp_path / "pki")
    assert (tmp_path / "pki" / "ca.key").read_bytes() == key_before


def test_loading_a_missing_pki_says_to_run_init(tmp_path: Path) -> None:
    with pytest.raises(PkiError, match="quince init"):
        authority.load(tmp_path / "nowhere")


def _pem_key(pki: Pki) -> bytes:
    return pki.signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_a_key_that_does_not_match_its_certificate_is_refused(tmp_path: Path, other_pki: Pki) -> None:
    authority.ensure(tmp_path / "pki")
    (tmp_path / "pki" / "signing.key").write_bytes(_pem_key(other_pki))
    with pytest.raises(PkiError, match="does not belong"):
        authority.load(tmp_path / "pki")


def test_a_signing_identity_from_another_ca_is_refused(tmp_path: Path, other_pki: Pki) -> None:
    authority.ensure(tmp_path / "pki")
    (tmp_path / "pki" / "signing.key").write_bytes(_pem_key(other_pki))
    (tmp_path / "pki" / "signing.crt").write_bytes(
        other_pki.signing_certificate.public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(PkiError, match="was not issued by"):
        authority.load(tmp_path / "pki")


def test_describe_gives_subject_fingerprint_and_expiry(pki: Pki) -> None:
    ca, signing = pki.describe()
    assert (ca.role, signing.role) == ("ca", "signing")
    assert ca.subject == pki.ca_certificate.subject.rfc4514_string()
    assert ca.fingerprint_sha256 == authority.fingerprint_sha256(pki.ca_certificate)
    assert len(ca.fingerprint_sha256) == 64 and ca.fingerprint_sha256 == ca.fingerprint_sha256.lower()
    assert ca.not_after == pki.ca_certificate.not_valid_after_utc
    assert signing.not_after == pki.signing_certificate.not_valid_after_utc
