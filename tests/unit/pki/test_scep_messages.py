"""SCEP messages (RFC 8894) against a client written apart from the responder (tests/support_scep):
PKCSReq in, CertRep out, with the CA's signature, the nonces and the transaction id checked."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quince.pki import scep
from quince.pki.authority import Pki
from quince.pki.scep import FailInfo, ScepMessageError, ScepRequestRefused
from tests import support_scep as client


def _answer(pki: Pki, pending: client.PendingRequest) -> bytes:
    message = scep.read_pki_message(pending.message)
    request = scep.open_request(message, pki)
    certificate = pki.issue_device_certificate(request.csr, enrollment="enrollment-uuid")
    return scep.success_reply(message, request, certificate, pki)


@pytest.mark.parametrize(("cipher", "digest"), [
    ("aes256_cbc", "sha256"), ("aes128_cbc", "sha512"), ("tripledes_3key", "sha1"),
])
def test_a_pkcs_req_gets_its_certificate_back_encrypted_to_the_requester(
    pki: Pki, cipher: str, digest: str
) -> None:
    pending = client.build_pkcs_req(pki.ca_certificate, "s3cret", cipher=cipher, digest=digest)
    reply = client.read_cert_rep(_answer(pki, pending), pki.ca_certificate, pending)
    assert (reply.message_type, reply.status, reply.fail_info) == ("3", "0", None)
    assert reply.digest_algorithm == digest  # answered in the client's own digest
    assert len(reply.sender_nonce) == 16 and reply.sender_nonce != pending.sender_nonce
    (certificate,) = reply.certificates
    certificate.verify_directly_issued_by(pki.ca_certificate)
    assert certificate.public_key().public_numbers() == pending.key.public_key().public_numbers()


def test_the_request_is_read_with_its_challenge_transaction_and_nonce(pki: Pki) -> None:
    pending = client.build_pkcs_req(pki.ca_certificate, "the-challenge", common_name="Device 7")
    message = scep.read_pki_message(pending.message)
    assert message.message_type == scep.MessageType.PKCS_REQ
    assert message.transaction_id == pending.transaction_id
    assert message.sender_nonce == pending.sender_nonce
    assert message.signer_certificate == pending.signer
    request = scep.open_request(message, pki)
    assert request.challenge == "the-challenge"
    assert request.csr.subject.rfc4514_string() == "CN=Device 7"
    assert request.content_cipher == "aes256_cbc"


def test_a_csr_without_challenge_reads_as_none(pki: Pki) -> None:
    pending = client.build_pkcs_req(pki.ca_certificate, None)
    assert scep.open_request(scep.read_pki_message(pending.message), pki).challenge is None


def test_a_failure_is_signed_carries_fail_info_and_no_envelope(pki: Pki) -> None:
    pending = client.build_pkcs_req(pki.ca_certificate, "s3cret")
    body = scep.failure_reply(scep.read_pki_message(pending.message), FailInfo.BAD_REQUEST, pki)
    reply = client.read_cert_rep(body, pki.ca_certificate, pending)
    assert (reply.message_type, reply.status, reply.fail_info) == ("3", "2", "2")
    assert reply.certificates == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize("status", ["success", "failure"])
def test_openssl_verifies_the_ca_signature_of_a_cert_rep(pki: Pki, tmp_path: Path, status: str) -> None:
    pending = client.build_pkcs_req(pki.ca_certificate, "s3cret")
    message = scep.read_pki_message(pending.message)
    body = (_answer(pki, pending) if status == "success"
            else scep.failure_reply(message, FailInfo.BAD_REQUEST, pki))
    (tmp_path / "rep.der").write_bytes(body)
    (tmp_path / "ca.pem").write_bytes(pki.ca_certificate.public_bytes(serialization.Encoding.PEM))
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        ["openssl", "smime", "-verify", "-inform", "DER", "-in", str(tmp_path / "rep.der"),  # noqa: S607
         "-CAfile", str(tmp_path / "ca.pem"), "-binary", "-out", os.devnull],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_tampered_signature_is_a_bad_message_check(pki: Pki) -> None:
    pending = client.build_pkcs_req(pki.ca_certificate, "s3cret")
    body = bytearray(pending.message)
    body[-3] ^= 0x01  # the signature is the last field of the only SignerInfo
    with pytest.raises(ScepRequestRefused) as refused:
        scep.open_request(scep.read_pki_message(bytes(body)), pki)
    assert refused.value.fail_info is FailInfo.BAD_MESSAGE_CHECK


def test_a_request_encrypted_to_another_ca_is_a_bad_message_check(pki: Pki, other_pki: Pki) -> None:
    pending = client.build_pkcs_req(other_pki.ca_certificate, "s3cret")
    with pytest.raises(ScepRequestRefused) as refused:
        scep.open_request(scep.read_pki_message(pending.message), pki)
    assert refused.value.fail_info is FailInfo.BAD_MESSAGE_CHECK


def test_a_request_not_signed_with_the_csr_key_is_refused(pki: Pki) -> None:
    other_key = client.new_key()
    csr = client.make_csr(other_key, "s3cret")
    pending = client.build_pkcs_req(pki.ca_certificate, "s3cret", csr=csr)  # signed with a fresh key
    with pytest.raises(ScepRequestRefused) as refused:
        scep.open_request(scep.read_pki_message(pending.message), pki)
    assert refused.value.fail_info is FailInfo.BAD_MESSAGE_CHECK


@pytest.mark.parametrize("message_type", ["17", "20", "21", "22"])
def test_renewal_and_polling_are_refused_as_bad_requests(pki: Pki, message_type: str) -> None:
    pending = client.build_pkcs_req(pki.ca_certificate, "s3cret", message_type=message_type)
    message = scep.read_pki_message(pending.message)
    with pytest.raises(ScepRequestRefused) as refused:
        scep.open_request(message, pki)
    assert refused.value.fail_info is FailInfo.BAD_REQUEST
    reply = client.read_cert_rep(scep.failure_reply(message, refused.value.fail_info, pki),
                                 pki.ca_certificate, pending)
    assert (reply.status, reply.fail_info) == ("2", "2")


@pytest.mark.parametrize("body", [b"", b"\x30\x00", b"not a cms message", b"\x30\x80" + b"\x00" * 10])
def test_bodies_that_are_not_scep_are_a_typed_error(body: bytes) -> None:
    with pytest.raises(ScepMessageError):
        scep.read_pki_message(body)


def test_a_signed_data_without_scep_attributes_is_a_typed_error(pki: Pki) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs7

    plain = (
        pkcs7.PKCS7SignatureBuilder().set_data(b"hello")
        .add_signer(pki.signing_certificate, pki.signing_key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    with pytest.raises(ScepMessageError, match="messageType"):
        scep.read_pki_message(plain)


# The key pool (conftest.py) is a function-scoped fixture; the examples draw no keys from it.
_FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fixed_request(pki: Pki) -> client.PendingRequest:
    """One real PKCSReq to damage, built once (a new RSA key each time would dominate the run)."""
    return client.build_pkcs_req(pki.ca_certificate, "s3cret")


@_FUZZ
@given(data=st.data())
def test_damaged_requests_never_raise_anything_but_typed_errors(
    pki: Pki, fixed_request: client.PendingRequest, data: st.DataObject
) -> None:
    """Flip, cut or splice a real PKCSReq anywhere: the responder answers or refuses, never crashes."""
    body = bytearray(fixed_request.message)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body) - 1))
        match data.draw(st.sampled_from(["flip", "cut", "insert"])):
            case "flip":
                body[at] ^= data.draw(st.integers(1, 255))
            case "cut":
                del body[at:at + data.draw(st.integers(1, 64))]
            case "insert":
                body[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        if not body:
            break
    try:
        message = scep.read_pki_message(bytes(body))
        scep.open_request(message, pki)
    except (ScepMessageError, ScepRequestRefused):
        pass


@_FUZZ
@given(body=st.binary(max_size=512))
def test_random_bytes_are_a_typed_error(body: bytes) -> None:
    with pytest.raises(ScepMessageError):
        scep.read_pki_message(body)


def test_ca_caps_announce_post_sha256_aes_and_the_standard_but_not_renewal() -> None:
    caps = scep.ca_capabilities().decode().splitlines()
    assert {"POSTPKIOperation", "SHA-256", "AES", "SCEPStandard"} <= set(caps)
    assert "Renewal" not in caps and "DES3" not in caps


def test_get_ca_cert_is_the_ca_certificate_der(pki: Pki) -> None:
    assert scep.ca_certificate_der(pki) == pki.ca_certificate.public_bytes(serialization.Encoding.DER)
