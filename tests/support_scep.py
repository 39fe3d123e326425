"""The SCEP client for tests: the simulator's own (quince.simulator.scep_client), which imports nothing
from quince.pki, plus the one-call helpers end-to-end tests use.

`scep_enroll_async(base_url_or_client, challenge)` is what an end-to-end test needs: a fresh RSA key,
a CSR with the challenge, and the certificate Quince issues for it. The lower-level pieces
(`build_pkcs_req`, `read_cert_rep`) let tests tamper with requests and inspect replies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from quince.simulator.scep_client import (
    BAD_REQUEST,
    FAIL_INFO,
    MESSAGE_TYPE,
    PKCS_REQ,
    PKI_STATUS,
    RECIPIENT_NONCE,
    SCEP_PATH,
    SENDER_NONCE,
    TRANSACTION_ID,
    CertRep,
    PendingRequest,
    ScepError,
    ScepFailure,
    build_pkcs_req,
    enroll,
    envelope,
    get_query_message,
    make_csr,
    new_key,
    read_cert_rep,
    self_signed,
    sign_pki_message,
)

__all__ = [
    "BAD_REQUEST", "FAIL_INFO", "MESSAGE_TYPE", "PKCS_REQ", "PKI_STATUS", "RECIPIENT_NONCE", "SCEP_PATH",
    "SENDER_NONCE", "TRANSACTION_ID", "CertRep", "PendingRequest", "ScepError", "ScepFailure",
    "build_pkcs_req", "envelope", "get_query_message", "make_csr", "new_key", "read_cert_rep",
    "scep_enroll", "scep_enroll_async", "self_signed", "sign_pki_message",
]


async def scep_enroll_async(
    base_url_or_client: str | httpx.AsyncClient, challenge: str, *,
    common_name: str | Sequence[Sequence[Sequence[str]]] = "Quince test device",
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """Enroll as a device over HTTP (GetCACaps, GetCACert, then a PKCSReq); ScepFailure when refused.
    `common_name` is the CSR's subject: a common name, or a profile-style [[["CN", "…"]], …]."""
    if isinstance(base_url_or_client, str):
        async with httpx.AsyncClient(base_url=base_url_or_client, timeout=30) as client:
            identity = await enroll(client, SCEP_PATH, challenge, subject=common_name)
    else:
        identity = await enroll(base_url_or_client, SCEP_PATH, challenge, subject=common_name)
    return identity.key, identity.certificate


def scep_enroll(
    base_url: str, challenge: str, *, common_name: str = "Quince test device"
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """`scep_enroll_async` for synchronous tests (not from inside a running event loop)."""
    return asyncio.run(scep_enroll_async(base_url, challenge, common_name=common_name))
