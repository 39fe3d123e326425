"""Helpers of the API tests: a small organization to work in, and the checks every test repeats."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from quince.services.directory import og_settings, org_groups, user_groups, users
from quince.services.scope import Scope
from quince.store.models import Base

Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class World:
    """Global > Acme (Customer) > {Sales, Engineering > Eng Lab}.

    Sales holds alice and the user group Sales Team (alice, mapped to Sales); Engineering holds
    bob and carol and the user group Eng Team (bob, mapped to Engineering). Eng Lab is empty.
    User Enrollment is enabled at Acme and inherited below it.
    """

    root: int
    acme: int
    sales: int
    eng: int
    eng_lab: int
    alice: int
    bob: int
    carol: int
    sales_team: int
    eng_team: int
    sales_mapping: int
    eng_mapping: int


async def build_world(session: AsyncSession, scope: Scope) -> World:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    sales = await org_groups.create(session, scope, acme.id, name="Sales", group_id="sales")
    eng = await org_groups.create(session, scope, acme.id, name="Engineering", group_id="eng")
    lab = await org_groups.create(session, scope, eng.id, name="Eng Lab", group_id="eng-lab")
    await og_settings.override(session, scope, acme.id, "user_enrollment_enabled", True)
    alice = await users.add(session, scope, username="alice", email="alice@acme.example",
                            og_id=sales.id, first_name="Alice", last_name="Archer")
    bob = await users.add(session, scope, username="bob", email="bob@acme.example", og_id=eng.id,
                          first_name="Bob", last_name="Baker", password="bob-password-1")
    carol = await users.add(session, scope, username="carol", email="carol@acme.example",
                            og_id=eng.id, first_name="Carol", last_name="Cooper")
    sales_team = await user_groups.create(session, scope, name="Sales Team", og_id=sales.id)
    eng_team = await user_groups.create(session, scope, name="Eng Team", og_id=eng.id,
                                        description="Everyone who builds things")
    await user_groups.add_member(session, scope, sales_team.id, alice.id)
    await user_groups.add_member(session, scope, eng_team.id, bob.id)
    sales_mapping = await user_groups.add_mapping(session, scope, sales_team.id, sales.id, 1)
    eng_mapping = await user_groups.add_mapping(session, scope, eng_team.id, eng.id, 1)
    await session.commit()
    return World(
        root=scope.og_id, acme=acme.id, sales=sales.id, eng=eng.id, eng_lab=lab.id,
        alice=alice.id, bob=bob.id, carol=carol.id, sales_team=sales_team.id,
        eng_team=eng_team.id, sales_mapping=sales_mapping.id, eng_mapping=eng_mapping.id,
    )


async def snapshot(engine: AsyncEngine) -> Snapshot:
    """Every row of every table, read on a fresh connection: compare two to prove nothing changed."""
    async with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in await conn.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an error with this status and Workspace ONE's error body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"errorCode", "message", "activityId"}, body
    assert isinstance(body["errorCode"], int)
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["activityId"], str) and body["activityId"]
    return body
