"""The SCEP exchange over HTTP: GetCACaps and GetCACert, then one PKCSReq (POST, or GET with the
message in the query), answered with the issued identity."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from quince.simulator.scep_client.ca import CaCapabilities, ScepCa, describe_ca, parse_ca_certificates
from quince.simulator.scep_client.protocol import PKI_MESSAGE_TYPE, ScepError
from quince.simulator.scep_client.reply import issued_certificate, read_cert_rep
from quince.simulator.scep_client.request import build_pkcs_req


@dataclass(frozen=True)
class ScepIdentity:
    """The outcome of an enrollment: the new key, its certificate, and the CA that issued it."""

    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate
    ca: x509.Certificate


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
