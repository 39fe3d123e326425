"""Reading a CertRep: the CA's signature, the message digest, nonces and transaction id, then the
issued certificate decrypted with the requester's key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, core
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import pkcs7

from quince.simulator.scep_client.protocol import (
    CERT_REP,
    FAIL_INFO,
    FAILURE,
    HASHES,
    MESSAGE_DIGEST,
    MESSAGE_TYPE,
    PKI_STATUS,
    RECIPIENT_NONCE,
    SENDER_NONCE,
    SUCCESS,
    TRANSACTION_ID,
    ScepError,
    ScepFailure,
    digest_of,
)
from quince.simulator.scep_client.request import PendingRequest


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


def _value(values: Any) -> Any:
    return core.load(values[0].dump()).native


def read_cert_rep(body: bytes, ca: x509.Certificate, pending: PendingRequest) -> CertRep:
    """Check a CertRep (CA signature, digest, nonces, transaction) and decrypt what it carries.

    Raises ScepError when the reply is not a CertRep for `pending` signed by `ca`."""
    try:
        return _read_cert_rep(body, ca, pending)
    except ScepError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, InvalidSignature) as exc:
        raise ScepError(f"unreadable CertRep ({type(exc).__name__}: {exc})") from exc


def _read_cert_rep(body: bytes, ca: x509.Certificate, pending: PendingRequest) -> CertRep:
    info = cms.ContentInfo.load(body)
    if info["content_type"].native != "signed_data":
        raise ScepError("the CertRep is not a SignedData")
    signed = info["content"]
    signers = list(signed["signer_infos"])
    if len(signers) != 1:
        raise ScepError(f"the CertRep has {len(signers)} signers, expected one")
    signer = signers[0]
    digest = signer["digest_algorithm"]["algorithm"].native
    if digest not in HASHES:
        raise ScepError(f"the CertRep uses an unsupported digest {digest!r}")
    public = ca.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ScepError("the CA's certificate does not hold an RSA key")
    # Raises InvalidSignature unless the CA signed exactly these attributes (as a SET, tag 0x31).
    public.verify(
        bytes(signer["signature"].native), signer["signed_attrs"].untag().dump(),
        PKCS1v15(), HASHES[digest](),
    )
    attrs = {a["type"].dotted: a["values"] for a in signer["signed_attrs"]}
    required_attributes = (MESSAGE_TYPE, PKI_STATUS, TRANSACTION_ID, RECIPIENT_NONCE, SENDER_NONCE,
                           MESSAGE_DIGEST)
    for required in required_attributes:
        if required not in attrs:
            raise ScepError(f"the CertRep lacks the signed attribute {required}")
    content = signed["encap_content_info"]["content"]
    content_bytes = bytes(content.native) if content.native is not None else b""
    if bytes(attrs[MESSAGE_DIGEST][0].native) != digest_of(digest, content_bytes):
        raise ScepError("the CertRep's messageDigest does not match its content")
    reply = CertRep(
        status=str(_value(attrs[PKI_STATUS])),
        fail_info=str(_value(attrs[FAIL_INFO])) if FAIL_INFO in attrs else None,
        transaction_id=str(_value(attrs[TRANSACTION_ID])),
        recipient_nonce=bytes(_value(attrs[RECIPIENT_NONCE])),
        sender_nonce=bytes(_value(attrs[SENDER_NONCE])),
        message_type=str(_value(attrs[MESSAGE_TYPE])),
        digest_algorithm=digest,
        certificates=[],
    )
    if reply.message_type != CERT_REP:
        raise ScepError(f"the reply has messageType {reply.message_type}, not CertRep")
    if reply.transaction_id != pending.transaction_id:
        raise ScepError("the CertRep answers another transaction")
    if reply.recipient_nonce != pending.sender_nonce:
        raise ScepError("the CertRep's recipientNonce is not our senderNonce")
    if reply.status == SUCCESS:
        reply.certificates = _open_envelope(content_bytes, pending)
    return reply


def _open_envelope(enveloped: bytes, pending: PendingRequest) -> list[x509.Certificate]:
    info = cms.ContentInfo.load(enveloped)
    algorithm = info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
    if algorithm["algorithm"].native.startswith("aes"):
        # cryptography's own PKCS#7 decryption: independent of how the CA built the envelope.
        plain = pkcs7.pkcs7_decrypt_der(enveloped, pending.signer, pending.key, [])
    elif algorithm["algorithm"].native == "tripledes_3key":
        ktri = info["content"]["recipient_infos"][0].chosen
        key = pending.key.decrypt(bytes(ktri["encrypted_key"].native), PKCS1v15())
        eci = info["content"]["encrypted_content_info"]
        decryptor = Cipher(TripleDES(key), modes.CBC(algorithm["parameters"].native)).decryptor()
        padded = decryptor.update(eci["encrypted_content"].native) + decryptor.finalize()
        unpadder = padding.PKCS7(64).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
    else:
        raise ScepError(f"unexpected CertRep cipher {algorithm['algorithm'].native}")
    return pkcs7.load_der_pkcs7_certificates(plain)


def _spki(public_key: object) -> bytes:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return b""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def issued_certificate(reply: CertRep, key: rsa.RSAPrivateKey) -> x509.Certificate:
    """The certificate of a successful CertRep that holds `key`'s public key."""
    if reply.status == FAILURE:
        raise ScepFailure(reply.fail_info)
    if reply.status != SUCCESS:
        raise ScepError(f"the CA answered pkiStatus {reply.status} (PENDING is not supported)")
    ours = _spki(key.public_key())
    for certificate in reply.certificates:
        if _spki(certificate.public_key()) == ours:
            return certificate
    raise ScepError("the CertRep does not hold a certificate for our key")
