"""SCEP (RFC 8894) messages: read a PKIOperation request, write the CertRep reply. No I/O.

A PKCSReq is a CMS SignedData, signed by the requester's (usually self-signed) certificate,
whose content is an EnvelopedData encrypted to Quince's CA and holding the PKCS#10 CSR. The
CertRep is a SignedData signed by the CA; on success its content is an EnvelopedData, encrypted
to the requester's certificate, holding a certificates-only SignedData with the issued certificate.

`cryptography` covers the primitives (RSA, AES, 3DES, X.509, CSRs) but its PKCS#7 helpers cannot
carry SCEP's own signed attributes (messageType, transactionID, nonces...), and its envelope
helpers handle only AES; asn1crypto's CMS structures are used to read and write those layers.
`protocol` holds SCEP's vocabulary, `requests` reads a request and `replies` writes the answers.
"""

from quince.pki.scep.protocol import (
    CA_CAPABILITIES,
    CA_CERT_TYPE,
    PKI_MESSAGE_TYPE,
    FailInfo,
    MessageType,
    PkiStatus,
    ScepMessageError,
    ScepRequestRefused,
)
from quince.pki.scep.replies import ca_capabilities, ca_certificate_der, failure_reply, success_reply
from quince.pki.scep.requests import CertificateRequest, PkiMessage, open_request, read_pki_message

__all__ = [
    "CA_CAPABILITIES",
    "CA_CERT_TYPE",
    "PKI_MESSAGE_TYPE",
    "CertificateRequest",
    "FailInfo",
    "MessageType",
    "PkiMessage",
    "PkiStatus",
    "ScepMessageError",
    "ScepRequestRefused",
    "ca_capabilities",
    "ca_certificate_der",
    "failure_reply",
    "open_request",
    "read_pki_message",
    "success_reply",
]
