""""Where will a user enroll?": the enrollment policy run for a user of the admin's groups, with its
decision trace, creating nothing (`services.enrollment.preview`).

The policy sees the whole OG tree, so its answer can name organization groups and user groups of
other tenants (a user of ours may belong to a group a wider admin mapped elsewhere). The page names
only organization groups in the admin's subtree or above it, and user groups in their subtree;
every other name is replaced, in the summary and in the trace alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from quince.domain.enrollment_policy import (
    Basis,
    EnrollmentDecision,
    GroupMapping,
    Outcome,
    UserEnrollmentDisabled,
)
from quince.domain.errors import NotFound
from quince.domain.users import USERNAME_MAX_LENGTH
from quince.services.directory import users
from quince.services.enrollment import decision
from quince.services.enrollment import preview as enrollment_preview
from quince.services.enrollment.preview import OUTSIDE_OG, OUTSIDE_USER_GROUP, Place, Visibility
from quince.store.models import EnrollmentUserRow, OrgGroupRow
from quince.store.paging import PageRequest
from quince.web.console.context import (
    Console,
    ConsoleRoute,
    SignedIn,
    log,
    render,
)
from quince.web.deps import Db

router = APIRouter(route_class=ConsoleRoute)

GROUP_ID_INPUT_MAX = 256
SUGGESTIONS = 20
BASES = {
    Basis.USER_GROUP_MAPPING: "A user-group mapping (mappings win over any Group ID)",
    Basis.GROUP_ID: "The Group ID entered",
    Basis.ENROLLMENT_OG: "The user's default enrollment organization group (no Group ID entered)",
}


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


async def _result(db: Db, console: Console, user: EnrollmentUserRow, group_id: str) -> Result:
    mappings = await decision.mappings_for(db, user.id)
    seen = await enrollment_preview.visibility(
        db, console.scope, {m.user_group_id: m.user_group_name for m in mappings})
    outcome = seen.outcome(await decision.decide(db, user, group_id or None))
    typed = enrollment_preview.as_typed(user.username, group_id)
    redact = seen.redactor("\n".join(outcome.trace), keep=typed)
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
async def preview_page(request: Request, db: Db, console: SignedIn) -> Response:
    q = request.query_params
    # `username` is the form's name; `user`, what older links say, is taken too.
    username = (q.get("username") or q.get("user", "")).strip()[:USERNAME_MAX_LENGTH]
    group_id = q.get("group_id", "").strip()[:GROUP_ID_INPUT_MAX]
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
