"""Throwaway keys and certificates, and a hand-made CMS SignedData builder for tampering tests.

cryptography's PKCS7SignatureBuilder only makes well-formed SHA-2 signatures; the builder here can
also make the wrong ones (bad digest attribute, swapped certificate, SHA-1, no signed attributes).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import cache

from asn1crypto import algos
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from quince.apple.cms import SigningKey

NOW = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303 - devices may still sign with SHA-1; the verifier must cope
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


@dataclass(frozen=True)
class Identity:
    cert: x509.Certificate
    key: SigningKey


@cache
def rsa_key(n: int = 0) -> rsa.RSAPrivateKey:
    """The n-th throwaway RSA key (cached: RSA generation is the slow part of these tests)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key(n: int = 0) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def certificate(
    subject: str,
    key: SigningKey,
    *,
    issuer: Identity | None = None,
    serial: int = 1000,
    ca: bool = False,
    ski: bool = True,
) -> x509.Certificate:
    """A certificate for `key`, issued by `issuer` (self-signed when None)."""
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(issuer.cert.subject if issuer else name(subject))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW)
        .not_valid_after(NOW + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    return builder.sign(signer_key, hashes.SHA256())


@cache
def ca_identity() -> Identity:
    key = rsa_key(1)
    return Identity(certificate("Quince Test CA", key, ca=True, serial=1), key)


@cache
def device_identity(kind: str = "rsa") -> Identity:
    """A device identity issued by `ca_identity()`, with an RSA or an EC key."""
    key: SigningKey = rsa_key(2) if kind == "rsa" else ec_key(2)
    return Identity(
        certificate(f"device {kind}", key, issuer=ca_identity(), serial=2000 if kind == "rsa" else 2001), key
    )


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def digest(data: bytes, algorithm: str = "sha256") -> bytes:
    h = hashes.Hash(HASHES[algorithm])
    h.update(data)
    return h.finalize()


def handmade_signed_data(
    content: bytes,
    signer: Identity,
    *,
    digest_algorithm: str = "sha256",
    with_signed_attributes: bool = True,
    message_digest: bytes | None = None,
    detached: bool = False,
    embedded_certificate: x509.Certificate | None = None,
    by_key_identifier: bool = False,
    signature_algorithm: str | None = None,
    content_type_attribute: str = "data",
) -> bytes:
    """A DER SignedData built field by field, so that any one field can be made wrong."""
    cert = asn1_x509.Certificate.load(der(signer.cert))
    hash_algorithm = HASHES[digest_algorithm]
    attributes = asn1_cms.CMSAttributes(
        [
            asn1_cms.CMSAttribute({"type": "content_type", "values": [content_type_attribute]}),
            asn1_cms.CMSAttribute(
                {"type": "message_digest", "values": [message_digest or digest(content, digest_algorithm)]}
            ),
        ]
    )
    to_sign = attributes.dump() if with_signed_attributes else content
    if isinstance(signer.key, rsa.RSAPrivateKey):
        signature = signer.key.sign(to_sign, padding.PKCS1v15(), hash_algorithm)
        default_algorithm = "rsassa_pkcs1v15"
    else:
        signature = signer.key.sign(to_sign, ec.ECDSA(hash_algorithm))
        default_algorithm = f"{digest_algorithm}_ecdsa"
    if by_key_identifier:
        sid = asn1_cms.SignerIdentifier({"subject_key_identifier": cert.key_identifier})
    else:
        sid = asn1_cms.SignerIdentifier(
            {
                "issuer_and_serial_number": asn1_cms.IssuerAndSerialNumber(
                    {"issuer": cert.issuer, "serial_number": cert.serial_number}
                )
            }
        )
    signer_info = {
        "version": "v3" if by_key_identifier else "v1",
        "sid": sid,
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_algorithm}),
        "signature_algorithm": algos.SignedDigestAlgorithm(
            {"algorithm": signature_algorithm or default_algorithm}
        ),
        "signature": signature,
    }
    if with_signed_attributes:
        signer_info["signed_attrs"] = attributes
    embedded = asn1_x509.Certificate.load(der(embedded_certificate or signer.cert))
    signed_data = asn1_cms.SignedData(
        {
            "version": "v3" if by_key_identifier else "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_algorithm})],
            "encap_content_info": {"content_type": "data", "content": None if detached else content},
            "certificates": [embedded],
            "signer_infos": [asn1_cms.SignerInfo(signer_info)],
        }
    )
    return bytes(asn1_cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())
