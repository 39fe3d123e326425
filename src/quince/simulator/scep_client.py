"""A SCEP client (RFC 8894), written apart from Quince's responder: it imports nothing from quince.

It does what an iPhone does with the `com.apple.security.scep` payload of its enrollment profile:
GetCACaps, GetCACert, then a PKCSReq (a CSR with the profile's challenge, enveloped to the CA and
signed with a throwaway self-signed certificate for the new key), and reads the CertRep (CA
signature, message digest, nonces, transaction id) before decrypting the issued certificate.

`enroll` / `enroll_sync` are the whole exchange; `build_pkcs_req` and `read_cert_rep` are the
pieces, so tests can tamper with requests and inspect replies. Errors are `ScepError`s; a CA that
refuses answers `ScepFailure` with its failInfo.

The message layer is built with asn1crypto, and the cryptography comes from `cryptography`:
cryptography has PKCS#7 envelope and signature builders but no SCEP (no custom signed attributes,
no 3DES envelope), so the SCEP-specific structure is assembled here.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import AttributeOID, ExtendedKeyUsageOID, NameOID

SCEP_PATH = "/DeviceServices/scep"
PKI_MESSAGE_TYPE = "application/x-pki-message"

# SCEP's signed attributes (RFC 8894 section 3.2.1.2).
MESSAGE_TYPE = "2.16.840.1.113733.1.9.2"
PKI_STATUS = "2.16.840.1.113733.1.9.3"
FAIL_INFO = "2.16.840.1.113733.1.9.4"
SENDER_NONCE = "2.16.840.1.113733.1.9.5"
RECIPIENT_NONCE = "2.16.840.1.113733.1.9.6"
TRANSACTION_ID = "2.16.840.1.113733.1.9.7"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"

PKCS_REQ = "19"
CERT_REP = "3"
SUCCESS, FAILURE, PENDING = "0", "2", "3"
BAD_ALG, BAD_MESSAGE_CHECK, BAD_REQUEST, BAD_TIME, BAD_CERT_ID = "0", "1", "2", "3", "4"

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha512": hashes.SHA512,
}
_CIPHERS = ("aes256_cbc", "aes128_cbc", "tripledes_3key")


class ScepError(Exception):
    """The SCEP exchange did not produce a certificate (transport, protocol or CA refusal)."""


class ScepFailure(ScepError):
    """The CA answered FAILURE (pkiStatus 2); `fail_info` is its failInfo ("2" is badRequest)."""

    def __init__(self, fail_info: str | None) -> None:
        super().__init__(f"SCEP FAILURE, failInfo {fail_info}")
        self.fail_info = fail_info


@dataclass(frozen=True)
class CaCapabilities:
    """What GetCACaps advertised (RFC 8894 section 3.5.2); the client picks its algorithms from it."""

    names: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> CaCapabilities:
        return cls(frozenset(line.strip() for line in text.splitlines() if line.strip()))

    def _has(self, *names: str) -> bool:
        return any(name.lower() in {n.lower() for n in self.names} for name in names)

    @property
    def post(self) -> bool:
        return self._has("POSTPKIOperation", "SCEPStandard")

    @property
    def cipher(self) -> str:
        return "aes256_cbc" if self._has("AES", "SCEPStandard") else "tripledes_3key"

    @property
    def digest(self) -> str:
        if self._has("SHA-256", "SCEPStandard"):
            return "sha256"
        return "sha512" if self._has("SHA-512") else "sha1"


@dataclass(frozen=True)
class ScepCa:
    """The CA as GetCACert described it: its certificate, an RA certificate if it uses one, and
    its capabilities. Requests are enveloped to `recipient`; replies are signed by it."""

    certificate: x509.Certificate
    recipient: x509.Certificate
    capabilities: CaCapabilities


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


@dataclass(frozen=True)
class ScepIdentity:
    """The outcome of an enrollment: the new key, its certificate, and the CA that issued it."""

    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate
    ca: x509.Certificate


# --- building a request -----------------------------------------------------------------------


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
        raise ValueError(f"unsupported content cipher {cipher!r}; use one of {_CIPHERS}")
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


def _attr(oid: str, value: core.Asn1Value) -> cms.CMSAttribute:
    return cms.CMSAttribute({"type": cms.CMSAttributeType(oid), "values": [value]})


def _digest(name: str, data: bytes) -> bytes:
    h = hashes.Hash(_HASHES[name]())
    h.update(data)
    return h.finalize()


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
        cms.CMSAttribute({"type": "message_digest", "values": [_digest(digest, content)]}),
        _attr(MESSAGE_TYPE, core.PrintableString(message_type)),
        _attr(TRANSACTION_ID, core.PrintableString(transaction_id)),
        _attr(SENDER_NONCE, core.OctetString(sender_nonce)),
    ])
    signature = key.sign(signed_attrs.dump(), PKCS1v15(), _HASHES[digest]())
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
    return _digest("sha256", spki).hex()


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


# --- reading the reply ------------------------------------------------------------------------


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
    if digest not in _HASHES:
        raise ScepError(f"the CertRep uses an unsupported digest {digest!r}")
    public = ca.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ScepError("the CA's certificate does not hold an RSA key")
    # Raises InvalidSignature unless the CA signed exactly these attributes (as a SET, tag 0x31).
    public.verify(
        bytes(signer["signature"].native), signer["signed_attrs"].untag().dump(),
        PKCS1v15(), _HASHES[digest](),
    )
    attrs = {a["type"].dotted: a["values"] for a in signer["signed_attrs"]}
    required_attributes = (MESSAGE_TYPE, PKI_STATUS, TRANSACTION_ID, RECIPIENT_NONCE, SENDER_NONCE,
                           _MESSAGE_DIGEST)
    for required in required_attributes:
        if required not in attrs:
            raise ScepError(f"the CertRep lacks the signed attribute {required}")
    content = signed["encap_content_info"]["content"]
    content_bytes = bytes(content.native) if content.native is not None else b""
    if bytes(attrs[_MESSAGE_DIGEST][0].native) != _digest(digest, content_bytes):
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


# --- the CA's certificates and capabilities ---------------------------------------------------


def parse_ca_certificates(body: bytes, content_type: str) -> list[x509.Certificate]:
    """GetCACert's answer: one DER certificate, or a degenerate PKCS#7 with the CA and its RA."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind == "application/x-x509-ca-ra-cert":
            return pkcs7.load_der_pkcs7_certificates(body)
        return [x509.load_der_x509_certificate(body)]
    except ValueError as exc:
        raise ScepError(f"GetCACert did not return certificates ({exc})") from exc


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _encipherment(certificate: x509.Certificate) -> bool:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return bool(usage.key_encipherment)


def describe_ca(certificates: Iterable[x509.Certificate], capabilities: CaCapabilities) -> ScepCa:
    """Pick the CA certificate and the one to encrypt requests to (an RA if there is one)."""
    found = list(certificates)
    if not found:
        raise ScepError("GetCACert returned no certificate")
    ca = next((c for c in found if _is_ca(c)), found[0])
    ras = [c for c in found if c is not ca and _encipherment(c)]
    return ScepCa(certificate=ca, recipient=ras[0] if ras else ca, capabilities=capabilities)


def is_client_certificate(certificate: x509.Certificate) -> bool:
    """True when the certificate may authenticate a client (no EKU, or clientAuth among them)."""
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return ExtendedKeyUsageOID.CLIENT_AUTH in list(usages)


# --- over HTTP --------------------------------------------------------------------------------


async def fetch_ca(client: httpx.AsyncClient, url: str) -> ScepCa:
    """GetCACaps and GetCACert, as a device does before its first request."""
    caps = await client.get(url, params={"operation": "GetCACaps"})
    capabilities = CaCapabilities.parse(caps.text if caps.status_code == 200 else "")
    got = await client.get(url, params={"operation": "GetCACert", "message": "ca"})
    if got.status_code != 200:
        raise ScepError(f"GetCACert answered HTTP {got.status_code}")
    certificates = parse_ca_certificates(got.content, got.headers.get("content-type", ""))
    return describe_ca(certificates, capabilities)


async def request_certificate(
    client: httpx.AsyncClient,
    url: str,
    ca: ScepCa,
    challenge: str | None,
    *,
    key: rsa.RSAPrivateKey | None = None,
    subject: str | Sequence[Sequence[Sequence[str]]] = "Quince device",
) -> ScepIdentity:
    """Send one PKCSReq and return the issued identity; ScepFailure when the CA refuses."""
    caps = ca.capabilities
    pending = build_pkcs_req(ca.recipient, challenge, key=key, common_name=subject,
                             cipher=caps.cipher, digest=caps.digest)
    if caps.post:
        answer = await client.post(url, params={"operation": "PKIOperation"}, content=pending.message,
                                   headers={"Content-Type": PKI_MESSAGE_TYPE})
    else:
        answer = await client.get(url, params=get_query_message(pending.message))
    if answer.status_code != 200:
        raise ScepError(f"PKIOperation answered HTTP {answer.status_code}: {answer.text[:200]}")
    if answer.headers.get("content-type", "").split(";")[0].strip() != PKI_MESSAGE_TYPE:
        raise ScepError(f"PKIOperation answered {answer.headers.get('content-type')!r}")
    reply = read_cert_rep(answer.content, ca.recipient, pending)
    return ScepIdentity(pending.key, issued_certificate(reply, pending.key), ca.certificate)


async def enroll(
    client: httpx.AsyncClient,
    url: str,
    challenge: str | None,
    *,
    key: rsa.RSAPrivateKey | None = None,
    subject: str | Sequence[Sequence[Sequence[str]]] = "Quince device",
) -> ScepIdentity:
    """The whole SCEP exchange at `url` (absolute, or relative to the client's base URL)."""
    ca = await fetch_ca(client, url)
    return await request_certificate(client, url, ca, challenge, key=key, subject=subject)


def get_query_message(message: bytes) -> dict[str, str]:
    """Query parameters of a PKIOperation sent with GET (base64 message)."""
    return {"operation": "PKIOperation", "message": base64.b64encode(message).decode()}
