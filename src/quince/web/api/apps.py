"""/API/mam/apps: the app catalog, purchased (Apps and Books) apps, assignments and on-demand
installs; plus a device's app statuses (`/API/mdm/devices/{id}/apps`) and a user's Apps and Books
users (`/API/system/users/{id}/vppuser`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response

from quince.domain.app_eligibility import APP_NAME_MAX_LENGTH, BUNDLE_ID_MAX_LENGTH, AppKind, LicenseType
from quince.domain.app_statuses import DeviceAppStatus
from quince.domain.errors import InvalidInContext
from quince.services.apps import catalog as apps
from quince.services.apps import delivery as app_delivery
from quince.services.apps.catalog import AssignmentView, NewApp
from quince.services.devices import records as devices
from quince.services.directory import users
from quince.store.models import AppRow, DeviceAppRow, DeviceRow, OrgGroupRow
from quince.store.rows import by_id
from quince.web.api import errors
from quince.web.api.app_schemas import (
    Application,
    ApplicationSearch,
    AppType,
    Assignment,
    AssignmentCreate,
    Assignments,
    AssignToUserGroup,
    DeviceApp,
    DeviceApps,
    InstallOnDevice,
    InstallRequest,
    InstallResult,
    InternalAppCreate,
    ManagedDistribution,
    PublicAppCreate,
    PurchasedAppCreate,
    VppUser,
    VppUsers,
)
from quince.web.api.deps import Caller, IdPath, OgFilter, Paging
from quince.web.api.fields import AnyCase, Text
from quince.web.api.schemas import IdValue, Reference, wire_time
from quince.web.deps import Db

router = APIRouter(tags=["Apps"], responses=errors.RESPONSES)
A = "/API/mam/apps"

_APP_TYPES: dict[str, AppType] = {"public": "Public", "in_house": "Internal", "purchased": "Purchased"}
_KINDS_BY_TYPE: dict[str, AppKind] = {t: AppKind(k) for k, t in _APP_TYPES.items()}
_MODES = {"automatic": "Automatic", "on_demand": "OnDemand"}


async def present_apps(db: Db, rows: Sequence[AppRow]) -> list[Application]:
    """Rows as the API's Application, with their catalog OG's uuid (one query for the page)."""
    ogs = await by_id(db, OrgGroupRow, (r.og_id for r in rows))
    out = []
    for row in rows:
        purchased = row.kind == AppKind.PURCHASED.value
        out.append(Application(
            id=IdValue(value=row.id), uuid=row.uuid, application_name=row.name,
            bundle_id=row.bundle_id, app_type=_APP_TYPES[row.kind], adam_id=row.adam_id,
            manifest_url=row.manifest_url, location_group_id=row.og_id,
            organization_group_uuid=ogs[row.og_id].uuid,
            device_based_licensing_enabled=row.device_licensing_enabled if purchased else None,
            managed_distribution=ManagedDistribution(
                purchased=row.total_licenses, redeemed=row.assigned_licenses,
                burned=row.assigned_licenses,
                available=max(row.total_licenses - row.assigned_licenses, 0),
            ) if purchased else None,
            created_on=wire_time(row.created_at),
            synced_on=wire_time(row.synced_at) if row.synced_at else None,
        ))
    return out


async def _one(db: Db, row: AppRow) -> Application:
    return (await present_apps(db, [row]))[0]


NameQuery = Annotated[Text | None, Query(max_length=APP_NAME_MAX_LENGTH,
                                         description="Part of the app name, any case.")]
BundleQuery = Annotated[Text | None, Query(max_length=BUNDLE_ID_MAX_LENGTH, description="Exact bundle ID.")]
TypeQuery = Annotated[Annotated[str, AnyCase(_APP_TYPES.values(), "type")] | None, Query()]


# --- purchased (Apps and Books) apps ------------------------------------------------------------


@router.get(f"{A}/purchased/search", response_model=ApplicationSearch, response_model_exclude_none=True,
            responses=errors.UNPROCESSABLE)
async def search_purchased(
    db: Db, caller: Caller, paging: Paging, og: OgFilter,
    applicationname: NameQuery = None, name: NameQuery = None, bundleid: BundleQuery = None,
) -> ApplicationSearch:
    """Purchased apps of catalogs in your organization groups, as `{Application: […], Page,
    PageSize, Total}` (Workspace ONE's v1 key). `applicationname` (or `name`) matches part of the
    name; `locationgroupid` (or `organizationgroupid`, `organizationgroupuuid`) takes the OG with the OGs
    below it."""
    page = await apps.search(db, caller, paging, kind=AppKind.PURCHASED, name=applicationname or name,
                             bundle_id=bundleid, og_id=og)
    return ApplicationSearch(application=await present_apps(db, page.items), page=page.page,
                             page_size=page.page_size, total=page.total)


@router.get(f"{A}/purchased/{{app_id:int}}", response_model=Application, response_model_exclude_none=True)
async def get_purchased(app_id: IdPath, db: Db, caller: Caller) -> Application:
    """One purchased app with its licence counts (`ManagedDistribution`)."""
    return await _one(db, await apps.get(db, caller, app_id, kind=AppKind.PURCHASED))


@router.post(f"{A}/purchased", response_model=Application, status_code=201,
             response_model_exclude_none=True, responses=errors.UNPROCESSABLE)
async def add_purchased(body: PurchasedAppCreate, db: Db, caller: Caller) -> Application:
    """Add a purchased app by hand (apps normally arrive by syncing the OG's Apps and Books token)."""
    row = await apps.create(db, caller, NewApp(
        AppKind.PURCHASED, body.location_group_id, body.application_name, body.bundle_id,
        adam_id=body.app_store_id, total_licenses=body.purchased, assigned_licenses=body.redeemed,
        device_licensing_enabled=body.device_based_licensing_enabled,
    ))
    await db.commit()
    return await _one(db, row)


@router.post(f"{A}/purchased/{{app_id:int}}/install", response_model=InstallResult, status_code=202,
             responses=errors.UNPROCESSABLE)
async def install_purchased(
    app_id: IdPath, body: Annotated[InstallRequest, Body()], db: Db, caller: Caller
) -> InstallResult:
    """Install a purchased app now on one device (`{"DeviceId": n}`) or on every enrolled device of a
    user (`{"UserId": n}`). The answer lists where the app stands on each device it touched: on a
    user-enrolled device always with a user-based licence."""
    caller.require_write()
    app = await apps.get(db, caller, app_id, kind=AppKind.PURCHASED)
    if isinstance(body, InstallOnDevice):
        device = await devices.get(db, caller, body.device_id)
        if body.udid is not None and body.udid.lower() != (device.udid or "").lower():
            raise InvalidInContext("Udid", f"Udid {body.udid} is not device {body.device_id}'s.")
        touched = await app_delivery.install_on_demand(db, caller, app.id, device_id=body.device_id)
    else:
        await users.get(db, caller, body.user_id)
        touched = await app_delivery.install_on_demand(db, caller, app.id, user_id=body.user_id)
    await db.commit()
    return InstallResult(device_apps=await present_device_apps(db, touched))


# --- public and in-house apps, and every kind together ------------------------------------------


@router.post(f"{A}/public", response_model=Application, status_code=201, response_model_exclude_none=True)
async def add_public(body: PublicAppCreate, db: Db, caller: Caller) -> Application:
    """Add a free App Store app. It cannot be installed on user-enrolled devices (their app status
    says so), only on device-enrolled ones."""
    row = await apps.create(db, caller, NewApp(
        AppKind.PUBLIC, body.location_group_id, body.application_name, body.bundle_id,
        adam_id=body.app_store_id,
    ))
    await db.commit()
    return await _one(db, row)


@router.post(f"{A}/internal", response_model=Application, status_code=201,
             response_model_exclude_none=True)
async def add_internal(body: InternalAppCreate, db: Db, caller: Caller) -> Application:
    """Add an in-house app by its https manifest URL. It cannot be installed on user-enrolled
    devices."""
    row = await apps.create(db, caller, NewApp(
        AppKind.IN_HOUSE, body.location_group_id, body.application_name, body.bundle_id,
        manifest_url=body.manifest_url,
    ))
    await db.commit()
    return await _one(db, row)


@router.get(f"{A}/search", response_model=ApplicationSearch, response_model_exclude_none=True,
            responses=errors.UNPROCESSABLE)
async def search_apps(
    db: Db, caller: Caller, paging: Paging, og: OgFilter,
    type: TypeQuery = None,
    applicationname: NameQuery = None, name: NameQuery = None, bundleid: BundleQuery = None,
) -> ApplicationSearch:
    """Apps of every kind in your organization groups' catalogs."""
    page = await apps.search(
        db, caller, paging, kind=_KINDS_BY_TYPE[type] if type else None, name=applicationname or name,
        bundle_id=bundleid, og_id=og,
    )
    return ApplicationSearch(application=await present_apps(db, page.items), page=page.page,
                             page_size=page.page_size, total=page.total)


@router.get(f"{A}/{{app_id:int}}", response_model=Application, response_model_exclude_none=True)
async def get_app(app_id: IdPath, db: Db, caller: Caller) -> Application:
    return await _one(db, await apps.get(db, caller, app_id))


@router.get(f"{A}/{{app_uuid:uuid}}", response_model=Application, response_model_exclude_none=True)
async def get_app_by_uuid(app_uuid: UUID, db: Db, caller: Caller) -> Application:
    """An app by Uuid (Workspace ONE v2 names apps by Uuid), in the same shape as by id."""
    return await _one(db, await apps.get_by_uuid(db, caller, str(app_uuid)))


@router.delete(f"{A}/{{app_id:int}}", status_code=204)
async def delete_app(app_id: IdPath, db: Db, caller: Caller) -> Response:
    """Remove an app from its catalog with its assignments; refused (409) while users still hold
    Apps and Books licences of it."""
    await apps.delete(db, caller, app_id)
    await db.commit()
    return Response(status_code=204)


# --- assignments --------------------------------------------------------------------------------


def _assignment(view: AssignmentView) -> Assignment:
    row = view.row
    return Assignment(
        id=IdValue(value=row.id), application_id=row.app_id,
        user_group_id=row.target_id if row.target_kind == "user_group" else None,
        location_group_id=row.target_id if row.target_kind == "og" else None,
        target_name=view.target_name, mode=_MODES[row.mode],
        created_on=wire_time(row.created_at),
    )


@router.get(f"{A}/{{app_id:int}}/assignments", response_model=Assignments)
async def list_assignments(app_id: IdPath, db: Db, caller: Caller) -> Assignments:
    return Assignments(assignments=[_assignment(v) for v in await apps.assignments_of(db, caller, app_id)])


@router.post(f"{A}/{{app_id:int}}/assignments", response_model=Assignment, status_code=201,
             responses=errors.UNPROCESSABLE)
async def add_assignment(
    app_id: IdPath, body: Annotated[AssignmentCreate, Body()], db: Db, caller: Caller
) -> Assignment:
    """Assign the app to a user group (its members' devices) or an OG (its devices and those of
    the OGs below it). An automatic assignment starts delivery at once on the enrolled devices it
    reaches, and on every device that enrolls later. A target the app could never reach (not at
    or below its catalog's OG, or a user group off its branch) is refused with 422."""
    kind, target = (
        ("user_group", body.user_group_id) if isinstance(body, AssignToUserGroup)
        else ("og", body.location_group_id)
    )
    mode = "automatic" if body.mode == "Automatic" else "on_demand"
    row = await apps.assign(db, caller, app_id, kind, target, mode)
    await app_delivery.deliver_assignment(db, caller, await apps.get(db, caller, app_id), row)
    views = await apps.assignments_of(db, caller, app_id)
    await db.commit()
    return _assignment(next(v for v in views if v.row.id == row.id))


@router.delete(f"{A}/{{app_id:int}}/assignments/{{assignment_id:int}}", status_code=204)
async def delete_assignment(app_id: IdPath, assignment_id: IdPath, db: Db, caller: Caller) -> Response:
    await apps.unassign(db, caller, app_id, assignment_id)
    await db.commit()
    return Response(status_code=204)


# --- a device's apps, a user's Apps and Books users ---------------------------------------------


def _device_app(status: DeviceAppRow, app: AppRow, device: DeviceRow) -> DeviceApp:
    licence = status.license_type
    if device.is_user_enrolled and licence == LicenseType.DEVICE.value:
        licence = LicenseType.USER.value  # rule 6, held on the way out too
    return DeviceApp(
        id=IdValue(value=status.id), uuid=app.uuid, application_name=app.name,
        application_identifier=app.bundle_id, device_id=device.id, status=status.status,
        status_reason=status.reason,
        license_type="User" if licence == "user" else "Device" if licence == "device" else None,
        is_managed=status.status == DeviceAppStatus.INSTALLED, type=_APP_TYPES[app.kind],
        app_store_vendable=app.kind == AppKind.PURCHASED.value,
        device_based_vpp=licence == LicenseType.DEVICE.value,
        command_uuid=status.command_uuid, updated_on=wire_time(status.updated_at),
    )


async def present_device_apps(db: Db, rows: Sequence[DeviceAppRow]) -> list[DeviceApp]:
    app_rows = await by_id(db, AppRow, (r.app_id for r in rows))
    device_rows = await by_id(db, DeviceRow, (r.device_id for r in rows))
    return [_device_app(r, app_rows[r.app_id], device_rows[r.device_id]) for r in rows]


@router.get("/API/mdm/devices/{device_id:int}/apps", response_model=DeviceApps, tags=["Devices"])
async def device_apps(device_id: IdPath, db: Db, caller: Caller, paging: Paging) -> DeviceApps:
    """The apps assigned to a device and where each stands, with the reason: e.g. a public app on a
    user-enrolled device is NotSupported, and says why."""
    device = await devices.get(db, caller, device_id)
    page = await apps.device_apps(db, caller, device.id, paging)
    return DeviceApps(
        device_apps=[_device_app(status, app, device) for status, app in page.items],
        page=page.page, page_size=page.page_size, total=page.total,
    )


@router.get("/API/system/users/{user_id:int}/vppuser", response_model=VppUsers, tags=["Users"])
async def vpp_users(user_id: IdPath, db: Db, caller: Caller) -> VppUsers:
    """The user's Apps and Books user under each token that has one, with its status (Registering,
    Associated, Retired). The token itself is never shown."""
    views = await apps.vpp_user_of(db, caller, user_id)
    return VppUsers(vpp_users=[
        VppUser(
            client_user_id=v.row.client_user_id, status=v.row.status,
            managed_apple_id=v.row.managed_apple_id, last_error=v.row.last_error,
            token_location_group=Reference(
                id=IdValue(value=v.token_og.id), name=v.token_og.name, uuid=v.token_og.uuid
            ) if v.token_og else None,
            updated_on=wire_time(v.row.updated_at),
        )
        for v in views
    ])
