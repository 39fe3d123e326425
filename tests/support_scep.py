"""A small SCEP client for tests, written apart from Quince's responder (it imports nothing from
quince.pki): build a PKCSReq as a device does, send it over HTTP, read and check the CertRep.

`scep_enroll(base_url_or_client, challenge)` is what an end-to-end test needs: a fresh RSA key,
a CSR with the challenge, and the certificate Quince issues for it. The lower-level pieces
(`build_pkcs_req`, `read_cert_rep`) let tests tamper with requests and inspect replies.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AttributeOID, NameOID

SCEP_PATH = "/DeviceServices/scep"
MESSAGE_TYPE = "2.16.840.1.113733.1.9.2"
PKI_STATUS = "2.16.840.1.113733.1.9.3"
FAIL_INFO = "2.16.840.1.113733.1.9.4"
SENDER_NONCE = "2.16.840.1.113733.1.9.5"
RECIPIENT_NONCE = "2.16.840.1.113733.1.9.6"
TRANSACTION_ID = "2.16.840.1.113733.1.9.7"
PKCS_REQ = "19"
BAD_REQUEST = "2"

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512,
}


class ScepFailure(Exception):
    """The CA answered FAILURE (pkiStatus 2); `fail_info` is its failInfo ("2" is badRequest)."""

    def __init__(self, fail_info: str | None) -> None:
        super().__init__(f"SCEP FAILURE, failInfo {fail_info}")
        self.fail_info = fail_info


@dataclass
class PendingRequest:
    """What the client keeps to read the answer to a PKCSReq it sent."""

    key: rsa.RSAPrivateKey
    signer: x509.Certificate
    transaction_id: str
    sender_nonce: bytes
    message: bytes = field(repr=False)


@dataclass
class CertRep:
    status: str
    fail_info: str | None
    transaction_id: str
    recipient_nonce: bytes
    sender_nonce: bytes
    message_type: str
    digest_algorithm: str
    certificates: list[x509.Certificate]


def new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_csr(
    key: rsa.RSAPrivateKey, challenge: str | None, common_name: str = "Quince test device"
) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    )
    if challenge is not None:
        builder = builder.add_attribute(AttributeOID.CHALLENGE_PASSWORD, challenge.encode())
    return builder.sign(key, hashes.SHA256())


def self_signed(key: rsa.RSAPrivateKey, common_name: str = "Quince test device") -> x509.Certificate:
    """The throwaway certificate a SCEP client signs its PKCSReq with."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def envelope(data: bytes, recipient: x509.Certificate, cipher: str = "aes256_cbc") -> bytes:
    """EnvelopedData for the CA. AES goes through cryptography's own PKCS#7 builder; DES-EDE3
    (which that builder does not offer) is assembled by hand for the legacy-client test."""
    if cipher in ("aes128_cbc", "aes256_cbc"):
        algorithm = pkcs7.algorithms.AES128 if cipher == "aes128_cbc" else pkcs7.algorithms.AES256
        return (
            pkcs7.PKCS7EnvelopeBuilder().set_data(data).add_recipient(recipient)
            .set_content_encryption_algorithm(algorithm)
            .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
        )
    assert cipher == "tripledes_3key", cipher
    key, iv = os.urandom(24), os.urandom(8)
    padder = padding.PKCS7(64).padder()
    encryptor = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()
    public = recipient.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    asn1_recipient = asn1_x509.Certificate.load(recipient.public_bytes(serialization.Encoding.DER))
    return cms.ContentInfo({
        "content_type": "enveloped_data",
        "content": {
            "version": "v0",
            "recipient_infos": [cms.RecipientInfo({"ktri": {
                "version": "v0",
                "rid": cms.RecipientIdentifier({"issuer_and_serial_number": {
                    "issuer": asn1_recipient.issuer, "serial_number": asn1_recipient.serial_number,
                }}),
                "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
                "encrypted_key": public.encrypt(key, PKCS1v15()),
            }})],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": "tripledes_3key", "parameters": iv},
                "encrypted_content": ciphertext,
            },
        },
    }).dump()


def _attr(oid: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": cms.CMSAttributeType(oid), "values": [value]})


def sign_pki_message(
    content: bytes,
    key: rsa.RSAPrivateKey,
    signer: x509.Certificate,
    *,
    message_type: str,
    transaction_id: str,
    sender_nonce: bytes,
    digest: str = "sha256",
) -> bytes:
    """The outer SignedData of a SCEP request, with SCEP's signed attributes."""
    h = hashes.Hash(_HASHES[digest]())
    h.update(content)
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [h.finalize()]}),
        _attr(MESSAGE_TYPE, core.PrintableString(message_type)),
        _attr(TRANSACTION_ID, core.PrintableString(transaction_id)),
        _attr(SENDER_NONCE, core.OctetString(sender_nonce)),
    ])
    signature = key.sign(signed_attrs.dump(), PKCS1v15(), _HASHES[digest]())
    asn1_signer = asn1_x509.Certificate.load(signer.public_bytes(serialization.Encoding.DER))
    return cms.ContentInfo({
        "content_type": "signed_data",
        "content": {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest}],
            "encap_content_info": {"content_type": "data", "content": content},
            "certificates": [asn1_signer],
            "signer_infos": [{
                "version": "v1",
                "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
                    "issuer": asn1_signer.issuer, "serial_number": asn1_signer.serial_number,
                }}),
                "digest_algorithm": {"algorithm": digest},
                "signed_attrs": signed_attrs,
                "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
                "signature": signature,
            }],
        },
    }).dump()


def build_pkcs_req(
    ca: x509.Certificate,
    challenge: str | None,
    *,
    key: rsa.RSAPrivateKey | None = None,
    csr: x509.CertificateSigningRequest | None = None,
    common_name: str = "Quince test device",
    cipher: str = "aes256_cbc",
    digest: str = "sha256",
    message_type: str = PKCS_REQ,
) -> PendingRequest:
    """A PKCSReq as a device builds it: fresh key, CSR with challengePassword, envelope, signature."""
    key = key or new_key()
    csr = csr or make_csr(key, challenge, common_name)
    signer = self_signed(key, common_name)
    transaction_id = hashes.Hash(hashes.SHA256())
    transaction_id.update(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ))
    pending = PendingRequest(
        key=key, signer=signer, transaction_id=transaction_id.finalize().hex(),
        sender_nonce=os.urandom(16), message=b"",
    )
    inner = envelope(csr.public_bytes(serialization.Encoding.DER), ca, cipher)
    pending.message = sign_pki_message(
        inner, key, signer, message_type=message_type,
        transaction_id=pending.transaction_id, sender_nonce=pending.sender_nonce, digest=digest,
    )
    return pending


def _string(values: Any) -> str:
    return str(core.load(values[0].dump()).native)


def read_cert_rep(body: bytes, ca: x509.Certificate, pending: PendingRequest) -> CertRep:
    """Check a CertRep (CA signature, digest, nonces, transaction) and decrypt what it carries."""
    info = cms.ContentInfo.load(body)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    (signer,) = list(signed["signer_infos"])
    digest = signer["digest_algorithm"]["algorithm"].native
    public = ca.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    # Raises InvalidSignature unless the CA signed exactly these attributes.
    public.verify(
        bytes(signer["signature"].native), b"\x31" + signer["signed_attrs"].dump()[1:],
        PKCS1v15(), _HASHES[digest](),
    )
    attrs = {a["type"].dotted: a["values"] for a in signer["signed_attrs"]}
    content = signed["encap_content_info"]["content"]
    content_bytes = bytes(content.native) if content.native is not None else b""
    h = hashes.Hash(_HASHES[digest]())
    h.update(content_bytes)
    assert bytes(attrs["1.2.840.113549.1.9.4"][0].native) == h.finalize(), "messageDigest mismatch"
    reply = CertRep(
        status=_string(attrs[PKI_STATUS]),
        fail_info=_string(attrs[FAIL_INFO]) if FAIL_INFO in attrs else None,
        transaction_id=_string(attrs[TRANSACTION_ID]),
        recipient_nonce=bytes(core.load(attrs[RECIPIENT_NONCE][0].dump()).native),
        sender_nonce=bytes(core.load(attrs[SENDER_NONCE][0].dump()).native),
        message_type=_string(attrs[MESSAGE_TYPE]),
        digest_algorithm=digest,
        certificates=[],
    )
    assert reply.transaction_id == pending.transaction_id
    assert reply.recipient_nonce == pending.sender_nonce
    if reply.status == "0":
        reply.certificates = _open_envelope(content_bytes, pending)
    return reply


def _open_envelope(enveloped: bytes, pending: PendingRequest) -> list[x509.Certificate]:
    info = cms.ContentInfo.load(enveloped)
    algorithm = info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
    if algorithm["algorithm"].native.startswith("aes"):
        # cryptography's own PKCS#7 decryption: independent of how Quince built the envelope.
        plain = pkcs7.pkcs7_decrypt_der(enveloped, pending.signer, pending.key, [])
    else:
        ktri = info["content"]["recipient_infos"][0].chosen
        key = pending.key.decrypt(bytes(ktri["encrypted_key"].native), PKCS1v15())
        eci = info["content"]["encrypted_content_info"]
        decryptor = Cipher(TripleDES(key), modes.CBC(algorithm["parameters"].native)).decryptor()
        padded = decryptor.update(eci["encrypted_content"].native) + decryptor.finalize()
        unpadder = padding.PKCS7(64).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
    return pkcs7.load_der_pkcs7_certificates(plain)


def _issued(reply: CertRep, key: rsa.RSAPrivateKey) -> x509.Certificate:
    if reply.status != "0":
        raise ScepFailure(reply.fail_info)
    for certificate in reply.certificates:
        if certificate.public_key().public_numbers() == key.public_key().public_numbers():  # type: ignore[union-attr]
            return certificate
    raise AssertionError("the CertRep does not hold a certificate for our key")


def _operation(message: bytes) -> dict[str, Any]:
    return {
        "params": {"operation": "PKIOperation"},
        "content": message,
        "headers": {"Content-Type": "application/x-pki-message"},
    }


def scep_enroll(
    base_url_or_client: str | httpx.Client, challenge: str, *, common_name: str = "Quince test device"
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """Enroll as a device over HTTP (GetCACert, then a PKCSReq); ScepFailure when refused."""
    own = isinstance(base_url_or_client, str)
    client = httpx.Client(base_url=base_url_or_client, timeout=30) if own else base_url_or_client
    assert isinstance(client, httpx.Client)
    try:
        got = client.get(SCEP_PATH, params={"operation": "GetCACert"})
        got.raise_for_status()
        ca = x509.load_der_x509_certificate(got.content)
        pending = build_pkcs_req(ca, challenge, common_name=common_name)
        answer = client.post(SCEP_PATH, **_operation(pending.message))
        answer.raise_for_status()
        assert answer.headers["content-type"] == "application/x-pki-message"
        return pending.key, _issued(read_cert_rep(answer.content, ca, pending), pending.key)
    finally:
        if own:
            client.close()


async def scep_enroll_async(
    base_url_or_client: str | httpx.AsyncClient, challenge: str, *,
    common_name: str = "Quince test device",
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """`scep_enroll` for async tests."""
    own = isinstance(base_url_or_client, str)
    client = httpx.AsyncClient(base_url=base_url_or_client, timeout=30) if own else base_url_or_client
    assert isinstance(client, httpx.AsyncClient)
    try:
        got = await client.get(SCEP_PATH, params={"operation": "GetCACert"})
        got.raise_for_status()
        ca = x509.load_der_x509_certificate(got.content)
        pending = build_pkcs_req(ca, challenge, common_name=common_name)
        answer = await client.post(SCEP_PATH, **_operation(pending.message))
        answer.raise_for_status()
        assert answer.headers["content-type"] == "application/x-pki-message"
        return pending.key, _issued(read_cert_rep(answer.content, ca, pending), pending.key)
    finally:
        if own:
            await client.aclose()


def get_query_message(message: bytes) -> dict[str, str]:
    """Query parameters of a PKIOperation sent with GET (base64 message)."""
    return {"operation": "PKIOperation", "message": base64.b64encode(message).decode()}

