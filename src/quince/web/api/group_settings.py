"""/API/system/groups/{id}/settings: OG settings, inherited or overridden, with child permissions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Body, Path

from quince.domain.og_settings import SETTINGS
from quince.services.directory import og_settings
from quince.services.directory.og_settings import SettingView
from quince.web.api import errors
from quince.web.api.deps import Caller, IdPath
from quince.web.api.schemas import (
    IdValue,
    OrganizationGroupSetting,
    OrganizationGroupSettingUpdate,
    Reference,
    SettingOverride,
)
from quince.web.deps import Db

router = APIRouter(
    prefix="/API/system/groups/{og_id:int}/settings", tags=["Organization group settings"],
    responses=errors.RESPONSES,
)

# The settings there are, from their one list (domain/og_settings.py).
SettingKey = StrEnum("SettingKey", {key: key for key in SETTINGS})  # type: ignore[misc]
SettingName = Annotated[SettingKey, Path(description="The setting's name.")]


def present(view: SettingView) -> OrganizationGroupSetting:
    resolved, source = view.resolved, view.source
    return OrganizationGroupSetting(
        name=view.definition.key,
        description=view.definition.description,
        value=resolved.value,
        current_setting=resolved.current,
        child_permission=resolved.child_permission,
        permission_from_parent=resolved.permission_from_parent,
        source_location_group=Reference(id=IdValue(value=source.id), name=source.name, uuid=source.uuid),
        allowed_values=list(view.definition.choices),
    )


@router.get("", response_model=list[OrganizationGroupSetting])
async def list_settings(og_id: IdPath, db: Db, caller: Caller) -> list[OrganizationGroupSetting]:
    """Every setting's effective value at the OG and the OG it comes from."""
    return [present(view) for view in await og_settings.read(db, caller, og_id)]


@router.get("/{name}", response_model=OrganizationGroupSetting)
async def get_setting(og_id: IdPath, name: SettingName, db: Db, caller: Caller) -> OrganizationGroupSetting:
    return present(await og_settings.read_one(db, caller, og_id, name.value))


@router.put("/{name}", response_model=OrganizationGroupSetting, responses=errors.UNPROCESSABLE)
async def put_setting(
    og_id: IdPath, name: SettingName, body: Annotated[OrganizationGroupSettingUpdate, Body()],
    db: Db, caller: Caller,
) -> OrganizationGroupSetting:
    """Override the setting here (with the permission children get), or go back to inheriting it.
    A Value that does not fit this setting, or inheriting at the root, is refused with 422."""
    if isinstance(body, SettingOverride):
        view = await og_settings.override(
            db, caller, og_id, name.value, body.value, body.child_permission)
    else:
        view = await og_settings.inherit(db, caller, og_id, name.value)
    await db.commit()
    return present(view)
