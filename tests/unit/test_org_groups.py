"""The OG tree: Group IDs, names, where each OG type may sit, and walking the tree."""

from __future__ import annotations

import pytest

from quince.domain.errors import InvalidGroupId, InvalidInput, InvalidPlacement
from quince.domain.org_groups import (
    GROUP_ID_MAX_LENGTH,
    OGType,
    check_placement,
    group_id_key,
    validate_group_id,
    validate_og_name,
)
from tests.unit.builders import TreeBuilder

# --- Group IDs -------------------------------------------------------------------------------


def test_empty_group_id_is_refused_saying_it_must_not_be_empty() -> None:
    with pytest.raises(InvalidGroupId) as err:
        validate_group_id("")
    assert err.value.field == "GroupId"
    assert "must not be empty" in err.value.message


def test_group_id_of_65_characters_is_refused_naming_the_limit() -> None:
    with pytest.raises(InvalidGroupId) as err:
        validate_group_id("a" * 65)
    assert "at most 64 characters" in err.value.message


def test_group_id_of_64_characters_is_accepted() -> None:
    assert GROUP_ID_MAX_LENGTH == 64
    assert validate_group_id("a" * 64) == "a" * 64


def test_one_character_group_id_is_accepted() -> None:
    assert validate_group_id("x") == "x"


@pytest.mark.parametrize("group_id", ["sales-eu", "sales_eu", "sales.eu", "Acme-2024_v1.0", "-_.", "007"])
def test_letters_digits_dash_underscore_and_dot_are_accepted(group_id: str) -> None:
    assert validate_group_id(group_id) == group_id


@pytest.mark.parametrize(
    "group_id",
    ["sales eu", " sales", "sales ", "sales/eu", "sales@acme", "sälës", "sales\n", "a+b", "a:b", "ǅ"],
)
def test_bad_characters_in_a_group_id_are_refused_naming_the_allowed_ones(group_id: str) -> None:
    with pytest.raises(InvalidGroupId) as err:
        validate_group_id(group_id)
    assert err.value.rule == "only letters A-Z and a-z, digits, '-', '_' and '.' are allowed"
    assert err.value.rule in err.value.message


def test_group_ids_compare_ignoring_case() -> None:
    assert group_id_key("Sales-EU") == group_id_key("sales-eu") == group_id_key("SALES-EU")


# --- Names -----------------------------------------------------------------------------------


def test_og_names_are_trimmed() -> None:
    assert validate_og_name("  Sales EU  ") == "Sales EU"


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_og_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_og_name(name)
    assert err.value.field == "Name"
    assert "must not be empty" in err.value.message


def test_og_name_of_100_characters_is_accepted_and_101_refused() -> None:
    assert validate_og_name("n" * 100) == "n" * 100
    with pytest.raises(InvalidInput, match="at most 100 characters"):
        validate_og_name("n" * 101)


def test_og_name_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        validate_og_name("Sales\x00EU")


def test_og_names_may_hold_spaces_and_non_ascii_letters() -> None:
    assert validate_og_name("Ventes Île-de-France") == "Ventes Île-de-France"


# --- Placement -------------------------------------------------------------------------------


def placement_tree() -> TreeBuilder:
    return (
        TreeBuilder()
        .add("Reseller", og_type=OGType.PARTNER)
        .add("Region", "Reseller")
        .add("Acme", og_type=OGType.CUSTOMER)
        .add("Sales", "Acme")
        .add("Loose")
    )


@pytest.mark.parametrize("parent", ["Global", "Acme", "Sales", "Reseller"])
def test_global_may_only_be_the_root(parent: str) -> None:
    t = placement_tree()
    with pytest.raises(InvalidPlacement, match="Only the root"):
        check_placement(t.tree(), t.id(parent), OGType.GLOBAL)


def test_every_og_except_global_needs_a_parent() -> None:
    t = placement_tree()
    with pytest.raises(InvalidPlacement, match="needs a parent"):
        check_placement(t.tree(), None, OGType.CONTAINER)


@pytest.mark.parametrize("parent", ["Acme", "Sales"])
def test_containers_may_sit_below_a_customer(parent: str) -> None:
    t = placement_tree()
    check_placement(t.tree(), t.id(parent), OGType.CONTAINER)


@pytest.mark.parametrize("og_type", [OGType.CUSTOMER, OGType.PARTNER, OGType.PROSPECT])
@pytest.mark.parametrize("parent", ["Acme", "Sales"])
def test_only_containers_may_sit_below_a_customer(parent: str, og_type: OGType) -> None:
    t = placement_tree()
    with pytest.raises(InvalidPlacement) as err:
        check_placement(t.tree(), t.id(parent), og_type)
    assert "'Acme'" in err.value.message
    assert f"not {og_type.value}" in err.value.message


def test_customer_below_a_customer_is_refused() -> None:
    t = placement_tree()
    with pytest.raises(InvalidPlacement, match="only Container groups are allowed, not Customer"):
        check_placement(t.tree(), t.id("Sales"), OGType.CUSTOMER)


@pytest.mark.parametrize("parent", ["Global", "Reseller", "Region", "Loose"])
def test_customer_may_sit_below_global_a_partner_or_a_container_above_any_customer(parent: str) -> None:
    t = placement_tree()
    check_placement(t.tree(), t.id(parent), OGType.CUSTOMER)


@pytest.mark.parametrize("parent", ["Global", "Reseller"])
def test_partner_may_sit_below_global_or_a_partner(parent: str) -> None:
    t = placement_tree()
    check_placement(t.tree(), t.id(parent), OGType.PARTNER)


@pytest.mark.parametrize("parent", ["Region", "Loose"])
def test_partner_below_a_container_is_refused(parent: str) -> None:
    t = placement_tree()
    with pytest.raises(InvalidPlacement, match="must sit below Global or a Partner"):
        check_placement(t.tree(), t.id(parent), OGType.PARTNER)


def test_partner_below_a_customer_is_refused() -> None:
    t = placement_tree()
    with pytest.raises(InvalidPlacement):
        check_placement(t.tree(), t.id("Acme"), OGType.PARTNER)


# --- The tree --------------------------------------------------------------------------------


def tree_abc() -> TreeBuilder:
    """Global → A → (B → C, b2), and D below Global; children sort by name ignoring case."""
    return TreeBuilder().add("A").add("B", "A").add("C", "B").add("b2", "A").add("D")


def test_lineage_runs_from_the_og_to_the_root() -> None:
    t = tree_abc()
    assert [og.name for og in t.tree().lineage(t.id("C"))] == ["C", "B", "A", "Global"]
    assert [og.name for og in t.tree().lineage(t.id("Global"))] == ["Global"]


def test_is_within_holds_for_the_og_itself_and_its_ancestors_only() -> None:
    t = tree_abc()
    tree = t.tree()
    assert tree.is_within(t.id("C"), t.id("C"))
    assert tree.is_within(t.id("C"), t.id("A"))
    assert tree.is_within(t.id("C"), t.id("Global"))
    assert not tree.is_within(t.id("A"), t.id("C"))
    assert not tree.is_within(t.id("C"), t.id("b2"))
    assert not tree.is_within(t.id("C"), t.id("D"))


def test_descendants_are_depth_first_with_levels_and_children_in_name_order() -> None:
    t = tree_abc()
    got = [(og.name, level) for og, level in t.tree().descendants(t.id("A"))]
    assert got == [("A", 0), ("B", 1), ("C", 2), ("b2", 1)]


def test_descendants_of_a_leaf_is_the_leaf_alone() -> None:
    t = tree_abc()
    assert [(og.name, level) for og, level in t.tree().descendants(t.id("D"))] == [("D", 0)]


def test_children_are_direct_only() -> None:
    t = tree_abc()
    assert [og.name for og in t.tree().children(t.id("A"))] == ["B", "b2"]
    assert t.tree().children(t.id("C")) == []


def test_find_group_id_ignores_case_and_returns_none_when_unknown() -> None:
    t = TreeBuilder().add("Sales", group_id="Sales-EU")
    tree = t.tree()
    assert tree.find_group_id("SALES-eu") == t.og("Sales")
    assert tree.find_group_id("global") == t.og("Global")
    assert tree.find_group_id("Sales") is None


def test_tree_membership_and_size() -> None:
    t = tree_abc()
    tree = t.tree()
    assert len(tree) == 6
    assert t.id("C") in tree
    assert 999 not in tree
    assert {og.name for og in tree} == {"Global", "A", "B", "C", "b2", "D"}
