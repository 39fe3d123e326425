"""What Quince's SCEP responder answers: the GetCACaps and GetCACert bodies, and the CertRep,
signed by the CA and, on success, carrying the issued certificate encrypted to the requester."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from quince.pki.authority import Pki
from quince.pki.scep.protocol import (
    CA_CAPABILITIES,
    CIPHERS,
    DIGESTS,
    FAIL_INFO,
    MESSAGE_TYPE,
    PKI_STATUS,
    RECIPIENT_NONCE,
    SENDER_NONCE,
    TRANSACTION_ID,
    FailInfo,
    MessageType,
    PkiStatus,
    ScepRequestRefused,
    digest_of,
)
from quince.pki.scep.requests import CertificateRequest, PkiMessage


def ca_capabilities() -> bytes:
    """The GetCACaps body: one capability per line."""
    return "".join(f"{cap}\n" for cap in CA_CAPABILITIES).encode()


def ca_certificate_der(pki: Pki) -> bytes:
    """The GetCACert body: the CA certificate alone (no RA), DER."""
    return pki.ca_certificate.public_bytes(serialization.Encoding.DER)


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
    spec = CIPHERS[cipher_name]
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
    digest_name = message.digest_algorithm if message.digest_algorithm in DIGESTS else "sha256"
    # FAILURE carries no pkcsPKIEnvelope. The content is then empty rather than absent: OpenSSL's
    # PKCS7_verify (certmonger, sscep) rejects a SignedData without content as "no content".
    content = enveloped or b""
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({
            "type": "signing_time", "values": [cms.Time({"utc_time": now or datetime.now(UTC)})],
        }),
        cms.CMSAttribute({"type": "message_digest", "values": [digest_of(DIGESTS[digest_name], content)]}),
        _attribute(MESSAGE_TYPE, core.PrintableString(MessageType.CERT_REP.value)),
        _attribute(PKI_STATUS, core.PrintableString(status.value)),
        _attribute(TRANSACTION_ID, message.transaction_id_value),
        _attribute(RECIPIENT_NONCE, core.OctetString(message.sender_nonce)),
        _attribute(SENDER_NONCE, core.OctetString(os.urandom(16))),
    ]
    if fail_info is not None:
        attributes.append(_attribute(FAIL_INFO, core.PrintableString(fail_info.value)))
    signed_attrs = cms.CMSAttributes(attributes)
    signature = pki.ca_key.sign(signed_attrs.dump(), PKCS1v15(), DIGESTS[digest_name]())
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
