"""A bare-bones device for MDM channel tests: an enrollment made through the services, an
identity certificate issued by Quince's CA for it, and signed PUTs over real HTTP."""

from __future__ import annotations

import base64
import plistlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession

from quince.config import Settings
from quince.pki import authority
from quince.pki.authority import fingerprint_sha256, serial_hex
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import EnrollmentStarted, Flow
from quince.store.models import DeviceCertificateRow, EnrollmentUserRow

CHECKIN = "/DeviceServices/mdm/checkin"
SERVER = "/DeviceServices/mdm/server"
# The Content-Type a device sends to each URL.
CONTENT_TYPES = {CHECKIN: "application/x-apple-aspen-mdm-checkin", SERVER: "application/x-apple-aspen-mdm"}


def new_identity(issuer_cert: x509.Certificate | None = None, issuer_key: Any = None,
                 cn: str = "device") -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A client certificate; self-signed unless an issuer is given."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(issuer_cert.subject if issuer_cert else subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
            .sign(issuer_key or key, hashes.SHA256()))
    return cert, key


def mdm_signature(body: bytes, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> str:
    der = (pkcs7.PKCS7SignatureBuilder().set_data(body).add_signer(cert, key, hashes.SHA256())
           .sign(serialization.Encoding.DER,
                 [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
    return base64.b64encode(der).decode()


@dataclass
class Device:
    base_url: str
    enrollment_id: str
    token: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    started: EnrollmentStarted
    device_id: int
    session_id: int
    topic: str = "com.apple.mgmt.External.test"
    sent: list[dict[str, Any]] = field(default_factory=list)

    def headers(self, body: bytes, *, cert: x509.Certificate | None = None, key: Any = None,
                token: str | None = "default", signature: str | None = None,
                path: str = CHECKIN) -> dict[str, str]:
        headers = {"Content-Type": CONTENT_TYPES[path],
                   "Mdm-Signature": signature if signature is not None
                   else mdm_signature(body, cert or self.cert, key or self.key)}
        if token is not None:
            headers["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        return {k: v for k, v in headers.items() if v}

    async def put(self, path: str, fields: dict[str, Any], **kwargs: Any) -> httpx.Response:
        body = plistlib.dumps(fields)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            return await client.put(path, content=body, headers=self.headers(body, path=path, **kwargs))

    async def authenticate(self, **kwargs: Any) -> httpx.Response:
        return await self.put(CHECKIN, {
            "MessageType": "Authenticate", "EnrollmentID": self.enrollment_id, "Topic": self.topic,
            "OSVersion": "18.2.1", "BuildVersion": "22C161", "ProductName": "iPhone16,2",
        }, **kwargs)

    async def token_update(self, **kwargs: Any) -> httpx.Response:
        return await self.put(CHECKIN, {
            "MessageType": "TokenUpdate", "EnrollmentID": self.enrollment_id, "Topic": self.topic,
            "Token": bytes(range(32)), "PushMagic": "magic-" + self.enrollment_id[:8],
            "AwaitingConfiguration": False,
        }, **kwargs)

    async def report(self, status: str, command_uuid: str | None = None, **extra: Any) -> httpx.Response:
        fields: dict[str, Any] = {"EnrollmentID": self.enrollment_id, "Status": status, **extra}
        if command_uuid:
            fields["CommandUUID"] = command_uuid
        return await self.put(SERVER, fields)


async def enroll_device(
    session: AsyncSession, settings: Settings, base_url: str, user: EnrollmentUserRow
) -> Device:
    """A user's enrollment up to the point where the device holds its SCEP certificate."""
    started = await enrollment.start(session, user, flow=Flow.ACCOUNT, group_id=None,
                                     ttl=timedelta(minutes=30))
    assert isinstance(started, EnrollmentStarted), started
    pki = authority.ensure(settings.pki_dir, organization=settings.organization_name)
    cn = f"Quince enrollment {started.enrollment.uuid}"
    cert, key = new_identity(pki.ca_certificate, pki.ca_key, cn=cn)
    session.add(DeviceCertificateRow(
        serial=serial_hex(cert), fingerprint_sha256=fingerprint_sha256(cert),
        subject=cert.subject.rfc4514_string(), session_id=started.enrollment.id,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
    ))
    await session.commit()
    return Device(base_url, str(uuid.uuid4()).upper(), started.secret, cert, key, started,
                  started.device.id, started.enrollment.id)
