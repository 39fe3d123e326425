"""CMS SignedData: what Quince signs verifies, and every way of getting it wrong is refused."""

from __future__ import annotations

import base64

import pytest
from asn1crypto import cms as asn1_cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quince.apple import cms
from quince.apple.errors import InvalidSignature

from .pki import (
    Identity,
    ca_identity,
    certificate,
    device_identity,
    ec_key,
    handmade_signed_data,
    rsa_key,
)

BODY = (
    b"<?xml version='1.0'?><plist version='1.0'>"
    b"<dict><key>Status</key><string>Idle</string></dict></plist>\r\n"
)


@pytest.fixture(params=["rsa", "ec"])
def signer(request: pytest.FixtureRequest) -> Identity:
    return device_identity(request.param)


def test_attached_signature_round_trips_content_and_signer(signer: Identity) -> None:
    content, cert = cms.verify_attached(cms.sign(BODY, signer.cert, signer.key))
    assert content == BODY
    assert cert == signer.cert


def test_signing_keeps_bytes_exactly_as_given() -> None:
    # No S/MIME newline canonicalisation: CRLF, lone LF and binary bytes survive.
    body = b"line\nother\r\n\x00\xff"
    signer = device_identity("rsa")
    assert cms.verify_attached(cms.sign(body, signer.cert, signer.key))[0] == body


def test_signature_uses_sha256() -> None:
    signer = device_identity("rsa")
    info = asn1_cms.ContentInfo.load(cms.sign(BODY, signer.cert, signer.key))
    assert info["content"]["signer_infos"][0]["digest_algorithm"]["algorithm"].native == "sha256"


def test_chain_certificates_are_included_and_the_signer_is_still_found() -> None:
    signer = device_identity("ec")
    signed = cms.sign(BODY, signer.cert, signer.key, chain=[ca_identity().cert])
    assert len(pkcs7.load_der_pkcs7_certificates(signed)) == 2
    assert cms.verify_attached(signed)[1] == signer.cert


def test_detached_signature_verifies_against_its_body(signer: Identity) -> None:
    signature = cms.sign_detached(BODY, signer.cert, signer.key)
    assert cms.verify_detached(signature, BODY) == signer.cert


def test_detached_signature_over_another_body_fails(signer: Identity) -> None:
    signature = cms.sign_detached(BODY, signer.cert, signer.key)
    with pytest.raises(InvalidSignature, match="message digest does not match"):
        cms.verify_detached(signature, BODY.replace(b"Idle", b"Acknowledged"))


def test_detached_signature_is_not_an_attached_one() -> None:
    signer = device_identity("rsa")
    with pytest.raises(InvalidSignature, match="no content"):
        cms.verify_attached(cms.sign_detached(BODY, signer.cert, signer.key))
    with pytest.raises(InvalidSignature, match="no content"):
        cms.signed_content(cms.sign_detached(BODY, signer.cert, signer.key))


def test_detached_check_accepts_an_attached_signature_over_the_same_body_only() -> None:
    signer = device_identity("rsa")
    attached = cms.sign(BODY, signer.cert, signer.key)
    assert cms.verify_detached(attached, BODY) == signer.cert
    with pytest.raises(InvalidSignature, match="content other than the body"):
        cms.verify_detached(attached, b"another body")


def test_mdm_signature_header_is_base64_of_a_detached_signature() -> None:
    signer = device_identity("ec")
    header = base64.b64encode(cms.sign_detached(BODY, signer.cert, signer.key)).decode()
    assert cms.verify_mdm_signature(header, BODY) == signer.cert
    # Folded header lines (whitespace inside the base64) are tolerated.
    folded = "\n ".join(header[i : i + 64] for i in range(0, len(header), 64))
    assert cms.verify_mdm_signature(folded, BODY) == signer.cert


@pytest.mark.parametrize("header", ["", "not base64!", "@@@@", "QUJD"])
def test_mdm_signature_header_that_is_not_a_signature_fails(header: str) -> None:
    with pytest.raises(InvalidSignature):
        cms.verify_mdm_signature(header, BODY)


def test_tampered_attached_content_fails(signer: Identity) -> None:
    signed = cms.sign(BODY, signer.cert, signer.key)
    tampered = signed.replace(b"Idle", b"Evil")
    assert tampered != signed
    with pytest.raises(InvalidSignature, match="message digest does not match"):
        cms.verify_attached(tampered)


def test_tampered_content_without_signed_attributes_fails(signer: Identity) -> None:
    signed = handmade_signed_data(BODY, signer, with_signed_attributes=False)
    with pytest.raises(InvalidSignature, match="does not verify"):
        cms.verify_attached(signed.replace(b"Idle", b"Evil"))


def test_wrong_message_digest_attribute_fails_even_when_the_attributes_are_signed(signer: Identity) -> None:
    signed = handmade_signed_data(BODY, signer, message_digest=b"\x00" * 32)
    with pytest.raises(InvalidSignature, match="message digest does not match"):
        cms.verify_attached(signed)


def test_signed_content_type_must_match_the_encapsulated_one() -> None:
    signed = handmade_signed_data(BODY, device_identity("rsa"), content_type_attribute="signed_data")
    with pytest.raises(InvalidSignature, match="content type"):
        cms.verify_attached(signed)


def test_swapped_signer_certificate_fails() -> None:
    # Same issuer and serial number as the real signer, but another key: the signature cannot match.
    real = device_identity("rsa")
    impostor_cert = certificate(
        "device rsa", rsa_key(3), issuer=ca_identity(), serial=real.cert.serial_number
    )
    signed = handmade_signed_data(BODY, real, embedded_certificate=impostor_cert)
    with pytest.raises(InvalidSignature, match="does not verify"):
        cms.verify_attached(signed)


def test_signer_certificate_missing_fails() -> None:
    other = certificate("someone else", rsa_key(3), issuer=ca_identity(), serial=4242)
    signed = handmade_signed_data(BODY, device_identity("rsa"), embedded_certificate=other)
    with pytest.raises(InvalidSignature, match="not in the SignedData"):
        cms.verify_attached(signed)


def test_signer_key_of_the_wrong_kind_fails() -> None:
    # An EC certificate claimed for an RSA signature algorithm.
    signer = device_identity("ec")
    signed = handmade_signed_data(BODY, signer, signature_algorithm="rsassa_pkcs1v15")
    with pytest.raises(InvalidSignature, match="does not fit"):
        cms.verify_attached(signed)


@pytest.mark.parametrize("digest_algorithm", ["sha1", "sha256", "sha384", "sha512"])
@pytest.mark.parametrize("with_signed_attributes", [True, False])
def test_supported_digests_verify_with_and_without_signed_attributes(
    signer: Identity, digest_algorithm: str, with_signed_attributes: bool
) -> None:
    signed = handmade_signed_data(
        BODY, signer, digest_algorithm=digest_algorithm, with_signed_attributes=with_signed_attributes
    )
    assert cms.verify_attached(signed) == (BODY, signer.cert)


def test_signer_named_by_subject_key_identifier_is_found(signer: Identity) -> None:
    signed = handmade_signed_data(BODY, signer, by_key_identifier=True)
    assert cms.verify_attached(signed) == (BODY, signer.cert)


def test_signature_algorithm_naming_another_digest_fails() -> None:
    signed = handmade_signed_data(BODY, device_identity("rsa"), signature_algorithm="sha512_rsa")
    with pytest.raises(InvalidSignature, match="does not match digest algorithm"):
        cms.verify_attached(signed)


@pytest.mark.parametrize("algorithm", ["rsassa_pss", "sha256_dsa", "ed25519", "md5_rsa"])
def test_unsupported_signature_algorithms_fail(algorithm: str) -> None:
    signed = handmade_signed_data(BODY, device_identity("rsa"), signature_algorithm=algorithm)
    with pytest.raises(InvalidSignature, match="not supported"):
        cms.verify_attached(signed)


def test_md5_digest_is_not_supported() -> None:
    signed = handmade_signed_data(BODY, device_identity("rsa"))
    info = asn1_cms.ContentInfo.load(signed)
    info["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "md5"}
    with pytest.raises(InvalidSignature, match="'md5' is not supported"):
        cms.verify_attached(info.dump(force=True))


def test_content_info_that_is_not_signed_data_fails() -> None:
    data = asn1_cms.ContentInfo({"content_type": "data", "content": b"hello"}).dump()
    with pytest.raises(InvalidSignature, match="not signed data"):
        cms.verify_attached(data)


def test_two_signers_are_refused() -> None:
    signer = device_identity("rsa")
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(BODY)
        .add_signer(signer.cert, signer.key, hashes.SHA256())
        .add_signer(device_identity("ec").cert, device_identity("ec").key, hashes.SHA256())
    )
    signed = builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    with pytest.raises(InvalidSignature, match="exactly one signer"):
        cms.verify_attached(signed)


@pytest.mark.parametrize(
    "garbage", [b"", b"\x30", b"\x30\x80", b"\x30\x03\x02\x01\x01", b"hello", b"\xff" * 64]
)
def test_garbage_fails_with_the_typed_error(garbage: bytes) -> None:
    with pytest.raises(InvalidSignature):
        cms.verify_attached(garbage)
    with pytest.raises(InvalidSignature):
        cms.verify_detached(garbage, BODY)


def test_non_bytes_fail_with_the_typed_error() -> None:
    with pytest.raises(InvalidSignature):
        cms.verify_attached("a string")  # type: ignore[arg-type]
    with pytest.raises(InvalidSignature):
        cms.verify_detached(b"\x30", "a string")  # type: ignore[arg-type]


def test_every_truncation_fails_with_the_typed_error() -> None:
    signer = device_identity("ec")
    signed = cms.sign(BODY, signer.cert, signer.key)
    for length in range(len(signed)):
        with pytest.raises(InvalidSignature):
            cms.verify_attached(signed[:length])


def test_trailing_bytes_fail() -> None:
    signer = device_identity("ec")
    with pytest.raises(InvalidSignature):
        cms.verify_attached(cms.sign(BODY, signer.cert, signer.key) + b"\x00")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_never_escape_as_another_exception(data: bytes) -> None:
    with pytest.raises(InvalidSignature):
        cms.verify_detached(data, BODY)


_SIGNED = cms.sign(BODY, device_identity("rsa").cert, device_identity("rsa").key)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_SIGNED) - 1), st.integers(1, 255))
def test_a_flipped_byte_either_fails_or_leaves_the_content_intact(position: int, flip: int) -> None:
    mutated = bytearray(_SIGNED)
    mutated[position] ^= flip
    try:
        content, _ = cms.verify_attached(bytes(mutated))
    except InvalidSignature:
        return
    # Only bytes the signature does not cover (e.g. the certificate's own signature) may change.
    assert content == BODY


def test_ca_issued_certificate_is_recognised() -> None:
    assert cms.issued_by(device_identity("rsa").cert, ca_identity().cert)
    assert cms.issued_by(device_identity("ec").cert, ca_identity().cert)
    assert cms.issued_by(ca_identity().cert, ca_identity().cert)


def test_certificate_from_another_ca_is_not_issued_by_ours() -> None:
    other_ca = Identity(certificate("Other CA", ec_key(5), ca=True, serial=7), ec_key(5))
    stranger = certificate("stranger", ec_key(6), issuer=other_ca)
    assert not cms.issued_by(stranger, ca_identity().cert)
    assert not cms.issued_by(device_identity("rsa").cert, other_ca.cert)


def test_certificate_from_a_ca_with_our_name_but_another_key_is_not_ours() -> None:
    lookalike_ca = Identity(certificate("Quince Test CA", rsa_key(7), ca=True, serial=1), rsa_key(7))
    forged = certificate("device rsa", rsa_key(2), issuer=lookalike_ca, serial=2000)
    assert forged.issuer == ca_identity().cert.subject
    assert not cms.issued_by(forged, ca_identity().cert)
