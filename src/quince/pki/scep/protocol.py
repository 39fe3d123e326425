"""SCEP's vocabulary (RFC 8894): the signed attributes, message types, statuses and failInfos,
the errors, and the digests and ciphers Quince reads and answers with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, algorithms

from quince.domain.errors import QuinceError

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
# UnsupportedAlgorithm for odd keys); none may escape this package.
MALFORMED = (
    ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, UnsupportedAlgorithm,
)

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,  # read for old clients; never announced in GetCACaps
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True)
class CipherSpec:
    make: Callable[[bytes], BlockCipherAlgorithm]
    key_size: int  # bytes
    block_bits: int


# By asn1crypto's names. DES-EDE3 is read (and answered in kind) for clients that predate AES.
CIPHERS: dict[str, CipherSpec] = {
    "aes128_cbc": CipherSpec(algorithms.AES, 16, 128),
    "aes192_cbc": CipherSpec(algorithms.AES, 24, 128),
    "aes256_cbc": CipherSpec(algorithms.AES, 32, 128),
    "tripledes_3key": CipherSpec(TripleDES, 24, 64),
}


def digest_of(digest: type[hashes.HashAlgorithm], data: bytes) -> bytes:
    h = hashes.Hash(digest())
    h.update(data)
    return h.finalize()
