"""Loading the OG tree and its setting overrides into the pure domain types.

Both read columns rather than ORM objects, so they always see the rows as stored now and never a
copy the session loaded earlier (a change made by another transaction, or by a bulk statement in
this one, would not reach such a copy).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.og_settings import ChildPermission, Override
from quince.domain.org_groups import OGType, OrgGroup, OrgTree
from quince.store.models import OGSettingRow, OrgGroupRow

_TREE = select(OrgGroupRow.id, OrgGroupRow.uuid, OrgGroupRow.name, OrgGroupRow.group_id,
               OrgGroupRow.type, OrgGroupRow.parent_id)
_OVERRIDES = select(OGSettingRow.og_id, OGSettingRow.key, OGSettingRow.value,
                    OGSettingRow.child_permission)


async def load_tree(session: AsyncSession) -> OrgTree:
    rows = (await session.execute(_TREE)).tuples()
    return OrgTree(
        OrgGroup(id=og_id, uuid=uuid, name=name, group_id=group_id, type=OGType(kind),
                 parent_id=parent_id)
        for og_id, uuid, name, group_id, kind, parent_id in rows
    )


async def load_overrides(session: AsyncSession) -> dict[int, dict[str, Override]]:
    out: dict[int, dict[str, Override]] = {}
    for og_id, key, value, permission in (await session.execute(_OVERRIDES)).tuples():
        out.setdefault(og_id, {})[key] = Override(value, ChildPermission(permission))
    return out
