"""Loading the OG tree and its setting overrides into the pure domain types."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.og_settings import ChildPermission, Override
from quince.domain.org_groups import OGType, OrgGroup, OrgTree
from quince.store.models import OGSettingRow, OrgGroupRow


def to_domain(row: OrgGroupRow) -> OrgGroup:
    return OrgGroup(
        id=row.id, uuid=row.uuid, name=row.name, group_id=row.group_id,
        type=OGType(row.type), parent_id=row.parent_id,
    )


async def load_tree(session: AsyncSession) -> OrgTree:
    rows = await session.scalars(select(OrgGroupRow))
    return OrgTree(to_domain(r) for r in rows)


async def load_overrides(session: AsyncSession) -> dict[int, dict[str, Override]]:
    out: dict[int, dict[str, Override]] = {}
    for row in await session.scalars(select(OGSettingRow)):
        out.setdefault(row.og_id, {})[row.key] = Override(
            row.value, ChildPermission(row.child_permission)
        )
    return out
