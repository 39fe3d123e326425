"""The CA as GetCACaps and GetCACert describe it: its capabilities, its certificate and the one to
encrypt requests to (an RA if it has one)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID

from quince.simulator.scep_client.protocol import ScepError


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

