"""The enrollment policy run end to end on stored data, creating nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import (
    Basis,
    EnrollmentDecision,
    GroupIdOutOfReach,
    InactiveUser,
    UnknownGroupId,
    UserEnrollmentDisabled,
)
from quince.domain.errors import NotFound
from quince.services.directory import og_settings, user_groups, users
from quince.services.directory.users import UserChanges
from quince.services.enrollment import preview as enrollment_preview
from quince.services.scope import Scope
from tests.integration.services.conftest import Tenant, scope_at, snapshot

UE = "user_enrollment_enabled"


@pytest.fixture
async def enabled(session: AsyncSession, scope: Scope, tenant: Tenant) -> Tenant:
    """User Enrollment on at Acme, overridden off at Support."""
    await og_settings.override(session, scope, tenant.acme, UE, True)
    await og_settings.override(session, scope, tenant.support, UE, False)
    await session.commit()
    return tenant


async def test_a_mapping_through_group_membership_decides_the_target(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    before = await snapshot(session)
    outcome = await enrollment_preview.preview(session, scope, "ALICE", "sales")
    assert isinstance(outcome, EnrollmentDecision)
    assert outcome.og.id == enabled.sales_eu
    assert outcome.basis is Basis.USER_GROUP_MAPPING
    assert outcome.ue_source_og.id == enabled.acme
    assert "The entered Group ID 'sales' is ignored: a user-group mapping wins." in outcome.trace
    assert await snapshot(session) == before


async def test_the_best_ranked_mapping_of_several_groups_wins(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    everyone = await user_groups.create(session, scope, name="Everyone", og_id=enabled.acme)
    await user_groups.add_member(session, scope, everyone.id, enabled.alice)
    await user_groups.add_mapping(session, scope, everyone.id, enabled.sales, 2)
    outcome = await enrollment_preview.preview(session, scope, "alice", None)
    assert isinstance(outcome, EnrollmentDecision)
    assert outcome.og.id == enabled.sales
    assert any("'Everyone'" in step and "rank 2" in step for step in outcome.trace)


async def test_a_mapped_target_with_user_enrollment_disabled_is_refused(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    await user_groups.update_mapping(session, scope, enabled.sellers, enabled.mapping, 50)
    await user_groups.add_mapping(session, scope, enabled.sellers, enabled.support, 1)
    outcome = await enrollment_preview.preview(session, scope, "alice", None)
    assert isinstance(outcome, UserEnrollmentDisabled)
    assert outcome.og is not None and outcome.og.id == enabled.support
    assert outcome.message == (
        "User Enrollment is not enabled for organization group 'Support' (setting set at 'Support'). "
        "Contact your IT department."
    )


async def test_without_mappings_an_entered_group_id_below_the_user_is_used(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    await user_groups.remove_member(session, scope, enabled.sellers, enabled.alice)
    outcome = await enrollment_preview.preview(session, scope, "alice", "SALES-EU")
    assert isinstance(outcome, EnrollmentDecision)
    assert (outcome.og.id, outcome.basis) == (enabled.sales_eu, Basis.GROUP_ID)


async def test_without_mappings_or_group_id_the_users_enrollment_og_is_used(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    await user_groups.remove_mapping(session, scope, enabled.sellers, enabled.mapping)
    outcome = await enrollment_preview.preview(session, scope, "alice", None)
    assert isinstance(outcome, EnrollmentDecision)
    assert (outcome.og.id, outcome.basis) == (enabled.sales, Basis.ENROLLMENT_OG)


async def test_user_enrollment_disabled_at_the_users_og_is_refused_naming_the_source(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    await user_groups.remove_member(session, scope, enabled.sellers, enabled.alice)
    await users.update(session, scope, enabled.alice, UserChanges(og_id=enabled.support))
    outcome = await enrollment_preview.preview(session, scope, "alice", None)
    assert isinstance(outcome, UserEnrollmentDisabled)
    assert outcome.source_og is not None and outcome.source_og.id == enabled.support


async def test_group_id_refusals_on_stored_data(session: AsyncSession, scope: Scope, enabled: Tenant) -> None:
    await user_groups.remove_member(session, scope, enabled.sellers, enabled.alice)
    assert isinstance(await enrollment_preview.preview(session, scope, "alice", "nope"), UnknownGroupId)
    assert isinstance(await enrollment_preview.preview(session, scope, "alice", "support"), GroupIdOutOfReach)
    assert isinstance(await enrollment_preview.preview(session, scope, "alice", "beta"), GroupIdOutOfReach)


async def test_an_inactive_user_is_refused(session: AsyncSession, scope: Scope, enabled: Tenant) -> None:
    await users.update(session, scope, enabled.alice, UserChanges(active=False))
    assert isinstance(await enrollment_preview.preview(session, scope, "alice", None), InactiveUser)


async def test_preview_creates_nothing_whatever_the_outcome(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    before = await snapshot(session)
    for group_id in (None, "sales", "nope", "beta", "support"):
        await enrollment_preview.preview(session, scope, "alice", group_id)
    assert await snapshot(session) == before


async def test_preview_of_a_user_outside_the_callers_subtree_is_not_found(
    session: AsyncSession, enabled: Tenant
) -> None:
    beta_admin = await scope_at(session, enabled.beta)
    with pytest.raises(NotFound):
        await enrollment_preview.preview(session, beta_admin, "alice", None)
    with pytest.raises(NotFound):
        await enrollment_preview.preview(session, beta_admin, "nobody", None)


async def test_the_preview_dict_has_the_documented_shape(
    session: AsyncSession, scope: Scope, enabled: Tenant
) -> None:
    allowed = enrollment_preview.as_preview_dict(
        await enrollment_preview.preview(session, scope, "alice", None)
    )
    assert set(allowed) == {"Allowed", "GroupId", "LocationGroupId", "Reason", "Trace"}
    assert allowed["Allowed"] is True
    assert allowed["GroupId"] == "sales-eu"
    assert allowed["LocationGroupId"]["Id"] == {"Value": enabled.sales_eu}
    assert allowed["LocationGroupId"]["Name"] == "Sales EU"
    await users.update(session, scope, enabled.alice, UserChanges(active=False))
    refused = enrollment_preview.as_preview_dict(
        await enrollment_preview.preview(session, scope, "alice", None)
    )
    assert refused["Allowed"] is False
    assert refused["GroupId"] is None and refused["LocationGroupId"] is None
    assert "not active" in refused["Reason"]
    assert refused["Trace"] == ["User 'alice' is inactive: enrollment refused."]
