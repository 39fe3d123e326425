"""Where would this user's device enroll? The enrollment policy run on stored data, read-only."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from quince.domain.enrollment_policy import (
    EnrollmentDecision,
    GroupIdOutOfReach,
    Outcome,
    as_unknown_group_id,
    group_id_phrases,
)
from quince.domain.org_groups import OrgGroup, OrgTree
from quince.services.directory import users
from quince.services.directory.org_tree import load_tree

# The decide step is the enrollment's own (services/enrollment/decision.py); the preview runs it
# unchanged.
from quince.services.enrollment.decision import decide, mappings_for
from quince.services.scope import Scope
from quince.store import user_groups as user_group_store
from quince.store.database import Db

OUTSIDE_OG = "an organization group outside the groups you manage"
OUTSIDE_USER_GROUP = "a user group outside the groups you manage"


@dataclass(frozen=True)
class Place:
    """An organization group as this admin may see it: `og` is None when it is outside their reach."""

    og: OrgGroup | None

    @property
    def hidden(self) -> bool:
        return self.og is None


class Visibility:
    """Which names this admin may read: OGs in their subtree or above it; user groups in their
    subtree. `redactor` rewrites trace lines, replacing every other OG label and group name."""

    def __init__(self, tree: OrgTree, scope: Scope, visible_groups: set[int],
                 group_names: dict[int, str]) -> None:
        self.tree = tree
        self._ancestors = {og.id for og in tree.lineage(scope.og_id)}
        self._root = scope.og_id
        self._visible_groups = visible_groups
        self._group_names = group_names

    def og(self, og: OrgGroup) -> bool:
        return og.id in self._ancestors or self.tree.is_within(og.id, self._root)

    def place(self, og: OrgGroup | None) -> Place | None:
        return None if og is None else Place(og if self.og(og) else None)

    def group(self, user_group_id: int) -> bool:
        return user_group_id in self._visible_groups

    def outcome(self, outcome: Outcome) -> Outcome:
        """The decision as this admin may read it: a Group ID naming an OG they may not see (another
        tenant's) reads exactly like a Group ID that names no OG at all."""
        if isinstance(outcome, GroupIdOutOfReach) and outcome.og is not None and not self.og(outcome.og):
            return as_unknown_group_id(outcome)
        return outcome

    def redactor(self, text: str, keep: Iterable[str] = ()) -> Callable[[str], str]:
        """A function rewriting the lines of `text`. The policy writes an OG as `'Name' (Group ID
        id)` and a user group as `'Name'`: hidden ones become a phrase, visible ones and `keep`
        stay. Longer keys match first, so a visible label is never cut by a hidden bare name."""
        replacements: dict[str, str] = {}
        # Later assignments win for the same key: hidden bare names, then what stays, then labels.
        for og in self.tree:
            if not self.og(og):
                replacements[repr(og.name)] = OUTSIDE_OG
        for group_id, name in self._group_names.items():
            if not self.group(group_id):
                replacements[repr(name)] = OUTSIDE_USER_GROUP
        for group_id, name in self._group_names.items():
            if self.group(group_id):
                replacements[repr(name)] = repr(name)
        for kept in keep:
            replacements[kept] = kept
        for og in self.tree:
            label = f"{og.name!r} (Group ID {og.group_id})"
            replacements[label] = label if self.og(og) else OUTSIDE_OG
        used = {k: v for k, v in replacements.items() if k in text}
        if not used:
            return lambda line: line
        pattern = re.compile("|".join(re.escape(k) for k in sorted(used, key=len, reverse=True)))
        return lambda line: pattern.sub(lambda m: used[m.group(0)], line)


def as_typed(username: str, group_id: str | None) -> list[str]:
    """What the admin typed, where the trace quotes it: kept even when it matches the name of an
    OG they may not see (else a Group ID's wording would depend on such names). Only in the
    phrases that quote it: elsewhere a hidden name stays hidden, however it was guessed."""
    entered = (group_id or "").strip()
    return [repr(username), *(group_id_phrases(entered) if entered else ())]


async def visibility(session: Db, scope: Scope, group_names: dict[int, str]) -> Visibility:
    """What `scope` may read of a decision involving these user groups (id -> name)."""
    visible = (
        await user_group_store.ids_within(session, list(group_names), scope.path) if group_names else set()
    )
    return Visibility(await load_tree(session), scope, visible, group_names)


async def preview(
    session: Db, scope: Scope, username: str, group_id: str | None
) -> Outcome:
    """The decision for `username` (who must be in scope), creating nothing."""
    return await decide(session, await users.get_by_username(session, scope, username), group_id)


async def preview_as_seen(
    session: Db, scope: Scope, username: str, group_id: str | None
) -> dict[str, Any]:
    """`as_preview_dict` of the decision for `username` (in scope), with every organization group
    and user group `scope` may not see replaced by a phrase, and a Group ID of such an OG read as
    one that names none: an admin learns nothing of another tenant from a mapping that points
    there, nor whether a Group ID exists there."""
    user = await users.get_by_username(session, scope, username)
    mappings = await mappings_for(session, user.id)
    seen = await visibility(session, scope, {m.user_group_id: m.user_group_name for m in mappings})
    outcome = seen.outcome(await decide(session, user, group_id))
    data = as_preview_dict(outcome)
    reason = data["Reason"] or ""
    redact = seen.redactor("\n".join([*outcome.trace, reason]), keep=as_typed(user.username, group_id))
    data["Trace"] = [redact(line) for line in outcome.trace]
    data["Reason"] = redact(reason) if data["Reason"] is not None else None
    target = outcome.og if isinstance(outcome, EnrollmentDecision) else outcome.target
    if target is not None and not seen.og(target):
        data["GroupId"] = None
        data["LocationGroupId"] = None
    return data


def as_preview_dict(outcome: Outcome) -> dict[str, Any]:
    """The preview as both faces print it (REST and `quince enroll preview --json`):
    `{Allowed, GroupId, LocationGroupId: {Id: {Value}, Name, Uuid} | None, Reason, Trace}`."""
    target: OrgGroup | None
    if isinstance(outcome, EnrollmentDecision):
        target, reason = outcome.og, outcome.reason
    else:
        target, reason = outcome.target, outcome.message
    return {
        "Allowed": outcome.allowed,
        "GroupId": target.group_id if target is not None else None,
        "LocationGroupId": (
            {"Id": {"Value": target.id}, "Name": target.name, "Uuid": target.uuid}
            if target is not None else None
        ),
        "Reason": reason,
        "Trace": list(outcome.trace),
    }
