"""SCEP (RFC 8894) messages: read a PKIOperation request, write the CertRep reply. No I/O.

A PKCSReq is a CMS SignedData, signed by the requester's (usually self-signed) certificate,
whose content is an EnvelopedData encrypted to Quince's CA and holding the PKCS#10 CSR. The
CertRep is a SignedData signed by the CA; on success its content is an EnvelopedData, encrypted
to the requester's certificate, holding a certificates-only SignedData with the issued certificate.

`cryptography` covers the primitives (RSA, AES, 3DES, X.509, CSRs) but its PKCS#7 helpers cannot
carry SCEP's own signed attributes (messageType, transactionID, nonces...), and its envelope
helpers handle only AES; asn1crypto's CMS structures are used to read and write those layers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes
from cryptography.x509.oid import AttributeOID

from quince.domain.errors import QuinceError
from quince.pki.authority import Pki

# SCEP's signed attributes (RFC 8894 section 3.2.1), under VeriSign's arc.
MESSAGE_TYPE = "2.16.840.1.113733.1.9.2"
PKI_STATUS = "2.16.840.1.113733.1.9.3"
FAIL_INFO = "2.16.840.1.113733.1.9.4"
SENDER_NONCE = "2.16.840.1.113733.1.9.5"
RECIPIENT_NONCE = "2.16.840.1.113733.1.9.6"
TRANSACTION_ID = "2.16.840.1.113733.1.9.7"
CMS_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"

PKI_MESSAGE_TYPE = "application/x-pki-message"
CA_CERT_TYPE = "application/x-x509-ca-cert"

# What GetCACaps announces. No "Renewal" (RenewalReq is refused) and no "DES3": requests
# enveloped with DES-EDE3 are still read, for clients that never ask for the capabilities.
CA_CAPABILITIES = ("POSTPKIOperation", "SHA-256", "SHA-512", "AES", "SCEPStandard")


class MessageType(StrEnum):
    CERT_REP = "3"
    RENEWAL_REQ = "17"
    PKCS_REQ = "19"
    CERT_POLL = "20"
    GET_CERT = "21"
    GET_CRL = "22"


class PkiStatus(StrEnum):
    SUCCESS = "0"
    FAILURE = "2"
    PENDING = "3"


class FailInfo(StrEnum):
    BAD_ALG = "0"
    BAD_MESSAGE_CHECK = "1"
    BAD_REQUEST = "2"
    BAD_TIME = "3"
    BAD_CERT_ID = "4"


class ScepMessageError(QuinceError):
    """The body is not a SCEP request that can be answered with a CertRep at all."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Not a usable SCEP message: {reason}.")
        self.reason = reason


class ScepRequestRefused(QuinceError):
    """A readable SCEP request that is refused: the answer is a CertRep FAILURE with `fail_info`."""

    def __init__(self, fail_info: FailInfo, reason: str) -> None:
        super().__init__(f"SCEP request refused ({fail_info.name}): {reason}.")
        self.fail_info = fail_info
        self.reason = reason


# asn1crypto parses lazily and reports malformed input with these (cryptography adds
# UnsupportedAlgorithm for odd keys); none may escape this module.
_MALFORMED = (
    ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, UnsupportedAlgorithm,
)

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,  # read for old clients; never announced in GetCACaps
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class _CipherSpec:
    make: Callable[[bytes], BlockCipherAlgorithm]
    key_size: int  # bytes
    block_bits: int


# By asn1crypto's names. DES-EDE3 is read (and answered in kind) for clients that predate AES.
_CIPHERS: dict[str, _CipherSpec] = {
    "aes128_cbc": _CipherSpec(algorithms.AES, 16, 128),
    "aes192_cbc": _CipherSpec(algorithms.AES, 24, 128),
    "aes256_cbc": _CipherSpec(algorithms.AES, 32, 128),
    "tripledes_3key": _CipherSpec(TripleDES, 24, 64),
}


@dataclass(frozen=True)
class PkiMessage:
    """A SCEP request whose envelope has been read but not yet verified or decrypted."""

    message_type: str
    transaction_id: str
    sender_nonce: bytes
    signer_certificate: x509.Certificate
    digest_algorithm: str
    content: bytes
    signed_attributes: bytes
    signature: bytes
    signature_algorithm: str
    message_digest: bytes | None
    transaction_id_value: core.Any  # echoed back unchanged, whatever string type the client used


@dataclass(frozen=True)
class CertificateRequest:
    """The decrypted content of a PKCSReq."""

    csr: x509.CertificateSigningRequest
    challenge: str | None
    content_cipher: str  # the reply is enveloped with the cipher the client chose


def ca_capabilities() -> bytes:
    """The GetCACaps body: one capability per line."""
    return "".join(f"{cap}\n" for cap in CA_CAPABILITIES).encode()


def ca_certificate_der(pki: Pki) -> bytes:
    """The GetCACert body: the CA certificate alone (no RA), DER."""
    return pki.ca_certificate.public_bytes(serialization.Encoding.DER)


def read_pki_message(body: bytes) -> PkiMessage:
    """Read the outer SignedData of a PKIOperation request; ScepMessageError when it is not one."""
    try:
        return _read(body)
    except _MALFORMED as exc:
        raise ScepMessageError("the CMS structure is malformed") from exc


def _read(body: bytes) -> PkiMessage:
    if not body:
        raise ScepMessageError("the message is empty")
    info = cms.ContentInfo.load(body, strict=True)
    if info["content_type"].native != "signed_data":
        raise ScepMessageError("it is not a CMS SignedData")
    signed: cms.SignedData = info["content"]
    signers = list(signed["signer_infos"])
    if len(signers) != 1:
        raise ScepMessageError("it must have exactly one signer")
    signer = signers[0]
    certificates = [
        choice.chosen for choice in (signed["certificates"] or []) if choice.name == "certificate"
    ]
    signer_cert = _find_signer(signer["sid"], certificates)
    if signer_cert is None:
        raise ScepMessageError("the signer's certificate is not in the message")
    if not signer["signed_attrs"]:
        raise ScepMessageError("it has no signed attributes")
    attributes = {attr["type"].dotted: attr["values"] for attr in signer["signed_attrs"]}
    encap = signed["encap_content_info"]
    if encap["content_type"].native != "data" or not encap["content"]:
        raise ScepMessageError("it carries no pkcsPKIEnvelope")
    try:
        signer_certificate = x509.load_der_x509_certificate(signer_cert.dump())
    except ValueError as exc:
        raise ScepMessageError("the signer's certificate cannot be read") from exc
    digest_values = attributes.get(CMS_MESSAGE_DIGEST)
    return PkiMessage(
        message_type=_string_attribute(attributes, MESSAGE_TYPE, "messageType"),
        transaction_id=_string_attribute(attributes, TRANSACTION_ID, "transactionID"),
        sender_nonce=_nonce(attributes),
        signer_certificate=signer_certificate,
        digest_algorithm=signer["digest_algorithm"]["algorithm"].native,
        content=bytes(encap["content"].native),
        # The signature covers the attributes DER-encoded as a SET, not with their [0] tag.
        signed_attributes=b"\x31" + signer["signed_attrs"].dump()[1:],
        signature=bytes(signer["signature"].native),
        signature_algorithm=signer["signature_algorithm"].signature_algo,
        message_digest=bytes(digest_values[0].native) if digest_values else None,
        transaction_id_value=attributes[TRANSACTION_ID][0],
    )


def _find_signer(
    sid: cms.SignerIdentifier, certificates: list[asn1_x509.Certificate]
) -> asn1_x509.Certificate | None:
    for certificate in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (certificate.issuer == wanted["issuer"]
                    and certificate.serial_number == wanted["serial_number"].native):
                return certificate
        elif sid.name == "subject_key_identifier" and certificate.key_identifier == sid.chosen.native:
            return certificate
    return None


def _string_attribute(attributes: dict[str, core.SetOfAny], oid: str, name: str) -> str:
    values = attributes.get(oid)
    if not values or len(values) != 1:
        raise ScepMessageError(f"it has no single {name} attribute")
    value = core.load(values[0].dump())
    if not isinstance(value, core.AbstractString) or not value.native or len(value.native) > 256:
        raise ScepMessageError(f"its {name} is not a short string")
    return str(value.native)


def _nonce(attributes: dict[str, core.SetOfAny]) -> bytes:
    values = attributes.get(SENDER_NONCE)
    if not values or len(values) != 1:
        raise ScepMessageError("it has no single senderNonce attribute")
    value = core.load(values[0].dump())
    if not isinstance(value, core.OctetString) or not 8 <= len(value.native) <= 64:
        raise ScepMessageError("its senderNonce is not an octet string of 8 to 64 bytes")
    return bytes(value.native)


def open_request(message: PkiMessage, pki: Pki) -> CertificateRequest:
    """Verify the requester's signature and decrypt the PKCSReq's CSR with the CA key.

    ScepRequestRefused says why a request that can be answered is refused.
    """
    try:
        return _open(message, pki)
    except _MALFORMED as exc:
        raise ScepRequestRefused(FailInfo.BAD_REQUEST, "the request's content is malformed") from exc


def _open(message: PkiMessage, pki: Pki) -> CertificateRequest:
    _verify_signature(message)
    if message.message_type != MessageType.PKCS_REQ:
        # RenewalReq is not announced; Quince never answers PENDING, so there is nothing to poll.
        raise ScepRequestRefused(
            FailInfo.BAD_REQUEST, f"message type {message.message_type} is not supported"
        )
    csr_der, cipher = _decrypt(message.content, pki)
    try:
        csr = x509.load_der_x509_csr(csr_der)
        public_key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ScepRequestRefused(FailInfo.BAD_REQUEST, "the CSR cannot be read") from exc
    # RFC 8894 3.3.1: a PKCSReq is signed with the key it asks a certificate for.
    signer_key = message.signer_certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey) or not isinstance(signer_key, rsa.RSAPublicKey) \
            or public_key.public_numbers() != signer_key.public_numbers():
        raise ScepRequestRefused(
            FailInfo.BAD_MESSAGE_CHECK, "the request is not signed with the CSR's key"
        )
    return CertificateRequest(csr=csr, challenge=_challenge(csr), content_cipher=cipher)


def _verify_signature(message: PkiMessage) -> None:
    digest = _DIGESTS.get(message.digest_algorithm)
    if digest is None or message.signature_algorithm != "rsassa_pkcs1v15":
        raise ScepRequestRefused(
            FailInfo.BAD_ALG,
            f"{message.digest_algorithm}/{message.signature_algorithm} signatures are not supported",
        )
    public_key = message.signer_certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ScepRequestRefused(FailInfo.BAD_ALG, "the signer's key is not RSA")
    try:
        public_key.verify(message.signature, message.signed_attributes, PKCS1v15(), digest())
    except InvalidSignature as exc:
        raise ScepRequestRefused(FailInfo.BAD_MESSAGE_CHECK, "the signature does not verify") from exc
    if message.message_digest != _hash(digest, message.content):
        raise ScepRequestRefused(FailInfo.BAD_MESSAGE_CHECK, "the message digest does not match")


def _hash(digest: type[hashes.HashAlgorithm], data: bytes) -> bytes:
    h = hashes.Hash(digest())
    h.update(data)
    return h.finalize()


def _decrypt(enveloped_der: bytes, pki: Pki) -> tuple[bytes, str]:
    """The plaintext of an EnvelopedData addressed to the CA, and the name of its cipher."""
    info = cms.ContentInfo.load(enveloped_der, strict=True)
    if info["content_type"].native != "enveloped_data":
        raise ScepRequestRefused(FailInfo.BAD_REQUEST, "the pkcsPKIEnvelope is not an EnvelopedData")
    enveloped: cms.EnvelopedData = info["content"]
    content_info = enveloped["encrypted_content_info"]
    algorithm = content_info["content_encryption_algorithm"]
    cipher_name = algorithm["algorithm"].native
    if cipher_name not in _CIPHERS:
        raise ScepRequestRefused(FailInfo.BAD_ALG, f"content encryption {cipher_name} is not supported")
    spec = _CIPHERS[cipher_name]
    iv = algorithm["parameters"].native
    ciphertext = content_info["encrypted_content"].native
    if not isinstance(iv, bytes) or len(iv) != spec.block_bits // 8 or not ciphertext:
        raise ScepRequestRefused(FailInfo.BAD_REQUEST, "the encrypted content is malformed")
    key = _content_key(enveloped, pki, spec.key_size)
    decryptor = Cipher(spec.make(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(spec.block_bits).unpadder()
    try:
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        plaintext = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise ScepRequestRefused(FailInfo.BAD_MESSAGE_CHECK, "the content does not decrypt") from exc
    return plaintext, cipher_name


def _content_key(enveloped: cms.EnvelopedData, pki: Pki, key_size: int) -> bytes:
    ca = asn1_x509.Certificate.load(ca_certificate_der(pki))
    candidates = []
    for recipient in enveloped["recipient_infos"]:
        if recipient.name != "ktri":
            continue
        info = recipient.chosen
        rid = info["rid"]
        addressed = (
            rid.name == "issuer_and_serial_number"
            and rid.chosen["issuer"] == ca.issuer
            and rid.chosen["serial_number"].native == ca.serial_number
        ) or (rid.name == "subject_key_identifier" and rid.chosen.native == ca.key_identifier)
        if addressed:
            candidates.append(info)
    if not candidates:
        raise ScepRequestRefused(FailInfo.BAD_MESSAGE_CHECK, "the request is not encrypted to this CA")
    info = candidates[0]
    if info["key_encryption_algorithm"]["algorithm"].native != "rsaes_pkcs1v15":
        raise ScepRequestRefused(FailInfo.BAD_ALG, "only RSA PKCS#1 v1.5 key transport is supported")
    try:
        key = pki.ca_key.decrypt(bytes(info["encrypted_key"].native), PKCS1v15())
    except ValueError as exc:
        raise ScepRequestRefused(FailInfo.BAD_MESSAGE_CHECK, "the content key does not decrypt") from exc
    if len(key) != key_size:
        # With implicit rejection (OpenSSL 3.2+) a wrong key decrypts to random bytes instead.
        raise ScepRequestRefused(FailInfo.BAD_MESSAGE_CHECK, "the content key does not decrypt")
    return key


def _challenge(csr: x509.CertificateSigningRequest) -> str | None:
    try:
        attribute = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD)
    except x509.AttributeNotFound:
        return None
    raw = attribute.value
    try:
        return (raw if isinstance(raw, str) else bytes(raw).decode("utf-8")) or None
    except UnicodeDecodeError:
        return None


def success_reply(
    message: PkiMessage, request: CertificateRequest, certificate: x509.Certificate, pki: Pki
) -> bytes:
    """A CertRep SUCCESS carrying `certificate`, encrypted to the requester and signed by the CA."""
    issued = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    certs_only = cms.ContentInfo({
        "content_type": "signed_data",
        "content": cms.SignedData({
            "version": "v1",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "data"},
            "certificates": [issued],
            "signer_infos": [],
        }),
    }).dump()
    enveloped = _envelope(certs_only, message.signer_certificate, request.content_cipher)
    return _cert_rep(message, pki, PkiStatus.SUCCESS, enveloped, fail_info=None)


def failure_reply(message: PkiMessage, fail_info: FailInfo, pki: Pki) -> bytes:
    """A CertRep FAILURE with `fail_info` (no pkcsPKIEnvelope), signed by the CA."""
    return _cert_rep(message, pki, PkiStatus.FAILURE, None, fail_info=fail_info)


def _envelope(plaintext: bytes, recipient: x509.Certificate, cipher_name: str) -> bytes:
    recipient_key = recipient.public_key()
    if not isinstance(recipient_key, rsa.RSAPublicKey):  # open_request checked this already
        raise ScepRequestRefused(FailInfo.BAD_ALG, "the requester's key is not RSA")
    spec = _CIPHERS[cipher_name]
    key, iv = os.urandom(spec.key_size), os.urandom(spec.block_bits // 8)
    padder = padding.PKCS7(spec.block_bits).padder()
    encryptor = Cipher(spec.make(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padder.update(plaintext) + padder.finalize()) + encryptor.finalize()
    recipient_asn1 = asn1_x509.Certificate.load(recipient.public_bytes(serialization.Encoding.DER))
    return _der(cms.ContentInfo({
        "content_type": "enveloped_data",
        "content": cms.EnvelopedData({
            "version": "v0",
            "recipient_infos": [cms.RecipientInfo({"ktri": cms.KeyTransRecipientInfo({
                "version": "v0",
                "rid": cms.RecipientIdentifier({
                    "issuer_and_serial_number": _issuer_and_serial(recipient_asn1),
                }),
                "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15", "parameters": core.Null()},
                "encrypted_key": recipient_key.encrypt(key, PKCS1v15()),
            })})],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": cipher_name, "parameters": iv},
                "encrypted_content": ciphertext,
            },
        }),
    }))


def _issuer_and_serial(certificate: asn1_x509.Certificate) -> cms.IssuerAndSerialNumber:
    return cms.IssuerAndSerialNumber({
        "issuer": certificate.issuer, "serial_number": certificate.serial_number,
    })


def _der(value: core.Asn1Value) -> bytes:
    return bytes(value.dump())  # asn1crypto has no type hints: say what dump() returns


def _attribute(oid: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": cms.CMSAttributeType(oid), "values": [value]})


def _cert_rep(
    message: PkiMessage,
    pki: Pki,
    status: PkiStatus,
    enveloped: bytes | None,
    *,
    fail_info: FailInfo | None,
    now: datetime | None = None,
) -> bytes:
    # Answer with the digest the client signed with, so that it can check the reply.
    digest_name = message.digest_algorithm if message.digest_algorithm in _DIGESTS else "sha256"
    # FAILURE carries no pkcsPKIEnvelope. The content is then empty rather than absent: OpenSSL's
    # PKCS7_verify (certmonger, sscep) rejects a SignedData without content as "no content".
    content = enveloped or b""
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({
            "type": "signing_time", "values": [cms.Time({"utc_time": now or datetime.now(UTC)})],
        }),
        cms.CMSAttribute({"type": "message_digest", "values": [_hash(_DIGESTS[digest_name], content)]}),
        _attribute(MESSAGE_TYPE, core.PrintableString(MessageType.CERT_REP.value)),
        _attribute(PKI_STATUS, core.PrintableString(status.value)),
        _attribute(TRANSACTION_ID, message.transaction_id_value),
        _attribute(RECIPIENT_NONCE, core.OctetString(message.sender_nonce)),
        _attribute(SENDER_NONCE, core.OctetString(os.urandom(16))),
    ]
    if fail_info is not None:
        attributes.append(_attribute(FAIL_INFO, core.PrintableString(fail_info.value)))
    signed_attrs = cms.CMSAttributes(attributes)
    signature = pki.ca_key.sign(signed_attrs.dump(), PKCS1v15(), _DIGESTS[digest_name]())
    ca = asn1_x509.Certificate.load(ca_certificate_der(pki))
    encap = {"content_type": "data", "content": content}
    return _der(cms.ContentInfo({
        "content_type": "signed_data",
        "content": cms.SignedData({
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_name})],
            "encap_content_info": encap,
            "certificates": [ca],
            "signer_infos": [cms.SignerInfo({
                "version": "v1",
                "sid": cms.SignerIdentifier({"issuer_and_serial_number": _issuer_and_serial(ca)}),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_name}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": algos.SignedDigestAlgorithm({
                    "algorithm": "rsassa_pkcs1v15", "parameters": core.Null(),
                }),
                "signature": signature,
            })],
        }),
    }))
