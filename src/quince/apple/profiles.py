"""The enrollment configuration profile (reference §4): a SCEP payload and a `com.apple.mdm` payload.

One builder serves both flows: account-driven enrollment (`EnrollmentMode` BYOD and
`AssignedManagedAppleID`) and the profile-based web flow of iOS 13-17 (`ManagedAppleID`). Neither
carries `AccessRights` (ignored under User Enrollment, and with BYOD the device cancels) or
`PayloadRemovalDisallowed` (forbidden under User Enrollment). Output is deterministic for a given spec.
"""

from __future__ import annotations

import plistlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography import x509

from quince.apple import cms
from quince.apple.discovery import parse_user_identifier
from quince.apple.errors import InvalidProfileSpec, InvalidServiceURL, InvalidUserIdentifier
from quince.apple.urls import check_service_url

PROFILE_CONTENT_TYPE = "application/x-apple-aspen-config"
MDM_TOPIC_PREFIX = "com.apple.mgmt."
SCEP_KEY_SIZE = 2048
SCEP_KEY_TYPE = "RSA"
SCEP_KEY_USAGE = 5  # 1 (digital signature) | 4 (key encipherment): TLS client auth and CMS signing
BYOD_ENROLLMENT_MODE = "BYOD"
# Fixed namespace so that PayloadUUIDs derived from a seed are the same on every run and host.
_UUID_NAMESPACE = uuid.UUID("6f1c1d1e-3b9a-5c8e-9f59-0b7c2a4e51d0")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9][A-Za-z0-9-]*)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EnrollmentFlow(StrEnum):
    ACCOUNT_DRIVEN = "account_driven"  # iOS 15+, the only User Enrollment on iOS 18+
    WEB = "web"  # profile-based, downloaded in Safari (iOS 13-17)


@dataclass(frozen=True)
class EnrollmentProfileSpec:
    """Everything the enrollment profile says.

    PayloadUUIDs are derived from `uuid_seed` (e.g. the enrollment session id) unless given.
    `allow_insecure` admits http ServerURL/CheckInURL, for tests and local demos only.
    """

    flow: EnrollmentFlow
    server_url: str
    checkin_url: str | None
    scep_url: str
    scep_challenge: str
    scep_subject_cn: str
    topic: str
    managed_apple_id: str
    organization: str
    identifier_prefix: str
    uuid_seed: str
    profile_uuid: uuid.UUID | None = None
    scep_payload_uuid: uuid.UUID | None = None
    mdm_payload_uuid: uuid.UUID | None = None
    scep_name: str | None = None
    scep_ca_fingerprint: bytes | None = None
    server_capabilities: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None
    use_development_apns: bool = False
    allow_insecure: bool = False

    def payload_uuid(self, role: str) -> str:
        """The PayloadUUID of `role` ("profile", "scep" or "mdm"), upper-case as Apple writes them."""
        given = {"profile": self.profile_uuid, "scep": self.scep_payload_uuid, "mdm": self.mdm_payload_uuid}
        if role not in given:
            raise ValueError(f"unknown payload role {role!r}")
        value = given[role] or uuid.uuid5(_UUID_NAMESPACE, f"{self.uuid_seed}/{role}")
        return str(value).upper()


def enrollment_profile_identifier(identifier_prefix: str) -> str:
    """The PayloadIdentifier of the enrollment profile built with this prefix: what a RemoveProfile
    names to remove management (the managed volume, its apps and accounts go with it)."""
    return f"{identifier_prefix}.enrollment"


def build_enrollment_profile(spec: EnrollmentProfileSpec) -> dict[str, Any]:
    """The profile as a plist-ready dict; raises `InvalidProfileSpec` for inputs Apple would reject."""
    _validate(spec)
    prefix = spec.identifier_prefix
    organization = spec.organization
    scep_uuid = spec.payload_uuid("scep")

    scep_content: dict[str, Any] = {
        "URL": spec.scep_url,
        "Subject": [[["CN", spec.scep_subject_cn]]],
        "Challenge": spec.scep_challenge,
        "Keysize": SCEP_KEY_SIZE,
        "Key Type": SCEP_KEY_TYPE,
        "Key Usage": SCEP_KEY_USAGE,
    }
    if spec.scep_name is not None:
        scep_content["Name"] = spec.scep_name
    if spec.scep_ca_fingerprint is not None:
        scep_content["CAFingerprint"] = spec.scep_ca_fingerprint
    scep_payload: dict[str, Any] = {
        "PayloadType": "com.apple.security.scep",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{prefix}.enrollment.scep",
        "PayloadUUID": scep_uuid,
        "PayloadDisplayName": "Device identity certificate",
        "PayloadDescription": f"Requests the certificate that identifies this enrollment to {organization}.",
        "PayloadOrganization": organization,
        "PayloadContent": scep_content,
    }

    mdm_payload: dict[str, Any] = {
        "PayloadType": "com.apple.mdm",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{prefix}.enrollment.mdm",
        "PayloadUUID": spec.payload_uuid("mdm"),
        "PayloadDisplayName": "Mobile device management",
        "PayloadDescription": f"Lets {organization} manage work apps, accounts and data.",
        "PayloadOrganization": organization,
        "IdentityCertificateUUID": scep_uuid,
        "Topic": spec.topic,
        "ServerURL": spec.server_url,
        "SignMessage": True,
        "CheckOutWhenRemoved": True,
    }
    if spec.checkin_url is not None:
        mdm_payload["CheckInURL"] = spec.checkin_url
    if spec.server_capabilities:
        mdm_payload["ServerCapabilities"] = list(spec.server_capabilities)
    if spec.use_development_apns:
        mdm_payload["UseDevelopmentAPNS"] = True
    if spec.flow is EnrollmentFlow.ACCOUNT_DRIVEN:
        mdm_payload["EnrollmentMode"] = BYOD_ENROLLMENT_MODE
        mdm_payload["AssignedManagedAppleID"] = spec.managed_apple_id
    else:
        mdm_payload["ManagedAppleID"] = spec.managed_apple_id

    return {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": enrollment_profile_identifier(prefix),
        "PayloadUUID": spec.payload_uuid("profile"),
        "PayloadDisplayName": spec.display_name or f"{organization} Work Management",
        "PayloadDescription": spec.description
        or (
            f"Enrolls this device in {organization}'s management for work apps, accounts and data. "
            f"{organization} cannot see your personal apps, data or this device's hardware identifiers."
        ),
        "PayloadOrganization": organization,
        "PayloadContent": [scep_payload, mdm_payload],
    }


def enrollment_profile_plist(spec: EnrollmentProfileSpec) -> bytes:
    """The profile as XML plist bytes (unsigned)."""
    return plistlib.dumps(build_enrollment_profile(spec), fmt=plistlib.FMT_XML, sort_keys=True)


def signed_enrollment_profile(
    spec: EnrollmentProfileSpec,
    cert: x509.Certificate,
    key: cms.SigningKey,
    chain: Iterable[x509.Certificate] = (),
) -> bytes:
    """The profile plist in a CMS SignedData (DER), the body served as `PROFILE_CONTENT_TYPE`."""
    return cms.sign(enrollment_profile_plist(spec), cert, key, chain)


def _validate(spec: EnrollmentProfileSpec) -> None:
    if not isinstance(spec.flow, EnrollmentFlow):
        raise InvalidProfileSpec("flow", f"{spec.flow!r} is not an EnrollmentFlow")
    try:
        check_service_url(spec.server_url, "ServerURL", allow_insecure=spec.allow_insecure)
        if spec.checkin_url is not None:
            check_service_url(spec.checkin_url, "CheckInURL", allow_insecure=spec.allow_insecure)
        # SCEP messages are protected by CMS, so Apple lets the SCEP URL be plain http.
        check_service_url(spec.scep_url, "SCEP URL", schemes=("https", "http"))
    except InvalidServiceURL as exc:
        raise InvalidProfileSpec(exc.field, exc.message) from None
    if not spec.topic.startswith(MDM_TOPIC_PREFIX) or len(spec.topic) == len(MDM_TOPIC_PREFIX):
        raise InvalidProfileSpec("Topic", f"{spec.topic!r} must start with {MDM_TOPIC_PREFIX!r}")
    _text("Challenge", spec.scep_challenge)
    _text("Subject CN", spec.scep_subject_cn)
    _text("PayloadOrganization", spec.organization)
    _text("uuid_seed", spec.uuid_seed)
    for name, value in (("PayloadDisplayName", spec.display_name), ("Name", spec.scep_name)):
        if value is not None:
            _text(name, value)
    if not _IDENTIFIER.fullmatch(spec.identifier_prefix):
        raise InvalidProfileSpec(
            "PayloadIdentifier", f"{spec.identifier_prefix!r} must be a reverse-DNS name like com.example.mdm"
        )
    try:
        parse_user_identifier(spec.managed_apple_id)
    except InvalidUserIdentifier as exc:
        raise InvalidProfileSpec("ManagedAppleID", exc.message) from None
    for capability in spec.server_capabilities:
        _text("ServerCapabilities", capability)


def _text(field: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidProfileSpec(field, "it must not be empty")
    if _CONTROL.search(value):
        raise InvalidProfileSpec(field, "it must not contain control characters")
