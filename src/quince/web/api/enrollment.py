"""/API/mdm/enrollment: ask where a user's device would enroll, without enrolling anything."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from quince.domain import users as user_rules
from quince.domain.org_groups import GROUP_ID_MAX_LENGTH
from quince.services.enrollment import preview as enrollment_preview
from quince.web.api import errors
from quince.web.api.deps import Caller
from quince.web.api.fields import Text
from quince.web.api.user_schemas import EnrollmentPreview
from quince.web.deps import Db

router = APIRouter(prefix="/API/mdm/enrollment", tags=["Enrollment"], responses=errors.RESPONSES)


@router.get("/preview", response_model=EnrollmentPreview)
async def preview(
    db: Db,
    caller: Caller,
    username: Annotated[Text, Query(min_length=1, max_length=user_rules.USERNAME_MAX_LENGTH)],
    groupid: Annotated[Text | None, Query(max_length=GROUP_ID_MAX_LENGTH)] = None,
) -> EnrollmentPreview:
    """The organization group the user's device would enroll into, or why it would be refused,
    with the decision trace. A refusal is an answer (200), not an error; nothing is created."""
    # The same shape `quince enroll preview --json` prints, so both faces agree. Organization
    # groups and user groups outside the caller's subtree are not named (LocationGroupId is null).
    return EnrollmentPreview.model_validate(
        await enrollment_preview.preview_as_seen(db, caller, username, groupid))
