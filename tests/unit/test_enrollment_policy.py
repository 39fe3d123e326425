"""DESIGN.md rule 1: where a user's device enrolls, one test per rule and edge."""

from __future__ import annotations

import re

import pytest

from quince.domain.enrollment_policy import (
    UE_SETTING,
    Basis,
    EnrollmentDecision,
    GroupIdOutOfReach,
    InactiveUser,
    Outcome,
    UnknownGroupId,
    UserEnrollmentDisabled,
    as_unknown_group_id,
    decide_enrollment_og,
    require_user_enrollment_enabled,
)
from quince.domain.og_settings import ChildPermission, resolve
from quince.domain.org_groups import OGType
from tests.unit.builders import TreeBuilder, acme


def decide(t: TreeBuilder, home: str, group_id: str | None = None, mappings=(), **user) -> Outcome:
    return decide_enrollment_og(t.user(home, **user), list(mappings), group_id, t.tree(), t.overrides)


def allowed(outcome: Outcome) -> EnrollmentDecision:
    assert isinstance(outcome, EnrollmentDecision), outcome
    return outcome


# --- A matching user-group mapping wins ------------------------------------------------------


def test_mapping_wins_even_when_a_group_id_was_entered() -> None:
    t = acme()
    outcome = allowed(decide(t, "Acme", "Support", [t.mapping("Sellers", "Sales", 5)]))
    assert outcome.og == t.og("Sales")
    assert outcome.basis is Basis.USER_GROUP_MAPPING
    assert any("'Support' is ignored" in step for step in outcome.trace)


def test_mapping_wins_over_the_users_enrollment_og() -> None:
    t = acme()
    outcome = allowed(decide(t, "Acme", None, [t.mapping("Sellers", "Sales-EU", 3)]))
    assert outcome.og == t.og("Sales-EU")
    assert outcome.basis is Basis.USER_GROUP_MAPPING


def test_mapping_wins_even_when_the_entered_group_id_is_unknown() -> None:
    t = acme()
    outcome = allowed(decide(t, "Acme", "no-such-group", [t.mapping("Sellers", "Sales", 1)]))
    assert outcome.og == t.og("Sales")


def test_mapping_may_send_the_user_outside_the_enrollment_og_subtree() -> None:
    t = acme()
    outcome = allowed(decide(t, "Support", None, [t.mapping("Sellers", "Sales", 1)]))
    assert outcome.og == t.og("Sales")


def test_best_rank_wins_among_several_matching_mappings() -> None:
    t = acme()
    mappings = [
        t.mapping("Everyone", "Support", 10, user_group_id=1),
        t.mapping("Sellers", "Sales", 2, user_group_id=2),
        t.mapping("EU Sellers", "Sales-EU", 1, user_group_id=3),
    ]
    outcome = allowed(decide(t, "Acme", None, mappings))
    assert outcome.og == t.og("Sales-EU")
    assert not outcome.tie
    assert any("Best rank is 1: user group 'EU Sellers'" in step for step in outcome.trace)


def test_rank_tie_is_broken_deterministically_and_recorded_in_the_trace() -> None:
    t = acme()
    mappings = [
        t.mapping("zeta", "Support", 3, user_group_id=1),
        t.mapping("Alpha", "Sales", 3, user_group_id=2),
    ]
    first = allowed(decide(t, "Acme", None, mappings))
    second = allowed(decide(t, "Acme", None, list(reversed(mappings))))
    assert first.og == second.og == t.og("Sales")  # "Alpha" sorts before "zeta", ignoring case
    assert first.tie and second.tie
    assert first.trace == second.trace
    tie_steps = [s for s in first.trace if s.startswith("Tie at rank 3")]
    assert len(tie_steps) == 1
    assert "'Alpha'" in tie_steps[0] and "'zeta'" in tie_steps[0]


def test_rank_tie_between_same_named_groups_goes_to_the_lowest_user_group_id() -> None:
    t = acme()
    mappings = [
        t.mapping("Sellers", "Support", 4, user_group_id=9),
        t.mapping("sellers", "Sales", 4, user_group_id=5),
    ]
    outcome = allowed(decide(t, "Acme", None, mappings))
    assert outcome.og == t.og("Sales")
    assert outcome.tie


def test_one_group_mapped_twice_at_the_same_rank_goes_to_the_lowest_og_id() -> None:
    t = acme()
    mappings = [t.mapping("Sellers", "Support", 4), t.mapping("Sellers", "Sales", 4)]
    outcome = allowed(decide(t, "Acme", None, mappings))
    assert outcome.og == t.og("Sales")  # Sales was created before Support: lower id
    assert outcome.tie


def test_two_groups_at_the_same_rank_mapped_to_the_same_og_are_not_a_tie() -> None:
    t = acme()
    mappings = [
        t.mapping("Sellers", "Sales", 2, user_group_id=1),
        t.mapping("Everyone", "Sales", 2, user_group_id=2),
    ]
    outcome = allowed(decide(t, "Acme", None, mappings))
    assert outcome.og == t.og("Sales")
    assert not outcome.tie
    assert not any(s.startswith("Tie") for s in outcome.trace)


def test_mapping_to_an_og_that_no_longer_exists_is_ignored() -> None:
    t = acme()
    stale = t.mapping("Sellers", "Sales", 1)
    stale = type(stale)(stale.user_group_id, stale.user_group_name, og_id=999, rank=1)
    outcome = allowed(decide(t, "Support", None, [stale]))
    assert outcome.og == t.og("Support")
    assert outcome.basis is Basis.ENROLLMENT_OG


def test_mapped_target_with_user_enrollment_disabled_is_refused_not_skipped() -> None:
    t = acme()
    mappings = [
        t.mapping("Engineers", "Engineering", 1, user_group_id=1),
        t.mapping("Everyone", "Support", 2, user_group_id=2),
    ]
    outcome = decide(t, "Acme", None, mappings)
    assert isinstance(outcome, UserEnrollmentDisabled)
    assert outcome.og == t.og("Engineering")
    assert outcome.target == t.og("Engineering")
    assert not outcome.allowed


# --- No mapping --------------------------------------------------------------------------------


def test_no_mapping_and_no_group_id_enrolls_into_the_users_enrollment_og() -> None:
    t = acme()
    outcome = allowed(decide(t, "Sales"))
    assert outcome.og == t.og("Sales")
    assert outcome.basis is Basis.ENROLLMENT_OG
    assert not outcome.tie
    assert "No Group ID entered." in outcome.trace
    assert "No user-group mapping matches the user." in outcome.trace


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_a_blank_group_id_counts_as_none_entered(blank: str) -> None:
    t = acme()
    outcome = allowed(decide(t, "Sales", blank))
    assert outcome.og == t.og("Sales")
    assert outcome.basis is Basis.ENROLLMENT_OG


def test_entered_group_id_below_the_users_og_is_used() -> None:
    t = acme()
    outcome = allowed(decide(t, "Acme", "Sales-EU"))
    assert outcome.og == t.og("Sales-EU")
    assert outcome.basis is Basis.GROUP_ID


def test_entered_group_id_of_the_users_own_og_is_used() -> None:
    t = acme()
    outcome = allowed(decide(t, "Sales", "Sales"))
    assert outcome.og == t.og("Sales")
    assert outcome.basis is Basis.GROUP_ID


@pytest.mark.parametrize("typed", ["sales-eu", "SALES-EU", "sAlEs-Eu", "  Sales-EU  "])
def test_group_id_matches_ignoring_case(typed: str) -> None:
    t = acme()
    outcome = allowed(decide(t, "Acme", typed))
    assert outcome.og == t.og("Sales-EU")


def test_unknown_group_id_is_refused() -> None:
    t = acme()
    outcome = decide(t, "Acme", "Marketing")
    assert isinstance(outcome, UnknownGroupId)
    assert not outcome.allowed
    assert outcome.target is None
    assert "'Marketing' is not recognised" in outcome.message
    assert outcome.trace[-1] == "No organization group has Group ID 'Marketing': enrollment refused."


def test_group_id_outside_the_users_subtree_is_refused() -> None:
    t = acme()
    outcome = decide(t, "Sales", "Other")
    assert isinstance(outcome, GroupIdOutOfReach)
    assert outcome.og == t.og("Other")
    assert outcome.user_og == t.og("Sales")
    assert "cannot enroll into Group ID 'Other'" in outcome.message


def test_group_id_of_an_ancestor_is_refused() -> None:
    t = acme()
    outcome = decide(t, "Sales-EU", "Sales")
    assert isinstance(outcome, GroupIdOutOfReach)


def test_sibling_group_id_is_refused() -> None:
    t = acme()
    outcome = decide(t, "Sales", "Support")
    assert isinstance(outcome, GroupIdOutOfReach)
    assert "refused" in outcome.trace[-1]


def test_out_of_reach_refusal_does_not_reveal_the_other_ogs_name() -> None:
    t = TreeBuilder().add("Acme").add("Secret Lab", group_id="lab").set("Global", True)
    outcome = decide(t, "Acme", "lab")
    assert isinstance(outcome, GroupIdOutOfReach)
    assert "Secret Lab" not in outcome.message


def test_an_out_of_reach_refusal_read_as_unknown_is_word_for_word_a_group_id_that_exists_nowhere() -> None:
    t = TreeBuilder().add("Acme").add("Secret Lab", group_id="lab").set("Global", True)
    elsewhere = decide(t, "Acme", " LAB ")
    assert isinstance(elsewhere, GroupIdOutOfReach)
    without_it = TreeBuilder().add("Acme").set("Global", True)
    assert as_unknown_group_id(elsewhere) == decide(without_it, "Acme", " LAB ")


# --- User Enrollment must be effective at the target -------------------------------------------


def test_user_enrollment_disabled_at_target_is_refused_naming_the_og_and_the_source() -> None:
    t = acme().add("Lab", "Engineering")
    outcome = decide(t, "Engineering", "Lab")
    assert isinstance(outcome, UserEnrollmentDisabled)
    assert outcome.og == t.og("Lab")
    assert outcome.source_og == t.og("Engineering")
    assert not outcome.overridden_here
    assert "'Lab'" in outcome.message
    assert "inherited from 'Engineering'" in outcome.message


def test_user_enrollment_disabled_by_an_override_at_the_target_says_it_is_set_there() -> None:
    t = acme()
    outcome = decide(t, "Engineering")
    assert isinstance(outcome, UserEnrollmentDisabled)
    assert outcome.overridden_here
    assert outcome.source_og == t.og("Engineering")
    assert "set at 'Engineering'" in outcome.message
    assert "overridden here" in outcome.trace[-1]


def test_user_enrollment_off_by_default_at_the_root_is_refused_naming_global() -> None:
    t = TreeBuilder().add("Acme", og_type=OGType.CUSTOMER)
    outcome = decide(t, "Acme")
    assert isinstance(outcome, UserEnrollmentDisabled)
    assert outcome.source_og == t.og("Global")
    assert "inherited from 'Global'" in outcome.message


def test_user_enrollment_inherited_from_an_ancestor_allows_enrollment() -> None:
    t = acme()
    outcome = allowed(decide(t, "Sales-EU"))
    assert outcome.ue_source_og == t.og("Acme")
    assert any("inherited from 'Acme'" in step for step in outcome.trace)


def test_user_enrollment_overridden_at_the_target_allows_enrollment() -> None:
    t = acme().add("Lab", "Engineering").set("Lab", True)
    outcome = allowed(decide(t, "Engineering", "Lab"))
    assert outcome.og == t.og("Lab")
    assert outcome.ue_source_og == t.og("Lab")
    assert any("overridden here" in step for step in outcome.trace)


def test_override_to_disabled_below_an_enabled_parent_refuses() -> None:
    t = acme()
    outcome = decide(t, "Acme", "Engineering")
    assert isinstance(outcome, UserEnrollmentDisabled)
    assert outcome.og == t.og("Engineering")
    assert outcome.source_og == t.og("Engineering")


def test_inherit_only_parent_forces_enrollment_on_despite_a_disabled_override() -> None:
    t = acme().set("Acme", True, child_permission=ChildPermission.INHERIT_ONLY)
    outcome = allowed(decide(t, "Engineering"))
    assert outcome.ue_source_og == t.og("Acme")


def test_require_user_enrollment_enabled_returns_where_the_setting_came_from() -> None:
    t = acme()
    trace: list[str] = []
    setting = resolve(t.tree(), t.overrides, t.id("Sales-EU"), UE_SETTING)
    source = require_user_enrollment_enabled(t.tree(), t.og("Sales-EU"), setting, trace)
    assert source == t.og("Acme")
    assert trace == ["User Enrollment is enabled at 'Sales-EU' (Group ID Sales-EU) "
                     "(inherited from 'Acme' (Group ID Acme))."]


def test_require_user_enrollment_enabled_refuses_naming_the_og_and_the_source() -> None:
    t = acme()
    trace = ["earlier step"]
    setting = resolve(t.tree(), t.overrides, t.id("Engineering"), UE_SETTING)
    refusal = require_user_enrollment_enabled(t.tree(), t.og("Engineering"), setting, trace)
    assert isinstance(refusal, UserEnrollmentDisabled)
    assert (refusal.og, refusal.source_og, refusal.overridden_here) == (
        t.og("Engineering"), t.og("Engineering"), True
    )
    assert refusal.trace == tuple(trace) and refusal.trace[0] == "earlier step"
    assert refusal.trace[-1].endswith("(overridden here): enrollment refused.")


def test_inactive_user_is_refused_before_anything_else() -> None:
    t = acme()
    # Everything else would also fail (unknown Group ID, UE off); inactivity is what is reported.
    outcome = decide(t, "Engineering", "no-such-group", active=False)
    assert isinstance(outcome, InactiveUser)
    assert not outcome.allowed
    assert outcome.target is None
    assert outcome.trace == ("User 'alice' is inactive: enrollment refused.",)
    assert "not active" in outcome.message


def test_inactive_user_is_refused_even_with_a_matching_mapping() -> None:
    t = acme()
    outcome = decide(t, "Acme", None, [t.mapping("Sellers", "Sales", 1)], active=False)
    assert isinstance(outcome, InactiveUser)


# --- Messages and traces -----------------------------------------------------------------------


def _refusals() -> list[Outcome]:
    t = acme()
    return [
        decide(t, "Acme", active=False),
        decide(t, "Acme", "Marketing"),
        decide(t, "Sales", "Support"),
        decide(t, "Engineering"),
        decide(t, "Acme", None, [t.mapping("Engineers", "Engineering", 1)]),
    ]


@pytest.mark.parametrize("outcome", _refusals(), ids=lambda o: type(o).__name__)
def test_refusal_messages_are_fit_for_an_end_user(outcome: Outcome) -> None:
    assert not isinstance(outcome, EnrollmentDecision)
    message = outcome.message
    assert message.endswith(".")
    assert "IT department" in message
    # No internal ids, class names or Python reprs of objects.
    assert not re.search(r"\b\d+\b", message)
    for leak in ("OrgGroup(", "Error", "None", "_id", "uuid"):
        assert leak not in message


@pytest.mark.parametrize("outcome", _refusals(), ids=lambda o: type(o).__name__)
def test_refusal_traces_end_with_the_refusal(outcome: Outcome) -> None:
    assert outcome.trace
    assert outcome.trace[-1].endswith("enrollment refused.")


def test_decision_trace_reads_as_sentences_naming_ogs_by_name_and_group_id() -> None:
    t = acme()
    outcome = allowed(decide(t, "Acme", "sales-eu"))
    assert outcome.trace == (
        "User 'alice' is active; enrollment organization group is 'Acme' (Group ID Acme).",
        "Group ID entered: 'sales-eu'.",
        "No user-group mapping matches the user.",
        "Candidate: 'Sales-EU' (Group ID Sales-EU) from the entered Group ID.",
        "User Enrollment is enabled at 'Sales-EU' (Group ID Sales-EU) (inherited from 'Acme' "
        "(Group ID Acme)).",
        "Decision: enroll into 'Sales-EU' (Group ID Sales-EU).",
    )
    assert outcome.reason == outcome.trace[-1]
    assert outcome.allowed


def test_decision_trace_lists_every_matching_mapping() -> None:
    t = acme()
    mappings = [t.mapping("Sellers", "Sales", 2, 1), t.mapping("Everyone", "Support", 7, 2)]
    outcome = allowed(decide(t, "Acme", None, mappings))
    listing = next(s for s in outcome.trace if "mapping(s) match" in s)
    assert listing == (
        "2 user-group mapping(s) match the user: 'Sellers' -> 'Sales' (Group ID Sales) rank 2; "
        "'Everyone' -> 'Support' (Group ID Support) rank 7."
    )
    assert "Candidate: 'Sales' (Group ID Sales) from user group 'Sellers'." in outcome.trace


def test_the_decision_does_not_depend_on_duplicate_mappings() -> None:
    t = acme()
    once = allowed(decide(t, "Acme", None, [t.mapping("Sellers", "Sales", 2)]))
    twice = allowed(decide(t, "Acme", None, [t.mapping("Sellers", "Sales", 2)] * 2))
    assert once == twice
