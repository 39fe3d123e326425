"""Workspace ONE's settings model: inherit or override, child permissions, and the source OG."""

from __future__ import annotations

import pytest

from quince.domain.errors import InvalidInput, SettingLocked
from quince.domain.og_settings import (
    SETTINGS,
    ChildPermission,
    CurrentSetting,
    Override,
    UnknownSetting,
    check_inherit_allowed,
    check_override_allowed,
    definition,
    overrides_for_children,
    overrides_for_new_child,
    resolve,
    resolve_all,
)
from tests.unit.builders import UE, TreeBuilder

INHERIT_ONLY = ChildPermission.INHERIT_ONLY
OVERRIDE_ONLY = ChildPermission.OVERRIDE_ONLY


def chain() -> TreeBuilder:
    """Global → A → B → C, and a sibling S below Global."""
    return TreeBuilder().add("A").add("B", "A").add("C", "B").add("S")


def test_root_holds_the_defaults_when_nothing_is_set() -> None:
    t = chain()
    for key, d in SETTINGS.items():
        r = resolve(t.tree(), {}, t.id("C"), key)
        assert r.value == d.default
        assert r.source_og_id == t.id("Global")
        assert r.current is CurrentSetting.INHERIT


def test_the_defaults_are_what_the_issue_asks_for() -> None:
    assert definition("user_enrollment_enabled").default is False
    assert definition("group_id_assignment_mode").default == "free_text"
    assert definition("default_ownership").default == "C"


def test_root_override_replaces_the_default_everywhere_below() -> None:
    t = chain().set("Global", True)
    r = resolve(t.tree(), t.overrides, t.id("C"), UE)
    assert r.value is True
    assert r.source_og_id == t.id("Global")


def test_effective_value_comes_from_the_nearest_override() -> None:
    t = chain().set("Global", False).set("A", True).set("B", False)
    r = resolve(t.tree(), t.overrides, t.id("C"), UE)
    assert r.value is False
    assert r.source_og_id == t.id("B")
    assert r.current is CurrentSetting.INHERIT


def test_resolve_returns_the_source_og_and_override_at_the_og_itself() -> None:
    t = chain().set("A", True).set("C", False)
    r = resolve(t.tree(), t.overrides, t.id("C"), UE)
    assert (r.value, r.source_og_id, r.current) == (False, t.id("C"), CurrentSetting.OVERRIDE)


def test_root_resolves_as_an_override_of_its_own_defaults() -> None:
    t = chain()
    r = resolve(t.tree(), {}, t.id("Global"), UE)
    assert r.current is CurrentSetting.OVERRIDE
    assert r.permission_from_parent is None


def test_a_siblings_override_does_not_leak() -> None:
    t = chain().set("S", True)
    assert resolve(t.tree(), t.overrides, t.id("C"), UE).value is False


def test_settings_are_independent_of_each_other() -> None:
    t = chain().set("A", "E", key="default_ownership")
    assert resolve(t.tree(), t.overrides, t.id("C"), "default_ownership").value == "E"
    assert resolve(t.tree(), t.overrides, t.id("C"), UE).source_og_id == t.id("Global")


def test_resolve_all_covers_every_setting() -> None:
    t = chain()
    assert [r.key for r in resolve_all(t.tree(), {}, t.id("B"))] == list(SETTINGS)


def test_resolve_reports_the_permission_the_og_is_bound_by_and_gives_its_children() -> None:
    t = chain().set("A", True, child_permission=OVERRIDE_ONLY)
    at_a = resolve(t.tree(), t.overrides, t.id("A"), UE)
    at_b = resolve(t.tree(), t.overrides, t.id("B"), UE)
    assert at_a.permission_from_parent is ChildPermission.INHERIT_OR_OVERRIDE
    assert at_a.child_permission is OVERRIDE_ONLY
    assert at_b.permission_from_parent is OVERRIDE_ONLY


def test_unknown_setting_is_refused_naming_the_known_ones() -> None:
    t = chain()
    with pytest.raises(UnknownSetting) as err:
        resolve(t.tree(), {}, t.id("A"), "colour")
    assert "'colour'" in err.value.message
    assert "user_enrollment_enabled" in err.value.message


# --- Child permission InheritOnly ------------------------------------------------------------


def test_inherit_only_forces_the_parents_value_on_children_that_had_overrides() -> None:
    t = chain().set("A", True, child_permission=INHERIT_ONLY).set("B", False)
    r = resolve(t.tree(), t.overrides, t.id("B"), UE)
    assert (r.value, r.source_og_id, r.current) == (True, t.id("A"), CurrentSetting.INHERIT)
    assert r.permission_from_parent is INHERIT_ONLY


def test_inherit_only_forces_the_value_on_every_descendant() -> None:
    t = chain().set("A", True, child_permission=INHERIT_ONLY).set("C", False, child_permission=OVERRIDE_ONLY)
    r = resolve(t.tree(), t.overrides, t.id("C"), UE)
    assert (r.value, r.source_og_id) == (True, t.id("A"))
    assert r.child_permission is INHERIT_ONLY


def test_inherit_only_at_the_og_itself_does_not_stop_its_own_override() -> None:
    t = chain().set("B", True, child_permission=INHERIT_ONLY)
    assert resolve(t.tree(), t.overrides, t.id("B"), UE).source_og_id == t.id("B")


def test_inherit_only_forbids_override_writes_naming_the_setting_and_the_ogs() -> None:
    t = chain().set("A", True, child_permission=INHERIT_ONLY)
    for below in ("B", "C"):
        with pytest.raises(SettingLocked) as err:
            check_override_allowed(t.tree(), t.overrides, t.id(below), UE)
        assert err.value.setting == UE
        assert f"'{below}'" in err.value.message and "'A'" in err.value.message
        assert "InheritOnly" in err.value.message


def test_inherit_only_does_not_stop_the_og_itself_or_its_siblings_from_overriding() -> None:
    t = chain().set("A", True, child_permission=INHERIT_ONLY)
    check_override_allowed(t.tree(), t.overrides, t.id("A"), UE)
    check_override_allowed(t.tree(), t.overrides, t.id("S"), UE)


def test_inherit_only_allows_children_to_keep_inheriting() -> None:
    t = chain().set("A", True, child_permission=INHERIT_ONLY)
    check_inherit_allowed(t.tree(), t.overrides, t.id("B"), UE)


# --- Child permission OverrideOnly -----------------------------------------------------------


def test_override_only_forbids_going_back_to_inherit() -> None:
    t = chain().set("A", True, child_permission=OVERRIDE_ONLY).set("B", True)
    with pytest.raises(SettingLocked) as err:
        check_inherit_allowed(t.tree(), t.overrides, t.id("B"), UE)
    assert "OverrideOnly" in err.value.message
    assert "cannot be set to inherit" in err.value.message


def test_override_only_allows_overriding() -> None:
    t = chain().set("A", True, child_permission=OVERRIDE_ONLY)
    check_override_allowed(t.tree(), t.overrides, t.id("B"), UE)


def test_override_only_binds_children_only_not_grandchildren_below_an_override() -> None:
    t = chain().set("A", True, child_permission=OVERRIDE_ONLY).set("B", True).set("C", False)
    check_inherit_allowed(t.tree(), t.overrides, t.id("C"), UE)


def test_root_cannot_inherit() -> None:
    t = chain()
    with pytest.raises(InvalidInput) as err:
        check_inherit_allowed(t.tree(), t.overrides, t.id("Global"), UE)
    assert "'Global'" in err.value.message
    assert "only override" in err.value.message


def test_inherit_or_override_allows_both() -> None:
    t = chain().set("A", True).set("B", False)
    check_override_allowed(t.tree(), t.overrides, t.id("B"), UE)
    check_inherit_allowed(t.tree(), t.overrides, t.id("B"), UE)


def test_overrides_for_children_materialize_copies_for_inheriting_children_only() -> None:
    t = chain().add("B2", "A").set("A", True, child_permission=OVERRIDE_ONLY).set("B2", False)
    copies = overrides_for_children(t.tree(), t.overrides, t.id("A"), UE)
    assert copies == {t.id("B"): Override(True)}


def test_materialized_copies_leave_every_effective_value_unchanged() -> None:
    t = chain().add("B2", "A").set("A", True, child_permission=OVERRIDE_ONLY).set("C", False)
    before = {og.id: resolve(t.tree(), t.overrides, og.id, UE).value for og in t.tree()}
    for og_id, copy in overrides_for_children(t.tree(), t.overrides, t.id("A"), UE).items():
        t.overrides.setdefault(og_id, {})[UE] = copy
    after = {og.id: resolve(t.tree(), t.overrides, og.id, UE).value for og in t.tree()}
    assert before == after
    assert resolve(t.tree(), t.overrides, t.id("B"), UE).current is CurrentSetting.OVERRIDE


def test_overrides_for_children_is_empty_without_override_only() -> None:
    t = chain().set("A", True, child_permission=INHERIT_ONLY)
    assert overrides_for_children(t.tree(), t.overrides, t.id("A"), UE) == {}
    t = chain().set("A", True)
    assert overrides_for_children(t.tree(), t.overrides, t.id("A"), UE) == {}


def test_a_new_child_starts_with_a_copy_of_each_setting_bound_override_only() -> None:
    t = (
        chain()
        .set("A", True, child_permission=OVERRIDE_ONLY)
        .set("A", "E", key="default_ownership", child_permission=INHERIT_ONLY)
    )
    assert overrides_for_new_child(t.tree(), t.overrides, t.id("A")) == {UE: Override(True)}


def test_a_new_child_of_an_unbound_parent_starts_with_nothing() -> None:
    t = chain().set("A", True)
    assert overrides_for_new_child(t.tree(), t.overrides, t.id("A")) == {}


# --- Values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [(True, True), (False, False), ("true", True), ("Yes", True), (" on ", True), ("1", True),
     ("false", False), ("NO", False), ("off", False), ("0", False)],
)
def test_boolean_settings_accept_common_spellings(raw: object, parsed: bool) -> None:
    assert definition(UE).parse(raw) is parsed


@pytest.mark.parametrize("raw", ["maybe", "", 2, None, 1.0])
def test_bad_boolean_values_are_refused_naming_the_setting(raw: object) -> None:
    with pytest.raises(InvalidInput) as err:
        definition(UE).parse(raw)
    assert "'user_enrollment_enabled'" in err.value.message
    assert "true or false" in err.value.message


@pytest.mark.parametrize(
    ("key", "raw", "parsed"),
    [("group_id_assignment_mode", "FREE_TEXT", "free_text"),
     ("group_id_assignment_mode", "select_from_list", "select_from_list"),
     ("default_ownership", "e", "E"),
     ("default_ownership", "undefined", "Undefined")],
)
def test_choice_settings_accept_their_choices_ignoring_case(key: str, raw: str, parsed: str) -> None:
    assert definition(key).parse(raw) == parsed


@pytest.mark.parametrize(
    ("key", "raw"),
    [("group_id_assignment_mode", "dropdown"), ("default_ownership", "X"), ("default_ownership", True)],
)
def test_bad_choice_values_are_refused_naming_the_setting_and_the_choices(key: str, raw: object) -> None:
    with pytest.raises(InvalidInput) as err:
        definition(key).parse(raw)
    assert f"'{key}'" in err.value.message
    assert all(choice in err.value.message for choice in definition(key).choices)


def test_the_companion_app_setting_takes_a_bundle_id_or_nothing() -> None:
    from quince.domain.errors import InvalidInput
    from quince.domain.og_settings import definition

    parse = definition("companion_app_bundle_id").parse
    assert parse(" com.example.hub ") == "com.example.hub"
    assert parse("") == ""
    for bad in ("not a bundle", "nodots", 42, "com.example.<script>"):
        try:
            parse(bad)
        except InvalidInput as exc:
            assert "companion_app_bundle_id" in exc.message
        else:
            raise AssertionError(f"{bad!r} was accepted")
