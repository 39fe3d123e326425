"""SCEP challenges and certificate issuance: a device gets its identity certificate only with a
single-use, expiring challenge that belongs to exactly one enrollment session.

The challenge goes into the enrollment profile's SCEP payload; only its SHA-256 is stored
(EnrollmentSecretRow, kind "scep_challenge"). Redeeming it, issuing the certificate and recording
it (DeviceCertificateRow, linked to the session) happen in the caller's transaction, so a refused
or failed request leaves nothing behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography.hazmat.primitives import serialization

from quince.pki import scep
from quince.pki.authority import (
    DEVICE_DAYS,
    CertificateRequestRefused,
    Pki,
    fingerprint_sha256,
    serial_hex,
    validate_device_csr,
)
from quince.services.enrollment.sessions import SecretKind, SessionStatus, secret_hash
from quince.store import enrollment_sessions as session_store
from quince.store.database import Db
from quince.store.models import (
    DeviceCertificateRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
)

CHALLENGE_KIND = SecretKind.SCEP_CHALLENGE.value


class Outcome(StrEnum):
    """How a PKIOperation ended, for the DeviceServices log."""

    ISSUED = "issued"
    UNKNOWN_CHALLENGE = "refused:unknown_challenge"
    NO_CHALLENGE = "refused:no_challenge"
    USED_CHALLENGE = "refused:challenge_used"
    EXPIRED_CHALLENGE = "refused:challenge_expired"
    BAD_REQUEST = "refused:bad_request"


@dataclass(frozen=True)
class PkiOperationResult:
    """The CertRep to send back, and what happened (never the challenge itself)."""

    body: bytes
    outcome: Outcome
    reason: str
    transaction_id: str
    enrollment: str | None = None  # the session's uuid, once the challenge named one
    device: str | None = None  # the placeholder device record's uuid
    user: str | None = None  # the enrolling user's username
    serial: str | None = None  # the issued certificate's serial (lowercase hex)
    fail_info: scep.FailInfo | None = None


def _now() -> datetime:
    return datetime.now(UTC)


async def issue_challenge(
    db: Db, enrollment_session_id: int, *, ttl: timedelta, now: datetime | None = None
) -> str:
    """A new single-use SCEP challenge for the session; the plain value is returned only here."""
    now = now or _now()
    # 128 random bits as hex: safe in a CSR's challengePassword, whatever string type a client uses.
    plain = secrets.token_hex(16)
    db.add(EnrollmentSecretRow(
        kind=CHALLENGE_KIND, secret_hash=secret_hash(plain), session_id=enrollment_session_id,
        created_at=now, expires_at=now + ttl,
    ))
    await db.flush()
    return plain


async def handle_pki_operation(
    db: Db,
    pki: Pki,
    body: bytes,
    *,
    validity_days: int = DEVICE_DAYS,
    now: datetime | None = None,
) -> PkiOperationResult:
    """Answer a PKIOperation: issue and record a certificate, or refuse with a CertRep FAILURE.

    Raises scep.ScepMessageError when the body cannot be answered with a CertRep at all.
    """
    now = now or _now()
    message = scep.read_pki_message(body)

    def refuse(
        outcome: Outcome, fail_info: scep.FailInfo, reason: str, enrollment: str | None = None
    ) -> PkiOperationResult:
        return PkiOperationResult(
            body=scep.failure_reply(message, fail_info, pki), outcome=outcome, reason=reason,
            transaction_id=message.transaction_id, fail_info=fail_info, enrollment=enrollment,
        )

    try:
        request = scep.open_request(message, pki)
    except scep.ScepRequestRefused as exc:
        return refuse(Outcome.BAD_REQUEST, exc.fail_info, exc.reason)
    if not request.challenge:
        return refuse(Outcome.NO_CHALLENGE, scep.FailInfo.BAD_REQUEST, "the CSR has no challengePassword")
    try:
        # Before the challenge is spent: a device may retry a refused CSR with the same challenge.
        validate_device_csr(request.csr)
    except CertificateRequestRefused as exc:
        return refuse(Outcome.BAD_REQUEST, scep.FailInfo.BAD_REQUEST, exc.reason)
    session = await _redeem(db, request.challenge, now)
    if not isinstance(session, EnrollmentSessionRow):
        outcome, enrollment = session
        return refuse(outcome, scep.FailInfo.BAD_REQUEST, "the challenge cannot be used", enrollment)
    certificate = pki.issue_device_certificate(
        request.csr, enrollment=session.uuid, validity_days=validity_days, now=now
    )
    row = DeviceCertificateRow(
        serial=serial_hex(certificate),
        fingerprint_sha256=fingerprint_sha256(certificate),
        subject=certificate.subject.rfc4514_string()[:512],
        session_id=session.id,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        created_at=now,
    )
    db.add(row)
    if session.status != SessionStatus.COMPLETED:
        session.status = SessionStatus.CERTIFICATE_ISSUED.value
    await db.flush()
    device, user = await session_store.device_and_user_of(db, session)
    return PkiOperationResult(
        body=scep.success_reply(message, request, certificate, pki), outcome=Outcome.ISSUED,
        reason="certificate issued", transaction_id=message.transaction_id,
        enrollment=session.uuid, device=device, user=user, serial=row.serial,
    )


async def _redeem(
    db: Db, challenge: str, now: datetime
) -> EnrollmentSessionRow | tuple[Outcome, str | None]:
    """Spend a live challenge and return its session; else why not, and whose challenge it was."""
    if len(challenge) > 512:
        return Outcome.UNKNOWN_CHALLENGE, None
    digest = secret_hash(challenge)
    # One UPDATE both checks and spends the challenge: two racing requests cannot both win.
    session_id = await session_store.spend_secret(db, CHALLENGE_KIND, digest, now)
    if session_id is not None:
        session = await db.get(EnrollmentSessionRow, session_id)
        assert session is not None  # the foreign key guarantees it
        return session
    known = await session_store.secret_state(db, CHALLENGE_KIND, digest)
    if known is None:
        return Outcome.UNKNOWN_CHALLENGE, None
    used_at, uuid = known
    return (Outcome.USED_CHALLENGE if used_at is not None else Outcome.EXPIRED_CHALLENGE), uuid
