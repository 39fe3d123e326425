"""One name, one person (docs/security.md): what a person types at enrollment sign-in names
exactly one user, and no admin of one tenant can create a user that changes how a person of
another tenant signs in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import Conflict, OutOfScope
from quince.domain.sign_in_backoff import BackOff
from quince.services.access.sign_in_throttle import Throttle
from quince.services.directory import sign_in_names, users
from quince.services.enrollment import sessions as enrollment
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow
from tests.integration.services.conftest import PASSWORD, Tenant, scope_at, snapshot

THROTTLE = Throttle(BackOff(5, timedelta(seconds=1), timedelta(minutes=15)),
                    BackOff(20, timedelta(seconds=1), timedelta(seconds=60)), timedelta(minutes=60))


async def _signs_in(session: AsyncSession, name: str) -> str:
    user = await enrollment.authenticate(session, name, PASSWORD, "10.0.0.1", THROTTLE)
    return user.username


@pytest.mark.parametrize("field", ["email", "managed_apple_id"])
async def test_another_tenants_admin_cannot_create_a_user_with_a_name_a_person_signs_in_with(
    session: AsyncSession, tenant: Tenant, field: str
) -> None:
    beta = await scope_at(session, tenant.beta)
    before = await snapshot(session)
    with pytest.raises(Conflict) as refused:
        await users.add(session, beta, username="mallory", og_id=tenant.beta_ops, password=PASSWORD,
                        **{"email": "mallory@beta.example", field: "ALICE@acme.example"})
    await session.rollback()
    assert await snapshot(session) == before
    assert "Acme" not in refused.value.message and "acme-admin" not in refused.value.message
    assert await _signs_in(session, "alice@acme.example") == "alice"


async def test_a_username_cannot_be_another_users_email(session: AsyncSession, tenant: Tenant) -> None:
    beta = await scope_at(session, tenant.beta)
    with pytest.raises(Conflict):
        await users.add(session, beta, username="alice@acme.example", email="m@beta.example",
                        og_id=tenant.beta_ops, password=PASSWORD)


async def test_an_update_cannot_take_a_name_another_user_signs_in_with(
    session: AsyncSession, tenant: Tenant
) -> None:
    beta = await scope_at(session, tenant.beta)
    mallory = await users.add(session, beta, username="mallory", email="mallory@beta.example",
                              og_id=tenant.beta_ops, password=PASSWORD)
    await session.commit()
    with pytest.raises(Conflict):
        await users.update(session, beta, mallory.id,
                           users.UserChanges(managed_apple_id="alice@ACME.example"))
    await session.rollback()
    assert await _signs_in(session, "alice@acme.example") == "alice"
    assert await _signs_in(session, "mallory@beta.example") == "mallory"


async def test_the_refusal_reads_the_same_whichever_tenant_holds_the_name(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await users.add(session, scope, username="bert", email="bert@beta.example", og_id=tenant.beta_ops,
                    password=PASSWORD)
    acme = await scope_at(session, tenant.acme)
    messages = []
    for taken in ("alice@acme.example", "bert@beta.example"):  # own tenant, then another tenant
        with pytest.raises(Conflict) as refused:
            await users.add(session, acme, username="new-person", email=taken, og_id=tenant.sales)
        messages.append(refused.value.message.replace(taken, "<name>"))
    assert messages[0] == messages[1]


async def test_a_changed_email_frees_the_old_one_and_signs_in_with_the_new_one(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await users.update(session, scope, tenant.alice, users.UserChanges(email="a.smith@acme.example"))
    await session.commit()
    assert await _signs_in(session, "a.smith@acme.example") == "alice"
    with pytest.raises(enrollment.WrongCredentials):
        await _signs_in(session, "alice@acme.example")
    bob = await users.add(session, scope, username="bob", email="alice@acme.example", og_id=tenant.sales,
                          password=PASSWORD)
    await session.commit()
    assert await _signs_in(session, "alice@acme.example") == bob.username


async def test_a_users_own_names_may_repeat_each_other_and_survive_an_unrelated_change(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    await users.update(session, scope, tenant.alice, users.UserChanges(first_name="Alice", active=True))
    await session.commit()
    for name in ("alice", "alice@acme.example", "ALICE@ACME.EXAMPLE"):
        assert await _signs_in(session, name) == "alice"


async def test_deleting_a_user_frees_their_names(session: AsyncSession, scope: Scope, tenant: Tenant) -> None:
    carol = await users.add(session, scope, username="carol", email="carol@acme.example", og_id=tenant.sales)
    await users.delete(session, scope, carol.id)
    await session.commit()
    again = await users.add(session, scope, username="carol2", email="carol@acme.example", og_id=tenant.sales)
    assert again.email == "carol@acme.example"


async def test_doctor_lists_names_several_users_share_and_whom_each_signs_in(
    session: AsyncSession, scope: Scope, tenant: Tenant
) -> None:
    # Two users sharing an email, as an install upgraded from before migration 0010 may hold:
    # written past the service, which refuses it.
    session.add(EnrollmentUserRow(username="alice2", username_key="alice2", email="Alice@acme.example",
                                  managed_apple_id="alice2@appleid.beta.example", og_id=tenant.beta_ops))
    await session.commit()
    found = await sign_in_names.shared_names(session, scope)
    assert [s.name for s in found] == ["alice@acme.example"]
    assert {(h.username, h.field, h.tenant) for h in found[0].holders} == {
        ("alice", "Email", "acme"), ("alice2", "Email", "beta"),
    }
    assert found[0].signs_in == tenant.alice  # the name stays with the user it signed in


async def test_only_the_installs_operator_may_list_shared_names(
    session: AsyncSession, tenant: Tenant
) -> None:
    with pytest.raises(OutOfScope):
        await sign_in_names.shared_names(session, await scope_at(session, tenant.acme))
