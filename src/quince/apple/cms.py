"""CMS (PKCS #7) SignedData: sign with content attached or detached, and verify both.

Signing uses cryptography's `PKCS7SignatureBuilder`. cryptography has no CMS *verify* API (only
S/MIME signing and decryption), so verification is written here: asn1crypto parses the structure,
cryptography checks the digest and the signature. That is the part devices depend on: the
`Mdm-Signature` header (a detached SignedData over the request body) and signed MachineInfo.

Verification proves that the signer certificate's key signed the content. Whether that certificate
is one Quince trusts (chains to its CA, is in date, belongs to the enrollment) is the caller's job;
`issued_by` helps with the first step.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from cryptography import x509
from cryptography.exceptions import InvalidSignature as _SignatureMismatch
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from quince.apple.errors import InvalidSignature

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# id-ecPublicKey: some signers put the key's OID where ecdsa-with-SHAx belongs; the digest then
# comes from digestAlgorithm alone, as with rsaEncryption.
_EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"


# --- signing ---------------------------------------------------------------------------------


def sign(
    content: bytes, cert: x509.Certificate, key: SigningKey, chain: Iterable[x509.Certificate] = ()
) -> bytes:
    """DER SignedData with `content` attached, signed with SHA-256 (how profiles are signed)."""
    return _sign(content, cert, key, chain, detached=False)


def sign_detached(
    content: bytes, cert: x509.Certificate, key: SigningKey, chain: Iterable[x509.Certificate] = ()
) -> bytes:
    """DER SignedData over `content` without the content (what a device puts in `Mdm-Signature`)."""
    return _sign(content, cert, key, chain, detached=True)


def _sign(
    content: bytes,
    cert: x509.Certificate,
    key: SigningKey,
    chain: Iterable[x509.Certificate],
    *,
    detached: bool,
) -> bytes:
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256())
    for extra in chain:
        builder = builder.add_certificate(extra)
    # Binary: sign the bytes as they are (no S/MIME newline canonicalisation of the plist).
    options = [pkcs7.PKCS7Options.Binary, pkcs7.PKCS7Options.NoCapabilities]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    return builder.sign(serialization.Encoding.DER, options)


# --- verifying -------------------------------------------------------------------------------


def verify_attached(der: bytes) -> tuple[bytes, x509.Certificate]:
    """Check a SignedData that carries its content; return the content and the signer certificate."""
    with _hostile_input():
        content, signer = _verify(_as_bytes(der), None)
    if content is None:
        raise InvalidSignature("the SignedData carries no content (it is a detached signature)")
    return content, signer


def verify_detached(signature_der: bytes, content: bytes) -> x509.Certificate:
    """Check a detached SignedData over `content`; return the signer certificate."""
    if not isinstance(content, bytes | bytearray | memoryview):
        raise InvalidSignature("the signed content must be bytes")
    with _hostile_input():
        _, signer = _verify(_as_bytes(signature_der), bytes(content))
    return signer


def verify_mdm_signature(header_value: str, body: bytes) -> x509.Certificate:
    """Check an `Mdm-Signature` header (base64 of a detached SignedData) against the request body."""
    try:
        der = base64.b64decode("".join(header_value.split()), validate=True)
    except (binascii.Error, ValueError, TypeError, AttributeError):
        raise InvalidSignature("the Mdm-Signature header is not base64") from None
    return verify_detached(der, body)


def signed_content(der: bytes) -> bytes:
    """The content attached to a SignedData, WITHOUT checking the signature."""
    with _hostile_input():
        content = _content_bytes(_signed_data(_as_bytes(der))["encap_content_info"])
    if content is None:
        raise InvalidSignature("the SignedData carries no content (it is a detached signature)")
    return content


def issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    """True if `ca_cert`'s subject is `cert`'s issuer and `ca_cert`'s key signed `cert`."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, _SignatureMismatch, UnsupportedAlgorithm):
        return False
    return True


@contextmanager
def _hostile_input() -> Iterator[None]:
    try:
        yield
    except InvalidSignature:
        raise
    except Exception as exc:
        # asn1crypto parses lazily and reports hostile input with many exception types (ValueError,
        # TypeError, KeyError, IndexError, OverflowError, ...); none of them may escape as a 500.
        raise InvalidSignature(f"malformed SignedData ({type(exc).__name__})") from exc


def _as_bytes(der: object) -> bytes:
    if not isinstance(der, bytes | bytearray | memoryview):
        raise InvalidSignature("the SignedData must be bytes")
    return bytes(der)


def _signed_data(der: bytes) -> Any:
    if not der:
        raise InvalidSignature("the SignedData is empty")
    info = asn1_cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise InvalidSignature(f"the CMS content type is {info['content_type'].native!r}, not signed data")
    return info["content"]


def _content_bytes(encap: Any) -> bytes | None:
    value = encap["content"]
    if isinstance(value, asn1_core.Void):
        return None
    if isinstance(value, asn1_core.OctetString):
        data = value.native
    elif isinstance(value, asn1_core.ParsableOctetString):
        data = value.__bytes__()
    else:
        raise InvalidSignature("the encapsulated content is not an octet string")
    if not isinstance(data, bytes):
        raise InvalidSignature("the encapsulated content is not an octet string")
    return data


def _verify(der: bytes, detached_content: bytes | None) -> tuple[bytes | None, x509.Certificate]:
    signed_data = _signed_data(der)
    encap = signed_data["encap_content_info"]
    attached = _content_bytes(encap)
    if detached_content is not None:
        if attached is not None and attached != detached_content:
            raise InvalidSignature("the SignedData carries content other than the body it should sign")
        content = detached_content
    elif attached is None:
        raise InvalidSignature("the SignedData carries no content (it is a detached signature)")
    else:
        content = attached

    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise InvalidSignature(f"expected exactly one signer, found {len(signer_infos)}")
    signer_info = signer_infos[0]

    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    digest_cls = _DIGESTS.get(digest_name)
    if digest_cls is None:
        raise InvalidSignature(f"digest algorithm {digest_name!r} is not supported")
    scheme = _signature_scheme(signer_info["signature_algorithm"], digest_name)

    cert = _signer_certificate(signed_data, signer_info["sid"])
    signature = signer_info["signature"].native
    if not isinstance(signature, bytes) or not signature:
        raise InvalidSignature("the signature value is empty")

    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, asn1_core.Void) or len(signed_attrs) == 0:
        signed_bytes = content
    else:
        _check_signed_attributes(signed_attrs, encap["content_type"].native, content, digest_cls)
        # The signature covers the DER of the attributes as a SET (tag 0x31), not as the
        # [0] IMPLICIT field they are stored in; untag() keeps the signer's exact bytes.
        signed_bytes = signed_attrs.untag().dump()

    _check_signature(cert, scheme, signature, signed_bytes, digest_cls())
    return attached, cert


def _signature_scheme(algorithm: Any, digest_name: str) -> str:
    oid = algorithm["algorithm"].dotted
    if oid == _EC_PUBLIC_KEY_OID:
        return "ecdsa"
    name = algorithm["algorithm"].native
    try:
        scheme = algorithm.signature_algo
    except ValueError:
        raise InvalidSignature(f"signature algorithm {name!r} is not supported") from None
    if scheme not in ("rsassa_pkcs1v15", "ecdsa"):
        raise InvalidSignature(f"signature algorithm {name!r} is not supported")
    # sha256_rsa and friends name a digest too; it must be the one digestAlgorithm names.
    if name != scheme:
        named_digest = str(name).rsplit("_", 1)[0]
        if named_digest not in _DIGESTS:
            raise InvalidSignature(f"signature algorithm {name!r} is not supported")
        if named_digest != digest_name:
            raise InvalidSignature(
                f"signature algorithm {name!r} does not match digest algorithm {digest_name!r}"
            )
    return str(scheme)


def _signer_certificate(signed_data: Any, sid: Any) -> x509.Certificate:
    certificates = signed_data["certificates"]
    candidates = [] if isinstance(certificates, asn1_core.Void) else list(certificates)
    chosen = sid.chosen
    for choice in candidates:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            matches = cert.serial_number == chosen["serial_number"].native and _same_name(
                cert.issuer, chosen["issuer"]
            )
        elif sid.name == "subject_key_identifier":
            matches = cert.key_identifier is not None and cert.key_identifier == chosen.native
        else:
            matches = False
        if matches:
            return x509.load_der_x509_certificate(cert.dump())
    raise InvalidSignature("the signer's certificate is not in the SignedData")


def _same_name(a: Any, b: Any) -> bool:
    """RFC 5280 name equality. asn1crypto's comparison normalises every attribute (stringprep,
    case folding) on each call, a measurable share of a device message; identical DER is the
    same name, so the normalised comparison runs only when the encodings differ."""
    return bool(a.dump() == b.dump() or a == b)


def _single_attribute(signed_attrs: Any, name: str) -> Any:
    found = [attr for attr in signed_attrs if attr["type"].native == name]
    if not found:
        return None
    if len(found) > 1 or len(found[0]["values"]) != 1:
        raise InvalidSignature(f"the {name} signed attribute must have exactly one value")
    return found[0]["values"][0].native


def _check_signed_attributes(
    signed_attrs: Any, content_type: str, content: bytes, digest_cls: type[hashes.HashAlgorithm]
) -> None:
    expected = _single_attribute(signed_attrs, "message_digest")
    if not isinstance(expected, bytes):
        raise InvalidSignature("the signed attributes have no message digest")
    hasher = hashes.Hash(digest_cls())
    hasher.update(content)
    if not hmac.compare_digest(expected, hasher.finalize()):
        raise InvalidSignature("the message digest does not match the content")
    signed_type = _single_attribute(signed_attrs, "content_type")
    if signed_type is not None and signed_type != content_type:
        raise InvalidSignature("the signed content type does not match the encapsulated content type")


def _check_signature(
    cert: x509.Certificate, scheme: str, signature: bytes, data: bytes, digest: hashes.HashAlgorithm
) -> None:
    public_key = cert.public_key()
    try:
        if scheme == "rsassa_pkcs1v15" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), digest)
        elif scheme == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(digest))
        else:
            raise InvalidSignature(f"the signer's key does not fit the {scheme} signature algorithm")
    except _SignatureMismatch:
        raise InvalidSignature("the signature does not verify with the signer's certificate") from None
