"""The users list over HTTP: enrolled-device counts and user groups per user, and activating or
deactivating the selected users at once (deactivating asks first), scoped and guarded."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import user_groups
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow
from tests.integration.console.support import Fleet, csrf_token, sign_in


async def _users(session: AsyncSession) -> dict[str, EnrollmentUserRow]:
    session.expire_all()
    return {row.username: row for row in await session.scalars(select(EnrollmentUserRow))}


def _row(page: str, username: str) -> str:
    match = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*>{username}</a></td>.*?</tr>', page, re.S)
    assert match, f"no row for {username}"
    return match.group(0)


async def test_the_list_shows_enrolled_devices_and_user_groups_per_user(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    people = await _users(session)
    sellers = await user_groups.create(session, scope, og_id=fleet.acme, name="Sellers")
    await user_groups.add_member(session, scope, sellers.id, people["alice"].id)
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/users?og={fleet.acme}")).text
    alice, bob = _row(page, "alice"), _row(page, "bob")
    assert f'href="/console/user-groups/{sellers.id}?og={fleet.acme}">Sellers</a>' in alice
    assert '<td class="usr-num"><a href="/console/devices?og=' in alice and ">1</a>" in alice
    assert '<td class="usr-num">0</td>' in bob and "Sellers" not in bob


async def test_activating_selected_users_needs_no_confirmation_and_says_what_it_did(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    people = await _users(session)
    people["bob"].active = False
    await session.commit()
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/users?og={fleet.acme}")).text)
    answer = await client.post(f"/console/users/bulk?og={fleet.acme}", data={
        "csrf_token": token, "action": "activate",
        "user": [str(people["alice"].id), str(people["bob"].id), str(people["erin"].id)]})
    assert answer.status_code == 200
    assert "1 user activated. 1 user already active." in answer.text
    assert "1 user not changed: not in the organization groups you manage" in answer.text
    after = await _users(session)
    assert after["bob"].active and after["erin"].active


async def test_deactivating_lists_the_users_first_and_changes_them_once_confirmed(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    people = await _users(session)
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/users?og={fleet.acme}")).text)
    chosen = [str(people["alice"].id), str(people["bob"].id), str(people["erin"].id)]
    confirm = await client.post(f"/console/users/bulk?og={fleet.acme}",
                                data={"csrf_token": token, "action": "deactivate", "user": chosen})
    assert confirm.status_code == 200 and "Deactivate 2 users?" in confirm.text
    assert ">alice</td>" in confirm.text and ">bob</td>" in confirm.text and "erin" not in confirm.text
    assert all(row.active for row in (await _users(session)).values())
    done = await client.post(f"/console/users/bulk?og={fleet.acme}", data={
        "csrf_token": csrf_token(confirm.text), "action": "deactivate", "confirmed": "yes", "user": chosen})
    assert done.status_code == 200 and "2 users deactivated." in done.text
    after = await _users(session)
    assert not after["alice"].active and not after["bob"].active and after["erin"].active


async def test_a_bulk_change_without_a_selection_changes_nothing(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get(f"/console/users?og={fleet.acme}")).text)
    answer = await client.post(f"/console/users/bulk?og={fleet.acme}",
                               data={"csrf_token": token, "action": "deactivate", "user": ["x", "0"]})
    assert answer.status_code == 200 and "Select one or more users first." in answer.text
    assert all(row.active for row in (await _users(session)).values())


async def test_a_read_only_admin_sees_no_selection_and_cannot_change_users(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    people = await _users(session)
    await sign_in(client, "acme-reader")
    page = await client.get(f"/console/users?og={fleet.acme}")
    assert 'name="user"' not in page.text and "With the selected users" not in page.text
    answer = await client.post(f"/console/users/bulk?og={fleet.acme}", data={
        "csrf_token": csrf_token(page.text), "action": "activate", "confirmed": "yes",
        "user": [str(people["alice"].id)]})
    assert answer.status_code == 403


async def test_a_bulk_change_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    people = await _users(session)
    await sign_in(client, "acme-admin")
    answer = await client.post(f"/console/users/bulk?og={fleet.acme}", data={
        "action": "deactivate", "confirmed": "yes", "user": [str(people["alice"].id)]})
    assert answer.status_code == 403 and "This page has expired" in answer.text
    assert (await _users(session))["alice"].active
