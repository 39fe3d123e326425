"""SCEP's vocabulary as the client sees it (RFC 8894): the signed attributes, message types,
statuses and failInfos, the digests and ciphers it offers, and its errors."""

from __future__ import annotations

from asn1crypto import cms, core
from cryptography.hazmat.primitives import hashes

SCEP_PATH = "/DeviceServices/scep"
PKI_MESSAGE_TYPE = "application/x-pki-message"

# SCEP's signed attributes (RFC 8894 section 3.2.1.2).
MESSAGE_TYPE = "2.16.840.1.113733.1.9.2"
PKI_STATUS = "2.16.840.1.113733.1.9.3"
FAIL_INFO = "2.16.840.1.113733.1.9.4"
SENDER_NONCE = "2.16.840.1.113733.1.9.5"
RECIPIENT_NONCE = "2.16.840.1.113733.1.9.6"
TRANSACTION_ID = "2.16.840.1.113733.1.9.7"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"

PKCS_REQ = "19"
CERT_REP = "3"
SUCCESS, FAILURE, PENDING = "0", "2", "3"
BAD_ALG, BAD_MESSAGE_CHECK, BAD_REQUEST, BAD_TIME, BAD_CERT_ID = "0", "1", "2", "3", "4"

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512,
}
CIPHERS = ("aes256_cbc", "aes128_cbc", "tripledes_3key")


class ScepError(Exception):
    """The SCEP exchange did not produce a certificate (transport, protocol or CA refusal)."""


class ScepFailure(ScepError):
    """The CA answered FAILURE (pkiStatus 2); `fail_info` is its failInfo ("2" is badRequest)."""

    def __init__(self, fail_info: str | None) -> None:
        super().__init__(f"SCEP FAILURE, failInfo {fail_info}")
        self.fail_info = fail_info


def signed_attribute(oid: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": cms.CMSAttributeType(oid), "values": [value]})


def digest_of(name: str, data: bytes) -> bytes:
    h = hashes.Hash(HASHES[name]())
    h.update(data)
    return h.finalize()
