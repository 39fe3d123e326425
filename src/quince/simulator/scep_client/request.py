"""Building a PKCSReq as a device does: a fresh key, a CSR with the challenge, enveloped to the CA
and signed with a throwaway self-signed certificate, with SCEP's signed attributes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AttributeOID, NameOID

from quince.simulator.scep_client.protocol import (
    CIPHERS,
    HASHES,
    MESSAGE_TYPE,
    PKCS_REQ,
    SENDER_NONCE,
    TRANSACTION_ID,
    ScepError,
    digest_of,
    signed_attribute,
)


@dataclass
class PendingRequest:
    """What the client keeps to read the answer to a PKCSReq it sent."""

    key: rsa.RSAPrivateKey
    signer: x509.Certificate
    transaction_id: str
    sender_nonce: bytes
    message: bytes = field(repr=False)


def new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _subject(subject: str | Sequence[Sequence[Sequence[str]]]) -> x509.Name:
    """A plain common name, or the profile's Subject: [[["CN", "value"]], [["O", "value"]], ...]."""
    if isinstance(subject, str):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    oids = {"CN": NameOID.COMMON_NAME, "O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
            "C": NameOID.COUNTRY_NAME, "ST": NameOID.STATE_OR_PROVINCE_NAME, "L": NameOID.LOCALITY_NAME}
    attributes = []
    for rdn in subject:
        for pair in rdn:
            name, value = pair[0], pair[1]
            oid = oids.get(name) or x509.ObjectIdentifier(name)
            attributes.append(x509.NameAttribute(oid, value))
    return x509.Name(attributes)


def make_csr(
    key: rsa.RSAPrivateKey,
    challenge: str | None,
    common_name: str | Sequence[Sequence[Sequence[str]]] = "Quince device",
) -> x509.CertificateSigningRequest:
    """A CSR for `key` carrying `challenge` as its challengePassword attribute."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(_subject(common_name))
    if challenge is not None:
        builder = builder.add_attribute(AttributeOID.CHALLENGE_PASSWORD, challenge.encode())
    return builder.sign(key, hashes.SHA256())


def self_signed(key: rsa.RSAPrivateKey, common_name: str = "Quince device") -> x509.Certificate:
    """The throwaway certificate a SCEP client signs its PKCSReq with (RFC 8894 section 2.3)."""
    name = _subject(common_name)
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def envelope(data: bytes, recipient: x509.Certificate, cipher: str = "aes256_cbc") -> bytes:
    """EnvelopedData for the CA. AES goes through cryptography's own PKCS#7 builder; DES-EDE3
    (which that builder does not offer, and which old CAs still require) is assembled by hand."""
    if cipher in ("aes128_cbc", "aes256_cbc"):
        algorithm = algorithms.AES128 if cipher == "aes128_cbc" else algorithms.AES256
        enveloped: bytes = (
            pkcs7.PKCS7EnvelopeBuilder().set_data(data).add_recipient(recipient)
            .set_content_encryption_algorithm(algorithm)
            .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
        )
        return enveloped
    if cipher != "tripledes_3key":
        raise ValueError(f"unsupported content cipher {cipher!r}; use one of {CIPHERS}")
    key, iv = os.urandom(24), os.urandom(8)
    padder = padding.PKCS7(64).padder()
    encryptor = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()
    public = recipient.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ScepError("the CA's certificate does not hold an RSA key")
    asn1_recipient = asn1_x509.Certificate.load(recipient.public_bytes(serialization.Encoding.DER))
    message: bytes = cms.ContentInfo({
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
    return message


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
    signed_attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "message_digest", "values": [digest_of(digest, content)]}),
        signed_attribute(MESSAGE_TYPE, core.PrintableString(message_type)),
        signed_attribute(TRANSACTION_ID, core.PrintableString(transaction_id)),
        signed_attribute(SENDER_NONCE, core.OctetString(sender_nonce)),
    ])
    signature = key.sign(signed_attrs.dump(), PKCS1v15(), HASHES[digest]())
    asn1_signer = asn1_x509.Certificate.load(signer.public_bytes(serialization.Encoding.DER))
    message: bytes = cms.ContentInfo({
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
    return message


def transaction_id_for(key: rsa.RSAPrivateKey) -> str:
    """RFC 8894 section 3.2.1.1: a hash of the public key, so a retry keeps the same id."""
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return digest_of("sha256", spki).hex()


def build_pkcs_req(
    ca: x509.Certificate,
    challenge: str | None,
    *,
    key: rsa.RSAPrivateKey | None = None,
    csr: x509.CertificateSigningRequest | None = None,
    common_name: str | Sequence[Sequence[Sequence[str]]] = "Quince device",
    cipher: str = "aes256_cbc",
    digest: str = "sha256",
    message_type: str = PKCS_REQ,
) -> PendingRequest:
    """A PKCSReq as a device builds it: fresh key, CSR with challengePassword, envelope, signature.

    `ca` is the certificate to envelope to (the CA, or its RA when it has one)."""
    key = key or new_key()
    csr = csr or make_csr(key, challenge, common_name)
    signer = self_signed(key, common_name if isinstance(common_name, str) else "SCEP client")
    pending = PendingRequest(
        key=key, signer=signer, transaction_id=transaction_id_for(key), sender_nonce=os.urandom(16),
        message=b"",
    )
    inner = envelope(csr.public_bytes(serialization.Encoding.DER), ca, cipher)
    pending.message = sign_pki_message(
        inner, key, signer, message_type=message_type,
        transaction_id=pending.transaction_id, sender_nonce=pending.sender_nonce, digest=digest,
    )
    return pending

