"""Enrollments the policy refused after the user signed in: recorded for the console's dashboard,
so a helpdesk sees who was turned away, why, and what they were told.

A refusal belongs to the OG it concerns: the target the policy decided on when it names one (User
Enrollment disabled there), else the user's own OG. A Group ID the user may not use, or one that
does not exist, stays with the user's OG, so another tenant's admins never see the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from quince.domain.enrollment_policy import EnrollmentRefusal
from quince.domain.errors import NotFound
from quince.services.scope import Scope
from quince.store import enrollment_sessions as session_store
from quince.store.database import Db
from quince.store.models import EnrollmentRefusalRow, EnrollmentUserRow, OrgGroupRow

RECENT = 20


@dataclass(frozen=True)
class RefusalItem:
    """A stored refusal with the name of its OG (None when that OG was deleted since)."""

    refusal: EnrollmentRefusalRow
    og_name: str | None


async def record(
    db: Db,
    user: EnrollmentUserRow,
    refusal: EnrollmentRefusal,
    *,
    flow: str,
    group_id: str | None,
    now: datetime | None = None,
) -> EnrollmentRefusalRow:
    """Store one refusal in the caller's transaction (the caller commits)."""
    target = refusal.target
    og = await db.get(OrgGroupRow, target.id if target is not None else user.og_id)
    if og is None:  # the user's OG is a foreign key; a decided target was just loaded
        raise NotFound("Organization group", target.id if target is not None else user.og_id)
    row = EnrollmentRefusalRow(
        created_at=now or datetime.now(UTC),
        user_id=user.id,
        username=user.username[:254],
        og_id=og.id,
        og_path=og.path,
        flow=flow[:16],
        entered_group_id=(group_id or "").strip()[:64] or None,
        reason=type(refusal).__name__[:64],
        message=refusal.message,
    )
    db.add(row)
    await db.flush()
    return row


async def recent(db: Db, scope: Scope, limit: int = RECENT) -> list[RefusalItem]:
    """The newest refusals whose OG lies in the scope's subtree, newest first."""
    found = await session_store.recent_refusals(db, scope.path, limit)
    return [RefusalItem(row, name) for row, name in found]
