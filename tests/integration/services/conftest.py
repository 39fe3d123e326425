"""A small stored tenant for service tests, scopes that see part of it, and a table snapshot to
prove that a refused change left the database as it was."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.services.access import admins
from quince.services.directory import org_groups, user_groups, users
from quince.services.scope import Scope
from quince.store.models import Base, DeviceRow, OrgGroupRow

PASSWORD = "correct-horse-1"


@dataclass(frozen=True)
class Tenant:
    """Global → Acme (Customer) → Sales → Sales-EU, Acme → Support; Global → Beta (Customer) →
    Beta-Ops. Alice lives at Sales, in user group Sellers (at Acme) mapped to Sales-EU rank 5;
    admin 'acme-admin' and one API key sit at Acme."""

    root: int
    acme: int
    sales: int
    sales_eu: int
    support: int
    beta: int
    beta_ops: int
    alice: int
    sellers: int
    mapping: int
    admin: str
    api_key_id: int
    api_key: str


async def scope_at(session: AsyncSession, og_id: int, *, can_write: bool = True) -> Scope:
    row = await session.get(OrgGroupRow, og_id)
    assert row is not None
    return Scope(og_id=row.id, path=row.path, can_write=can_write, actor="admin 'test'")


async def snapshot(session: AsyncSession) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (flushing anything pending first), for before/after comparisons."""
    await session.flush()
    out: dict[str, list[tuple[object, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        rows = (await session.execute(select(table))).tuples().all()
        out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


async def add_device(session: AsyncSession, og_id: int, user_id: int | None = None) -> DeviceRow:
    row = DeviceRow(
        og_id=og_id, enrollment_user_id=user_id, enrollment_status="EnrollmentInProgress",
        ownership="E", is_user_enrolled=True, license_type_eligibility=2,
    )
    session.add(row)
    await session.flush()
    return row


@pytest.fixture
async def tenant(session: AsyncSession, scope: Scope) -> Tenant:
    acme = await org_groups.create(session, scope, scope.og_id, name="Acme", group_id="acme",
                                   og_type="Customer")
    sales = await org_groups.create(session, scope, acme.id, name="Sales", group_id="sales")
    sales_eu = await org_groups.create(session, scope, sales.id, name="Sales EU", group_id="sales-eu")
    support = await org_groups.create(session, scope, acme.id, name="Support", group_id="support")
    beta = await org_groups.create(session, scope, scope.og_id, name="Beta", group_id="beta",
                                   og_type="Customer")
    beta_ops = await org_groups.create(session, scope, beta.id, name="Beta Ops", group_id="beta-ops")
    alice = await users.add(session, scope, username="alice", email="alice@acme.example",
                            og_id=sales.id, password=PASSWORD)
    sellers = await user_groups.create(session, scope, name="Sellers", og_id=acme.id)
    await user_groups.add_member(session, scope, sellers.id, alice.id)
    mapping = await user_groups.add_mapping(session, scope, sellers.id, sales_eu.id, 5)
    admin = await admins.add_admin(session, scope, username="acme-admin", password=PASSWORD,
                                   og_id=acme.id, role="administrator")
    key_row, key = await admins.create_api_key(session, scope, og_id=acme.id, name="acme key")
    await session.commit()
    return Tenant(
        root=scope.og_id, acme=acme.id, sales=sales.id, sales_eu=sales_eu.id, support=support.id,
        beta=beta.id, beta_ops=beta_ops.id, alice=alice.id, sellers=sellers.id, mapping=mapping.id,
        admin=admin.username, api_key_id=key_row.id, api_key=key,
    )
