"""A SCEP client (RFC 8894), written apart from Quince's responder: it imports nothing from quince.

It does what an iPhone does with the `com.apple.security.scep` payload of its enrollment profile:
GetCACaps, GetCACert, then a PKCSReq (a CSR with the profile's challenge, enveloped to the CA and
signed with a throwaway self-signed certificate for the new key), and reads the CertRep (CA
signature, message digest, nonces, transaction id) before decrypting the issued certificate.

`enroll` is the whole exchange (`exchange`); `build_pkcs_req` (`request`) and `read_cert_rep`
(`reply`) are the pieces, so tests can tamper with requests and inspect replies. Errors are
`ScepError`s; a CA that refuses answers `ScepFailure` with its failInfo.

The message layer is built with asn1crypto, and the cryptography comes from `cryptography`:
cryptography has PKCS#7 envelope and signature builders but no SCEP (no custom signed attributes,
no 3DES envelope), so the SCEP-specific structure is assembled here.
"""

from quince.simulator.scep_client.ca import (
    CaCapabilities,
    ScepCa,
    describe_ca,
    is_client_certificate,
    parse_ca_certificates,
)
from quince.simulator.scep_client.exchange import (
    ScepIdentity,
    enroll,
    fetch_ca,
    get_query_message,
    request_certificate,
)
from quince.simulator.scep_client.protocol import (
    BAD_ALG,
    BAD_CERT_ID,
    BAD_MESSAGE_CHECK,
    BAD_REQUEST,
    BAD_TIME,
    CERT_REP,
    FAIL_INFO,
    FAILURE,
    MESSAGE_TYPE,
    PENDING,
    PKCS_REQ,
    PKI_MESSAGE_TYPE,
    PKI_STATUS,
    RECIPIENT_NONCE,
    SCEP_PATH,
    SENDER_NONCE,
    SUCCESS,
    TRANSACTION_ID,
    ScepError,
    ScepFailure,
)
from quince.simulator.scep_client.reply import CertRep, issued_certificate, read_cert_rep
from quince.simulator.scep_client.request import (
    PendingRequest,
    build_pkcs_req,
    envelope,
    make_csr,
    new_key,
    self_signed,
    sign_pki_message,
    transaction_id_for,
)

__all__ = [
    "BAD_ALG", "BAD_CERT_ID", "BAD_MESSAGE_CHECK", "BAD_REQUEST", "BAD_TIME", "CERT_REP", "FAILURE",
    "FAIL_INFO", "MESSAGE_TYPE", "PENDING", "PKCS_REQ", "PKI_MESSAGE_TYPE", "PKI_STATUS",
    "RECIPIENT_NONCE", "SCEP_PATH", "SENDER_NONCE", "SUCCESS", "TRANSACTION_ID", "CaCapabilities",
    "CertRep", "PendingRequest", "ScepCa", "ScepError", "ScepFailure", "ScepIdentity", "build_pkcs_req",
    "describe_ca", "enroll", "envelope", "fetch_ca", "get_query_message", "is_client_certificate",
    "issued_certificate", "make_csr", "new_key", "parse_ca_certificates", "read_cert_rep",
    "request_certificate", "self_signed", "sign_pki_message", "transaction_id_for",
]
