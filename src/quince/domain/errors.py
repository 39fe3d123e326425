"""Error types shared by every layer; each face turns them into responses in one place."""

from __future__ import annotations


class QuinceError(Exception):
    """Base of every error Quince reports to a person; `message` is fit to show as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(QuinceError):
    """A value given by a person breaks a rule; the message names the field and the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidInContext(InvalidInput):
    """A value that is well formed on its own but refused together with the request's other
    values or with what is stored: Redeemed above Purchased, a mapping to an OG outside the user
    group's branch, an Id that names another record than the address. The REST API answers 422:
    its OpenAPI document states each value's own shape, never these relations."""


class InvalidGroupId(InvalidInput):
    def __init__(self, group_id: str, rule: str) -> None:
        super().__init__("GroupId", f"Group ID {group_id!r} is not valid: {rule}.")
        self.group_id = group_id
        self.rule = rule


class Conflict(QuinceError):
    """The change would clash with something already stored."""


class ConcurrentChange(Conflict):
    """Another request changed the same data at the same moment (a lost race), so this one was
    rolled back; reading again and retrying is safe."""

    def __init__(self) -> None:
        super().__init__(
            "Another request changed the same data at the same moment, so nothing was changed. "
            "Read it again and retry."
        )


class GroupIdTaken(Conflict):
    def __init__(self, group_id: str, holder: str | None) -> None:
        # The holder is named only when the caller may see it (None: outside their subtree).
        by = f" by organization group {holder!r}" if holder is not None else ""
        super().__init__(
            f"Group ID {group_id!r} is already used{by} "
            "(Group IDs are unique across the install, ignoring case)."
        )
        self.group_id = group_id


class InvalidPlacement(QuinceError):
    """An organization group type may not sit where it was asked to (it depends on the types
    above it, so the REST API answers 422 like InvalidInContext)."""


class OrgGroupNotEmpty(Conflict):
    def __init__(self, og_name: str, action: str, holdings: dict[str, int]) -> None:
        held = ", ".join(f"{what} ({n})" for what, n in holdings.items() if n)
        super().__init__(
            f"Cannot {action} organization group {og_name!r}: it still holds {held}. "
            "Move or remove them first."
        )
        self.holdings = holdings


class SettingLocked(QuinceError):
    """A parent's child permission forbids the requested write."""

    def __init__(self, setting: str, og_name: str, by_og_name: str, permission: str) -> None:
        action = "override" if permission == "InheritOnly" else "inherit"
        super().__init__(
            f"Setting {setting!r} cannot be set to {action} at {og_name!r}: "
            f"{by_og_name!r} sets child permission {permission}."
        )
        self.setting = setting


class NotFound(QuinceError):
    """The thing asked for does not exist, or is outside the caller's organization groups."""

    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"{kind} {ref!r} was not found.")
        self.kind = kind
        self.ref = ref


class OutOfScope(QuinceError):
    """The request names an organization group outside the caller's subtree."""


class ReadOnly(QuinceError):
    """The caller's role may read but not change."""
