"""The signed enrollment profile a device receives at the end of sign-in (account-driven or web).

It carries a SCEP payload with a fresh single-use challenge bound to the enrollment session, and
the com.apple.mdm payload naming Quince's check-in and server URLs. Built by quince.apple.profiles,
signed with Quince's profile-signing identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quince.apple.profiles import (
    EnrollmentFlow,
    EnrollmentProfileSpec,
    enrollment_profile_identifier,
    signed_enrollment_profile,
)
from quince.pki.authority import Pki, device_common_name
from quince.services.enrollment import scep
from quince.services.enrollment.sessions import Flow, SessionStatus, mark
from quince.store.database import Db
from quince.store.models import EnrollmentSessionRow

CHECKIN_PATH = "/DeviceServices/mdm/checkin"
SERVER_PATH = "/DeviceServices/mdm/server"
SCEP_PATH = "/DeviceServices/scep"
IDENTIFIER_PREFIX = "org.quince.enrollment"
MDM_PROFILE_IDENTIFIER = enrollment_profile_identifier(IDENTIFIER_PREFIX)
"""The enrollment profile's PayloadIdentifier: RemoveProfile with it is the Enterprise Wipe."""
# A device may fetch the profile just before its session expires; SCEP still gets a moment.
_MIN_CHALLENGE_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class ProfileSettings:
    public_url: str
    topic: str
    organization: str


async def deliver(
    db: Db, pki: Pki, settings: ProfileSettings, enrollment: EnrollmentSessionRow
) -> bytes:
    """The signed profile for this session (DER); each delivery issues a new SCEP challenge,
    valid until the session expires."""
    expires = enrollment.expires_at
    if expires.tzinfo is None:  # SQLite hands back naive UTC
        expires = expires.replace(tzinfo=UTC)
    ttl = max(expires - datetime.now(UTC), _MIN_CHALLENGE_TTL)
    challenge = await scep.issue_challenge(db, enrollment.id, ttl=ttl)
    spec = EnrollmentProfileSpec(
        flow=(EnrollmentFlow.ACCOUNT_DRIVEN if enrollment.flow == Flow.ACCOUNT.value
              else EnrollmentFlow.WEB),
        server_url=settings.public_url + SERVER_PATH,
        checkin_url=settings.public_url + CHECKIN_PATH,
        scep_url=settings.public_url + SCEP_PATH,
        scep_challenge=challenge,
        # No hardware identity anywhere: the certificate names the enrollment, nothing else. The
        # CA sets that subject itself whatever the CSR says; asking for it keeps the two alike.
        scep_subject_cn=device_common_name(enrollment.uuid),
        topic=settings.topic,
        managed_apple_id=enrollment.managed_apple_id,
        organization=settings.organization,
        identifier_prefix=IDENTIFIER_PREFIX,
        uuid_seed=enrollment.uuid,
        allow_insecure=not settings.public_url.startswith("https://"),
    )
    profile = signed_enrollment_profile(spec, pki.signing_certificate, pki.signing_key)
    await mark(db, enrollment, SessionStatus.PROFILE_DELIVERED)
    return profile

