"""Where would this user's device enroll? The enrollment policy run on stored data, read-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import (
    EnrollingUser,
    EnrollmentDecision,
    GroupMapping,
    Outcome,
    decide_enrollment_og,
)
from quince.domain.org_groups import OrgGroup
from quince.services import users
from quince.services.org_tree import load_overrides, load_tree
from quince.services.scope import Scope
from quince.store.models import (
    EnrollmentUserRow,
    UserGroupMappingRow,
    UserGroupMemberRow,
    UserGroupRow,
)


async def mappings_for(session: AsyncSession, user_id: int) -> list[GroupMapping]:
    """Every mapping of every user group the user belongs to."""
    stmt = (
        select(UserGroupRow.id, UserGroupRow.name, UserGroupMappingRow.og_id, UserGroupMappingRow.rank)
        .join(UserGroupMemberRow, UserGroupMemberRow.user_group_id == UserGroupRow.id)
        .join(UserGroupMappingRow, UserGroupMappingRow.user_group_id == UserGroupRow.id)
        .where(UserGroupMemberRow.user_id == user_id)
    )
    return [GroupMapping(*row) for row in (await session.execute(stmt)).tuples()]


async def decide(session: AsyncSession, user: EnrollmentUserRow, group_id: str | None) -> Outcome:
    """The enrollment decision for a stored user (the enrollment flow calls this too)."""
    return decide_enrollment_og(
        EnrollingUser(user.id, user.username, user.active, user.og_id),
        await mappings_for(session, user.id),
        group_id,
        await load_tree(session),
        await load_overrides(session),
    )


async def preview(
    session: AsyncSession, scope: Scope, username: str, group_id: str | None
) -> Outcome:
    """The decision for `username` (who must be in scope), creating nothing."""
    return await decide(session, await users.get_by_username(session, scope, username), group_id)


def as_preview_dict(outcome: Outcome) -> dict[str, Any]:
    """The preview as both faces print it (REST and `quince enroll preview --json`):
    `{Allowed, GroupId, LocationGroupId: {Id: {Value}, Name, Uuid} | None, Reason, Trace}`."""
    target: OrgGroup | None
    if isinstance(outcome, EnrollmentDecision):
        target, reason = outcome.og, outcome.reason
    else:
        target, reason = outcome.target, outcome.message
    return {
        "Allowed": outcome.allowed,
        "GroupId": target.group_id if target is not None else None,
        "LocationGroupId": (
            {"Id": {"Value": target.id}, "Name": target.name, "Uuid": target.uuid}
            if target is not None else None
        ),
        "Reason": reason,
        "Trace": list(outcome.trace),
    }
