"""Every console route, walked from the console's own routers: no page answers without a signed-in
admin, no form is taken without its CSRF token, and a read-only admin changes nothing. A route
added later is covered without a new case here."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.web.console.routes import AREAS
from tests.integration.api.support import snapshot
from tests.integration.console.support import Fleet, csrf_token, sign_in

PUBLIC = {("GET", "/console/sign-in"), ("POST", "/console/sign-in"), ("GET", "/console/static/console.css"),
          ("GET", "/console/static/favicon.svg"), ("GET", "/console/static/devices.js")}
# Forms a read-only admin may send: they change nothing.
READ_ONLY_ALLOWED = {"/console/sign-out", "/console/logs/bundle"}


def _routes() -> list[tuple[str, str]]:
    found = [(method, "/console" + route.path) for area in AREAS for route in area.router.routes
             if isinstance(route, APIRoute) for method in sorted(route.methods)]
    return [r for r in found if r not in PUBLIC and not r[1].startswith("/console/static/htmx-")]


ROUTES = _routes()
GETS = [path for method, path in ROUTES if method == "GET"]
POSTS = [path for method, path in ROUTES if method == "POST"]
assert len(GETS) >= 15 and len(POSTS) >= 20, "the console's routes could not be read"


def _url(path: str, fleet: Fleet) -> str:
    """The path with every {ref} filled with an id that exists in the fleet (a device, for most)."""
    return re.sub(r"\{[a-z_]+\}", str(fleet.alice_iphone), path) + f"?og={fleet.acme}"


@pytest.mark.parametrize("path", GETS)
async def test_no_page_answers_without_a_signed_in_admin(
    client: httpx.AsyncClient, fleet: Fleet, path: str
) -> None:
    answer = await client.get(_url(path, fleet))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in?next=")


@pytest.mark.parametrize("path", POSTS)
async def test_no_form_is_taken_without_its_csrf_token(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine, path: str
) -> None:
    await sign_in(client, "acme-admin")
    before = await snapshot(engine)
    answer = await client.post(_url(path, fleet), data={"name": "x", "csrf_token": "forged-" + "x" * 36})
    assert answer.status_code == 403 and "This page has expired" in answer.text
    assert await snapshot(engine) == before


@pytest.mark.parametrize("path", [p for p in POSTS if p not in READ_ONLY_ALLOWED])
async def test_a_read_only_admin_changes_nothing(
    client: httpx.AsyncClient, fleet: Fleet, engine: AsyncEngine, path: str
) -> None:
    page = await sign_in(client, "acme-reader")
    assert page.status_code == 303
    token = csrf_token((await client.get("/console/")).text)
    before = await snapshot(engine)
    answer = await client.post(_url(path, fleet), data={"csrf_token": token, "name": "x", "days": "1"})
    assert answer.status_code in (403, 404), (path, answer.status_code)  # 404: no such object there
    assert await snapshot(engine) == before
