"""Where a user's device enrolls (DESIGN.md rule 1), as one pure function with its trace.

Order: a matching user-group mapping (best rank, ties broken by user-group name then ids) wins
over everything; else an entered Group ID, which must be the user's enrollment OG or below it;
else the user's enrollment OG. The target must have User Enrollment effective there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from quince.domain.og_settings import CurrentSetting, Overrides, ResolvedSetting, resolve
from quince.domain.org_groups import OrgGroup, OrgTree

UE_SETTING = "user_enrollment_enabled"


@dataclass(frozen=True)
class EnrollingUser:
    id: int
    username: str
    active: bool
    enrollment_og_id: int


@dataclass(frozen=True)
class GroupMapping:
    """One user group the user belongs to, mapped to a target OG with a rank (1 is best)."""

    user_group_id: int
    user_group_name: str
    og_id: int
    rank: int


class Basis(StrEnum):
    USER_GROUP_MAPPING = "UserGroupMapping"
    GROUP_ID = "GroupId"
    ENROLLMENT_OG = "EnrollmentOrganizationGroup"


@dataclass(frozen=True)
class EnrollmentDecision:
    """The device enrolls into `og`; `trace` says why, step by step."""

    og: OrgGroup
    basis: Basis
    ue_source_og: OrgGroup
    trace: tuple[str, ...]
    tie: bool = False
    allowed: bool = field(default=True, init=False)

    @property
    def reason(self) -> str:
        return self.trace[-1]


@dataclass(frozen=True)
class EnrollmentRefusal:
    """Base of the typed refusals; `message` is fit to show the enrolling person."""

    trace: tuple[str, ...]
    allowed: bool = field(default=False, init=False)

    @property
    def message(self) -> str:
        raise NotImplementedError

    @property
    def target(self) -> OrgGroup | None:
        return None


@dataclass(frozen=True)
class InactiveUser(EnrollmentRefusal):
    username: str = ""

    @property
    def message(self) -> str:
        return "Your account is not active, so it cannot enroll a device. Contact your IT department."


@dataclass(frozen=True)
class UnknownGroupId(EnrollmentRefusal):
    group_id: str = ""

    @property
    def message(self) -> str:
        return (
            f"The Group ID {self.group_id!r} is not recognised. Check it with your IT department "
            "and try again."
        )


@dataclass(frozen=True)
class GroupIdOutOfReach(EnrollmentRefusal):
    group_id: str = ""
    og: OrgGroup | None = None
    user_og: OrgGroup | None = None

    @property
    def message(self) -> str:
        return (
            f"Your account cannot enroll into Group ID {self.group_id!r}. Leave the Group ID empty "
            "or use one your IT department gave you."
        )


@dataclass(frozen=True)
class UserEnrollmentDisabled(EnrollmentRefusal):
    og: OrgGroup | None = None
    source_og: OrgGroup | None = None
    overridden_here: bool = False

    @property
    def message(self) -> str:
        assert self.og is not None and self.source_og is not None
        where = (
            f"set at {self.og.name!r}" if self.overridden_here
            else f"inherited from {self.source_og.name!r}"
        )
        return (
            f"User Enrollment is not enabled for organization group {self.og.name!r} "
            f"(setting {where}). Contact your IT department."
        )

    @property
    def target(self) -> OrgGroup | None:
        return self.og


Outcome = EnrollmentDecision | EnrollmentRefusal


def _label(og: OrgGroup) -> str:
    return f"{og.name!r} (Group ID {og.group_id})"


def _choose_mapping(
    tree: OrgTree, mappings: Sequence[GroupMapping], trace: list[str]
) -> tuple[GroupMapping, bool] | None:
    usable = sorted(
        {m for m in mappings if m.og_id in tree},
        key=lambda m: (m.rank, m.user_group_name.casefold(), m.user_group_id, m.og_id),
    )
    if not usable:
        trace.append("No user-group mapping matches the user.")
        return None
    listed = "; ".join(
        f"{m.user_group_name!r} -> {_label(tree.get(m.og_id))} rank {m.rank}" for m in usable
    )
    trace.append(f"{len(usable)} user-group mapping(s) match the user: {listed}.")
    best = usable[0]
    tied = [m for m in usable if m.rank == best.rank and m.og_id != best.og_id]
    if tied:
        names = ", ".join(repr(m.user_group_name) for m in [best, *tied])
        trace.append(
            f"Tie at rank {best.rank} between {names}: chose {best.user_group_name!r} "
            "(ties go to the user-group name in alphabetical order, then the lowest ids)."
        )
    else:
        trace.append(f"Best rank is {best.rank}: user group {best.user_group_name!r}.")
    return best, bool(tied)


def _unknown_group_id(trace: Sequence[str], entered: str) -> UnknownGroupId:
    return UnknownGroupId(
        (*trace, f"No organization group has Group ID {entered!r}: enrollment refused."), group_id=entered
    )


def group_id_phrases(entered: str) -> tuple[str, ...]:
    """The phrases in which the trace and the messages quote an entered Group ID."""
    return (f"Group ID entered: {entered!r}", f"Group ID {entered!r}")


def as_unknown_group_id(refusal: GroupIdOutOfReach) -> UnknownGroupId:
    """`refusal` worded, trace included, exactly as if its Group ID named no OG: for a reader who
    may not learn that the OG exists (an admin of another tenant)."""
    return _unknown_group_id(refusal.trace[:-1], refusal.group_id)


def decide_enrollment_og(
    user: EnrollingUser,
    mappings: Sequence[GroupMapping],
    entered_group_id: str | None,
    tree: OrgTree,
    overrides: Overrides,
) -> Outcome:
    """Decide the OG a device of `user` enrolls into, or why it may not enroll."""
    trace: list[str] = []
    if not user.active:
        trace.append(f"User {user.username!r} is inactive: enrollment refused.")
        return InactiveUser(tuple(trace), username=user.username)
    home = tree.get(user.enrollment_og_id)
    trace.append(f"User {user.username!r} is active; enrollment organization group is {_label(home)}.")
    entered = (entered_group_id or "").strip() or None
    trace.append(f"Group ID entered: {entered!r}." if entered else "No Group ID entered.")

    tie = False
    chosen = _choose_mapping(tree, mappings, trace)
    if chosen is not None:
        mapping, tie = chosen
        target, basis = tree.get(mapping.og_id), Basis.USER_GROUP_MAPPING
        if entered:
            trace.append(f"The entered Group ID {entered!r} is ignored: a user-group mapping wins.")
        trace.append(f"Candidate: {_label(target)} from user group {mapping.user_group_name!r}.")
    elif entered:
        found = tree.find_group_id(entered)
        if found is None:
            return _unknown_group_id(trace, entered)
        if not tree.is_within(found.id, home.id):
            trace.append(
                f"{_label(found)} is not {_label(home)} or below it: enrollment refused."
            )
            return GroupIdOutOfReach(tuple(trace), group_id=entered, og=found, user_og=home)
        target, basis = found, Basis.GROUP_ID
        trace.append(f"Candidate: {_label(target)} from the entered Group ID.")
    else:
        target, basis = home, Basis.ENROLLMENT_OG
        trace.append(f"Candidate: the user's enrollment organization group {_label(target)}.")

    allowed = require_user_enrollment_enabled(
        tree, target, resolve(tree, overrides, target.id, UE_SETTING), trace
    )
    if isinstance(allowed, UserEnrollmentDisabled):
        return allowed
    trace.append(f"Decision: enroll into {_label(target)}.")
    return EnrollmentDecision(
        og=target, basis=basis, ue_source_og=allowed, trace=tuple(trace), tie=tie
    )


def require_user_enrollment_enabled(
    tree: OrgTree, target: OrgGroup, setting: ResolvedSetting, trace: list[str]
) -> OrgGroup | UserEnrollmentDisabled:
    """Rule 1: User Enrollment must be effective at the target OG, set there (override) or
    inherited from the nearest ancestor that sets it. `setting` is the target's resolved
    `user_enrollment_enabled`. Appends the trace line saying where the setting came from and
    returns the OG it came from, or the refusal naming the OG and that source."""
    assert setting.key == UE_SETTING, setting.key
    source = tree.get(setting.source_og_id)
    here = setting.current is CurrentSetting.OVERRIDE
    where = "overridden here" if here else f"inherited from {_label(source)}"
    if setting.value is not True:
        trace.append(f"User Enrollment is disabled at {_label(target)} ({where}): enrollment refused.")
        return UserEnrollmentDisabled(tuple(trace), og=target, source_og=source, overridden_here=here)
    trace.append(f"User Enrollment is enabled at {_label(target)} ({where}).")
    return source
