"""Request dependencies every face shares: the database session (`Db`), the settings and the
client's address. Each face adds its own on top (the REST API's caller in `web/api/deps.py`, the
console's signed-in admin in `web/console/context.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from quince.config import Settings
from quince.store.database import Db as Session
from quince.web.proxies import client_address

__all__ = ["ClientAddress", "Db", "RequestSettings", "client_address", "session", "settings"]


async def session(request: Request) -> AsyncIterator[Session]:
    """A session per request; routes that change data commit it themselves."""
    async with request.app.state.sessionmaker() as db:
        yield db


Db = Annotated[Session, Depends(session)]


def settings(request: Request) -> Settings:
    """The install's settings, as the app was created with them."""
    value: Settings = request.app.state.settings
    return value


RequestSettings = Annotated[Settings, Depends(settings)]
ClientAddress = Annotated[str, Depends(client_address)]
