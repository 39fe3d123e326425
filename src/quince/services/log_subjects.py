"""What a log filter may name by UUID, looked up inside a scope: a device record or an enrollment."""

from __future__ import annotations

from quince.services.scope import Scope
from quince.store import log_subjects as stored
from quince.store.database import Db
from quince.store.models import DeviceRow


async def device_by_uuid(db: Db, scope: Scope, raw: str) -> DeviceRow | None:
    """The device record whose UUID is `raw` (any case), when its OG is in `scope`."""
    return await stored.device_by_uuid(db, scope.path, raw.lower())


async def enrollment_uuid(db: Db, scope: Scope, raw: str) -> str | None:
    """The UUID of the enrollment session `raw` names (any case), when its OG is in `scope`."""
    return await stored.enrollment_uuid(db, scope.path, raw.lower())
