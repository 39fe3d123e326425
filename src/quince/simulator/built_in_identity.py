"""The device's built-in identity, which signs MachineInfo in the account-driven enrollment POSTs.

A real iPhone signs with a key whose certificate chains to Apple's device CA. The simulator makes a
throwaway stand-in: one "device CA" per process and an EC P-256 leaf per device (cheap to make, so
hundreds of simulated devices start quickly). Quince checks that MachineInfo is well signed, not
that it chains to Apple, so the stand-in is accepted like a real one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class BuiltInIdentity:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()

    def sign(self, content: bytes) -> bytes:
        """DER SignedData with `content` attached (the body of the enrollment POST)."""
        builder = (pkcs7.PKCS7SignatureBuilder().set_data(content)
                   .add_signer(self.certificate, self.key, hashes.SHA256()))
        for extra in self.chain:
            builder = builder.add_certificate(extra)
        return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Quince simulator"),
    ])


@functools.cache
def _device_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Simulated iPhone Device CA")
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def new_built_in_identity(device_label: str) -> BuiltInIdentity:
    """A fresh device identity issued by the process's simulated device CA."""
    ca_certificate, ca_key = _device_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(_name(device_label)).issuer_name(ca_certificate.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return BuiltInIdentity(certificate, key, (ca_certificate,))
