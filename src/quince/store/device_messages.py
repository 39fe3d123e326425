"""Queries on the raw messages devices sent (`device_messages`)."""

from __future__ import annotations

from sqlalchemy import Select, select

from quince.store.models import DeviceMessageRow


def newest_first(device_id: int) -> Select[tuple[DeviceMessageRow]]:
    """The device's check-in and connect messages, newest first (for paging)."""
    return (
        select(DeviceMessageRow)
        .where(DeviceMessageRow.device_id == device_id)
        .order_by(DeviceMessageRow.received_at.desc(), DeviceMessageRow.id.desc())
    )
