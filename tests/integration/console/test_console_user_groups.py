"""Console user groups over HTTP: the list at the chosen OG, creating, renaming and deleting a group,
its members and its ranked OG mappings, with refusals, scoping, read-only admins and CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.directory import user_groups, users
from quince.services.scope import Scope
from quince.store.models import UserGroupMappingRow, UserGroupMemberRow, UserGroupRow
from tests.integration.console.support import Fleet, csrf_token, sign_in


@dataclass(frozen=True)
class Groups:
    sales_team: int
    """At Sales: alice is a member, mapped to Sales EU at rank 2."""
    sales_eu_mapping: int
    beta_crew: int
    """At Beta: erin is a member."""
    alice: int
    bob: int
    erin: int


@pytest.fixture
async def groups(session: AsyncSession, scope: Scope, fleet: Fleet) -> Groups:
    people = {name: (await users.get_by_username(session, scope, name)).id
              for name in ("alice", "bob", "erin")}
    team = await user_groups.create(session, scope, name="Sales team", og_id=fleet.sales,
                                    description="Everyone selling")
    await user_groups.add_member(session, scope, team.id, people["alice"])
    mapping = await user_groups.add_mapping(session, scope, team.id, fleet.sales_eu, 2)
    crew = await user_groups.create(session, scope, name="Beta crew", og_id=fleet.beta)
    await user_groups.add_member(session, scope, crew.id, people["erin"])
    await session.commit()
    return Groups(team.id, mapping.id, crew.id, people["alice"], people["bob"], people["erin"])


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    await session.rollback()  # see what the server committed, not this session's old snapshot
    return (await session.scalar(select(func.count()).select_from(model).where(*where))) or 0


async def _token(client: httpx.AsyncClient, path: str) -> str:
    return csrf_token((await client.get(path)).text)


async def test_the_list_shows_the_groups_of_the_chosen_og_and_below_with_their_counts(
    client: httpx.AsyncClient, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/user-groups?og={fleet.acme}")
    assert page.status_code == 200 and "<h1>User groups in Acme</h1>" in page.text
    assert "1 user group<" in page.text
    assert f'href="/console/user-groups/{groups.sales_team}?og={fleet.acme}">Sales team</a>' in page.text
    assert "Sales <span class=\"mono\">(sales)</span>" in page.text
    assert "<td>1</td>\n      <td>1</td>" in page.text  # one member, one mapping
    assert "Beta crew" not in page.text
    assert "Create user group" in page.text
    field = (await client.get(f"/console/user-groups?og={fleet.field}")).text
    assert "0 user groups" in field and "Sales team" not in field
    assert "No user groups in Field yet." in field
    searched = (await client.get(f"/console/user-groups?og={fleet.acme}&q=nobody")).text
    assert "0 user groups" in searched and "No user groups match." in searched


async def test_an_admin_creates_a_group_at_an_og_of_the_chosen_subtree(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups?og={fleet.acme}"
    answer = await client.post(path, data={"csrf_token": await _token(client, path), "name": "Field crew",
                                           "og_id": str(fleet.field), "description": "Out and about"})
    assert answer.status_code == 303
    row = await session.scalar(select(UserGroupRow).where(UserGroupRow.name == "Field crew"))
    assert row is not None and row.og_id == fleet.field and row.description == "Out and about"
    assert answer.headers["location"].startswith(f"/console/user-groups/{row.id}?og={fleet.acme}")
    landed = (await client.get(answer.headers["location"])).text
    assert "User group Field crew was created." in landed and "<h1>User group Field crew</h1>" in landed


async def test_a_bad_or_duplicate_name_is_refused_with_the_input_kept_and_nothing_stored(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups?og={fleet.acme}"
    token = await _token(client, path)
    duplicate = await client.post(path, data={"csrf_token": token, "name": "sales TEAM",
                                              "og_id": str(fleet.sales), "description": "kept text"})
    assert duplicate.status_code == 409 and 'role="alert"' in duplicate.text
    assert "already exists in that organization group" in duplicate.text
    assert 'value="sales TEAM"' in duplicate.text and 'value="kept text"' in duplicate.text
    empty = await client.post(path, data={"csrf_token": token, "name": "  ", "og_id": str(fleet.sales)})
    assert empty.status_code == 400 and "user group name must not be empty" in empty.text
    long = await client.post(path, data={"csrf_token": token, "name": "x" * 150, "og_id": str(fleet.sales)})
    assert long.status_code == 400 and "at most 100 characters" in long.text
    assert await _count(session, UserGroupRow) == 2


async def test_an_owning_og_outside_the_chosen_subtree_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups?og={fleet.field}"
    token = await _token(client, path)
    for og_id in (fleet.beta, fleet.sales, "abc"):
        answer = await client.post(path, data={"csrf_token": token, "name": "Sneaky", "og_id": str(og_id)})
        assert answer.status_code == 404, og_id
    assert await _count(session, UserGroupRow) == 2


async def test_the_group_page_shows_its_members_and_ranked_mappings(
    client: httpx.AsyncClient, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    page = await client.get(f"/console/user-groups/{groups.sales_team}?og={fleet.acme}")
    assert page.status_code == 200 and "<h1>User group Sales team</h1>" in page.text
    assert "rank 1 beats rank 2" in page.text
    assert f'href="/console/users/{groups.alice}?og={fleet.sales}">alice</a>' in page.text
    assert "1 member<" in page.text and "alice@acme.example" in page.text
    assert "<td>2</td>\n        <td>Sales EU</td>" in page.text
    # Only the group's own OG and the ones below it are offered as targets.
    assert "Sales EU (sales-eu)</option>" in page.text and "Field (field)</option>" not in page.text.split(
        'id="map-og"')[1].split("</select>")[0]


async def test_renaming_saves_and_refusals_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet, groups: Groups
) -> None:
    await user_groups.create(session, scope, name="Sales managers", og_id=fleet.sales)
    await session.commit()
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups/{groups.sales_team}"
    token = await _token(client, path)
    clash = await client.post(f"{path}/edit", data={"csrf_token": token, "name": "SALES managers",
                                                    "description": "new"})
    assert clash.status_code == 409 and "already exists" in clash.text
    assert 'value="SALES managers"' in clash.text
    empty = await client.post(f"{path}/edit", data={"csrf_token": token, "name": "", "description": ""})
    assert empty.status_code == 400 and "must not be empty" in empty.text
    await session.rollback()
    row = await session.get(UserGroupRow, groups.sales_team)
    assert row is not None and row.name == "Sales team" and row.description == "Everyone selling"
    saved = await client.post(f"{path}/edit", data={"csrf_token": token, "name": "Sales people",
                                                    "description": ""})
    assert saved.status_code == 303 and "done=saved" in saved.headers["location"]
    assert "User group Sales people was saved." in (await client.get(saved.headers["location"])).text
    await session.rollback()
    row = await session.get(UserGroupRow, groups.sales_team)
    assert row is not None and row.name == "Sales people" and row.description == ""


async def test_deleting_asks_for_confirmation_then_removes_the_group_and_its_links(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups/{groups.sales_team}"
    assert f'href="{path}/delete?og=' in (await client.get(path)).text
    confirm = await client.get(f"{path}/delete")
    assert confirm.status_code == 200 and "<h1>Delete user group Sales team?</h1>" in confirm.text
    assert "1 membership and 1 organization group mapping" in confirm.text
    assert await _count(session, UserGroupRow, UserGroupRow.id == groups.sales_team) == 1
    answer = await client.post(f"{path}/delete", data={"csrf_token": csrf_token(confirm.text)})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/user-groups?")
    assert "User group Sales team was deleted." in (await client.get(answer.headers["location"])).text
    assert await _count(session, UserGroupRow, UserGroupRow.id == groups.sales_team) == 0
    assert await _count(session, UserGroupMemberRow,
                        UserGroupMemberRow.user_group_id == groups.sales_team) == 0
    assert await _count(session, UserGroupMappingRow) == 0
    assert (await client.get(path)).status_code == 404


async def test_members_are_added_by_username_and_removed(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups/{groups.sales_team}"
    token = await _token(client, path)
    added = await client.post(f"{path}/members", data={"csrf_token": token, "username": "BOB"})
    assert added.status_code == 303
    assert "User bob was added to the group." in (await client.get(added.headers["location"])).text
    member = UserGroupMemberRow.user_group_id == groups.sales_team
    assert await _count(session, UserGroupMemberRow, member) == 2
    again = await client.post(f"{path}/members", data={"csrf_token": token, "username": "bob"})
    assert again.status_code == 409 and "bob is already a member of Sales team." in again.text
    for who in ("erin", "ghost"):  # another tenant's user reads exactly like a missing one
        refused = await client.post(f"{path}/members", data={"csrf_token": token, "username": who})
        assert refused.status_code == 400 and 'role="alert"' in refused.text
        assert f"There is no user named &#39;{who}&#39; in the groups you manage." in refused.text
        assert f'value="{who}"' in refused.text
    blank = await client.post(f"{path}/members", data={"csrf_token": token, "username": ""})
    assert blank.status_code == 400 and "Enter the username" in blank.text
    assert await _count(session, UserGroupMemberRow, member) == 2
    removed = await client.post(f"{path}/members/{groups.alice}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert "User alice was removed from the group." in (await client.get(removed.headers["location"])).text
    assert await _count(session, UserGroupMemberRow, member) == 1
    for user_ref in (groups.alice, groups.erin, "abc"):  # no longer a member; out of scope; nonsense
        answer = await client.post(f"{path}/members/{user_ref}/remove", data={"csrf_token": token})
        assert answer.status_code == 404, user_ref
    assert await _count(session, UserGroupMemberRow, member) == 1


async def test_a_large_membership_is_paged(
    client: httpx.AsyncClient, session: AsyncSession, scope: Scope, fleet: Fleet, groups: Groups
) -> None:
    for n in range(55):
        row = await users.add(session, scope, username=f"member{n:02d}", email=f"m{n}@acme.example",
                              og_id=fleet.field)
        await user_groups.add_member(session, scope, groups.sales_team, row.id)
    await session.commit()
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups/{groups.sales_team}?og={fleet.acme}"
    first = (await client.get(path)).text
    # By username: alice, then member00 to member48 fill the first fifty.
    assert "56 members, page 1 of 2" in first and 'rel="next"' in first
    assert ">member48</a>" in first and ">member49</a>" not in first
    second = (await client.get(f"{path}&page=1")).text
    assert "page 2 of 2" in second and ">member49</a>" in second and ">member54</a>" in second
    assert ">alice</a>" not in second


async def test_mappings_are_added_reranked_and_removed_and_refusals_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups/{groups.sales_team}"
    token = await _token(client, path)
    added = await client.post(f"{path}/mappings", data={"csrf_token": token, "og_id": str(fleet.sales),
                                                        "rank": "1"})
    assert added.status_code == 303
    assert "The mapping to Sales was added." in (await client.get(added.headers["location"])).text
    mine = UserGroupMappingRow.user_group_id == groups.sales_team
    assert await _count(session, UserGroupMappingRow, mine) == 2
    refusals = [
        ({"og_id": str(fleet.sales), "rank": "3"}, 409, "already mapped to &#39;Sales&#39;"),
        ({"og_id": str(fleet.sales_eu), "rank": "0"}, 409, "already mapped"),
        ({"og_id": str(fleet.field), "rank": "1"}, 400, "can only map to that organization group or one"),
        ({"og_id": str(fleet.acme), "rank": "1"}, 400, "can only map"),
    ]
    for data, status, message in refusals:
        answer = await client.post(f"{path}/mappings", data={"csrf_token": token, **data})
        assert answer.status_code == status and message in answer.text, data
        assert 'role="alert"' in answer.text
    assert await _count(session, UserGroupMappingRow, mine) == 2
    for og_ref in (fleet.beta, "nonsense"):
        answer = await client.post(f"{path}/mappings", data={"csrf_token": token, "og_id": str(og_ref),
                                                             "rank": "1"})
        assert answer.status_code == 404
    eu = f"{path}/mappings/{groups.sales_eu_mapping}"
    bad = await client.post(eu, data={"csrf_token": token, "rank": "5000"})
    assert bad.status_code == 400 and "Rank must be between 1 (best) and 1000." in bad.text
    assert 'value="5000"' in bad.text
    word = await client.post(eu, data={"csrf_token": token, "rank": "first"})
    assert word.status_code == 400 and "Rank must be a whole number" in word.text
    assert await _count(session, UserGroupMappingRow, UserGroupMappingRow.rank == 2) == 1
    changed = await client.post(eu, data={"csrf_token": token, "rank": "7"})
    assert changed.status_code == 303
    landed = (await client.get(changed.headers["location"])).text
    assert "The rank of the mapping to Sales EU was changed." in landed
    assert await _count(session, UserGroupMappingRow, UserGroupMappingRow.rank == 7) == 1
    removed = await client.post(f"{eu}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert await _count(session, UserGroupMappingRow, mine) == 1
    assert (await client.post(f"{eu}/remove", data={"csrf_token": token})).status_code == 404


async def test_a_fresh_mapping_with_a_bad_rank_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups/{groups.sales_team}"
    token = await _token(client, path)
    for rank, message in (("0", "Rank must be between 1 (best) and 1000."), ("x", "whole number")):
        answer = await client.post(f"{path}/mappings", data={"csrf_token": token, "og_id": str(fleet.sales),
                                                             "rank": rank})
        assert answer.status_code == 400 and message in answer.text
        assert f'value="{rank}"' in answer.text
    assert await _count(session, UserGroupMappingRow) == 1


async def test_groups_outside_the_admins_reach_or_the_chosen_og_are_not_found(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "beta-admin")
    beta_path = f"/console/user-groups/{groups.beta_crew}"
    token = await _token(client, beta_path)
    sales = f"/console/user-groups/{groups.sales_team}"
    for path in (sales, f"{sales}/delete", "/console/user-groups/abc", "/console/user-groups/99999"):
        assert (await client.get(path)).status_code == 404, path
    for path, data in ((f"{sales}/edit", {"name": "Mine"}), (f"{sales}/delete", {}),
                       (f"{sales}/members", {"username": "erin"}),
                       (f"{sales}/members/{groups.alice}/remove", {}),
                       (f"{sales}/mappings", {"og_id": str(fleet.beta), "rank": "1"}),
                       (f"{sales}/mappings/{groups.sales_eu_mapping}", {"rank": "1"}),
                       (f"{beta_path}/mappings/{groups.sales_eu_mapping}/remove", {})):
        assert (await client.post(path, data={"csrf_token": token, **data})).status_code == 404, path
    assert await _count(session, UserGroupRow) == 2
    assert await _count(session, UserGroupMappingRow) == 1
    assert await _count(session, UserGroupMemberRow) == 2
    await sign_in(client, "acme-admin")
    assert (await client.get(beta_path)).status_code == 404
    assert (await client.get(f"/console/user-groups/{groups.sales_team}?og={fleet.field}")).status_code == 404
    assert (await client.get(f"/console/user-groups/{groups.sales_team}?og={fleet.sales}")).status_code == 200


async def test_a_read_only_admin_sees_no_forms_and_cannot_change_anything(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-reader")
    listing = await client.get(f"/console/user-groups?og={fleet.acme}")
    assert listing.status_code == 200 and "Sales team" in listing.text
    path = f"/console/user-groups/{groups.sales_team}"
    page = await client.get(path)
    assert page.status_code == 200 and "alice" in page.text and "Sales EU" in page.text
    for text in (listing.text, page.text):
        assert text.count('method="post"') == 1  # sign-out only
        assert "Create user group" not in text and "Add member" not in text and "Delete this" not in text
    assert (await client.get(f"{path}/delete")).status_code == 403
    token = csrf_token(page.text)
    for target, data in ((f"/console/user-groups?og={fleet.acme}", {"name": "New", "og_id": str(fleet.acme)}),
                         (f"{path}/edit", {"name": "Renamed"}), (f"{path}/delete", {}),
                         (f"{path}/members", {"username": "bob"}),
                         (f"{path}/members/{groups.alice}/remove", {}),
                         (f"{path}/mappings", {"og_id": str(fleet.sales), "rank": "1"}),
                         (f"{path}/mappings/{groups.sales_eu_mapping}", {"rank": "1"}),
                         (f"{path}/mappings/{groups.sales_eu_mapping}/remove", {})):
        answer = await client.post(target, data={"csrf_token": token, **data})
        assert answer.status_code == 403 and "read-only" in answer.text, target
    assert await _count(session, UserGroupRow) == 2
    assert await _count(session, UserGroupMemberRow) == 2
    assert await _count(session, UserGroupMappingRow, UserGroupMappingRow.rank == 2) == 1


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fleet: Fleet, groups: Groups
) -> None:
    await sign_in(client, "acme-admin")
    path = f"/console/user-groups/{groups.sales_team}"
    for target, data in (("/console/user-groups", {"name": "New", "og_id": str(fleet.acme)}),
                         (f"{path}/edit", {"name": "Renamed"}), (f"{path}/delete", {}),
                         (f"{path}/members", {"username": "bob"}),
                         (f"{path}/mappings", {"og_id": str(fleet.sales), "rank": "1"}),
                         (f"{path}/mappings/{groups.sales_eu_mapping}/remove", {})):
        answer = await client.post(target, data={**data, "csrf_token": "forged"})
        assert answer.status_code == 403 and "This page has expired" in answer.text, target
    assert await _count(session, UserGroupRow) == 2
    assert await _count(session, UserGroupMemberRow) == 2
    assert await _count(session, UserGroupMappingRow) == 1
