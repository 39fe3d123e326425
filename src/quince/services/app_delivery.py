"""Delivering apps to user-enrolled devices (DESIGN.md rules 5-7): the Apps and Books flow.

When a user-enrolled device completes enrollment (its first TokenUpdate), or an app is installed on
demand, each app is checked against the rules: public and in-house apps are recorded as not
supported and no command is sent; purchased apps get a user-based licence. The licence needs the
user's Apps and Books user, created silently with the user's Managed Apple ID (`users/create`, which
associates it at once; no invitation is ever sent), then `assets/associate` by clientUserId, then
`InstallApplication` (iTunesStoreID, PurchaseMethod 1, ManagementFlags 1) and a push.

Every call to Apple is a durable job (services/jobs.py) written in the transaction that causes it;
each handler is idempotent: it looks at what is stored before calling Apple, so running a job twice
never registers a user or assigns a licence twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.clients.vpp import EventState, NewVppUser, VppClient, VppError, VppUser
from quince.config import Settings
from quince.domain import og_settings as setting_rules
from quince.domain.app_eligibility import AppKind, Eligible, LicenseType, eligibility
from quince.domain.devices import EnrollmentStatus
from quince.domain.errors import Conflict, InvalidInput
from quince.logs import DEVICE_SERVICES, event
from quince.services import apps, commands, devices, jobs, users, vpp_tokens
from quince.services.org_tree import load_overrides, load_tree
from quince.services.scope import Scope, operator_scope
from quince.store.models import (
    AppAssignmentRow,
    AppRow,
    DeviceAppRow,
    DeviceRow,
    EnrollmentUserRow,
    JobRow,
    OrgGroupRow,
    VppLicenseRow,
    VppTokenRow,
    VppUserRow,
)

log = logging.getLogger("quince.app_delivery")

USER_JOB = "vpp.user"
LICENSE_JOB = "vpp.license"
RELEASE_JOB = "vpp.release"
POLL_SECONDS = 2.0
ACTOR = "Quince app delivery"
# Statuses that mean delivery is under way or done: a new assignment leaves these devices alone.
UNDER_WAY_STATUSES = ("WaitingForVppUser", "WaitingForLicense", "InstallQueued", "Installed")

# VPP user and licence statuses kept by Quince.
REGISTERING, ASSOCIATED, FAILED, RETIRED = "Registering", "Associated", "Failed", "Retired"
ASSOCIATING, RELEASING, RELEASED = "Associating", "Releasing", "Released"


def _log(name: str, outcome: str, level: int = logging.INFO, **fields: object) -> None:
    event(DEVICE_SERVICES, name, outcome, level=level, **fields)


# --- deciding what a device gets ------------------------------------------------------------------


async def _companion_app(db: AsyncSession, device: DeviceRow) -> AppRow | None:
    """The purchased app the device's OG names as its companion (Hub) app, if any."""
    tree, overrides = await load_tree(db), await load_overrides(db)
    bundle_id = str(setting_rules.resolve(tree, overrides, device.og_id, "companion_app_bundle_id").value)
    if not bundle_id:
        return None
    og = await db.get(OrgGroupRow, device.og_id)
    assert og is not None
    lineage = apps.og_ids_of_path(og.path)
    # The nearest catalog wins: the deepest OG on the device's path that holds the app.
    rows = list(await db.scalars(select(AppRow).where(
        AppRow.bundle_id == bundle_id, AppRow.kind == AppKind.PURCHASED.value, AppRow.og_id.in_(lineage)
    )))
    rows.sort(key=lambda a: lineage.index(a.og_id), reverse=True)
    return rows[0] if rows else None


async def deliver(db: AsyncSession, device: DeviceRow, app: AppRow) -> DeviceAppRow:
    """Start delivering one app to one device, as the rules allow; returns its status row."""
    verdict = eligibility(AppKind(app.kind), device_is_user_enrolled=device.is_user_enrolled,
                          device_licensing_enabled=app.device_licensing_enabled)
    if not isinstance(verdict, Eligible):
        _log("apps.deliver", "not_supported", device=device.uuid, app=app.bundle_id)
        return await apps.set_device_app_status(db, device.id, app.id, "NotSupported", verdict.reason)
    if verdict.license_type is not LicenseType.USER or app.kind != AppKind.PURCHASED.value:
        # Quince delivers only Apps and Books apps with user licences (the UE case); say so.
        return await apps.set_device_app_status(
            db, device.id, app.id, "NotSupported",
            "Quince installs only Apps and Books apps with user-based licences.",
        )
    if device.enrollment_user_id is None:
        # A device enrolled without a user (e.g. a shared corporate device): no one to license.
        _log("apps.deliver", "no_user", device=device.uuid, app=app.bundle_id)
        return await apps.set_device_app_status(
            db, device.id, app.id, "NotSupported",
            "A user-based licence needs an enrollment user, and this device has none.",
        )
    row = await apps.set_device_app_status(
        db, device.id, app.id, "WaitingForVppUser",
        "Registering the user with Apple's Apps and Books service.", LicenseType.USER,
    )
    await jobs.enqueue(db, USER_JOB, {"user_id": device.enrollment_user_id, "og_id": device.og_id},
                       dedupe_key=f"user:{device.enrollment_user_id}:og:{device.og_id}")
    return row


# --- starting delivery for a new assignment -------------------------------------------------------


@dataclass(frozen=True)
class DeliveryStart:
    """What adding an automatic assignment did to the enrolled devices it reaches now."""

    started: int
    """Devices where delivery began (an Apps and Books user and licence are on their way)."""
    not_supported: int
    """Devices the rules refuse the app (recorded NotSupported with the reason; nothing sent)."""
    under_way: int
    """Devices that already have the app or are getting it (left alone)."""


async def deliver_assignment(
    db: AsyncSession, scope: Scope, app: AppRow, assignment: AppAssignmentRow,
) -> DeliveryStart:
    """Start delivering an app to the Enrolled devices in `scope` that a new automatic assignment
    reaches, exactly as at enrollment (`deliver`); devices that enroll later get it when they
    enroll. On-demand assignments send nothing. Every face that adds an assignment calls this."""
    scope.require_write()
    if assignment.mode != "automatic":
        return DeliveryStart(0, 0, 0)
    catalog = await db.get(OrgGroupRow, app.og_id)
    assert catalog is not None
    paths = await apps.target_paths(db, [assignment])
    reached = list(await db.scalars(
        select(DeviceRow).where(
            DeviceRow.enrollment_status == EnrollmentStatus.ENROLLED.value,
            DeviceRow.og_id.in_(scope.og_ids()),
            DeviceRow.og_id.in_(select(OrgGroupRow.id).where(
                OrgGroupRow.path.startswith(catalog.path, autoescape=True))),
            apps.reached_by(assignment, paths.get(assignment.target_id), catalog),
        ).order_by(DeviceRow.id)
    ))
    busy = set(await db.scalars(select(DeviceAppRow.device_id).where(
        DeviceAppRow.app_id == app.id, DeviceAppRow.status.in_(UNDER_WAY_STATUSES),
        DeviceAppRow.device_id.in_([d.id for d in reached]),
    )))
    started = refused = 0
    for device in reached:
        if device.id in busy:
            continue
        user_licence = app.kind == AppKind.PURCHASED.value and (
            device.is_user_enrolled or not app.device_licensing_enabled)
        if user_licence and device.enrollment_user_id is None:
            continue  # a user-based licence needs a user (a shared device without one is left out)
        row = await deliver(db, device, app)
        if row.status == "NotSupported":
            refused += 1
        else:
            started += 1
    return DeliveryStart(started, refused, len(busy))


async def on_enrolled(db: AsyncSession, device: DeviceRow) -> list[DeviceAppRow]:
    """A device completed enrollment: its automatic apps and its OG's companion app go out."""
    chosen: dict[int, AppRow] = {app.id: app for app, _ in await apps.apps_for_device(db, device)}
    companion = await _companion_app(db, device)
    if companion is not None:
        chosen.setdefault(companion.id, companion)
    return [await deliver(db, device, app) for app in chosen.values()]


async def install_on_demand(
    db: AsyncSession, scope: Scope, app_id: int, *, device_id: int | None = None,
    user_id: int | None = None,
) -> list[DeviceAppRow]:
    """Install an app now on one device, or on every enrolled device of a user."""
    scope.require_write()
    if (device_id is None) == (user_id is None):
        raise InvalidInput("DeviceId", "Give either DeviceId or UserId.")
    app = await apps.get(db, scope, app_id)
    if device_id is not None:
        targets = [await devices.get(db, scope, device_id)]
    else:
        assert user_id is not None
        user = await users.get(db, scope, user_id)
        targets = list(await db.scalars(select(DeviceRow).where(
            DeviceRow.enrollment_user_id == user.id,
            DeviceRow.enrollment_status == EnrollmentStatus.ENROLLED.value,
        )))
    for device in targets:
        if device.enrollment_status != EnrollmentStatus.ENROLLED.value:
            raise Conflict(f"Device {device.id} is {device.enrollment_status}; apps can be installed "
                           "on Enrolled devices only.")
    return [await deliver(db, device, app) for device in targets]


# --- the jobs -------------------------------------------------------------------------------------


ClientFactory = Callable[[str], VppClient]


@dataclass(frozen=True)
class Context:
    settings: Settings
    client_for: ClientFactory
    poll_seconds: float = POLL_SECONDS


async def _waiting(
    db: AsyncSession, user_id: int, status: str
) -> list[tuple[DeviceAppRow, DeviceRow, AppRow]]:
    stmt = (
        select(DeviceAppRow, DeviceRow, AppRow)
        .join(DeviceRow, DeviceRow.id == DeviceAppRow.device_id)
        .join(AppRow, AppRow.id == DeviceAppRow.app_id)
        .where(DeviceRow.enrollment_user_id == user_id, DeviceAppRow.status == status)
    )
    return [(d, dev, a) for d, dev, a in (await db.execute(stmt)).tuples()]


async def _fail_waiting(db: AsyncSession, user_id: int, status: str, reason: str,
                        app_id: int | None = None) -> None:
    for row, _device, app in await _waiting(db, user_id, status):
        if app_id is None or app.id == app_id:
            await apps.set_device_app_status(db, row.device_id, row.app_id, "Failed", reason,
                                             LicenseType.USER)


def _id(job: JobRow, key: str) -> int:
    value = job.payload.get(key)
    if not isinstance(value, int):
        raise ValueError(f"job {job.id} has no integer {key!r}")
    return value


def _retry_for(exc: VppError) -> jobs.Outcome:
    if exc.retryable:
        return jobs.Retry(f"Apps and Books: {exc.message}", delay=exc.retry_after)
    return jobs.Fail(f"Apps and Books: {exc.message}")


async def handle_user(db: AsyncSession, job: JobRow, ctx: Context) -> jobs.Outcome:
    """Make sure the user's Apps and Books user exists and is Associated, then go on to licences."""
    user_id, og_id = _id(job, "user_id"), _id(job, "og_id")
    user = await db.get(EnrollmentUserRow, user_id)
    if user is None:
        return None
    token = await vpp_tokens.effective_token(db, og_id, var_dir=ctx.settings.var_dir)
    if token is None:
        for row, _device, _app in await _waiting(db, user_id, "WaitingForVppUser"):
            row.reason = ("No Apps and Books token covers this device's organization group: run "
                          "`quince vpp set-token`, then install the app again.")
        await db.flush()
        return jobs.Fail("No Apps and Books token for this organization group.")
    vpp_user = await db.scalar(select(VppUserRow).where(
        VppUserRow.token_id == token.row.id, VppUserRow.enrollment_user_id == user.id))
    if vpp_user is None:
        vpp_user = VppUserRow(token_id=token.row.id, enrollment_user_id=user.id,
                              managed_apple_id=user.managed_apple_id, status=REGISTERING)
        db.add(vpp_user)
        await db.flush()
    if vpp_user.status == ASSOCIATED:
        await _licences_for_waiting(db, user_id, vpp_user)
        return None
    async with ctx.client_for(token.token) as client:
        return await _register(db, client, user, vpp_user, user_id, ctx.poll_seconds)


async def _register(
    db: AsyncSession, client: VppClient, user: EnrollmentUserRow, vpp_user: VppUserRow, user_id: int,
    poll_seconds: float,
) -> jobs.Outcome:
    try:
        if vpp_user.event_id is None:
            # A crash after Apple registered the user but before we stored its event would make a
            # second users/create fail (9716): ask first, so running the job again is harmless.
            existing = await client.get_users([vpp_user.client_user_id])
            if any(u.client_user_id == vpp_user.client_user_id for u in existing):
                return await _after_registration(db, user, vpp_user, user_id, existing)
            # Silent association: the Managed Apple ID, never an email, so Apple sends no invitation.
            new = NewVppUser(vpp_user.client_user_id, vpp_user.managed_apple_id)
            events = await client.create_users([new])
            vpp_user.event_id = events[0] if events else None
            await db.flush()
            _log("vpp.user", "registering", user=user.username, client_user_id=vpp_user.client_user_id)
            return jobs.Retry("Waiting for Apple to register the user.", delay=poll_seconds, counts=False)
        status = await client.event_status(vpp_user.event_id)
        if status.state is EventState.PENDING:
            return jobs.Retry("Waiting for Apple to register the user.", delay=poll_seconds, counts=False)
        failures = status.failures_for_user(vpp_user.client_user_id)
        if status.state is EventState.FAILED or failures:
            reason = "; ".join(f.text for f in failures) or "Apple could not register the user."
            vpp_user.status, vpp_user.last_error = FAILED, reason[:1000]
            await _fail_waiting(db, user_id, "WaitingForVppUser", f"Apps and Books: {reason}")
            _log("vpp.user", "failed", logging.WARNING, user=user.username, reason=reason)
            return jobs.Fail(reason)
        found = await client.get_users([vpp_user.client_user_id])
    except VppError as exc:
        if not exc.retryable:
            vpp_user.last_error = exc.message[:1000]
            await _fail_waiting(db, user_id, "WaitingForVppUser", f"Apps and Books: {exc.message}")
        return _retry_for(exc)
    return await _after_registration(db, user, vpp_user, user_id, found)


async def _after_registration(
    db: AsyncSession, user: EnrollmentUserRow, vpp_user: VppUserRow, user_id: int,
    found: list[VppUser],
) -> jobs.Outcome:
    record = next((u for u in found if u.client_user_id == vpp_user.client_user_id), None)
    if record is None or record.status.value != ASSOCIATED:
        reason = ("The user's Managed Apple ID is not associated with this organization's Apps and "
                  "Books account (it must belong to the organization).")
        vpp_user.status, vpp_user.last_error = FAILED, reason
        await _fail_waiting(db, user_id, "WaitingForVppUser", reason)
        return jobs.Fail(reason)
    vpp_user.status, vpp_user.id_hash, vpp_user.last_error = ASSOCIATED, record.id_hash, None
    _log("vpp.user", "associated", user=user.username, client_user_id=vpp_user.client_user_id)
    await _licences_for_waiting(db, user_id, vpp_user)
    return None


async def _licences_for_waiting(db: AsyncSession, user_id: int, vpp_user: VppUserRow) -> None:
    for row, _device, app in await _waiting(db, user_id, "WaitingForVppUser"):
        await apps.set_device_app_status(db, row.device_id, app.id, "WaitingForLicense",
                                         "Assigning a user-based licence.", LicenseType.USER)
        await jobs.enqueue(db, LICENSE_JOB, {"vpp_user_id": vpp_user.id, "app_id": app.id},
                           dedupe_key=f"licence:{vpp_user.id}:{app.id}")


async def handle_license(db: AsyncSession, job: JobRow, ctx: Context) -> jobs.Outcome:
    """Assign the app's user-based licence, then queue InstallApplication on the waiting devices."""
    vpp_user = await db.get(VppUserRow, _id(job, "vpp_user_id"))
    app = await db.get(AppRow, _id(job, "app_id"))
    if vpp_user is None or app is None or not app.adam_id:
        return None
    licence = await db.scalar(select(VppLicenseRow).where(
        VppLicenseRow.vpp_user_id == vpp_user.id, VppLicenseRow.app_id == app.id))
    if licence is None or licence.status in (RELEASED, FAILED):
        if licence is None:
            licence = VppLicenseRow(vpp_user_id=vpp_user.id, app_id=app.id, status=ASSOCIATING)
            db.add(licence)
        licence.status, licence.event_id = ASSOCIATING, None
        await db.flush()
    if licence.status == ASSOCIATED:
        await _install_waiting(db, vpp_user.enrollment_user_id, app)
        return None
    token = await _token_of(db, vpp_user, ctx)
    if token is None:
        return jobs.Fail("The Apps and Books token of this user is gone.")
    try:
        async with ctx.client_for(token) as client:
            if licence.event_id is None:
                events = await client.associate_assets([app.adam_id], [vpp_user.client_user_id])
                licence.event_id = events[0] if events else None
                await db.flush()
                return jobs.Retry("Waiting for Apple to assign the licence.", delay=ctx.poll_seconds,
                                  counts=False)
            status = await client.event_status(licence.event_id)
    except VppError as exc:
        if not exc.retryable:
            licence.last_error = exc.message[:1000]
            await _fail_waiting(db, vpp_user.enrollment_user_id, "WaitingForLicense",
                                f"Apps and Books: {exc.message}", app.id)
        return _retry_for(exc)
    if status.state is EventState.PENDING:
        return jobs.Retry("Waiting for Apple to assign the licence.", delay=ctx.poll_seconds,
                          counts=False)
    failures = status.failures_for_user(vpp_user.client_user_id)
    if status.state is EventState.FAILED or failures:
        reason = "; ".join(f.text for f in failures) or "Apple could not assign the licence."
        licence.status, licence.last_error = FAILED, reason[:1000]
        await _fail_waiting(db, vpp_user.enrollment_user_id, "WaitingForLicense",
                            f"Apps and Books: {reason}", app.id)
        return jobs.Fail(reason)
    licence.status, licence.last_error = ASSOCIATED, None
    _log("vpp.licence", "associated", app=app.bundle_id, client_user_id=vpp_user.client_user_id)
    await _install_waiting(db, vpp_user.enrollment_user_id, app)
    return None


async def _token_of(db: AsyncSession, vpp_user: VppUserRow, ctx: Context) -> str | None:
    row = await db.get(VppTokenRow, vpp_user.token_id)
    return vpp_tokens.decrypt(ctx.settings.var_dir, row.token_encrypted) if row is not None else None


async def _install_waiting(db: AsyncSession, user_id: int, app: AppRow) -> None:
    """Queue InstallApplication (user licence, managed) on each device waiting for this app."""
    system = await operator_scope(db, actor=ACTOR)
    for _row, device, waiting_app in await _waiting(db, user_id, "WaitingForLicense"):
        if waiting_app.id != app.id or device.enrollment_status != EnrollmentStatus.ENROLLED.value:
            continue
        command = await commands.queue(db, system, device.id, "InstallApplication", {
            "iTunesStoreID": int(app.adam_id or 0),
            "Options": {"PurchaseMethod": 1},  # an Apps and Books licence
            "ManagementFlags": 1,  # removed with the MDM profile
        }, queued_by=ACTOR)
        await apps.set_device_app_status(db, device.id, app.id, "InstallQueued",
                                         "InstallApplication sent; waiting for the device.",
                                         LicenseType.USER, command.uuid)
        _log("apps.install", "queued", device=device.uuid, app=app.bundle_id, command=command.uuid)


# --- unenrolment ----------------------------------------------------------------------------------


async def on_unenrolled(db: AsyncSession, device: DeviceRow) -> None:
    """A device left: its apps are gone; the user's licences go too when this was their last
    enrolled device and the OG says so (vpp_release_license_on_unenroll)."""
    for row in await db.scalars(select(DeviceAppRow).where(DeviceAppRow.device_id == device.id)):
        row.status, row.reason, row.command_uuid = "Removed", "The device unenrolled.", None
    if device.enrollment_user_id is None:
        return
    others = await db.scalar(select(func.count()).where(
        DeviceRow.enrollment_user_id == device.enrollment_user_id, DeviceRow.id != device.id,
        DeviceRow.enrollment_status == EnrollmentStatus.ENROLLED.value))
    tree, overrides = await load_tree(db), await load_overrides(db)
    release = setting_rules.resolve(tree, overrides, device.og_id, "vpp_release_license_on_unenroll").value
    if others or release is not True:
        return
    await jobs.enqueue(db, RELEASE_JOB, {"user_id": device.enrollment_user_id},
                       dedupe_key=f"release:{device.enrollment_user_id}")


async def handle_release(db: AsyncSession, job: JobRow, ctx: Context) -> jobs.Outcome:
    """Give back the user's licences (assets/disassociate), unless a device enrolled again."""
    user_id = _id(job, "user_id")
    enrolled = await db.scalar(select(func.count()).where(
        DeviceRow.enrollment_user_id == user_id,
        DeviceRow.enrollment_status == EnrollmentStatus.ENROLLED.value,
    ))
    if enrolled:
        return None
    stmt = (select(VppLicenseRow, VppUserRow, AppRow)
            .join(VppUserRow, VppUserRow.id == VppLicenseRow.vpp_user_id)
            .join(AppRow, AppRow.id == VppLicenseRow.app_id)
            .where(VppUserRow.enrollment_user_id == user_id,
                   VppLicenseRow.status.in_([ASSOCIATED, RELEASING])))
    for licence, vpp_user, app in (await db.execute(stmt)).tuples():
        token = await _token_of(db, vpp_user, ctx)
        if token is None or not app.adam_id:
            continue
        try:
            async with ctx.client_for(token) as client:
                await client.disassociate_assets([app.adam_id], [vpp_user.client_user_id])
        except VppError as exc:
            return _retry_for(exc)
        licence.status = RELEASED
        _log("vpp.licence", "released", app=app.bundle_id, client_user_id=vpp_user.client_user_id)
    await db.flush()
    return None


def handlers(
    settings: Settings, client_for: ClientFactory | None = None, *, poll_seconds: float = POLL_SECONDS
) -> dict[str, jobs.Handler]:
    """The job handlers of the delivery flow, for a JobRunner (`poll_seconds`: how long to wait
    between polls of Apple's asynchronous events)."""
    ctx = Context(settings, client_for or (lambda token: VppClient(token, base_url=settings.vpp_url)),
                  poll_seconds)

    def bind(handler: Callable[[AsyncSession, JobRow, Context], Awaitable[jobs.Outcome]]) -> jobs.Handler:
        async def run(db: AsyncSession, job: JobRow) -> jobs.Outcome:
            return await handler(db, job, ctx)
        return run

    return {USER_JOB: bind(handle_user), LICENSE_JOB: bind(handle_license), RELEASE_JOB: bind(handle_release)}

