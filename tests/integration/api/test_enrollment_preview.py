"""/API/mdm/enrollment/preview: where a user's device would enroll, or why it may not, with the
decision trace; a refusal is an answer (200), and nothing is ever created."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services.directory import og_settings, org_groups, user_groups, users
from quince.services.enrollment.preview import OUTSIDE_OG, OUTSIDE_USER_GROUP
from quince.services.scope import Scope
from tests.fixtures.live_server import ApiClientFactory
from tests.integration.api.support import World, assert_error, snapshot

PREVIEW = "/API/mdm/enrollment/preview"
KEYS = {"Allowed", "GroupId", "LocationGroupId", "Reason", "Trace"}


async def preview(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    response = await client.get(PREVIEW, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == KEYS
    assert isinstance(body["Reason"], str) and body["Reason"]
    assert body["Trace"] and all(isinstance(step, str) for step in body["Trace"])
    return body


def assert_target(body: dict[str, Any], og_id: int, group_id: str, name: str) -> None:
    assert body["GroupId"] == group_id
    target = body["LocationGroupId"]
    assert set(target) == {"Id", "Name", "Uuid"}
    assert (target["Id"], target["Name"]) == ({"Value": og_id}, name)
    assert len(target["Uuid"]) == 36


async def test_a_user_group_mapping_decides_and_the_reason_is_the_last_trace_step(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    body = await preview(client, username="bob", groupid="eng-lab")
    assert body["Allowed"] is True
    assert_target(body, world.eng, "eng", "Engineering")
    assert body["Reason"] == body["Trace"][-1]
    assert "Decision: enroll into 'Engineering'" in body["Reason"]
    assert any("user-group mapping wins" in step for step in body["Trace"])


async def test_without_a_mapping_the_entered_group_id_or_the_enrollment_og_decides(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    assert_target(await preview(client, username="carol"), world.eng, "eng", "Engineering")
    entered = await preview(client, username="CAROL", groupid="ENG-LAB")
    assert entered["Allowed"] is True
    assert_target(entered, world.eng_lab, "eng-lab", "Eng Lab")


async def test_an_inactive_user_is_refused_with_no_target(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    await users.update(session, scope, world.carol, users.UserChanges(active=False))
    await session.commit()
    client = await api_client(og_id=world.eng)
    body = await preview(client, username="carol")
    assert body["Allowed"] is False
    assert (body["GroupId"], body["LocationGroupId"]) == (None, None)
    assert "not active" in body["Reason"]
    assert "inactive" in body["Trace"][-1]


async def test_an_unknown_group_id_is_refused_with_no_target(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.eng)
    body = await preview(client, username="carol", groupid="nowhere")
    assert body["Allowed"] is False
    assert (body["GroupId"], body["LocationGroupId"]) == (None, None)
    assert "'nowhere' is not recognised" in body["Reason"]


async def test_a_group_id_outside_the_users_enrollment_og_is_refused_with_no_target(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.acme)
    body = await preview(client, username="carol", groupid="sales")
    assert body["Allowed"] is False
    assert (body["GroupId"], body["LocationGroupId"]) == (None, None)
    assert "cannot enroll into Group ID 'sales'" in body["Reason"]


async def test_a_group_id_of_another_tenant_reads_exactly_like_one_that_exists_nowhere(
    api_client: ApiClientFactory, session: AsyncSession, scope: Scope, world: World
) -> None:
    # Another customer whose OG is named like its Group ID: neither the Group ID nor the name may
    # change a word of what an Acme admin reads.
    await org_groups.create(session, scope, world.root, name="BCorp", group_id="bcorp", og_type="Customer")
    await session.commit()
    client = await api_client(og_id=world.acme)
    elsewhere = await preview(client, username="carol", groupid="BCorp")
    nowhere = await preview(client, username="carol", groupid="NoCorp")
    assert elsewhere["Allowed"] is False
    assert elsewhere == json.loads(json.dumps(nowhere).replace("'NoCorp'", "'BCorp'"))
    assert "'BCorp' is not recognised" in elsewhere["Reason"]
    assert not any(OUTSIDE_OG in step for step in elsewhere["Trace"])
    # Whoever may see BCorp reads why it is refused.
    wide = await preview(await api_client(og_id=world.root), username="carol", groupid="BCorp")
    assert "cannot enroll into Group ID 'BCorp'" in wide["Reason"]
    assert "'BCorp' (Group ID bcorp) is not" in wide["Trace"][-1]


async def test_user_enrollment_disabled_at_the_target_names_the_target_and_the_source(
    api_client: ApiClientFactory, world: World, session: AsyncSession, scope: Scope
) -> None:
    await og_settings.override(session, scope, world.eng, "user_enrollment_enabled", False)
    await session.commit()
    client = await api_client(og_id=world.eng)
    body = await preview(client, username="bob")
    assert body["Allowed"] is False
    assert_target(body, world.eng, "eng", "Engineering")
    assert "not enabled for organization group 'Engineering'" in body["Reason"]
    assert "set at 'Engineering'" in body["Reason"]
    inherited = await preview(client, username="carol", groupid="eng-lab")
    assert_target(inherited, world.eng_lab, "eng-lab", "Eng Lab")
    assert "inherited from 'Engineering'" in inherited["Reason"]


async def test_a_preview_creates_nothing(
    api_client: ApiClientFactory, world: World, engine: AsyncEngine
) -> None:
    client = await api_client(og_id=world.acme, role="read-only")
    before = await snapshot(engine)
    for params in ({"username": "bob"}, {"username": "carol", "groupid": "nowhere"},
                   {"username": "alice", "groupid": "eng"}):
        await preview(client, **params)
    assert await snapshot(engine) == before


async def test_an_unknown_or_out_of_scope_username_is_404(
    api_client: ApiClientFactory, world: World
) -> None:
    client = await api_client(og_id=world.sales)
    unknown = assert_error(await client.get(PREVIEW, params={"username": "nobody"}), 404)
    assert "'nobody'" in unknown["message"]
    assert_error(await client.get(PREVIEW, params={"username": "bob"}), 404)
    assert (await client.get(PREVIEW, params={"username": "alice"})).status_code == 200


async def test_preview_refuses_bad_parameters(api_client: ApiClientFactory, world: World) -> None:
    client = await api_client(og_id=world.acme)
    for params, expected in (
        ({}, "username"), ({"username": ""}, "username"), ({"username": "u" * 129}, "username"),
        ({"username": "bob", "groupid": "g" * 65}, "groupid"), ({"username": "bob\x00"}, "NUL"),
    ):
        body = assert_error(await client.get(PREVIEW, params=params), 400)
        assert expected in body["message"], (params, body["message"])


async def test_an_og_and_user_group_outside_the_callers_subtree_are_not_named(
    api_client: ApiClientFactory, session: AsyncSession, scope: Scope, world: World
) -> None:
    # A wider admin put carol (Engineering) in a group at Acme mapped to Sales: an Engineering
    # admin previewing carol learns where she goes only as "outside the groups you manage".
    secret = await user_groups.create(session, scope, name="Secret Squad", og_id=world.acme)
    await user_groups.add_member(session, scope, secret.id, world.carol)
    await user_groups.add_mapping(session, scope, secret.id, world.sales, 1)
    await session.commit()
    client = await api_client(og_id=world.eng)
    body = await preview(client, username="carol")
    assert body["Allowed"] is True
    assert body["GroupId"] is None and body["LocationGroupId"] is None
    text = " ".join([body["Reason"], *body["Trace"]])
    assert "Sales" not in text and "Secret Squad" not in text
    assert OUTSIDE_OG in text and OUTSIDE_USER_GROUP in text
    wide = await preview(await api_client(og_id=world.acme), username="carol")
    assert_target(wide, world.sales, "sales", "Sales")  # the Acme admin sees it all
