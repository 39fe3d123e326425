"""The device list as CSV: the columns the console's table shows, plus the ids, for every device
the list's filters keep (up to a cap), written a batch at a time so a large list streams.

A cell a spreadsheet would read as a formula (=, +, -, @, and the tab or carriage return some
readers skip first) is prefixed with a quote: a device name or username comes from outside."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

from quince.domain.apple_models import marketing_name
from quince.services.devices import records
from quince.services.scope import Scope
from quince.store.database import Db
from quince.store.device_search import DeviceFilter
from quince.store.models import DeviceRow

MAX_ROWS = 100_000
BATCH = 1000
COLUMNS = ("Device ID", "Device UUID", "Name", "Enrollment ID / UDID", "Status", "Model", "Model name",
           "OS version", "Last seen (UTC)", "User", "User ID", "User email", "Ownership",
           "Organization group", "Organization group ID", "User Enrollment", "Replaced by")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """The cell as text a spreadsheet shows, never runs: a leading formula character is quoted."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _row(device: DeviceRow, related: records.Related) -> list[str]:
    user = related.users.get(device.enrollment_user_id) if device.enrollment_user_id is not None else None
    og = related.ogs.get(device.og_id)
    return [
        str(device.id), device.uuid, records.friendly_name(device, user.username if user else None),
        device.udid or "", device.enrollment_status, device.product_name or "",
        marketing_name(device.product_name) or "", device.os_version or "", _time(device.last_seen_at),
        user.username if user else "", str(user.id) if user else "", user.email if user else "",
        records.effective_ownership(device), og.name if og else "", str(device.og_id),
        "yes" if device.is_user_enrolled else "no",
        str(device.superseded_by_device_id or ""),
    ]


def _lines(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([spreadsheet_safe(c) for c in row] for row in rows)
    return out.getvalue()


async def csv_lines(db: Db, scope: Scope, found: DeviceFilter, *, cap: int = MAX_ROWS) -> AsyncIterator[str]:
    """The header, then the devices `found` (see records.filters) by id, a batch of lines at a time."""
    yield _lines([list(COLUMNS)])
    async for batch in records.each_batch(db, found, size=BATCH, cap=cap):
        related = await records.related(db, scope, batch)
        yield _lines([_row(device, related) for device in batch])
