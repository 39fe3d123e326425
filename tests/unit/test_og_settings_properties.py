"""Property tests of settings inheritance over random OG trees, overrides and child permissions.

The oracle restates the rule independently of `resolve`: an InheritOnly set at any strict ancestor
forces the value of the topmost such ancestor; otherwise the nearest override on the way up wins,
and the root falls back to the defaults.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quince.domain.errors import InvalidInput, SettingLocked
from quince.domain.og_settings import (
    SETTINGS,
    ChildPermission,
    CurrentSetting,
    Override,
    Overrides,
    check_inherit_allowed,
    check_override_allowed,
    overrides_for_children,
    overrides_for_new_child,
    resolve,
)
from quince.domain.org_groups import OGType, OrgGroup, OrgTree
from tests.unit.strategies import World, worlds

PROPERTY_SETTINGS = settings(deadline=None)  # examples: the profile (tests/unit/conftest.py)
ALL_KEYS = tuple(SETTINGS)
keys = st.sampled_from(ALL_KEYS)


@st.composite
def cases(draw: st.DrawFn) -> tuple[World, int, str]:
    world = draw(worlds(keys=ALL_KEYS))
    return world, draw(st.sampled_from(world.ids)), draw(keys)


def own(overrides: Overrides, og_id: int, key: str) -> Override | None:
    return overrides.get(og_id, {}).get(key)


def forcing_ancestor(tree: OrgTree, overrides: Overrides, og_id: int, key: str) -> OrgGroup | None:
    """The topmost strict ancestor that sets InheritOnly, if any."""
    forcing = [
        og for og in tree.lineage(og_id)[1:]
        if (o := own(overrides, og.id, key)) is not None
        and o.child_permission is ChildPermission.INHERIT_ONLY
    ]
    return forcing[-1] if forcing else None


def oracle_source(tree: OrgTree, overrides: Overrides, og_id: int, key: str) -> OrgGroup:
    forced = forcing_ancestor(tree, overrides, og_id, key)
    if forced is not None:
        return forced
    lineage = tree.lineage(og_id)
    return next((og for og in lineage if own(overrides, og.id, key) is not None), lineage[-1])


def value_at(overrides: Overrides, source: OrgGroup, key: str) -> object:
    o = own(overrides, source.id, key)
    return o.value if o is not None else SETTINGS[key].default


@PROPERTY_SETTINGS
@given(cases())
def test_resolve_source_is_on_the_path_to_the_root_and_holds_the_value(case) -> None:
    world, og_id, key = case
    tree = world.tree
    r = resolve(tree, world.overrides, og_id, key)
    lineage_ids = [og.id for og in tree.lineage(og_id)]
    assert r.source_og_id in lineage_ids
    source = tree.get(r.source_og_id)
    assert r.value == value_at(world.overrides, source, key)
    if own(world.overrides, source.id, key) is None:
        assert source.parent_id is None  # only the root may supply a value it does not store
    assert r.current is (CurrentSetting.OVERRIDE if r.source_og_id == og_id else CurrentSetting.INHERIT)


@PROPERTY_SETTINGS
@given(cases())
def test_resolve_agrees_with_the_inheritance_rule(case) -> None:
    world, og_id, key = case
    r = resolve(world.tree, world.overrides, og_id, key)
    expected = oracle_source(world.tree, world.overrides, og_id, key)
    assert r.source_og_id == expected.id
    assert r.value == value_at(world.overrides, expected, key)


@PROPERTY_SETTINGS
@given(cases())
def test_overriding_is_refused_exactly_below_an_inherit_only(case) -> None:
    world, og_id, key = case
    forced = forcing_ancestor(world.tree, world.overrides, og_id, key)
    if forced is None:
        check_override_allowed(world.tree, world.overrides, og_id, key)
    else:
        with pytest.raises(SettingLocked) as err:
            check_override_allowed(world.tree, world.overrides, og_id, key)
        assert repr(forced.name) in err.value.message


@PROPERTY_SETTINGS
@given(cases())
def test_inheriting_is_refused_at_the_root_and_below_an_effective_override_only(case) -> None:
    world, og_id, key = case
    tree = world.tree
    og = tree.get(og_id)
    if og.parent_id is None:
        with pytest.raises(InvalidInput):
            check_inherit_allowed(tree, world.overrides, og_id, key)
        return
    parent_source = oracle_source(tree, world.overrides, og.parent_id, key)
    parent_own = own(world.overrides, parent_source.id, key)
    locked = (
        forcing_ancestor(tree, world.overrides, og_id, key) is None
        and parent_own is not None
        and parent_own.child_permission is ChildPermission.OVERRIDE_ONLY
    )
    if locked:
        with pytest.raises(SettingLocked):
            check_inherit_allowed(tree, world.overrides, og_id, key)
    else:
        check_inherit_allowed(tree, world.overrides, og_id, key)


@PROPERTY_SETTINGS
@given(cases())
def test_materializing_override_only_copies_changes_no_effective_value(case) -> None:
    world, og_id, key = case
    tree = world.tree
    copies = overrides_for_children(tree, world.overrides, og_id, key)
    after: dict[int, dict[str, Override]] = {i: dict(v) for i, v in world.overrides.items()}
    for child_id, copy in copies.items():
        assert child_id in {kid.id for kid in tree.children(og_id)}
        assert own(world.overrides, child_id, key) is None  # only inheriting children get a copy
        after.setdefault(child_id, {})[key] = copy
    for og in tree:
        assert resolve(tree, after, og.id, key).value == resolve(tree, world.overrides, og.id, key).value
    if resolve(tree, world.overrides, og_id, key).child_permission is ChildPermission.OVERRIDE_ONLY:
        for kid in tree.children(og_id):
            assert resolve(tree, after, kid.id, key).current is CurrentSetting.OVERRIDE
    else:
        assert copies == {}


@PROPERTY_SETTINGS
@given(cases())
def test_a_new_child_starts_with_its_inherited_values_and_obeys_override_only(case) -> None:
    world, parent_id, _key = case
    new = OrgGroup(10_000, "uuid-new", "New", "new", OGType.CONTAINER, parent_id)
    tree = OrgTree([*world.groups, new])
    start = overrides_for_new_child(world.tree, world.overrides, parent_id)
    with_copies: dict[int, dict[str, Override]] = {**world.overrides, new.id: start}
    for key in SETTINGS:
        inherited = resolve(tree, world.overrides, new.id, key)
        assert resolve(tree, with_copies, new.id, key).value == inherited.value
        bound = resolve(world.tree, world.overrides, parent_id, key).child_permission
        assert (key in start) == (bound is ChildPermission.OVERRIDE_ONLY)
        if key in start:
            check_override_allowed(tree, with_copies, new.id, key)
