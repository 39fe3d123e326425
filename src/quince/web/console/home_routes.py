"""The console's home page at the chosen OG."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from quince.services import devices, org_groups
from quince.services.paging import PageRequest
from quince.web.console.context import open_console, render

router = APIRouter()


@router.get("/")
async def home(request: Request) -> Response:
    async with request.app.state.sessionmaker() as db:
        console = await open_console(request, db)
        if isinstance(console, Response):
            return console
        counts = (await org_groups.counts(db, [console.og.id])).get(console.og.id)
        total = (await devices.search(db, console.here, PageRequest(0, 1))).total
        return render(request, console, "home.html", title="Home", nav="home", device_total=total,
                      counts=counts)
