"""The enrollment profile as the device reads it: check the signature, find the identity and MDM
payloads, and refuse what iOS refuses for account-driven User Enrollment (reference §4, §5 step 7).

The signature is checked with quince.apple.cms (verification only; the simulator signs everything
itself with `cryptography`), and the signer must chain to the CA the device later gets from SCEP
GetCACert.
"""

from __future__ import annotations

import hashlib
import plistlib
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _SignatureMismatch
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from quince.apple import cms
from quince.apple.errors import InvalidSignature
from quince.simulator.errors import ProtocolViolation

STEP = "enroll.profile"


@dataclass(frozen=True)
class ScepPayload:
    url: str
    challenge: str | None
    subject: Any  # [[["CN", "…"]], …] as in the profile
    key_size: int
    ca_fingerprint: bytes | None
    payload_uuid: str


@dataclass(frozen=True)
class MdmPayload:
    server_url: str
    checkin_url: str
    topic: str
    sign_message: bool
    check_out_when_removed: bool
    assigned_managed_apple_id: str
    enrollment_mode: str
    identity_certificate_uuid: str


@dataclass(frozen=True)
class EnrollmentProfile:
    """A verified enrollment profile; `plist` is the whole Configuration, as installed."""

    identifier: str
    uuid: str
    display_name: str
    organization: str
    scep: ScepPayload
    mdm: MdmPayload
    signer: x509.Certificate = field(repr=False)
    plist: dict[str, Any] = field(repr=False)


def _require(condition: object, message: str) -> None:
    if not condition:
        raise ProtocolViolation(STEP, message)


def read_profile(der: bytes) -> EnrollmentProfile:
    """Verify the CMS signature and read the payloads; ProtocolViolation where iOS would cancel."""
    try:
        content, signer = cms.verify_attached(der)
    except InvalidSignature as exc:
        raise ProtocolViolation(STEP, f"the profile's signature does not verify ({exc.message})") from None
    try:
        profile = plistlib.loads(content)
    except (plistlib.InvalidFileException, ValueError) as exc:
        raise ProtocolViolation(STEP, f"the signed content is not a plist ({exc})") from None
    _require(isinstance(profile, dict) and profile.get("PayloadType") == "Configuration",
             "the profile is not a Configuration")
    payloads = profile.get("PayloadContent")
    _require(isinstance(payloads, list) and all(isinstance(p, dict) for p in payloads),
             "PayloadContent is not a list of payloads")
    mdm_payloads = [p for p in payloads if p.get("PayloadType") == "com.apple.mdm"]
    _require(len(mdm_payloads) == 1, f"expected one com.apple.mdm payload, found {len(mdm_payloads)}")
    mdm = mdm_payloads[0]
    identity_uuid = mdm.get("IdentityCertificateUUID")
    scep_payloads = [p for p in payloads if p.get("PayloadType") == "com.apple.security.scep"
                     and p.get("PayloadUUID") == identity_uuid]
    _require(scep_payloads, "IdentityCertificateUUID names no SCEP payload of the profile")
    return EnrollmentProfile(
        identifier=str(profile.get("PayloadIdentifier", "")),
        uuid=str(profile.get("PayloadUUID", "")),
        display_name=str(profile.get("PayloadDisplayName", "")),
        organization=str(profile.get("PayloadOrganization", "")),
        scep=_scep(scep_payloads[0]),
        mdm=_mdm(mdm),
        signer=signer,
        plist=profile,
    )


def _scep(payload: dict[str, Any]) -> ScepPayload:
    content = payload.get("PayloadContent")
    _require(isinstance(content, dict) and isinstance(content.get("URL"), str), "the SCEP payload has no URL")
    assert isinstance(content, dict)
    key_type = content.get("Key Type", "RSA")
    _require(key_type == "RSA", f"SCEP Key Type {key_type!r} is not supported")
    key_size = content.get("Keysize", 1024)
    _require(key_size in (1024, 2048, 4096), f"SCEP Keysize {key_size!r} is not one iOS accepts")
    fingerprint = content.get("CAFingerprint")
    return ScepPayload(
        url=content["URL"], challenge=content.get("Challenge"), subject=content.get("Subject"),
        key_size=int(key_size), ca_fingerprint=bytes(fingerprint) if fingerprint else None,
        payload_uuid=str(payload.get("PayloadUUID")),
    )


def _mdm(payload: dict[str, Any]) -> MdmPayload:
    # Account-driven User Enrollment: the client cancels without these, or with AccessRights.
    _require(payload.get("EnrollmentMode") == "BYOD", "EnrollmentMode is not BYOD")
    managed_apple_id = payload.get("AssignedManagedAppleID")
    _require(isinstance(managed_apple_id, str) and managed_apple_id, "AssignedManagedAppleID is missing")
    _require("AccessRights" not in payload, "AccessRights must be absent with EnrollmentMode BYOD")
    topic = payload.get("Topic")
    _require(isinstance(topic, str) and topic.startswith("com.apple.mgmt."),
             f"Topic {topic!r} is not an MDM push topic")
    server_url = payload.get("ServerURL")
    _require(isinstance(server_url, str) and server_url, "ServerURL is missing")
    assert isinstance(server_url, str) and isinstance(topic, str) and isinstance(managed_apple_id, str)
    return MdmPayload(
        server_url=server_url,
        checkin_url=str(payload.get("CheckInURL") or server_url),
        topic=topic,
        sign_message=bool(payload.get("SignMessage", False)),
        check_out_when_removed=bool(payload.get("CheckOutWhenRemoved", False)),
        assigned_managed_apple_id=managed_apple_id,
        enrollment_mode="BYOD",
        identity_certificate_uuid=str(payload.get("IdentityCertificateUUID")),
    )


def check_scep_ca(profile: EnrollmentProfile, ca: x509.Certificate) -> None:
    """The CA from GetCACert must match the profile's CAFingerprint (when given) and must have
    issued the profile's signing certificate."""
    if profile.scep.ca_fingerprint is not None:
        der = ca.public_bytes(serialization.Encoding.DER)
        # iOS accepts an MD5 or SHA-1 fingerprint; SHA-256 is checked too for newer servers.
        digests = {hashlib.md5(der, usedforsecurity=False).digest(),
                   hashlib.sha1(der, usedforsecurity=False).digest(), hashlib.sha256(der).digest()}
        _require(profile.scep.ca_fingerprint in digests,
                 "the SCEP CA does not match the profile's CAFingerprint")
    if profile.signer == ca:
        return
    try:
        profile.signer.verify_directly_issued_by(ca)
    except (ValueError, TypeError, _SignatureMismatch, UnsupportedAlgorithm):
        raise ProtocolViolation(STEP, "the profile's signer is not issued by the SCEP CA") from None
