"""Console users over HTTP: the list with search, status filter and paging, adding and editing a
user, (de)activating, the user's page, scoping and read-only admins."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import passwords
from quince.services.directory import user_groups, users
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow
from tests.integration.console.support import Fleet, csrf_token, sign_in

NEW_PASSWORD = "Carol-pass-123"


async def _user(session: AsyncSession, username: str) -> EnrollmentUserRow | None:
    session.expire_all()
    row: EnrollmentUserRow | None = await session.scalar(
        select(EnrollmentUserRow).where(EnrollmentUserRow.username_key == username.casefold())
    )
    return row


async def _count(session: AsyncSession) -> int:
    session.expire_all()
    return (await session.scalar(select(func.count()).select_from(EnrollmentUserRow))) or 0


async def _id(session: AsyncSession, username: str) -> int:
    row = await _user(session, username)
    assert row is not None
    return row.id


def _listed(page: str) -> list[str]:
    """The usernames in the user table, in order."""
    return re.findall(r'<td><a href="/console/users/\d+\?og=\d+">([^<]+)</a></td>', page)


async def _add_form(client: httpx.AsyncClient, og: int, **fields: str) -> httpx.Response:
    page = await client.get(f"/console/users/new?og={og}")
    assert page.status_code == 200
    data = {"csrf_token": csrf_token(page.text), "username": "carol", "email": "carol@acme.example",
            "first_name": "Carol", "last_name": "Chen", "managed_apple_id": "", "og_id": str(og),
            "password": NEW_PASSWORD, "active": "yes"}
    data.update(fields)
    return await client.post(f"/console/users/new?og={og}", data=data)


# -- the list --------------------------------------------------------------------------------------


async def test_the_list_shows_the_users_of_the_chosen_og_and_below(
    client: httpx.AsyncClient, fleet: Fleet
) -> None:
    await sign_in(client, "acme-admin")
    acme = await client.get(f"/console/users?og={fleet.acme}")
    assert acme.status_code == 200 and "<h1>Users in Acme</h1>" in acme.text
    assert _listed(acme.text) == ["alice", "bob"] and "2 users" in acme.text
    assert "alice@acme.example" in acme.text and "Sales EU" in acme.text
    assert "Add user" in acme.text and "Import CSV" in acme.text
    sales_eu = await client.get(f"/console/users?og={fleet.sales_eu}")
    assert _listed(sales_eu.text) == ["bob"] and "1 user<" in sales_eu.text
    field = await client.get(f"/console/users?og={fleet.field}")
    assert _listed(field.text) == [] and "No users match." in field.text


async def test_the_list_searches_and_filters_by_status(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    bob = await _id(session, "bob")
    await users.update(session, scope, bob, users.UserChanges(active=False, first_name="Robert"))
    await session.commit()
    await sign_in(client, "acme-admin")
    base = f"/console/users?og={fleet.acme}"
    assert _listed((await client.get(f"{base}&q=ALI")).text) == ["alice"]
    assert _listed((await client.get(f"{base}&q=robert")).text) == ["bob"]
    assert _listed((await client.get(f"{base}&q=acme.example")).text) == ["alice", "bob"]
    assert _listed((await client.get(f"{base}&q=erin")).text) == []
    assert _listed((await client.get(f"{base}&status=active")).text) == ["alice"]
    inactive = (await client.get(f"{base}&status=inactive")).text
    assert _listed(inactive) == ["bob"] and 'class="usr-inactive"' in inactive
    assert _listed((await client.get(f"{base}&status=bogus")).text) == ["alice", "bob"]


async def test_the_list_pages_by_fifty_with_previous_and_next(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    for n in range(55):
        await users.add(session, scope, username=f"field-{n:02d}", email=f"f{n}@acme.example",
                        og_id=fleet.field)
    await session.commit()
    await sign_in(client, "acme-admin")
    first = (await client.get(f"/console/users?og={fleet.field}&q=field-")).text
    assert "55 users, page 1 of 2" in first and len(_listed(first)) == 50
    assert _listed(first)[0] == "field-00" and "Previous page" not in first
    next_link = re.search(r'<a rel="next" href="([^"]+)">Next page</a>', first)
    assert next_link is not None
    second = (await client.get(next_link.group(1).replace("&amp;", "&"))).text
    assert "page 2 of 2" in second and _listed(second) == [f"field-{n}" for n in range(50, 55)]
    assert "Previous page" in second and "Next page" not in second


# -- adding ----------------------------------------------------------------------------------------


async def test_an_admin_adds_a_user_and_lands_on_their_page(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    form = await client.get(f"/console/users/new?og={fleet.sales}")
    choices = form.text.split('id="og_id"', 1)[1].split("</select>", 1)[0]
    assert "Sales EU (sales-eu)" in choices and "Field (field)" not in choices
    answer = await _add_form(client, fleet.sales, og_id=str(fleet.sales_eu))
    assert answer.status_code == 303
    carol = await _user(session, "carol")
    assert carol is not None
    assert answer.headers["location"] == f"/console/users/{carol.id}?og={fleet.sales}&done=added"
    assert carol.og_id == fleet.sales_eu and carol.active and carol.first_name == "Carol"
    assert carol.managed_apple_id == "carol@acme.example"  # empty Managed Apple ID: the email address
    assert passwords.verify_password(carol.password_hash, NEW_PASSWORD)
    page = await client.get(answer.headers["location"])
    assert page.status_code == 200 and "User carol was added." in page.text
    assert NEW_PASSWORD not in page.text


async def test_a_user_may_be_added_without_a_password_and_inactive(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    answer = await _add_form(client, fleet.field, password="", active="", username="dan",
                             managed_apple_id="dan@appleid.acme.example")
    assert answer.status_code == 303
    dan = await _user(session, "dan")
    assert dan is not None and dan.password_hash is None and not dan.active
    assert dan.managed_apple_id == "dan@appleid.acme.example"


async def test_a_duplicate_username_is_a_conflict_and_nothing_is_stored(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    before = await _count(session)
    answer = await _add_form(client, fleet.field, username="ALICE", email="other@acme.example")
    assert answer.status_code == 409
    assert "already exists" in answer.text and "Nothing was saved." in answer.text
    assert 'value="ALICE"' in answer.text and 'value="other@acme.example"' in answer.text
    assert NEW_PASSWORD not in answer.text
    assert await _count(session) == before


async def test_a_bad_email_is_refused_with_the_form_refilled(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    before = await _count(session)
    answer = await _add_form(client, fleet.field, email="not-an-address")
    assert answer.status_code == 400 and "is not an email address" in answer.text
    assert re.search(r'id="email"[^>]*aria-invalid="true"', answer.text)
    assert 'value="carol"' in answer.text and NEW_PASSWORD not in answer.text
    short = await _add_form(client, fleet.field, password="short")
    assert short.status_code == 400 and "at least 8 characters" in short.text
    long_name = await _add_form(client, fleet.field, username="x" * 200)
    assert long_name.status_code == 400 and "at most 128 characters" in long_name.text
    assert await _count(session) == before


async def test_adding_into_an_og_outside_the_chosen_subtree_is_not_found(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    await sign_in(client, "acme-admin")
    before = await _count(session)
    for og in (fleet.beta, fleet.field):
        answer = await _add_form(client, fleet.sales, og_id=str(og))
        assert answer.status_code == 404, og
    assert await _count(session) == before


# -- a user's page, editing, (de)activating --------------------------------------------------------


async def test_the_user_page_shows_fields_groups_and_links(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession, scope: Scope
) -> None:
    alice = await _id(session, "alice")
    sellers = await user_groups.create(session, scope, name="Sellers", og_id=fleet.acme)
    hidden = await user_groups.create(session, scope, name="Global staff", og_id=scope.og_id)
    for group in (sellers, hidden):
        await user_groups.add_member(session, scope, group.id, alice)
    await session.commit()
    await sign_in(client, "acme-admin")
    page = (await client.get(f"/console/users/{alice}?og={fleet.sales}")).text
    assert "<h1>User alice</h1>" in page and "alice@acme.example" in page and "(sales)" in page
    assert f'href="/console/user-groups/{sellers.id}?og={fleet.acme}">Sellers</a>' in page
    assert "Global staff" not in page  # a group above the admin's OG
    assert f'href="/console/devices?og={fleet.acme}&amp;user=alice"' in page
    assert f'href="/console/preview?og={fleet.sales}&amp;username=alice"' in page
    assert "Edit user" in page and "Deactivate" in page


async def test_an_admin_edits_a_user(client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession) -> None:
    alice = await _id(session, "alice")
    await sign_in(client, "acme-admin")
    path = f"/console/users/{alice}/edit?og={fleet.acme}"
    form = await client.get(path)
    assert form.status_code == 200 and 'value="alice@acme.example"' in form.text
    answer = await client.post(path, data={
        "csrf_token": csrf_token(form.text), "username": "alice", "email": "alice.new@acme.example",
        "managed_apple_id": "alice@acme.example", "first_name": "Alice", "last_name": "Adams",
        "og_id": str(fleet.sales_eu), "password": "",
    })
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/users/{alice}?og={fleet.acme}&done=updated"
    row = await _user(session, "alice")
    assert row is not None and row.email == "alice.new@acme.example" and row.og_id == fleet.sales_eu
    # The Managed Apple ID was the email address and was left as it was: it follows the new one.
    assert row.managed_apple_id == "alice.new@acme.example"
    assert row.last_name == "Adams" and passwords.verify_password(row.password_hash, "console-pass-1")
    assert "User alice was saved." in (await client.get(answer.headers["location"])).text
    again = await client.post(path, data={
        "csrf_token": csrf_token(form.text), "username": "alice", "email": "alice.new@acme.example",
        "managed_apple_id": "", "first_name": "Alice", "last_name": "Adams",
        "og_id": str(fleet.sales_eu), "password": "Fresh-pass-123",
    })
    assert again.status_code == 303
    row = await _user(session, "alice")
    assert row is not None and passwords.verify_password(row.password_hash, "Fresh-pass-123")


async def test_a_refused_edit_keeps_the_input_and_changes_nothing(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    alice = await _id(session, "alice")
    await sign_in(client, "acme-admin")
    path = f"/console/users/{alice}/edit?og={fleet.acme}"
    token = csrf_token((await client.get(path)).text)
    fields = {"csrf_token": token, "username": "alicia", "email": "broken", "managed_apple_id": "",
              "first_name": "Alicia", "last_name": "", "og_id": str(fleet.sales), "password": ""}
    bad = await client.post(path, data=fields)
    assert bad.status_code == 400 and "is not an email address" in bad.text
    assert 'value="alicia"' in bad.text and 'value="Alicia"' in bad.text
    duplicate = await client.post(path, data={**fields, "username": "Bob", "email": "a@acme.example"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.text
    row = await _user(session, "alice")
    assert row is not None and row.email == "alice@acme.example" and row.first_name == ""
    assert await _user(session, "alicia") is None


async def test_deactivating_and_activating_a_user(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    bob = await _id(session, "bob")
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/users/{bob}?og={fleet.sales}")
    token = csrf_token(page.text)
    answer = await client.post(f"/console/users/{bob}/deactivate?og={fleet.sales}",
                               data={"csrf_token": token})
    assert answer.status_code == 303
    row = await _user(session, "bob")
    assert row is not None and not row.active
    shown = (await client.get(answer.headers["location"])).text
    assert "User bob was deactivated" in shown and "This user is inactive" in shown and "Activate" in shown
    answer = await client.post(f"/console/users/{bob}/activate?og={fleet.sales}", data={"csrf_token": token})
    assert answer.status_code == 303
    row = await _user(session, "bob")
    assert row is not None and row.active
    assert "User bob was activated" in (await client.get(answer.headers["location"])).text


async def test_a_user_outside_the_chosen_subtree_is_not_found(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    alice, erin = await _id(session, "alice"), await _id(session, "erin")
    await sign_in(client, "acme-admin")
    token = csrf_token((await client.get("/console/users")).text)
    for path in (f"/console/users/{erin}", f"/console/users/{alice}?og={fleet.field}",
                 f"/console/users/{erin}/edit", "/console/users/abc", "/console/users/999999"):
        assert (await client.get(path)).status_code == 404, path
    refused = await client.post(f"/console/users/{erin}/deactivate", data={"csrf_token": token})
    assert refused.status_code == 404
    row = await _user(session, "erin")
    assert row is not None and row.active
    await sign_in(client, "beta-admin")
    assert (await client.get(f"/console/users/{alice}")).status_code == 404
    assert (await client.get(f"/console/users?og={fleet.acme}")).status_code == 404
    assert (await client.get(f"/console/users/{erin}")).status_code == 200


async def test_a_read_only_admin_sees_no_buttons_and_gets_403(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    alice = await _id(session, "alice")
    await sign_in(client, "acme-reader")
    listing = await client.get(f"/console/users?og={fleet.acme}")
    assert listing.status_code == 200 and _listed(listing.text) == ["alice", "bob"]
    assert "Add user" not in listing.text and "Import CSV" not in listing.text
    page = await client.get(f"/console/users/{alice}")
    assert page.status_code == 200 and "Edit user" not in page.text and "Deactivate" not in page.text
    token = csrf_token(page.text)
    assert (await client.get("/console/users/new")).status_code == 403
    assert (await client.get(f"/console/users/{alice}/edit")).status_code == 403
    before = await _count(session)
    added = await client.post("/console/users/new", data={
        "csrf_token": token, "username": "carol", "email": "carol@acme.example", "og_id": str(fleet.acme),
    })
    assert added.status_code == 403 and "read-only" in added.text
    edited = await client.post(f"/console/users/{alice}/edit", data={
        "csrf_token": token, "username": "alice", "email": "x@acme.example", "og_id": str(fleet.sales),
    })
    assert edited.status_code == 403
    deactivated = await client.post(f"/console/users/{alice}/deactivate", data={"csrf_token": token})
    assert deactivated.status_code == 403
    assert await _count(session) == before
    row = await _user(session, "alice")
    assert row is not None and row.active and row.email == "alice@acme.example"


async def test_a_post_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, fleet: Fleet, session: AsyncSession
) -> None:
    alice = await _id(session, "alice")
    await sign_in(client, "acme-admin")
    before = await _count(session)
    added = await client.post("/console/users/new", data={
        "username": "carol", "email": "carol@acme.example", "og_id": str(fleet.acme),
    })
    assert added.status_code == 403 and "This page has expired" in added.text
    assert (await client.post(f"/console/users/{alice}/deactivate", data={})).status_code == 403
    assert await _count(session) == before
    row = await _user(session, "alice")
    assert row is not None and row.active
