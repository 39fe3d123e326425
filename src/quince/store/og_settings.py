"""Writes of an OG's own setting values (`og_settings` rows), on both databases."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.og_settings import Override
from quince.store import concurrency
from quince.store.models import OGSettingRow, utcnow


async def put(db: AsyncSession, og_id: int, key: str, value: Override) -> None:
    """Insert or replace the OG's own value of `key` in one statement (no read-then-write)."""
    # ON CONFLICT DO UPDATE runs no Python-side onupdate: updated_at is set here.
    values = {"value": value.value, "child_permission": value.child_permission.value,
              "updated_at": utcnow()}
    insert = concurrency.insert(db, OGSettingRow)
    await db.execute(
        insert.values(og_id=og_id, key=key, **values)
        .on_conflict_do_update(index_elements=["og_id", "key"], set_=values)
    )


async def drop(db: AsyncSession, og_id: int, key: str) -> None:
    """Remove the OG's own value of `key`, if it has one."""
    await db.execute(delete(OGSettingRow).where(OGSettingRow.og_id == og_id, OGSettingRow.key == key))


def add_new(db: AsyncSession, og_id: int, values: Mapping[str, Override]) -> None:
    """Give the OG these own values, none of which it has yet (written at the next flush)."""
    for key, value in values.items():
        db.add(OGSettingRow(og_id=og_id, key=key, value=value.value,
                            child_permission=value.child_permission.value))
