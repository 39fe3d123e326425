"""Hypothesis strategies: random OG trees with random setting overrides, users and mappings.

The strategies that depend on a drawn world (its OG ids, its Group IDs) draw plain integers and
look them up in the world, rather than building strategies of the world's values: Hypothesis
builds and checks a new strategy on every example, which made these tests slow."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

from quince.domain.enrollment_policy import EnrollingUser, GroupMapping
from quince.domain.og_settings import SETTINGS, ChildPermission, Override
from quince.domain.org_groups import OGType, OrgGroup, OrgTree

UE = "user_enrollment_enabled"


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


def setting_values(key: str) -> list[bool | str]:
    """The values a setting may take (a few valid ones for free text, such as a bundle ID)."""
    definition = SETTINGS[key]
    if isinstance(definition.default, bool):
        return [False, True]
    if not definition.choices:
        return ["", "com.example.hub", "com.example.mail"]
    return list(definition.choices)


def _overrides_of(key: str) -> st.SearchStrategy[Override | None]:
    """No override half the time, else any value with any child permission: one draw, not three."""
    some = [Override(value, permission) for value in setting_values(key) for permission in ChildPermission]
    return st.sampled_from([None] * len(some) + some)


_OVERRIDES = {key: _overrides_of(key) for key in SETTINGS}


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
            override = draw(_OVERRIDES[key])
            if override is not None:
                overrides.setdefault(og.id, {})[key] = override
    return World(tuple(groups), overrides)


def _one_of(draw: st.DrawFn, items: tuple[int, ...] | list[int] | list[OrgGroup]) -> int:
    """The index of one of `items`, drawn from a strategy Hypothesis has seen before."""
    return draw(st.integers(0, len(items) - 1))


@st.composite
def users(draw: st.DrawFn, world: World) -> EnrollingUser:
    ids = world.ids
    return EnrollingUser(id=42, username="pat", active=draw(st.booleans()),
                         enrollment_og_id=ids[_one_of(draw, ids)])


# A user group has one name; the names look alike across groups (case), so ties are common.
GROUP_NAMES = {1: "alpha", 2: "Alpha", 3: "beta", 4: "BETA", 5: "gamma", 6: "Zed"}
MISSING_OG = 9999
_MAPPINGS = st.lists(
    st.tuples(st.integers(1, 6), st.booleans(), st.integers(0, 11), st.integers(1, 4)), max_size=6
)


@st.composite
def mappings(draw: st.DrawFn, world: World) -> list[GroupMapping]:
    """Mappings with few distinct ranks and look-alike group names, so ties are common; now and
    then a mapping points at an OG that is not in the tree."""
    ids = world.ids
    return [
        GroupMapping(user_group_id=group, user_group_name=GROUP_NAMES[group],
                     og_id=MISSING_OG if missing else ids[og % len(ids)], rank=rank)
        for group, missing, og, rank in draw(_MAPPINGS)
    ]


@st.composite
def random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if up else c.lower() for c, up in zip(text, flips, strict=True))


_ENTRY_KINDS = st.sampled_from(["none", "blank", "existing", "padded", "unknown"])
_BLANKS = st.sampled_from(["", "  "])
_UNKNOWN = st.text(alphabet="abcxyz-_.0123456789", min_size=1, max_size=8)


@st.composite
def entered_group_ids(draw: st.DrawFn, world: World) -> str | None:
    """None, blank, an existing Group ID in any case (maybe padded), or an unknown one."""
    kind = draw(_ENTRY_KINDS)
    if kind == "none":
        return None
    if kind == "blank":
        return draw(_BLANKS)
    if kind == "unknown":
        unknown = draw(_UNKNOWN)
        assume(world.tree.find_group_id(unknown) is None)
        return unknown
    existing = draw(random_case(world.groups[_one_of(draw, world.groups)].group_id))
    if kind == "padded":
        return draw(st.sampled_from(["", " "])) + existing + draw(_BLANKS)
    return existing
