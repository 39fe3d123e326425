"""The enrollment decision that made a device record (its session, with the decision trace)."""

from __future__ import annotations

from quince.store import enrollment_sessions
from quince.store.database import Db
from quince.store.models import EnrollmentSessionRow


async def for_device(db: Db, device_id: int) -> EnrollmentSessionRow | None:
    """The enrollment session whose placeholder became device `device_id`, when there is one."""
    return await enrollment_sessions.session_of_device(db, device_id)
