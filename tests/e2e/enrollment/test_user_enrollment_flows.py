"""User Enrollment end to end over real HTTP, as an iPhone and its sign-in sheet would do it:
discovery, the signed MachineInfo POST, the 401 challenge, the sign-in pages, the 308 with the
access token, the bearer POST, the signed profile, and SCEP; and the legacy web (Safari) flow."""

from __future__ import annotations

import logging
import plistlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.apple import cms
from quince.config import Settings
from quince.pki import authority
from quince.services.directory import og_settings, org_groups, users
from quince.services.scope import Scope
from quince.store.models import DeviceCertificateRow, DeviceRow, EnrollmentSessionRow
from tests.support_scep import scep_enroll_async

PASSWORD = "Maria-pass-1"
ADDRESS = "maria@acme.example"


@dataclass(frozen=True)
class Tenant:
    acme: int
    user_id: int


@pytest.fixture
async def tenant(session: AsyncSession, scope: Scope) -> Tenant:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    await og_settings.override(session, scope, acme.id, "user_enrollment_enabled", True)
    user = await users.add(session, scope, username="maria", email=ADDRESS, og_id=acme.id,
                           password=PASSWORD, managed_apple_id="maria@appleid.acme.example")
    await session.commit()
    return Tenant(acme.id, user.id)


def device_identity() -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """Stands in for the device's built-in identity that signs MachineInfo."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Apple iPhone Device CA test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return cert, key


def machine_info_body() -> bytes:
    cert, key = device_identity()
    info = plistlib.dumps({"LANGUAGE": "en-GB", "PRODUCT": "iPhone16,2", "VERSION": "22C161",
                           "OS_VERSION": "18.2.1", "UDID": "must-not-be-stored"})
    return (pkcs7.PKCS7SignatureBuilder().set_data(info).add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.DER, []))


def _challenge_url(header: str) -> str:
    assert header.startswith("Bearer ")
    assert 'method="apple-as-web"' in header
    match = re.search(r'url="([^"]+)"', header)
    assert match, header
    return match.group(1)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


def _payloads(profile_der: bytes, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify the profile's signature against Quince's signing certificate; return (SCEP, MDM)."""
    content, signer = cms.verify_attached(profile_der)
    pki = authority.load(settings.pki_dir)
    assert signer == pki.signing_certificate
    assert cms.issued_by(signer, pki.ca_certificate)
    profile = plistlib.loads(content)
    assert profile["PayloadType"] == "Configuration"
    by_type = {p["PayloadType"]: p for p in profile["PayloadContent"]}
    return by_type["com.apple.security.scep"], by_type["com.apple.mdm"]


async def test_account_driven_user_enrollment_end_to_end(
    live_server: str, live_settings: Settings, session: AsyncSession, tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="quince")
    body = machine_info_body()
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as device, \
            httpx.AsyncClient(base_url=live_server, timeout=30) as sign_in_sheet:
        found = await device.get("/.well-known/com.apple.remotemanagement",
                                 params={"user-identifier": ADDRESS, "model-family": "iPhone"})
        assert found.status_code == 200
        servers = found.json()["Servers"]
        assert [s["Version"] for s in servers] == ["mdm-byod"]
        base_url = servers[0]["BaseURL"]
        assert base_url.startswith(live_server + "/DeviceServices/")

        headers = {"Content-Type": "application/pkcs7-signature"}
        first = await device.post(base_url, content=body, headers=headers)
        assert first.status_code == 401
        sign_in_url = _challenge_url(first.headers["WWW-Authenticate"])
        assert "?" not in sign_in_url  # the device appends user-identifier itself

        form = await sign_in_sheet.get(sign_in_url, params={"user-identifier": ADDRESS})
        assert form.status_code == 200
        assert f'value="{ADDRESS}"' in form.text  # email prefilled from user-identifier
        answer = await sign_in_sheet.post(
            sign_in_url, follow_redirects=False,
            data={"csrf_token": _csrf(form.text), "user_identifier": ADDRESS, "email": ADDRESS,
                  "password": PASSWORD, "group_id": ""},
        )
        assert answer.status_code == 308
        location = urlsplit(answer.headers["location"])
        assert (location.scheme, location.netloc, location.path) == (
            "apple-remotemanagement-user-login", "authentication-results", "")
        token = parse_qs(location.query)["access-token"][0]

        second = await device.post(base_url, content=body,
                                   headers={**headers, "Authorization": f"Bearer {token}"})
        assert second.status_code == 200
        assert second.headers["content-type"] == "application/x-apple-aspen-config"
        scep, mdm = _payloads(second.content, live_settings)

        assert mdm["EnrollmentMode"] == "BYOD"
        assert mdm["AssignedManagedAppleID"] == "maria@appleid.acme.example"
        assert "AccessRights" not in mdm and "ManagedAppleID" not in mdm
        assert mdm["IdentityCertificateUUID"] == scep["PayloadUUID"]
        assert mdm["SignMessage"] is True and mdm["CheckOutWhenRemoved"] is True
        assert mdm["ServerURL"].startswith(live_server + "/DeviceServices/")
        assert mdm["CheckInURL"].startswith(live_server + "/DeviceServices/")
        assert mdm["Topic"].startswith("com.apple.mgmt.")
        assert scep["PayloadContent"]["Keysize"] == 2048
        assert scep["PayloadContent"]["URL"] == live_server + "/DeviceServices/scep"

        _key, certificate = await scep_enroll_async(device, scep["PayloadContent"]["Challenge"])

    pki = authority.load(live_settings.pki_dir)
    assert cms.issued_by(certificate, pki.ca_certificate)
    session.expire_all()
    enrollment = await session.scalar(select(EnrollmentSessionRow))
    assert enrollment is not None
    assert enrollment.flow == "account"
    assert enrollment.machine_info is not None
    assert enrollment.machine_info["PRODUCT"] == "iPhone16,2"
    assert enrollment.machine_info_raw is not None
    assert plistlib.loads(enrollment.machine_info_raw)["LANGUAGE"] == "en-GB"
    # Rule 3: no hardware identity is kept, not even in the raw MachineInfo.
    assert "must-not-be-stored" not in repr(enrollment.machine_info) + repr(enrollment.machine_info_raw)
    stored = await session.scalar(select(DeviceCertificateRow))
    assert stored is not None
    assert stored.session_id == enrollment.id
    assert int(stored.serial, 16) == certificate.serial_number
    placeholder = await session.get(DeviceRow, enrollment.device_id)
    assert placeholder is not None
    assert (placeholder.enrollment_status, placeholder.ownership, placeholder.udid) == (
        "EnrollmentInProgress", "E", None)

    services = [(r.event, r.outcome) for r in caplog.records  # type: ignore[attr-defined]
                if r.name == "quince.DeviceServices"]
    assert ("discovery", "served") in services
    assert ("enroll.request", "challenged") in services
    assert ("enroll.profile", "delivered") in services
    management = [r for r in caplog.records if r.name == "quince.DeviceManagement"]
    assert any(getattr(r, "enrollment", None) == enrollment.uuid for r in management)
    logged = "\n".join(str(r.__dict__) for r in caplog.records)
    for secret in (token, PASSWORD, scep["PayloadContent"]["Challenge"]):
        assert secret not in logged


async def test_web_enrollment_downloads_a_profile_with_the_managed_apple_id_once(
    live_server: str, live_settings: Settings, session: AsyncSession, tenant: Tenant
) -> None:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as safari:
        form = await safari.get("/DeviceManagement/Enrollment")
        assert form.status_code == 200
        answer = await safari.post(
            "/DeviceManagement/Enrollment", follow_redirects=False,
            data={"csrf_token": _csrf(form.text), "email": ADDRESS, "password": PASSWORD,
                  "group_id": "", "user_identifier": ""},
        )
        assert answer.status_code == 303
        download = answer.headers["location"]
        assert download.startswith("/DeviceServices/Enrollment/profile?token=")
        profile = await safari.get(download)
        assert profile.status_code == 200
        assert profile.headers["content-type"] == "application/x-apple-aspen-config"
        scep, mdm = _payloads(profile.content, live_settings)
        assert mdm["ManagedAppleID"] == "maria@appleid.acme.example"
        assert "EnrollmentMode" not in mdm and "AssignedManagedAppleID" not in mdm
        assert "AccessRights" not in mdm
        again = await safari.get(download)
        assert again.status_code == 403
        _key, certificate = await scep_enroll_async(safari, scep["PayloadContent"]["Challenge"])
    assert certificate.serial_number > 0


async def test_discovery_refuses_a_domain_quince_does_not_enroll(live_server: str, tenant: Tenant) -> None:
    async with httpx.AsyncClient(base_url=live_server) as device:
        for identifier in ("someone@elsewhere.example", "not-an-address"):
            answer = await device.get("/.well-known/com.apple.remotemanagement",
                                      params={"user-identifier": identifier, "model-family": "iPhone"})
            assert answer.status_code == 403
            assert answer.json()["code"] == "com.apple.well-known.failed"


async def test_a_malformed_enrollment_post_is_a_400_never_a_401(live_server: str, tenant: Tenant) -> None:
    async with httpx.AsyncClient(base_url=live_server) as device:
        answer = await device.post("/DeviceServices/Enrollment/byod", content=b"\x30\x82garbage")
        assert answer.status_code == 400
        too_big = await device.post("/DeviceServices/Enrollment/byod", content=b"x" * (70 * 1024))
        assert too_big.status_code == 413


async def test_a_forged_or_web_flow_token_gets_the_challenge_again(
    live_server: str, tenant: Tenant
) -> None:
    body = machine_info_body()
    async with httpx.AsyncClient(base_url=live_server) as device:
        answer = await device.post("/DeviceServices/Enrollment/byod", content=body,
                                   headers={"Authorization": "Bearer forged-token-value"})
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer method=\"apple-as-web\"")
