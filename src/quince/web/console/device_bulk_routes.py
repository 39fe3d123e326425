"""Actions on the devices selected in the list (Query, Sync, Enterprise Wipe, Delete record; the
destructive two confirmed on a page listing each device first) and the list as a CSV file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData

from quince.domain.errors import InvalidInput
from quince.services.devices import bulk
from quince.services.devices import export as device_export
from quince.services.devices import records as devices
from quince.web.console.context import (
    Changer,
    Console,
    ConsoleRoute,
    SignedIn,
    log,
    parse_id,
    posted,
    redirect,
    render,
    text,
)
from quince.web.console.device_list_routes import LIST_PARAMS, criteria, list_filters
from quince.web.console.device_views import bulk_query, list_item
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

# The selection's checkboxes, the action, the confirmation, the list's filters and the CSRF token.
# A form with more fields than this is refused as unreadable (ExpiredForm) before it is looked at.
MAX_FIELDS = bulk.MAX_SELECTION + 20


def _selection(form: FormData) -> list[int]:
    """The selected device ids (anything that is not an id names no device: 0)."""
    return [parse_id(value if isinstance(value, str) else None) or 0 for value in form.getlist("device")]


def _back(form: FormData) -> dict[str, str]:
    """The list's filters the form carried (`back`, the list's query), to return to the same list."""
    return {name: value for name, value in parse_qsl(text(form, "back", 2048))
            if name in LIST_PARAMS and name != "og" and value}


@router.get("/devices/bulk")
async def bulk_address(console: SignedIn) -> Response:
    """Bulk actions are POSTs; typed into the address bar it leads back to the list."""
    return redirect("/console/devices", console)


@router.post("/devices/bulk")
async def bulk_action(
    request: Request,
    form: Annotated[FormData, Depends(posted(max_fields=MAX_FIELDS))],
    db: Db,
    console: Changer,
) -> Response:
    try:
        action = bulk.BulkAction(text(form, "action", 16))
    except ValueError:
        raise InvalidInput("action", "Choose what to do with the selected devices.") from None
    device_ids = _selection(form)
    bulk.require_selection(device_ids)
    if action.destructive and text(form, "confirmed", 8) != "yes":
        return await _confirmation(request, db, console, action, device_ids, text(form, "back", 2048))
    outcome = await bulk.apply(db, console.here, action, device_ids, actor=console.actor)
    await db.commit()
    log(request, "console.devices", "bulk_" + action.value, admin=console.admin.username, og=console.og.id,
        selected=len(device_ids), done=outcome.done, failed=len(outcome.failures))
    return redirect("/console/devices", console, **_back(form), **bulk_query(outcome, action))


async def _confirmation(request: Request, db: Db, console: Console, action: bulk.BulkAction,
                        device_ids: list[int], back: str) -> Response:
    """The page listing each selected device, its user and whether it can take the action."""
    rows = await bulk.selected(db, console.here, device_ids)
    related = await devices.related(db, console.scope, rows)
    items = [(list_item(row, related), bulk.refusal(action, row)) for row in rows]
    return render(request, console, "device_bulk_confirm.html", title=f"{action.label}: confirm",
                  nav="devices", action=action, items=items, missing=len(set(device_ids)) - len(rows),
                  ready=sum(1 for _, failure in items if failure is None), back=back)


@router.get("/devices/export.csv")
async def export_csv(request: Request, db: Db, console: SignedIn) -> Response:
    """The filtered list (every page, up to device_export.MAX_ROWS devices) as CSV."""
    found = await devices.filters(db, console.here, **criteria(list_filters(request, console)))
    log(request, "console.devices", "exported", admin=console.admin.username, og=console.og.id)
    name = f"devices-{datetime.now(UTC):%Y-%m-%d}.csv"
    return StreamingResponse(
        device_export.csv_lines(db, console.here, found), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
                 "X-Content-Type-Options": "nosniff"},
    )
