"""Small builders for pure-domain tests: OG trees by name, users and mappings."""

from __future__ import annotations

from dataclasses import dataclass, field

from quince.domain.enrollment_policy import EnrollingUser, GroupMapping
from quince.domain.og_settings import ChildPermission, Override, SettingValue
from quince.domain.org_groups import OGType, OrgGroup, OrgTree

UE = "user_enrollment_enabled"


@dataclass
class TreeBuilder:
    """Builds an OrgTree and its overrides; OGs are named, and their Group ID is the name."""

    groups: list[OrgGroup] = field(default_factory=list)
    overrides: dict[int, dict[str, Override]] = field(default_factory=dict)
    by_name: dict[str, OrgGroup] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._add("Global", OGType.GLOBAL, None)

    def _add(self, name: str, og_type: OGType, parent: str | None, group_id: str | None = None) -> OrgGroup:
        og = OrgGroup(
            id=len(self.groups) + 1,
            uuid=f"00000000-0000-0000-0000-{len(self.groups) + 1:012d}",
            name=name,
            group_id=group_id or name,
            type=og_type,
            parent_id=self.by_name[parent].id if parent else None,
        )
        self.groups.append(og)
        self.by_name[name] = og
        return og

    def add(
        self, name: str, parent: str = "Global", og_type: OGType = OGType.CONTAINER,
        group_id: str | None = None,
    ) -> TreeBuilder:
        self._add(name, og_type, parent, group_id)
        return self

    def set(
        self, name: str, value: SettingValue, key: str = UE,
        child_permission: ChildPermission = ChildPermission.INHERIT_OR_OVERRIDE,
    ) -> TreeBuilder:
        self.overrides.setdefault(self.by_name[name].id, {})[key] = Override(value, child_permission)
        return self

    def id(self, name: str) -> int:
        return self.by_name[name].id

    def og(self, name: str) -> OrgGroup:
        return self.by_name[name]

    def tree(self) -> OrgTree:
        return OrgTree(self.groups)

    def user(self, home: str, *, active: bool = True, username: str = "alice") -> EnrollingUser:
        return EnrollingUser(id=7, username=username, active=active, enrollment_og_id=self.id(home))

    def mapping(self, group_name: str, target: str, rank: int, user_group_id: int = 1) -> GroupMapping:
        return GroupMapping(
            user_group_id=user_group_id, user_group_name=group_name, og_id=self.id(target), rank=rank
        )


def acme() -> TreeBuilder:
    """Global → Acme (Customer, UE on) → Sales, Engineering (UE off), Support; Sales → Sales-EU."""
    return (
        TreeBuilder()
        .add("Acme", og_type=OGType.CUSTOMER)
        .add("Sales", "Acme")
        .add("Sales-EU", "Sales")
        .add("Engineering", "Acme")
        .add("Support", "Acme")
        .add("Other", og_type=OGType.CUSTOMER)
        .set("Acme", True)
        .set("Engineering", False)
    )
