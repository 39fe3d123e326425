"""Removing abandoned placeholders (DESIGN.md rule 2) in bulk, after an administrator confirmed it.

A placeholder is *abandoned* when its user signed in again and a newer record superseded it while
it was still EnrollmentInProgress, and its device never completed enrollment since. Those records
stay in the device list on purpose; an administrator may remove the ones superseded more than N
days ago, in one OG's subtree. A record that ever completed is never removed here, even one that
completes while the removal runs: every statement that decides what goes checks the condition
again. Removal takes what hangs off each record with it, in the caller's transaction (nothing here
commits), so a failure leaves everything as it was:

- its enrollment session (`enrollment_sessions.device_id`, RESTRICT), the session's secrets
  (CASCADE) and any identity certificate SCEP issued for it (`device_certificates.session_id`,
  RESTRICT): without its row that certificate is unknown to Quince and refused at check-in;
- its commands, raw messages and app statuses (all ON DELETE CASCADE; deleted explicitly, so the
  outcome does not depend on the database enforcing it);
- older placeholders it had itself superseded are re-pointed at its own successor, so they stay
  marked as abandoned (the foreign key would only set them to NULL, making them look current).

Queued push jobs name a device by id only and skip a device that no longer exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quince.domain.errors import Conflict, InvalidInput
from quince.services.scope import Scope
from quince.store import device_cleanup as stored
from quince.store.database import Db
from quince.store.device_cleanup import NOTHING_HELD, Holdings
from quince.store.models import DeviceRow

MIN_DAYS = 1
MAX_DAYS = 3650
DEFAULT_DAYS = 30
SAMPLE_SIZE = 20


@dataclass(frozen=True)
class Preview:
    """The placeholders a removal would take: how many, a sample (oldest first), what they hold."""

    days: int
    cutoff: datetime
    count: int
    sample: list[DeviceRow]
    holdings: Holdings


@dataclass(frozen=True)
class Removed:
    count: int
    holdings: Holdings


class RemovalChanged(Conflict):
    """The placeholders matching the condition are no longer the ones the administrator confirmed."""

    def __init__(self, confirmed: int, now: int) -> None:
        super().__init__(
            f"The number of abandoned placeholders changed since you reviewed it (was {confirmed}, "
            f"now {now}): nothing was removed. Check the new list and confirm again."
        )
        self.confirmed = confirmed
        self.now = now


def parse_days(raw: str) -> int:
    """The "older than N days" a person typed: a whole number from MIN_DAYS to MAX_DAYS."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 5 or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise InvalidInput(
            "days", f"Enter the age as a whole number of days from {MIN_DAYS} to {MAX_DAYS}, not {raw!r}."
        )
    return int(text)


def cutoff_for(days: int, now: datetime | None = None) -> datetime:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInput("days", f"The age must be from {MIN_DAYS} to {MAX_DAYS} days.")
    return (now or datetime.now(UTC)) - timedelta(days=days)


async def preview(db: Db, scope: Scope, days: int, *, now: datetime | None = None,
                  sample_size: int = SAMPLE_SIZE) -> Preview:
    """What `remove` would take now from the scope's subtree (reads only)."""
    cutoff = cutoff_for(days, now)
    count = await stored.count_abandoned(db, scope.path, cutoff)
    if not count:
        return Preview(days, cutoff, 0, [], NOTHING_HELD)
    sample = await stored.oldest_abandoned(db, scope.path, cutoff, sample_size)
    return Preview(days, cutoff, count, sample, await stored.holdings_of_abandoned(db, scope.path, cutoff))


async def remove(db: Db, scope: Scope, days: int, *, expected: int,
                 now: datetime | None = None) -> Removed:
    """Remove the abandoned placeholders superseded more than `days` ago in the scope's subtree,
    with what they hold, when there are exactly `expected` of them (what the administrator
    confirmed); else RemovalChanged and nothing is touched. Does not commit."""
    scope.require_write()
    cutoff = cutoff_for(days, now)
    # The rows are locked on PostgreSQL, so a device that completes its enrollment meanwhile waits
    # for this transaction (or, if it completed first, is no longer selected). SQLite reads this
    # before its write transaction starts: the first write below checks the condition again.
    successor = await stored.lock_abandoned(db, scope.path, cutoff)
    if len(successor) != expected:
        raise RemovalChanged(expected, len(successor))
    if not successor:
        return Removed(0, NOTHING_HELD)
    ids = sorted(successor)
    # Being the first write, this also takes SQLite's write lock, after which nothing else changes.
    claimed = await stored.unbind_certificates_if_abandoned(db, ids, cutoff)
    if claimed != len(ids):  # one completed its enrollment meanwhile: the caller rolls back
        raise RemovalChanged(expected, claimed)
    session_ids = await stored.session_ids_of(db, ids)
    certificate_ids = await stored.certificate_ids_of(db, session_ids)
    commands, messages, apps = await stored.delete_device_rows(db, ids)
    await stored.delete_certificates(db, certificate_ids)
    await stored.delete_sessions(db, session_ids)
    await _repoint_predecessors(db, successor)
    removed = await stored.delete_devices_if_abandoned(db, ids, cutoff)
    if removed != len(ids):  # the rows were locked or written: only a bug gets here; the caller rolls back
        raise RemovalChanged(expected, removed)
    stored.forget_loaded(db)
    return Removed(removed, Holdings(len(session_ids), len(certificate_ids), commands, messages, apps))


async def _repoint_predecessors(db: Db, successor: dict[int, int | None]) -> None:
    """Records that point at a removed placeholder (and stay) point at its first remaining successor."""
    def remaining(device_id: int) -> int | None:
        seen: set[int] = set()
        current: int | None = device_id
        while current is not None and current in successor and current not in seen:
            seen.add(current)
            current = successor[current]
        return None if current in successor else current

    for device_id, points_at in await stored.superseded_by(db, sorted(successor)):
        if device_id in successor or points_at is None:
            continue
        await stored.point_superseded(db, device_id, remaining(points_at))
