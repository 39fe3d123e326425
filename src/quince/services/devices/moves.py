"""Moving a device record to another organization group (Workspace ONE's
`changeorganizationgroup`).

Both OGs must be in the caller's subtree (outside it, the device or OG does not exist for them:
404). A user-enrolled device may only move where User Enrollment is enabled (rule 1's
`require_user_enrollment_enabled`, the same check its enrollment passed): an OG that refuses
User Enrollment to new devices must not hold one moved in by hand. The apps of the new OG follow:
an Enrolled device gets the automatic apps reaching it there (services/apps/delivery.py:
`on_moved`); the apps it had stay.
"""

from __future__ import annotations

from quince.domain.enrollment_policy import (
    UE_SETTING,
    UserEnrollmentDisabled,
    require_user_enrollment_enabled,
)
from quince.domain.errors import InvalidInContext
from quince.domain.og_settings import resolve
from quince.services.apps import delivery as app_delivery
from quince.services.devices import records
from quince.services.directory import org_groups
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.services.scope import Scope
from quince.store.database import Db
from quince.store.models import DeviceRow


async def change_og(db: Db, scope: Scope, device_id: int, og_id: int) -> DeviceRow:
    """Move the device to the OG `og_id`; the device as moved. Moving it where it is changes
    nothing. Does not commit."""
    scope.require_write()
    device = await records.get(db, scope, device_id)
    target = await org_groups.get(db, scope, og_id)
    if target.id == device.og_id:
        return device
    if device.is_user_enrolled:
        tree, overrides = await load_tree(db), await load_overrides(db)
        refusal = require_user_enrollment_enabled(
            tree, tree.get(target.id), resolve(tree, overrides, target.id, UE_SETTING), []
        )
        if isinstance(refusal, UserEnrollmentDisabled):
            source = refusal.source_og.name if refusal.source_og is not None else target.name
            where = "set there" if refusal.overridden_here else f"inherited from {source!r}"
            raise InvalidInContext("ogid", (
                f"Device {device.id} is user-enrolled, and User Enrollment is not enabled at "
                f"organization group {target.name!r} (setting {where}): it can move only where "
                "User Enrollment is enabled."
            ))
    device.og_id = target.id
    await db.flush()
    await app_delivery.on_moved(db, device)
    return device
