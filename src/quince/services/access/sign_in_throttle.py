"""Sign-in attempts and the back-off they impose, shared by every face that checks a password.

Attempts are rows of `sign_in_attempts` (shared by every Quince process). Two counters slow a
guesser (quince.domain.sign_in_backoff): one account from one address, and one address whatever
the accounts. Each kind of account counts in its own namespace: enrollment users on the sign-in
pages, admins in the console and the REST API alike (a guess over REST costs the same as one in
the console). A success forgives the failures of that account from that address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from quince.config import Settings
from quince.domain.errors import QuinceError
from quince.domain.sign_in_backoff import BackOff, Failures, retry_in
from quince.store import sign_in as sign_in_store
from quince.store.database import Db
from quince.store.models import SignInAttemptRow, utcnow

KEY_MAX = 254
ADDRESS_MAX = 64


class Namespace(StrEnum):
    USER = "user:"
    """Enrollment users, on the enrollment sign-in pages."""
    ADMIN = "admin:"
    """Administrators, in the console and the REST API."""
    OAUTH = "oauth:"
    """REST API clients asking for an OAuth token (their client_id)."""


class Throttled(QuinceError):
    """Too many recent failures: try again after `wait` (said in the message and Retry-After)."""

    def __init__(self, wait: timedelta) -> None:
        self.seconds = max(1, math.ceil(wait.total_seconds()))
        super().__init__(
            f"Too many failed sign-ins. Wait {_spoken(self.seconds)} and try again, or contact your "
            "IT department."
        )


def _spoken(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


@dataclass(frozen=True)
class Throttle:
    per_account: BackOff
    """One account from one address."""
    per_address: BackOff
    """One address, whatever the accounts (guessing across accounts)."""
    window: timedelta
    """Failures older than this are forgotten."""


def attempt_key(namespace: Namespace, account_key: str) -> str:
    return (namespace.value + account_key)[:KEY_MAX]


def _address(address: str) -> str:
    return address[:ADDRESS_MAX]


async def check(
    db: Db, throttle: Throttle, namespace: Namespace, key: str, address: str, now: datetime
) -> int:
    """Raise Throttled when this account from this address, or this address, must wait; else the
    account's recent failures from this address (for `record`'s `forgive`). One query."""
    account_count, account_latest, address_count, address_latest = await sign_in_store.recent_failures(
        db, namespace.value, key, _address(address), now - throttle.window
    )
    for failures, rule in (
        (Failures(int(account_count or 0), _aware(account_latest, now)), throttle.per_account),
        (Failures(int(address_count or 0), _aware(address_latest, now)), throttle.per_address),
    ):
        wait = retry_in(failures, rule, now)
        if wait is not None:
            raise Throttled(wait)
    return int(account_count or 0)


def _aware(value: datetime | str | None, now: datetime) -> datetime | None:
    """A stored time as an aware datetime (SQLite hands back naive UTC, or text from a CASE)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=now.tzinfo) if value.tzinfo is None else value


async def record(
    db: Db, key: str, address: str, *, succeeded: bool, now: datetime | None = None,
    keep_success: bool = True, forgive: bool = True,
) -> SignInAttemptRow | None:
    """Record one attempt. A success forgives this account's failures from this address (`forgive`:
    there are some to forgive); it is kept as a row only with `keep_success` (the REST API, called
    on every request, does not)."""
    now, address = now or utcnow(), _address(address)
    if succeeded and forgive:
        await sign_in_store.drop_failures(db, key, address)
    if succeeded and not keep_success:
        return None
    row = SignInAttemptRow(username_key=key, address=address, succeeded=succeeded, created_at=now)
    db.add(row)
    await db.flush()
    return row


def from_settings(settings: Settings) -> Throttle:
    """The throttle the settings describe (QUINCE_SIGN_IN_*)."""
    first = timedelta(seconds=settings.sign_in_first_wait_seconds)
    return Throttle(
        per_account=BackOff(settings.sign_in_free_failures_per_account, first,
                            timedelta(seconds=settings.sign_in_max_wait_seconds_per_account)),
        per_address=BackOff(settings.sign_in_free_failures_per_address, first,
                            timedelta(seconds=settings.sign_in_max_wait_seconds_per_address)),
        window=timedelta(minutes=settings.sign_in_window_minutes),
    )


async def prune(db: Db, now: datetime, keep: timedelta) -> int:
    """Forget attempts older than `keep` (the window, at least): they count towards nothing."""
    return await sign_in_store.drop_attempts_before(db, now - keep)
