""""Where will a user enroll?": the enrollment policy run for a user of the admin's groups, with its
decision trace, creating nothing (`services.enrollment_preview`).

The policy sees the whole OG tree, so its answer can name organization groups and user groups of
other tenants (a user of ours may belong to a group a wider admin mapped elsewhere). The page names
only organization groups in the admin's subtree or above it, and user groups in their subtree;
every other name is replaced, in the summary and in the trace alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.enrollment_policy import (
    Basis,
    EnrollmentDecision,
    GroupMapping,
    Outcome,
    UserEnrollmentDisabled,
)
from quince.domain.errors import NotFound
from quince.domain.org_groups import OrgGroup, OrgTree
from quince.domain.users import USERNAME_MAX_LENGTH
from quince.services import enrollment_preview, users
from quince.services.org_tree import load_tree
from quince.services.paging import PageRequest
from quince.services.scope import Scope
from quince.store.models import EnrollmentUserRow, OrgGroupRow, UserGroupRow
from quince.web.console.context import Console, log, open_console, render

router = APIRouter()

GROUP_ID_INPUT_MAX = 256
SUGGESTIONS = 20
OUTSIDE_OG = "an organization group outside the groups you manage"
OUTSIDE_USER_GROUP = "a user group outside the groups you manage"
BASES = {
    Basis.USER_GROUP_MAPPING: "A user-group mapping (mappings win over any Group ID)",
    Basis.GROUP_ID: "The Group ID entered",
    Basis.ENROLLMENT_OG: "The user's default enrollment organization group (no Group ID entered)",
}


@dataclass(frozen=True)
class Place:
    """An organization group as this admin may see it: `og` is None when it is outside their reach."""

    og: OrgGroup | None

    @property
    def hidden(self) -> bool:
        return self.og is None


@dataclass(frozen=True)
class MappingLine:
    user_group_id: int | None
    """None when the user group is outside the admin's subtree (its name is hidden too)."""
    user_group: str
    target: Place
    rank: int
    chosen: bool


@dataclass(frozen=True)
class Result:
    user: EnrollmentUserRow
    user_og: OrgGroupRow | None
    group_id: str
    allowed: bool
    target: Place | None
    basis: str | None
    ue_source: Place | None
    ue_set_here: bool
    refusal: str | None
    tie: bool
    mappings: list[MappingLine]
    trace: list[str]
    redacted: bool


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


async def _visibility(db: AsyncSession, console: Console, group_names: dict[int, str]) -> Visibility:
    visible = set(await db.scalars(select(UserGroupRow.id).where(
        UserGroupRow.id.in_(list(group_names)), UserGroupRow.og_id.in_(console.scope.og_ids())
    ))) if group_names else set()
    return Visibility(await load_tree(db), console.scope, visible, group_names)


def _mapping_lines(outcome: Outcome, mappings: Iterable[GroupMapping],
                   seen: Visibility) -> list[MappingLine]:
    # The policy's own order (rank, then user-group name, then ids); the first one is the one used.
    usable = sorted({m for m in mappings if m.og_id in seen.tree},
                    key=lambda m: (m.rank, m.user_group_name.casefold(), m.user_group_id, m.og_id))
    used = outcome.allowed or isinstance(outcome, UserEnrollmentDisabled)
    return [
        MappingLine(
            m.user_group_id if seen.group(m.user_group_id) else None,
            m.user_group_name if seen.group(m.user_group_id) else OUTSIDE_USER_GROUP,
            Place(seen.tree.get(m.og_id) if seen.og(seen.tree.get(m.og_id)) else None),
            m.rank, used and index == 0,
        )
        for index, m in enumerate(usable)
    ]


def _refusal(outcome: Outcome, target: Place | None) -> str | None:
    """The policy's own message, unless it would name an OG this admin may not see."""
    if isinstance(outcome, EnrollmentDecision):
        return None
    if isinstance(outcome, UserEnrollmentDisabled) and target is not None and target.hidden:
        return (f"User Enrollment is not enabled for the target, {OUTSIDE_OG}. Ask the administrator "
                "of that organization group, or change the user's group memberships.")
    return outcome.message


async def _result(db: AsyncSession, console: Console, user: EnrollmentUserRow, group_id: str) -> Result:
    mappings = await enrollment_preview.mappings_for(db, user.id)
    outcome = await enrollment_preview.decide(db, user, group_id or None)
    seen = await _visibility(db, console, {m.user_group_id: m.user_group_name for m in mappings})
    redact = seen.redactor("\n".join(outcome.trace), keep=[repr(user.username)])
    trace = [redact(line) for line in outcome.trace]
    if isinstance(outcome, EnrollmentDecision):
        target, source = seen.place(outcome.og), seen.place(outcome.ue_source_og)
        set_here, basis, tie = outcome.ue_source_og.id == outcome.og.id, BASES[outcome.basis], outcome.tie
    elif isinstance(outcome, UserEnrollmentDisabled):
        target, source = seen.place(outcome.og), seen.place(outcome.source_og)
        set_here, basis, tie = outcome.overridden_here, None, False
    else:
        target, source, set_here, basis, tie = None, None, False, None, False
    return Result(
        user=user, user_og={row.id: row for row, _ in console.ogs}.get(user.og_id), group_id=group_id,
        allowed=outcome.allowed, target=target, basis=basis, ue_source=source, ue_set_here=set_here,
        refusal=_refusal(outcome, target), tie=tie, mappings=_mapping_lines(outcome, mappings, seen),
        trace=trace, redacted=trace != list(outcome.trace),
    )


@router.get("/preview")
async def preview_page(request: Request) -> Response:
    q = request.query_params
    username = q.get("user", "").strip()[:USERNAME_MAX_LENGTH]
    group_id = q.get("group_id", "").strip()[:GROUP_ID_INPUT_MAX]
    async with request.app.state.sessionmaker() as db:
        console = await open_console(request, db)
        if isinstance(console, Response):
            return console
        suggestions = await users.search(db, console.scope, PageRequest(0, SUGGESTIONS),
                                         text=username or None, order_by="username")
        result: Result | None = None
        error: str | None = None
        # `suggest=1` is htmx refreshing the username suggestions as the admin types: no preview.
        if username and q.get("suggest") != "1":
            try:
                user = await users.get_by_username(db, console.scope, username)
            except NotFound:
                # The same answer for a user of another tenant as for no user at all.
                error = f"There is no user named {username!r} in the groups you manage."
                log(request, "console.preview", "unknown_user", admin=console.admin.username)
            else:
                result = await _result(db, console, user, group_id)
                log(request, "console.preview", "allowed" if result.allowed else "refused",
                    admin=console.admin.username, user=user.username, redacted=result.redacted)
        return render(
            request, console, "preview.html", status=404 if error else 200,
            title=f"Where will {result.user.username} enroll?" if result else "Where will a user enroll?",
            nav="preview", username=username, group_id=group_id, suggestions=suggestions.items,
            result=result, error=error, outside=OUTSIDE_OG, root_og=console.scope.og_id,
        )
