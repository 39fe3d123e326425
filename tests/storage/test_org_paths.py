"""An OG's subtree is one prefix match on its materialized path ("/1/4/9/"): Scope.og_ids() and
every scoped query use `path LIKE '<path>%'`. SQLAlchemy's autoescape uses "/" as the LIKE escape
character, the very character paths are made of, so the escaping must hold on both databases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.scope import Scope, operator_scope
from quince.store.models import OrgGroupRow


async def _og(session: AsyncSession, og_id: int, parent: OrgGroupRow) -> OrgGroupRow:
    row = OrgGroupRow(id=og_id, name=f"OG {og_id}", group_id=f"og-{og_id}", group_id_key=f"og-{og_id}",
                      type="Container", parent_id=parent.id, path=f"{parent.path}{og_id}/")
    session.add(row)
    await session.flush()
    return row


async def test_a_subtree_holds_the_og_and_its_descendants_but_not_an_og_whose_id_begins_the_same(
    session: AsyncSession,
) -> None:
    root_scope = await operator_scope(session)
    root = await session.get(OrgGroupRow, root_scope.og_id)
    assert root is not None
    # Ids far above what the root took, chosen so that one path begins with another's digits.
    four = await _og(session, 90004, root)
    forty_one = await _og(session, 900041, root)
    below_four = await _og(session, 90009, four)
    below_that = await _og(session, 900091, below_four)
    await _og(session, 9000411, forty_one)

    async def subtree(og: OrgGroupRow) -> set[int]:
        scope = Scope(og_id=og.id, path=og.path, can_write=False, actor="test")
        return set(await session.scalars(scope.og_ids()))

    assert await subtree(four) == {four.id, below_four.id, below_that.id}
    assert await subtree(below_that) == {below_that.id}
    assert len(await subtree(root)) == 6
    every = set(await session.scalars(select(OrgGroupRow.id)))
    assert await subtree(root) == every
