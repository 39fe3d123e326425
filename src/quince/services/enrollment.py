"""Enrollment sessions: from a successful sign-in to the device's profile and certificate.

DESIGN.md rules 1, 2 and 4: the sign-in decides the target OG (the enrollment policy), creates an
enrollment session and a placeholder device record (EnrollmentInProgress, Employee Owned, user
enrolled, licence type 2); signing in again creates new ones and marks the user's older
placeholders that never completed as superseded by the new record (services/placeholders.py).
Secrets bound to the session (the account-driven access token, the web flow's one-time profile
download) are random, stored as SHA-256 hashes, and expire with the session.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from quince.domain import og_settings as setting_rules
from quince.domain.devices import EnrollmentStatus, license_type_eligibility, ownership_for
from quince.domain.enrollment_policy import EnrollmentDecision, EnrollmentRefusal
from quince.domain.errors import QuinceError
from quince.services import enrollment_preview, enrollment_refusals, passwords, placeholders
from quince.services.org_tree import load_overrides, load_tree
from quince.store.models import (
    DeviceRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
    EnrollmentUserRow,
    SignInAttemptRow,
)


class Flow(StrEnum):
    ACCOUNT = "account"  # account-driven User Enrollment (iOS 15+; the only flow on iOS 18+)
    WEB = "web"  # profile-based User Enrollment in Safari (iOS 13-17)


class SessionStatus(StrEnum):
    SIGNED_IN = "SignedIn"
    PROFILE_DELIVERED = "ProfileDelivered"
    CERTIFICATE_ISSUED = "CertificateIssued"
    COMPLETED = "Completed"


class SecretKind(StrEnum):
    ACCESS_TOKEN = "access_token"  # noqa: S105 (a kind of secret, not a secret)
    PROFILE_DOWNLOAD = "profile_download"
    SCEP_CHALLENGE = "scep_challenge"


class WrongCredentials(QuinceError):
    """Never says whether the account exists."""

    def __init__(self) -> None:
        super().__init__("The email address or password is not correct.")


class TooManyAttempts(QuinceError):
    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"Too many sign-in attempts. Wait {minutes} minutes and try again, or contact your "
            "IT department."
        )
        self.minutes = minutes


@dataclass(frozen=True)
class SignInLimits:
    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class EnrollmentStarted:
    enrollment: EnrollmentSessionRow
    device: DeviceRow
    decision: EnrollmentDecision
    secret: str
    """The access token (account-driven) or one-time download token (web); shown once."""
    superseded: tuple[int, ...]


def utcnow() -> datetime:
    return datetime.now(UTC)


def secret_hash(secret: str) -> str:
    """Secrets are 256-bit random values, so SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _identity_key(identifier: str) -> str:
    return identifier.strip().casefold()[:254]


@functools.cache
def _dummy_hash() -> str:
    return passwords.hash_password(secrets.token_urlsafe(16))


async def find_enrollment_user(db: AsyncSession, identifier: str) -> EnrollmentUserRow | None:
    """The user an enrollment sign-in names: by managed Apple ID, then email, then username."""
    key = _identity_key(identifier)
    if not key:
        return None
    for column in (
        EnrollmentUserRow.managed_apple_id, EnrollmentUserRow.email, EnrollmentUserRow.username
    ):
        rows = list(await db.scalars(
            select(EnrollmentUserRow).where(func.lower(column) == key).limit(2)
        ))
        if len(rows) == 1:
            return rows[0]
        if rows:
            return None  # ambiguous: refuse like a wrong password rather than pick one
    return None


async def _failures(
    db: AsyncSession, column: InstrumentedAttribute[str], value: str, since: datetime
) -> int:
    stmt = select(func.count()).where(
        column == value,
        SignInAttemptRow.succeeded.is_(False),
        SignInAttemptRow.created_at >= since,
    )
    return (await db.scalar(stmt)) or 0


async def authenticate(
    db: AsyncSession,
    identifier: str,
    password: str,
    address: str,
    limits: SignInLimits,
    now: datetime | None = None,
) -> EnrollmentUserRow:
    """Check an enrollment user's credentials, rate limited per identifier and per address.

    Raises TooManyAttempts before checking anything once a limit is reached, and WrongCredentials
    for an unknown user or a wrong password alike (same message, same argon2 cost).
    """
    now = now or utcnow()
    user = await find_enrollment_user(db, identifier)
    # Failures count per account, whichever of its names (email, managed Apple ID, username) was
    # typed; an unknown name counts on its own.
    key = user.username_key if user is not None else _identity_key(identifier)
    address = address[:64]
    since = now - limits.window
    minutes = int(limits.window.total_seconds() // 60)
    if await _failures(db, SignInAttemptRow.username_key, key, since) >= limits.max_failures_per_user:
        raise TooManyAttempts(minutes)
    if await _failures(db, SignInAttemptRow.address, address, since) >= limits.max_failures_per_address:
        raise TooManyAttempts(minutes)
    if user is None:
        passwords.verify_password(_dummy_hash(), password)
        ok = False
    else:
        ok = passwords.verify_password(user.password_hash, password)
    db.add(SignInAttemptRow(username_key=key, address=address, succeeded=ok, created_at=now))
    await db.flush()
    if not ok or user is None:
        raise WrongCredentials
    return user


async def choice_ticket(db: AsyncSession, user: EnrollmentUserRow) -> int:
    """After `authenticate` accepted `user` (same transaction): a ticket for the one group choice
    that may follow, without the password again. It is the id of that successful sign-in."""
    ticket = await db.scalar(
        select(func.max(SignInAttemptRow.id)).where(
            SignInAttemptRow.username_key == user.username_key, SignInAttemptRow.succeeded.is_(True)
        )
    )
    assert ticket is not None, "choice_ticket() follows a successful authenticate()"
    return int(ticket)


async def redeem_choice_ticket(db: AsyncSession, user: EnrollmentUserRow, ticket: int) -> bool:
    """Use a ticket from `choice_ticket` once: True the first time, False ever after (or for a
    ticket that is not this user's). Deleting the successful attempt changes no rate limit (only
    failures count), and two requests racing for it cannot both delete it."""
    used = await db.scalar(
        delete(SignInAttemptRow)
        .where(SignInAttemptRow.id == ticket, SignInAttemptRow.username_key == user.username_key,
               SignInAttemptRow.succeeded.is_(True))
        .returning(SignInAttemptRow.id)
    )
    return used is not None


async def start(
    db: AsyncSession,
    user: EnrollmentUserRow,
    *,
    flow: Flow,
    group_id: str | None,
    ttl: timedelta,
    user_identifier: str | None = None,
    client_address: str | None = None,
    now: datetime | None = None,
) -> EnrollmentStarted | EnrollmentRefusal:
    """Decide the target OG; on success create the session, its placeholder and its secret; on
    a refusal record it (enrollment_refusals)."""
    now = now or utcnow()
    outcome = await enrollment_preview.decide(db, user, group_id)
    if not isinstance(outcome, EnrollmentDecision):
        # Kept for the console's dashboard, in the caller's transaction like everything else here.
        await enrollment_refusals.record(db, user, outcome, flow=flow.value, group_id=group_id, now=now)
        return outcome
    tree, overrides = await load_tree(db), await load_overrides(db)
    default_ownership = setting_rules.resolve(tree, overrides, outcome.og.id, "default_ownership")
    device = DeviceRow(
        og_id=outcome.og.id,
        enrollment_user_id=user.id,
        udid=None,
        enrollment_status=EnrollmentStatus.ENROLLMENT_IN_PROGRESS.value,
        ownership=ownership_for(True, str(default_ownership.value)),
        is_user_enrolled=True,
        license_type_eligibility=license_type_eligibility(True),
        created_at=now,
    )
    db.add(device)
    await db.flush()
    superseded = await placeholders.supersede_older(db, user.id, device, now)
    enrollment = EnrollmentSessionRow(
        user_id=user.id,
        flow=flow.value,
        og_id=outcome.og.id,
        device_id=device.id,
        decision_basis=outcome.basis.value,
        decision_trace=list(outcome.trace),
        entered_group_id=(group_id or "").strip()[:64] or None,
        user_identifier=(user_identifier or "").strip()[:254] or None,
        managed_apple_id=user.managed_apple_id,
        status=SessionStatus.SIGNED_IN.value,
        client_address=(client_address or "")[:64] or None,
        created_at=now,
        expires_at=now + ttl,
    )
    db.add(enrollment)
    await db.flush()
    kind = SecretKind.ACCESS_TOKEN if flow is Flow.ACCOUNT else SecretKind.PROFILE_DOWNLOAD
    secret = await issue_secret(db, enrollment, kind, expires_at=enrollment.expires_at, now=now)
    return EnrollmentStarted(enrollment, device, outcome, secret, superseded)


async def issue_secret(
    db: AsyncSession,
    enrollment: EnrollmentSessionRow,
    kind: SecretKind,
    *,
    expires_at: datetime,
    now: datetime | None = None,
) -> str:
    """A new random secret of `kind` for the session; only its hash is stored."""
    plain = secrets.token_urlsafe(32)
    db.add(EnrollmentSecretRow(
        kind=kind.value, secret_hash=secret_hash(plain), session_id=enrollment.id,
        created_at=now or utcnow(), expires_at=expires_at,
    ))
    await db.flush()
    return plain


async def redeem_secret(
    db: AsyncSession, kind: SecretKind, plain: str, *, consume: bool, now: datetime | None = None
) -> EnrollmentSessionRow | None:
    """The session a live secret belongs to, or None (unknown, expired, or used when single-use).

    With consume=True the secret is marked used in the caller's transaction, so it works once.
    """
    if not plain or len(plain) > 512:
        return None
    now = now or utcnow()
    conditions = [
        EnrollmentSecretRow.kind == kind.value,
        EnrollmentSecretRow.secret_hash == secret_hash(plain),
        EnrollmentSecretRow.expires_at > now,
    ]
    if consume:
        conditions.append(EnrollmentSecretRow.used_at.is_(None))
        # One UPDATE both checks and spends the secret: two racing requests cannot both win.
        session_id = await db.scalar(
            update(EnrollmentSecretRow).where(*conditions).values(used_at=now)
            .returning(EnrollmentSecretRow.session_id)
        )
    else:
        session_id = await db.scalar(select(EnrollmentSecretRow.session_id).where(*conditions))
    return None if session_id is None else await db.get(EnrollmentSessionRow, session_id)


async def record_machine_info(
    db: AsyncSession, enrollment: EnrollmentSessionRow, parsed: Mapping[str, object], raw: bytes
) -> None:
    enrollment.machine_info = dict(parsed)
    enrollment.machine_info_raw = raw
    await db.flush()


async def mark(db: AsyncSession, enrollment: EnrollmentSessionRow, status: SessionStatus) -> None:
    enrollment.status = status.value
    await db.flush()


async def devices_of(db: AsyncSession, user_id: int) -> list[DeviceRow]:
    """A user's device records, oldest first (placeholders included)."""
    rows = await db.scalars(
        select(DeviceRow).where(DeviceRow.enrollment_user_id == user_id).order_by(DeviceRow.id)
    )
    return list(rows)


def sign_in_limits(max_per_user: int, max_per_address: int, window_minutes: int) -> SignInLimits:
    return SignInLimits(max_per_user, max_per_address, timedelta(minutes=window_minutes))



async def serves_domain(db: AsyncSession, domain: str) -> bool:
    """True when some enrollment user has a managed Apple ID or email at `domain`.

    Service discovery answers per domain, never per user, so it cannot be used to learn
    which accounts exist.
    """
    suffix = "@" + domain.strip().casefold()
    if len(suffix) < 3 or len(suffix) > 254:
        return False
    stmt = select(EnrollmentUserRow.id).where(
        (func.lower(EnrollmentUserRow.managed_apple_id).endswith(suffix, autoescape=True))
        | (func.lower(EnrollmentUserRow.email).endswith(suffix, autoescape=True))
    ).limit(1)
    return (await db.scalar(stmt)) is not None
