"""Admin sign-in for the console: the API's admin accounts, locked out after repeated failures.

Failures are counted in `sign_in_attempts` (shared by every Quince process) under the key
`admin:<username key>`, which can never collide with an enrollment user's key (no `:` in those).
"""

from __future__ import annotations

import functools
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import QuinceError
from quince.domain.users import username_key
from quince.services import passwords
from quince.services.admins import Role
from quince.services.scope import Scope
from quince.store.models import AdminRow, OrgGroupRow, SignInAttemptRow, utcnow

KEY_PREFIX = "admin:"


class WrongAdminCredentials(QuinceError):
    def __init__(self) -> None:
        super().__init__("The username or password is not correct.")


class AdminLockedOut(QuinceError):
    def __init__(self, minutes: int, *, by_address: bool = False) -> None:
        what = ("Sign-in from this network address is paused" if by_address
                else "This account is locked")
        super().__init__(
            f"{what} after too many failed sign-ins. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}."
        )
        self.minutes = minutes


@dataclass(frozen=True)
class LockOut:
    max_failures: int
    """Failures for one username in the window."""
    max_failures_per_address: int
    """Failures from one client address, whatever the usernames (guessing across accounts)."""
    window: timedelta


@functools.cache
def _dummy_hash() -> str:
    return passwords.hash_password(secrets.token_urlsafe(16))


def attempt_key(username: str) -> str:
    return (KEY_PREFIX + username_key(username))[:254]


async def _locked_minutes(
    db: AsyncSession, which: ColumnElement[bool], limit: int, window: timedelta, now: datetime
) -> int | None:
    """Minutes left when the failures `which` selects have reached `limit` in the window, else None."""
    count, oldest = (await db.execute(
        select(func.count(), func.min(SignInAttemptRow.created_at)).where(
            which,
            SignInAttemptRow.succeeded.is_(False),
            SignInAttemptRow.created_at >= now - window,
        )
    )).one()
    if (count or 0) < limit or oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=now.tzinfo)
    left: timedelta = oldest + window - now
    return max(1, math.ceil(left.total_seconds() / 60))


async def authenticate(
    db: AsyncSession, username: str, password: str, address: str, lock: LockOut
) -> AdminRow:
    """The active admin with these credentials. AdminLockedOut before checking anything once the
    limit is reached; WrongAdminCredentials for an unknown name or a wrong password alike."""
    now = utcnow()
    key = attempt_key(username)
    address = address[:64]
    minutes = await _locked_minutes(db, SignInAttemptRow.username_key == key, lock.max_failures,
                                    lock.window, now)
    if minutes is not None:
        raise AdminLockedOut(minutes)
    by_address = and_(SignInAttemptRow.address == address,
                      SignInAttemptRow.username_key.startswith(KEY_PREFIX, autoescape=True))
    minutes = await _locked_minutes(db, by_address, lock.max_failures_per_address, lock.window, now)
    if minutes is not None:
        raise AdminLockedOut(minutes, by_address=True)
    admin = await db.scalar(select(AdminRow).where(AdminRow.username_key == username_key(username)))
    if admin is None:
        passwords.verify_password(_dummy_hash(), password)  # same cost: timing reveals nothing
        ok = False
    else:
        ok = admin.active and passwords.verify_password(admin.password_hash, password)
    db.add(SignInAttemptRow(username_key=key, address=address, succeeded=ok, created_at=now))
    await db.flush()
    if not ok or admin is None:
        raise WrongAdminCredentials
    return admin


async def scope_of(db: AsyncSession, admin: AdminRow) -> Scope:
    """The same scope the API gives this admin: their OG's subtree, read-only for read-only admins."""
    og = await db.get(OrgGroupRow, admin.og_id)
    assert og is not None
    return Scope(og_id=og.id, path=og.path, can_write=admin.role == Role.ADMINISTRATOR.value,
                 actor=f"admin {admin.username!r}")
