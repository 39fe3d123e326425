"""The placeholder device record of DESIGN.md rule 2: which records are still placeholders, how a
newer sign-in supersedes them, and how one that completes stops being one.

A placeholder is created at sign-in (EnrollmentInProgress) and becomes the enrolled device when
its device completes enrollment (the first TokenUpdate). When the same person signs in again, the
placeholders they left unfinished are *superseded* by the new record and shown as abandoned. Only
records that never completed are ever superseded, in the statement that marks them, so a record
completing at the same moment is left alone; and a superseded placeholder whose device completes
after all (it got its profile before the newer sign-in: an iPhone and an iPad signing in at about
the same time) is a real, working device: completing it clears the mark.
"""

from __future__ import annotations

from datetime import datetime

from quince.domain.devices import EnrollmentStatus
from quince.store import placeholders as placeholder_store
from quince.store.database import Db
from quince.store.models import DeviceRow
from quince.store.rows import always_written


async def supersede_older(
    db: Db, user_id: int, newer: DeviceRow, now: datetime
) -> tuple[int, ...]:
    """Mark the user's other placeholders that never completed (and are not superseded yet) as
    superseded by `newer`; their ids. One guarded UPDATE: a record completing in another
    transaction at the same moment either completes first and is left alone (PostgreSQL checks
    the condition again on the row it waited for; SQLite has one writer at a time), or is marked
    and then clears the mark itself as it completes (`complete`)."""
    return await placeholder_store.mark_superseded(db, user_id, newer.id, now)


def complete(device: DeviceRow, now: datetime) -> None:
    """The placeholder becomes the enrolled device (written at the caller's flush). A completed
    record is never abandoned: a supersession mark goes, even one this session has not seen."""
    device.enrollment_status = EnrollmentStatus.ENROLLED.value
    device.enrolled_at = now
    device.unenrolled_at = None
    device.superseded_by_device_id = None
    device.superseded_at = None
    # Unconditionally in the UPDATE: a newer sign-in may have marked the row after this session
    # read it, so "None as read" says nothing about the row as stored.
    always_written(device, "superseded_by_device_id", "superseded_at")
