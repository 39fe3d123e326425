"""Reading a SCEP PKIOperation request: the outer SignedData and its signed attributes, then the
requester's signature and the PKCSReq's CSR, decrypted with the CA key. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.x509.oid import AttributeOID

from quince.pki.authority import Pki
from quince.pki.scep.protocol import (
    CIPHERS,
    CMS_MESSAGE_DIGEST,
    DIGESTS,
    MALFORMED,
    MESSAGE_TYPE,
    SENDER_NONCE,
    TRANSACTION_ID,
    FailInfo,
    MessageType,
    ScepMessageError,
    ScepRequestRefused,
    digest_of,
)


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


def read_pki_message(body: bytes) -> PkiMessage:
    """Read the outer SignedData of a PKIOperation request; ScepMessageError when it is not one."""
    try:
        return _read(body)
    except MALFORMED as exc:
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
    except MALFORMED as exc:
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
    digest = DIGESTS.get(message.digest_algorithm)
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
    if message.message_digest != digest_of(digest, message.content):
        raise ScepRequestRefused(FailInfo.BAD_MESSAGE_CHECK, "the message digest does not match")


def _decrypt(enveloped_der: bytes, pki: Pki) -> tuple[bytes, str]:
    """The plaintext of an EnvelopedData addressed to the CA, and the name of its cipher."""
    info = cms.ContentInfo.load(enveloped_der, strict=True)
    if info["content_type"].native != "enveloped_data":
        raise ScepRequestRefused(FailInfo.BAD_REQUEST, "the pkcsPKIEnvelope is not an EnvelopedData")
    enveloped: cms.EnvelopedData = info["content"]
    content_info = enveloped["encrypted_content_info"]
    algorithm = content_info["content_encryption_algorithm"]
    cipher_name = algorithm["algorithm"].native
    if cipher_name not in CIPHERS:
        raise ScepRequestRefused(FailInfo.BAD_ALG, f"content encryption {cipher_name} is not supported")
    spec = CIPHERS[cipher_name]
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
    ca = asn1_x509.Certificate.load(pki.ca_certificate.public_bytes(serialization.Encoding.DER))
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

