"""Workspace ONE's settings model: inherit or override at each OG, with child permissions.

The effective value of a setting at an OG comes from the nearest OG on its path to the root that
overrides it, unless an OG above set child permission InheritOnly, which forces its own value on
everything below. The root always holds a value (the defaults).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from quince.domain.app_eligibility import BUNDLE_ID_PATTERN
from quince.domain.errors import InvalidInContext, QuinceError, SettingLocked
from quince.domain.org_groups import OrgTree

SettingValue = bool | str


class ChildPermission(StrEnum):
    INHERIT_OR_OVERRIDE = "InheritOrOverride"
    INHERIT_ONLY = "InheritOnly"
    OVERRIDE_ONLY = "OverrideOnly"


class CurrentSetting(StrEnum):
    INHERIT = "Inherit"
    OVERRIDE = "Override"


class GroupIdAssignmentMode(StrEnum):
    """How the enrollment sign-in page offers Group IDs."""

    FREE_TEXT = "free_text"
    SELECT_FROM_LIST = "select_from_list"


class Ownership(StrEnum):
    CORPORATE_DEDICATED = "C"
    EMPLOYEE_OWNED = "E"
    CORPORATE_SHARED = "S"
    UNDEFINED = "Undefined"


class UnknownSetting(QuinceError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"There is no setting {key!r}; known settings: {', '.join(sorted(SETTINGS))}."
        )
        self.key = key


@dataclass(frozen=True)
class SettingDefinition:
    key: str
    description: str
    default: SettingValue
    parse: Callable[[object], SettingValue]
    choices: tuple[str, ...]
    words: tuple[str, ...] = ()
    """Text values `parse` takes in any letter case (booleans also come as JSON true/false)."""
    pattern: str | None = None
    """Other text values `parse` takes: a regular expression (unanchored), or None."""


@dataclass(frozen=True)
class Override:
    """A value set at one OG, with the permission it gives that OG's children."""

    value: SettingValue
    child_permission: ChildPermission = ChildPermission.INHERIT_OR_OVERRIDE


@dataclass(frozen=True)
class ResolvedSetting:
    key: str
    value: SettingValue
    source_og_id: int
    current: CurrentSetting
    """Override when the value is this OG's own, Inherit when it comes from above."""
    permission_from_parent: ChildPermission | None
    """The child permission this OG is bound by (None at the root)."""
    child_permission: ChildPermission
    """The child permission this OG's children are bound by."""


Overrides = Mapping[int, Mapping[str, Override]]


# A value that does not fit the setting is InvalidInContext: whether "free_text" is right
# depends on which setting it is given to.
_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True,
               "false": False, "no": False, "off": False, "0": False}


def _parse_bool(key: str) -> Callable[[object], SettingValue]:
    def parse(raw: object) -> SettingValue:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[raw.strip().lower()]
        raise InvalidInContext("Value", f"Setting {key!r} takes true or false, not {raw!r}.")

    return parse


def _parse_choice(key: str, enum: type[StrEnum]) -> Callable[[object], SettingValue]:
    def parse(raw: object) -> SettingValue:
        for member in enum:
            if isinstance(raw, str) and raw.strip().casefold() == member.value.casefold():
                return member.value
        allowed = ", ".join(m.value for m in enum)
        raise InvalidInContext("Value", f"Setting {key!r} takes one of {allowed}, not {raw!r}.")

    return parse


_BUNDLE_ID = re.compile(BUNDLE_ID_PATTERN)


def _parse_bundle_id(key: str) -> Callable[[object], SettingValue]:
    def parse(raw: object) -> SettingValue:
        if isinstance(raw, str) and (raw.strip() == "" or (
            len(raw.strip()) <= 255 and _BUNDLE_ID.fullmatch(raw.strip())
        )):
            return raw.strip()
        raise InvalidInContext(
            "Value", f"Setting {key!r} takes an app bundle ID such as com.example.app, or empty "
            f"for none, not {raw!r}."
        )

    return parse


def _definitions() -> dict[str, SettingDefinition]:
    defs = [
        SettingDefinition(
            "user_enrollment_enabled",
            "Allow Apple User Enrollment (BYOD) into this organization group.",
            False, _parse_bool("user_enrollment_enabled"), ("true", "false"), tuple(_BOOL_WORDS),
        ),
        SettingDefinition(
            "group_id_assignment_mode",
            "How the enrollment sign-in page offers Group IDs: typed freely, or picked from the "
            "organization groups below the user's enrollment organization group.",
            GroupIdAssignmentMode.FREE_TEXT.value,
            _parse_choice("group_id_assignment_mode", GroupIdAssignmentMode),
            tuple(m.value for m in GroupIdAssignmentMode), tuple(m.value for m in GroupIdAssignmentMode),
        ),
        SettingDefinition(
            "companion_app_bundle_id",
            "Bundle ID of a purchased (Apps and Books) app pushed as a managed app when a "
            "user-enrolled device completes enrollment, e.g. the companion (Hub) app; empty: none.",
            "", _parse_bundle_id("companion_app_bundle_id"), (), pattern=f"(?:{BUNDLE_ID_PATTERN})?",
        ),
        SettingDefinition(
            "vpp_release_license_on_unenroll",
            "Release a user's Apps and Books licences when their last enrolled device unenrolls.",
            True, _parse_bool("vpp_release_license_on_unenroll"), ("true", "false"), tuple(_BOOL_WORDS),
        ),
        SettingDefinition(
            "default_ownership",
            "Ownership given to devices enrolling here (user-enrolled devices are always E).",
            Ownership.CORPORATE_DEDICATED.value,
            _parse_choice("default_ownership", Ownership),
            tuple(m.value for m in Ownership), tuple(m.value for m in Ownership),
        ),
    ]
    return {d.key: d for d in defs}


SETTINGS: dict[str, SettingDefinition] = _definitions()


def definition(key: str) -> SettingDefinition:
    try:
        return SETTINGS[key]
    except KeyError:
        raise UnknownSetting(key) from None


def resolve(tree: OrgTree, overrides: Overrides, og_id: int, key: str) -> ResolvedSetting:
    """The effective value of `key` at `og_id` and the OG it comes from."""
    default = definition(key).default
    path = list(reversed(tree.lineage(og_id)))
    root = path[0]
    root_override = overrides.get(root.id, {}).get(key) or Override(default)
    value, source, permission = root_override.value, root.id, root_override.child_permission
    bound_by: ChildPermission | None = None
    for og in path[1:]:
        bound_by = permission
        own = overrides.get(og.id, {}).get(key)
        if own is not None and permission is not ChildPermission.INHERIT_ONLY:
            value, source, permission = own.value, og.id, own.child_permission
    return ResolvedSetting(
        key=key,
        value=value,
        source_og_id=source,
        current=CurrentSetting.OVERRIDE if source == og_id else CurrentSetting.INHERIT,
        permission_from_parent=bound_by,
        child_permission=permission,
    )


def resolve_all(tree: OrgTree, overrides: Overrides, og_id: int) -> list[ResolvedSetting]:
    return [resolve(tree, overrides, og_id, key) for key in SETTINGS]


def _bound_by(
    tree: OrgTree, overrides: Overrides, og_id: int, key: str
) -> tuple[ChildPermission, int] | None:
    parent_id = tree.get(og_id).parent_id
    if parent_id is None:
        return None
    above = resolve(tree, overrides, parent_id, key)
    return above.child_permission, above.source_og_id


def check_override_allowed(tree: OrgTree, overrides: Overrides, og_id: int, key: str) -> None:
    """Raise SettingLocked if a parent's InheritOnly forbids overriding `key` at og_id."""
    bound = _bound_by(tree, overrides, og_id, key)
    if bound and bound[0] is ChildPermission.INHERIT_ONLY:
        raise SettingLocked(key, tree.get(og_id).name, tree.get(bound[1]).name, bound[0].value)


def check_inherit_allowed(tree: OrgTree, overrides: Overrides, og_id: int, key: str) -> None:
    """Raise unless og_id may go back to inheriting `key` (not the root, not OverrideOnly)."""
    bound = _bound_by(tree, overrides, og_id, key)
    if bound is None:
        raise InvalidInContext(
            "CurrentSetting",
            f"The root organization group {tree.get(og_id).name!r} holds the defaults of "
            f"{key!r}; it can only override.",
        )
    if bound[0] is ChildPermission.OVERRIDE_ONLY:
        raise SettingLocked(key, tree.get(og_id).name, tree.get(bound[1]).name, bound[0].value)


def overrides_for_children(
    tree: OrgTree, overrides: Overrides, og_id: int, key: str
) -> dict[int, Override]:
    """Overrides the direct children of og_id must receive so an OverrideOnly permission holds.

    Each inheriting child gets its own copy of the effective value, so nothing changes for it
    until an administrator edits it.
    """
    resolved = resolve(tree, overrides, og_id, key)
    if resolved.child_permission is not ChildPermission.OVERRIDE_ONLY:
        return {}
    return {
        kid.id: Override(resolved.value)
        for kid in tree.children(og_id)
        if key not in overrides.get(kid.id, {})
    }


def overrides_for_new_child(tree: OrgTree, overrides: Overrides, parent_id: int) -> dict[str, Override]:
    """The overrides a new OG below parent_id starts with: one per setting bound OverrideOnly."""
    out: dict[str, Override] = {}
    for key in SETTINGS:
        resolved = resolve(tree, overrides, parent_id, key)
        if resolved.child_permission is ChildPermission.OVERRIDE_ONLY:
            out[key] = Override(resolved.value)
    return out
