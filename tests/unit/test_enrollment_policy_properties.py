"""Property tests of the enrollment policy over random OG trees, settings, users and mappings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from quince.domain.enrollment_policy import (
    Basis,
    EnrollingUser,
    EnrollmentDecision,
    GroupIdOutOfReach,
    GroupMapping,
    InactiveUser,
    Outcome,
    UnknownGroupId,
    UserEnrollmentDisabled,
    decide_enrollment_og,
)
from quince.domain.og_settings import resolve
from quince.domain.org_groups import OrgGroup
from tests.unit.strategies import UE, World, entered_group_ids, mappings, users, worlds

PROPERTY_SETTINGS = settings(deadline=None)  # examples: the profile (tests/unit/conftest.py)


@st.composite
def cases(draw: st.DrawFn) -> tuple[World, EnrollingUser, list[GroupMapping], str | None]:
    world = draw(worlds())
    return world, draw(users(world)), draw(mappings(world)), draw(entered_group_ids(world))


def run(world: World, user: EnrollingUser, maps: list[GroupMapping], entered: str | None) -> Outcome:
    return decide_enrollment_og(user, maps, entered, world.tree, world.overrides)


def target_of(outcome: Outcome) -> OrgGroup | None:
    return outcome.og if isinstance(outcome, EnrollmentDecision) else outcome.target


def usable(world: World, maps: list[GroupMapping]) -> list[GroupMapping]:
    return [m for m in maps if m.og_id in world.tree]


def best_mapping(world: World, maps: list[GroupMapping]) -> GroupMapping:
    return min(
        usable(world, maps),
        key=lambda m: (m.rank, m.user_group_name.casefold(), m.user_group_id, m.og_id),
    )


@PROPERTY_SETTINGS
@given(cases())
def test_an_allowed_decision_always_lands_where_user_enrollment_is_effective(case) -> None:
    world, user, maps, entered = case
    outcome = run(world, user, maps, entered)
    if isinstance(outcome, EnrollmentDecision):
        ue = resolve(world.tree, world.overrides, outcome.og.id, UE)
        assert ue.value is True
        assert outcome.ue_source_og.id == ue.source_og_id
        assert outcome.allowed


@PROPERTY_SETTINGS
@given(cases())
def test_a_user_enrollment_refusal_names_where_the_disabled_setting_comes_from(case) -> None:
    world, user, maps, entered = case
    outcome = run(world, user, maps, entered)
    if isinstance(outcome, UserEnrollmentDisabled):
        assert outcome.og is not None and outcome.source_og is not None
        ue = resolve(world.tree, world.overrides, outcome.og.id, UE)
        assert ue.value is False
        assert outcome.source_og.id == ue.source_og_id
        assert outcome.overridden_here == (ue.source_og_id == outcome.og.id)
        assert repr(outcome.og.name) in outcome.message
        assert repr(outcome.source_og.name) in outcome.message


@PROPERTY_SETTINGS
@given(cases())
def test_when_a_mapping_matches_the_target_is_the_best_ranked_mapped_og(case) -> None:
    world, user, maps, entered = case
    user = EnrollingUser(user.id, user.username, True, user.enrollment_og_id)
    if not usable(world, maps):
        return
    outcome = run(world, user, maps, entered)
    assert isinstance(outcome, EnrollmentDecision | UserEnrollmentDisabled)
    best = best_mapping(world, maps)
    target = target_of(outcome)
    assert target is not None and target.id == best.og_id
    if isinstance(outcome, EnrollmentDecision):
        assert outcome.basis is Basis.USER_GROUP_MAPPING
        rivals = {m.og_id for m in usable(world, maps) if m.rank == best.rank}
        assert outcome.tie == (len(rivals) > 1)
        assert any(step.startswith("Tie at rank") for step in outcome.trace) == outcome.tie


@PROPERTY_SETTINGS
@given(cases())
def test_without_mapping_or_group_id_the_target_is_the_users_enrollment_og(case) -> None:
    world, user, maps, _entered = case
    user = EnrollingUser(user.id, user.username, True, user.enrollment_og_id)
    stale = [m for m in maps if m.og_id not in world.tree]  # mappings that cannot match
    for entered in (None, "", "   "):
        outcome = run(world, user, stale, entered)
        assert isinstance(outcome, EnrollmentDecision | UserEnrollmentDisabled)
        target = target_of(outcome)
        assert target is not None and target.id == user.enrollment_og_id
        if isinstance(outcome, EnrollmentDecision):
            assert outcome.basis is Basis.ENROLLMENT_OG


@PROPERTY_SETTINGS
@given(cases())
def test_with_a_group_id_and_no_mapping_the_target_is_within_the_users_subtree(case) -> None:
    world, user, _maps, entered = case
    user = EnrollingUser(user.id, user.username, True, user.enrollment_og_id)
    if not (entered or "").strip():
        return
    outcome = run(world, user, [], entered)
    typed = entered.strip().casefold()
    named = next((og for og in world.groups if og.group_id.casefold() == typed), None)
    if named is None:
        assert isinstance(outcome, UnknownGroupId)
        return
    if not world.tree.is_within(named.id, user.enrollment_og_id):
        assert isinstance(outcome, GroupIdOutOfReach)
        return
    assert isinstance(outcome, EnrollmentDecision | UserEnrollmentDisabled)
    target = target_of(outcome)
    assert target == named
    assert world.tree.is_within(target.id, user.enrollment_og_id)
    if isinstance(outcome, EnrollmentDecision):
        assert outcome.basis is Basis.GROUP_ID


@PROPERTY_SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_the_decision_is_deterministic_and_independent_of_mapping_order(case, rnd) -> None:
    world, user, maps, entered = case
    shuffled = list(maps)
    rnd.shuffle(shuffled)
    first = run(world, user, maps, entered)
    assert run(world, user, maps, entered) == first
    assert run(world, user, shuffled, entered) == first


@PROPERTY_SETTINGS
@given(cases())
def test_an_inactive_user_is_always_refused(case) -> None:
    world, user, maps, entered = case
    user = EnrollingUser(user.id, user.username, False, user.enrollment_og_id)
    outcome = run(world, user, maps, entered)
    assert isinstance(outcome, InactiveUser)
    assert not outcome.allowed


@PROPERTY_SETTINGS
@given(cases())
def test_every_outcome_has_a_trace_and_a_readable_reason(case) -> None:
    world, user, maps, entered = case
    outcome = run(world, user, maps, entered)
    assert outcome.trace
    assert all(step and step.endswith((".", ")")) for step in outcome.trace)
    reason = outcome.reason if isinstance(outcome, EnrollmentDecision) else outcome.message
    assert reason
    assert "uuid-" not in reason
