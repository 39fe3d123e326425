"""Queries on the command queue (`commands`): what to send a device next, a command by the UUID a
device answered, and a device's history. services/mdm/commands.py holds the queue's rules."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.store.models import CommandRow


async def oldest_in(db: AsyncSession, device_id: int, statuses: Iterable[str]) -> CommandRow | None:
    """The device's oldest command in one of these statuses."""
    row: CommandRow | None = await db.scalar(
        select(CommandRow)
        .where(CommandRow.device_id == device_id, CommandRow.status.in_(list(statuses)))
        .order_by(CommandRow.id)
        .limit(1)
    )
    return row


async def by_uuid(db: AsyncSession, device_id: int, command_uuid: str) -> CommandRow | None:
    """The device's command with this UUID (another device's command is not found)."""
    row: CommandRow | None = await db.scalar(
        select(CommandRow).where(CommandRow.uuid == command_uuid, CommandRow.device_id == device_id)
    )
    return row


def newest_first(device_id: int) -> Select[tuple[CommandRow]]:
    """The device's commands, newest first (for paging)."""
    return select(CommandRow).where(CommandRow.device_id == device_id).order_by(CommandRow.id.desc())


async def newest_of_type(db: AsyncSession, device_id: int, request_type: str) -> list[CommandRow]:
    """The device's commands of this request type, newest first."""
    return list(await db.scalars(
        select(CommandRow)
        .where(CommandRow.device_id == device_id, CommandRow.request_type == request_type)
        .order_by(CommandRow.id.desc())
    ))
