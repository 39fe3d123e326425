"""Hypothesis strategies: random OG trees with random setting overrides, users and mappings."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from quince.domain.enrollment_policy import EnrollingUser, GroupMapping
from quince.domain.og_settings import SETTINGS, ChildPermission, Override
from quince.domain.org_groups import OGType, OrgGroup, OrgTree

UE = "user_enrollment_enabled"
permissions = st.sampled_from(list(ChildPermission))


@dataclass(frozen=True)
class World:
    groups: tuple[OrgGroup, ...]
    overrides: dict[int, dict[str, Override]]

    @property
    def tree(self) -> OrgTree:
        return OrgTree(self.groups)

    @property
    def ids(self) -> list[int]:
        return [og.id for og in self.groups]


@st.composite
def worlds(draw: st.DrawFn, max_groups: int = 12, keys: tuple[str, ...] = (UE,)) -> World:
    """A tree below Global where each OG has a random parent created before it, and each OG
    (the root included) may override each setting with a random value and child permission."""
    groups = [OrgGroup(1, "uuid-1", "Global", "Global", OGType.GLOBAL, None)]
    for og_id in range(2, draw(st.integers(1, max_groups)) + 2):
        parent = draw(st.integers(1, og_id - 1))
        groups.append(
            OrgGroup(og_id, f"uuid-{og_id}", f"OG {og_id}", f"og-{og_id}", OGType.CONTAINER, parent)
        )
    overrides: dict[int, dict[str, Override]] = {}
    for og in groups:
        for key in keys:
            if draw(st.booleans()):
                value = draw(values_of(key))
                overrides.setdefault(og.id, {})[key] = Override(value, draw(permissions))
    return World(tuple(groups), overrides)


def values_of(key: str) -> st.SearchStrategy[bool | str]:
    definition = SETTINGS[key]
    if isinstance(definition.default, bool):
        return st.booleans()
    if not definition.choices:  # free text (a bundle ID): a few valid values
        return st.sampled_from(["", "com.example.hub", "com.example.mail"])
    return st.sampled_from(definition.choices)


def users(world: World) -> st.SearchStrategy[EnrollingUser]:
    return st.builds(
        EnrollingUser,
        id=st.just(42),
        username=st.just("pat"),
        active=st.booleans(),
        enrollment_og_id=st.sampled_from(world.ids),
    )


def mappings(world: World) -> st.SearchStrategy[list[GroupMapping]]:
    """Mappings with few distinct ranks and look-alike group names, so ties are common; now and
    then a mapping points at an OG that is not in the tree."""
    mapping = st.builds(
        GroupMapping,
        user_group_id=st.integers(1, 6),
        user_group_name=st.sampled_from(["alpha", "Alpha", "beta", "BETA", "gamma", "Zed"]),
        og_id=st.one_of(st.sampled_from(world.ids), st.just(9999)),
        rank=st.integers(1, 4),
    )
    return st.lists(mapping, max_size=6)


@st.composite
def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if up else c.lower() for c, up in zip(text, flips, strict=True))


def entered_group_ids(world: World) -> st.SearchStrategy[str | None]:
    """None, blank, an existing Group ID in any case (maybe padded), or an unknown one."""
    existing = st.sampled_from([og.group_id for og in world.groups]).flatmap(lambda g: random_case(g))
    padded = st.tuples(st.sampled_from(["", " "]), existing, st.sampled_from(["", "  "])).map("".join)
    unknown = st.text(alphabet="abcxyz-_.0123456789", min_size=1, max_size=8).filter(
        lambda g: world.tree.find_group_id(g) is None
    )
    return st.one_of(st.none(), st.sampled_from(["", "  "]), existing, padded, unknown)
