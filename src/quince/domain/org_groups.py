"""The organization group (OG) tree: types, Group IDs and where each type may sit."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from quince.domain.errors import InvalidGroupId, InvalidInput, InvalidPlacement

GROUP_ID_MAX_LENGTH = 64
NAME_MAX_LENGTH = 100
ROOT_GROUP_ID = "Global"
GROUP_ID_PATTERN = r"[A-Za-z0-9._-]+"
"""What a Group ID is made of (the REST API states it, anchored, in its OpenAPI document)."""
_GROUP_ID_CHARS = re.compile(GROUP_ID_PATTERN)
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class OGType(StrEnum):
    GLOBAL = "Global"
    PARTNER = "Partner"
    CUSTOMER = "Customer"
    CONTAINER = "Container"
    PROSPECT = "Prospect"


@dataclass(frozen=True)
class OrgGroup:
    id: int
    uuid: str
    name: str
    group_id: str
    type: OGType
    parent_id: int | None


def group_id_key(group_id: str) -> str:
    """The form Group IDs are compared in: uniqueness and lookups ignore case."""
    return group_id.casefold()


def validate_group_id(group_id: str) -> str:
    """Return the Group ID if it follows the rules, else raise InvalidGroupId naming the rule."""
    if not group_id:
        raise InvalidGroupId(group_id, "it must not be empty")
    if len(group_id) > GROUP_ID_MAX_LENGTH:
        raise InvalidGroupId(group_id, f"it must be at most {GROUP_ID_MAX_LENGTH} characters")
    if not _GROUP_ID_CHARS.fullmatch(group_id):
        raise InvalidGroupId(
            group_id, "only letters A-Z and a-z, digits, '-', '_' and '.' are allowed"
        )
    return group_id


def validate_og_name(name: str) -> str:
    """Return the trimmed OG name, or raise if it is empty, too long or holds control characters."""
    name = name.strip()
    if not name:
        raise InvalidInput("Name", "The organization group name must not be empty.")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            "Name", f"The organization group name must be at most {NAME_MAX_LENGTH} characters."
        )
    if _CONTROL_CHARS.search(name):
        raise InvalidInput("Name", "The organization group name must not contain control characters.")
    return name


class OrgTree:
    """An immutable view of the OG tree, for walking up and down without I/O."""

    def __init__(self, groups: Iterable[OrgGroup]) -> None:
        self._by_id: dict[int, OrgGroup] = {}
        self._by_key: dict[str, OrgGroup] = {}
        self._children: dict[int, list[OrgGroup]] = {}
        for og in groups:
            self._by_id[og.id] = og
            self._by_key[group_id_key(og.group_id)] = og
        for og in self._by_id.values():
            if og.parent_id is not None:
                self._children.setdefault(og.parent_id, []).append(og)
        for kids in self._children.values():
            kids.sort(key=lambda og: (og.name.casefold(), og.id))

    def __contains__(self, og_id: object) -> bool:
        return og_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[OrgGroup]:
        return iter(self._by_id.values())

    def get(self, og_id: int) -> OrgGroup:
        return self._by_id[og_id]

    def find_group_id(self, group_id: str) -> OrgGroup | None:
        return self._by_key.get(group_id_key(group_id))

    def children(self, og_id: int) -> list[OrgGroup]:
        return list(self._children.get(og_id, ()))

    def lineage(self, og_id: int) -> list[OrgGroup]:
        """The OG and its ancestors, nearest first, ending at the root."""
        chain: list[OrgGroup] = []
        current: int | None = og_id
        while current is not None:
            og = self._by_id[current]
            chain.append(og)
            current = og.parent_id
        return chain

    def is_within(self, og_id: int, ancestor_id: int) -> bool:
        """True when og_id is ancestor_id itself or lies below it."""
        return any(og.id == ancestor_id for og in self.lineage(og_id))

    def descendants(self, og_id: int) -> list[tuple[OrgGroup, int]]:
        """The OG and everything below it, depth first, each with its level (0 = og_id)."""
        out: list[tuple[OrgGroup, int]] = []
        stack = [(self._by_id[og_id], 0)]
        while stack:
            og, level = stack.pop()
            out.append((og, level))
            stack.extend((kid, level + 1) for kid in reversed(self.children(og.id)))
        return out


def check_placement(tree: OrgTree, parent_id: int | None, og_type: OGType) -> None:
    """Raise InvalidPlacement unless an OG of og_type may be created below parent_id.

    Workspace ONE's rules: Global is the root only; a Customer (or Prospect) never has a Customer
    above it; everything below a Customer is a Container; a Partner sits below Global or a Partner.
    """
    if og_type is OGType.GLOBAL:
        raise InvalidPlacement("Only the root organization group can be of type Global.")
    if parent_id is None:
        raise InvalidPlacement("Every organization group except Global needs a parent.")
    above = tree.lineage(parent_id)
    customer = next((og for og in above if og.type is OGType.CUSTOMER), None)
    if customer is not None and og_type is not OGType.CONTAINER:
        raise InvalidPlacement(
            f"Below the Customer organization group {customer.name!r} only Container groups "
            f"are allowed, not {og_type.value}."
        )
    if og_type is OGType.PARTNER and above[0].type not in (OGType.GLOBAL, OGType.PARTNER):
        raise InvalidPlacement("A Partner organization group must sit below Global or a Partner.")
