"""Console forms sent at the same moment for the same object: each gets a page (a redirect after
a change, or a refusal), never a server error; a change that lost the race is a 409 page saying
nothing was changed."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import user_groups
from quince.services.scope import Scope
from quince.store.models import OGSettingRow, UserGroupRow
from quince.web.console.context import ConsoleRoute
from quince.web.console.routes import AREAS
from tests.integration.console.support import Fleet, csrf_token, sign_in

RACERS = 12


def test_every_console_route_turns_a_lost_race_into_a_page() -> None:
    console = [route for area in AREAS for route in area.router.routes]
    assert len(console) > 20
    assert [r.path for r in console if not isinstance(r, ConsoleRoute)] == []


async def test_settings_changed_at_once_in_the_console_are_all_saved_one_after_the_other(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    url = f"/console/groups/settings?og={fleet.sales}"
    token = csrf_token((await client.get(url)).text)
    forms = [{"csrf_token": token, "key": "default_ownership",
              "current": "Inherit" if n % 4 == 0 else "Override", "value": "CES"[n % 3],
              "child_permission": "InheritOrOverride"} for n in range(RACERS)]

    answers = await asyncio.gather(*(client.post(url, data=form) for form in forms))

    assert Counter(a.status_code for a in answers) == {303: RACERS}, [a.text[:300] for a in answers]
    await session.rollback()
    stored = list(await session.scalars(select(OGSettingRow).where(
        OGSettingRow.og_id == fleet.sales, OGSettingRow.key == "default_ownership")))
    assert len(stored) <= 1 and all(row.value in ("C", "E", "S") for row in stored)


async def test_a_user_group_renamed_while_deleted_gets_a_page_never_a_server_error(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet
) -> None:
    ids = [(await user_groups.create(session, scope, name=f"Shift {n}", og_id=fleet.sales)).id
           for n in range(6)]
    await session.commit()
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/user-groups/{ids[0]}?og={fleet.acme}")).text)

    answers = await asyncio.gather(*(
        request for group_id in ids for request in (
            client.post(f"/console/user-groups/{group_id}/edit?og={fleet.acme}",
                        data={"csrf_token": token, "name": f"Renamed {group_id}", "description": "x"}),
            client.post(f"/console/user-groups/{group_id}/edit?og={fleet.acme}",
                        data={"csrf_token": token, "name": f"Again {group_id}", "description": "y"}),
            client.post(f"/console/user-groups/{group_id}/delete?og={fleet.acme}",
                        data={"csrf_token": token}),
        )
    ))

    assert {a.status_code for a in answers} <= {303, 404, 409}, [(a.status_code, a.text[:300])
                                                                  for a in answers]
    for answer in answers:
        if answer.status_code != 303:
            assert answer.headers["content-type"].startswith("text/html")
        if answer.status_code == 409:
            assert "Changed at the same moment" in answer.text
            assert "nothing was changed" in answer.text
    await session.rollback()
    assert list(await session.scalars(select(UserGroupRow.id).where(UserGroupRow.id.in_(ids)))) == []
