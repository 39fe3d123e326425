"""Enrollment sessions: from a successful sign-in to the device's profile and certificate.

DESIGN.md rules 1, 2 and 4: the sign-in decides the target OG (the enrollment policy), creates an
enrollment session and a placeholder device record (EnrollmentInProgress, Employee Owned, user
enrolled, licence type 2); signing in again creates new ones and marks the user's older
placeholders that never completed as superseded by the new record (services/enrollment/placeholders.py).
Secrets bound to the session (the account-driven access token, the web flow's one-time profile
download) are random, stored as SHA-256 hashes, and expire with the session.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from quince.domain import og_settings as setting_rules
from quince.domain.devices import placeholder_for
from quince.domain.enrollment_policy import EnrollmentDecision, EnrollmentRefusal
from quince.domain.errors import QuinceError
from quince.domain.users import sign_in_name_key
from quince.services.access import passwords, sign_in_throttle
from quince.services.access.sign_in_throttle import Namespace, Throttle
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.services.enrollment import decision, placeholders
from quince.services.enrollment import refusals as enrollment_refusals
from quince.store import enrollment_sessions as session_store
from quince.store import sign_in as sign_in_store
from quince.store import users as user_store
from quince.store.database import Db
from quince.store.models import (
    DeviceRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
    EnrollmentUserRow,
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


@functools.cache
def _dummy_hash() -> str:
    return passwords.hash_password(secrets.token_urlsafe(16))


async def find_enrollment_user(db: Db, identifier: str) -> EnrollmentUserRow | None:
    """The one user whose username, email or managed Apple ID is `identifier`, ignoring case.
    Sign-in names are unique install-wide (`sign_in_names`), so no other tenant's user can make
    this ambiguous."""
    key = sign_in_name_key(identifier)
    if not key:
        return None
    return await sign_in_store.user_of_name(db, key)


async def authenticate(
    db: Db,
    identifier: str,
    password: str,
    address: str,
    throttle: Throttle,
    now: datetime | None = None,
) -> EnrollmentUserRow:
    """Check an enrollment user's credentials, slowed per account and address and per address.

    Raises Throttled before checking anything while a back-off runs, and WrongCredentials for an
    unknown user or a wrong password alike (same message, same argon2 cost).
    """
    now = now or utcnow()
    user = await find_enrollment_user(db, identifier)
    # Failures count per account, whichever of its names (email, managed Apple ID, username) was
    # typed; an unknown name counts on its own.
    key = sign_in_throttle.attempt_key(
        Namespace.USER, user.username_key if user is not None else sign_in_name_key(identifier)
    )
    earlier = await sign_in_throttle.check(db, throttle, Namespace.USER, key, address, now)
    if user is None:
        passwords.verify_password(_dummy_hash(), password)
        ok = False
    else:
        ok = passwords.verify_password(user.password_hash, password)
    await sign_in_throttle.record(db, key, address, succeeded=ok, now=now, forgive=earlier > 0)
    if not ok or user is None:
        raise WrongCredentials
    return user


def _attempt_key(user: EnrollmentUserRow) -> str:
    return sign_in_throttle.attempt_key(Namespace.USER, user.username_key)


async def choice_ticket(db: Db, user: EnrollmentUserRow) -> int:
    """After `authenticate` accepted `user` (same transaction): a ticket for the one group choice
    that may follow, without the password again. It is the id of that successful sign-in."""
    ticket = await sign_in_store.latest_success(db, _attempt_key(user))
    assert ticket is not None, "choice_ticket() follows a successful authenticate()"
    return int(ticket)


async def redeem_choice_ticket(db: Db, user: EnrollmentUserRow, ticket: int) -> bool:
    """Use a ticket from `choice_ticket` once: True the first time, False ever after (or for a
    ticket that is not this user's). Deleting the successful attempt changes no rate limit (only
    failures count), and two requests racing for it cannot both delete it."""
    return await sign_in_store.take_success(db, ticket, _attempt_key(user))


async def start(
    db: Db,
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
    outcome = await decision.decide(db, user, group_id)
    if not isinstance(outcome, EnrollmentDecision):
        # Kept for the console's dashboard, in the caller's transaction like everything else here.
        await enrollment_refusals.record(db, user, outcome, flow=flow.value, group_id=group_id, now=now)
        return outcome
    tree, overrides = await load_tree(db), await load_overrides(db)
    default_ownership = setting_rules.resolve(tree, overrides, outcome.og.id, "default_ownership")
    device = DeviceRow(
        **asdict(placeholder_for(user.id, outcome.og.id, str(default_ownership.value))), created_at=now
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
    db: Db,
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
    db: Db, kind: SecretKind, plain: str, *, consume: bool, now: datetime | None = None
) -> EnrollmentSessionRow | None:
    """The session a live secret belongs to, or None (unknown, expired, or used when single-use).

    With consume=True the secret is marked used in the caller's transaction, so it works once.
    """
    if not plain or len(plain) > 512:
        return None
    now = now or utcnow()
    digest = secret_hash(plain)
    session_id = (
        # One UPDATE both checks and spends the secret: two racing requests cannot both win.
        await session_store.spend_secret(db, kind.value, digest, now) if consume
        else await session_store.live_secret_session(db, kind.value, digest, now)
    )
    return None if session_id is None else await db.get(EnrollmentSessionRow, session_id)


async def record_machine_info(
    db: Db, enrollment: EnrollmentSessionRow, parsed: Mapping[str, object], raw: bytes
) -> None:
    enrollment.machine_info = dict(parsed)
    enrollment.machine_info_raw = raw
    await db.flush()


async def mark(db: Db, enrollment: EnrollmentSessionRow, status: SessionStatus) -> None:
    enrollment.status = status.value
    await db.flush()


async def devices_of(db: Db, user_id: int) -> list[DeviceRow]:
    """A user's device records, oldest first (placeholders included)."""
    return await user_store.devices_of(db, user_id)



async def serves_domain(db: Db, domain: str) -> bool:
    """True when some enrollment user has a managed Apple ID or email at `domain`.

    Service discovery answers per domain, never per user, so it cannot be used to learn
    which accounts exist.
    """
    suffix = "@" + domain.strip().casefold()
    if len(suffix) < 3 or len(suffix) > 254:
        return False
    return await user_store.any_user_at_domain(db, suffix)
