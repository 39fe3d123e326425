"""The enrollment decision (DESIGN.md rule 1) for a stored user: load, then decide with the pure
policy. The one decide step both the enrollment (`sessions.start`) and the admin preview run."""

from __future__ import annotations

from quince.domain.enrollment_policy import EnrollingUser, GroupMapping, Outcome, decide_enrollment_og
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.store import user_groups as user_group_store
from quince.store.database import Db
from quince.store.models import EnrollmentUserRow


async def mappings_for(db: Db, user_id: int) -> list[GroupMapping]:
    """Every mapping of every user group the user belongs to."""
    return await user_group_store.mappings_of_user(db, user_id)


async def decide(db: Db, user: EnrollmentUserRow, group_id: str | None) -> Outcome:
    """Where a device of `user` enrolls with `group_id` typed, or why it may not."""
    return decide_enrollment_og(
        EnrollingUser(user.id, user.username, user.active, user.og_id),
        await mappings_for(db, user.id),
        group_id,
        await load_tree(db),
        await load_overrides(db),
    )
