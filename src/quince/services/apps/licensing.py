"""The Apps and Books jobs that license a user's apps (DESIGN.md rule 7): registering the user
silently, assigning user-based licences, queueing InstallApplication, and releasing the licences.

Every call to Apple is a durable job (services/jobs.py) written in the transaction that causes it.
A job may run twice: its worker's process can die after Apple accepted a request and before the
job's transaction committed. Each handler is idempotent all the same: the user's clientUserId is
stored before Apple hears of it, so a second run asks Apple about that same user (`get_users`)
instead of registering another; and Apple's "already exists" (9716) and "already assigned" (9616)
answers to a request made twice mean it was done the first time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from quince.apple.vpp.errors import VppError
from quince.apple.vpp.records import EventState, NewVppUser, VppFailure, VppUser
from quince.clients.vpp import VppClient
from quince.config import Settings
from quince.domain.app_eligibility import LicenseType
from quince.domain.app_statuses import DeviceAppStatus, VppLicenseStatus, VppUserStatus
from quince.domain.devices import EnrollmentStatus
from quince.logs import DEVICE_SERVICES, event
from quince.services import jobs
from quince.services.apps import catalog as apps
from quince.services.apps import vpp_tokens
from quince.services.mdm import commands
from quince.services.scope import operator_scope
from quince.store import apps as store
from quince.store import vpp as vpp_store
from quince.store.database import Db
from quince.store.models import AppRow, EnrollmentUserRow, JobRow, VppLicenseRow, VppTokenRow, VppUserRow

USER_JOB = "vpp.user"
LICENSE_JOB = "vpp.license"
RELEASE_JOB = "vpp.release"
POLL_SECONDS = 2.0
ACTOR = "Quince app delivery"
# Apple's answers to a request an earlier run of the same job had already made, and that worked.
USER_EXISTS, ALREADY_ASSIGNED = 9716, 9616


def _log(name: str, outcome: str, level: int = logging.INFO, **fields: object) -> None:
    event(DEVICE_SERVICES, name, outcome, level=level, **fields)


async def register_user(db: Db, user_id: int, og_id: int) -> None:
    """Queue the registration of the user's Apps and Books user (one waiting job per user and OG)."""
    await jobs.enqueue(db, USER_JOB, {"user_id": user_id, "og_id": og_id},
                       dedupe_key=f"user:{user_id}:og:{og_id}")


async def release_licences(db: Db, user_id: int) -> None:
    """Queue giving back the user's licences (one waiting job per user)."""
    await jobs.enqueue(db, RELEASE_JOB, {"user_id": user_id}, dedupe_key=f"release:{user_id}")


ClientFactory = Callable[[str], VppClient]


@dataclass(frozen=True)
class Context:
    settings: Settings
    client_for: ClientFactory
    poll_seconds: float = POLL_SECONDS


async def _fail_waiting(db: Db, user_id: int, status: DeviceAppStatus, reason: str,
                        app_id: int | None = None) -> None:
    for row, _device, app in await store.waiting_for(db, user_id, status):
        if app_id is None or app.id == app_id:
            await apps.set_device_app_status(db, row.device_id, row.app_id, DeviceAppStatus.FAILED, reason,
                                             LicenseType.USER)


def _id(job: JobRow, key: str) -> int:
    value = job.payload.get(key)
    if not isinstance(value, int):
        raise ValueError(f"job {job.id} has no integer {key!r}")
    return value


def _done_before(failures: list[VppFailure], code: int) -> bool:
    """Apple refused the request only because an earlier run of this job already did it."""
    return bool(failures) and all(f.code == code for f in failures)


def retry_for(exc: VppError) -> jobs.Outcome:
    """A failed call to Apple as a job outcome: try again later when Apple says so, else fail."""
    if exc.retryable:
        return jobs.Retry(f"Apps and Books: {exc.message}", delay=exc.retry_after)
    return jobs.Fail(f"Apps and Books: {exc.message}")


async def handle_user(db: Db, job: JobRow, ctx: Context) -> jobs.Outcome:
    """Make sure the user's Apps and Books user exists and is Associated, then go on to licences."""
    user_id, og_id = _id(job, "user_id"), _id(job, "og_id")
    user = await db.get(EnrollmentUserRow, user_id)
    if user is None:
        return None
    token = await vpp_tokens.effective_token(db, og_id, var_dir=ctx.settings.var_dir)
    if token is None:
        for row, _device, _app in await store.waiting_for(db, user_id, DeviceAppStatus.WAITING_FOR_VPP_USER):
            row.reason = ("No Apps and Books token covers this device's organization group: run "
                          "`quince vpp set-token`, then install the app again.")
        await db.flush()
        return jobs.Fail("No Apps and Books token for this organization group.")
    vpp_user = await vpp_store.vpp_user(db, token.row.id, user.id)
    if vpp_user is None:
        # Stored (committed with this run) before Apple hears of its clientUserId: were it made in
        # the run that calls users/create, a crash after Apple's answer would lose the id, and the
        # next run would register the same person again under another one.
        db.add(VppUserRow(token_id=token.row.id, enrollment_user_id=user.id,
                          managed_apple_id=user.managed_apple_id, status=VppUserStatus.REGISTERING))
        await db.flush()
        return jobs.Retry("Registering the user with Apple.", delay=0, counts=False)
    if vpp_user.status == VppUserStatus.ASSOCIATED:
        await _licences_for_waiting(db, user_id, vpp_user)
        return None
    async with ctx.client_for(token.token) as client:
        return await _register(db, client, user, vpp_user, user_id, ctx.poll_seconds)


def silent_association(vpp_user: VppUserRow) -> NewVppUser:
    """Silent Apps and Books association (DESIGN.md rule 7): the user is registered with their
    Managed Apple ID, never an email address, so Apple associates them at once and has nobody to
    send an invitation to."""
    return NewVppUser(vpp_user.client_user_id, vpp_user.managed_apple_id)


async def _register(
    db: Db, client: VppClient, user: EnrollmentUserRow, vpp_user: VppUserRow, user_id: int,
    poll_seconds: float,
) -> jobs.Outcome:
    try:
        if vpp_user.event_id is None:
            # A crash after Apple registered the user but before we stored its event would make a
            # second users/create fail (9716): ask first, so running the job again is harmless.
            # (Apple may still be working on the first request: then 9716 below says so.)
            existing = await client.get_users([vpp_user.client_user_id])
            if any(u.client_user_id == vpp_user.client_user_id for u in existing):
                return await _after_registration(db, user, vpp_user, user_id, existing)
            events = await client.create_users([silent_association(vpp_user)])
            vpp_user.event_id = events[0] if events else None
            await db.flush()
            _log("vpp.user", "registering", user=user.username, client_user_id=vpp_user.client_user_id)
            return jobs.Retry("Waiting for Apple to register the user.", delay=poll_seconds, counts=False)
        status = await client.event_status(vpp_user.event_id)
        if status.state is EventState.PENDING:
            return jobs.Retry("Waiting for Apple to register the user.", delay=poll_seconds, counts=False)
        failures = status.failures_for_user(vpp_user.client_user_id)
        if _done_before(failures, USER_EXISTS):
            # This clientUserId is Quince's alone: the user is the one an earlier run registered.
            _log("vpp.user", "registered_before", user=user.username, client_user_id=vpp_user.client_user_id)
        elif status.state is EventState.FAILED or failures:
            reason = "; ".join(f.text for f in failures) or "Apple could not register the user."
            vpp_user.status, vpp_user.last_error = VppUserStatus.FAILED, reason[:1000]
            await _fail_waiting(db, user_id, DeviceAppStatus.WAITING_FOR_VPP_USER,
                                f"Apps and Books: {reason}")
            _log("vpp.user", "failed", logging.WARNING, user=user.username, reason=reason)
            return jobs.Fail(reason)
        found = await client.get_users([vpp_user.client_user_id])
    except VppError as exc:
        if not exc.retryable:
            vpp_user.last_error = exc.message[:1000]
            await _fail_waiting(db, user_id, DeviceAppStatus.WAITING_FOR_VPP_USER,
                                f"Apps and Books: {exc.message}")
        return retry_for(exc)
    return await _after_registration(db, user, vpp_user, user_id, found)


async def _after_registration(
    db: Db, user: EnrollmentUserRow, vpp_user: VppUserRow, user_id: int,
    found: list[VppUser],
) -> jobs.Outcome:
    record = next((u for u in found if u.client_user_id == vpp_user.client_user_id), None)
    if record is None or record.status.value != VppUserStatus.ASSOCIATED:
        reason = ("The user's Managed Apple ID is not associated with this organization's Apps and "
                  "Books account (it must belong to the organization).")
        vpp_user.status, vpp_user.last_error = VppUserStatus.FAILED, reason
        await _fail_waiting(db, user_id, DeviceAppStatus.WAITING_FOR_VPP_USER, reason)
        return jobs.Fail(reason)
    vpp_user.status, vpp_user.id_hash, vpp_user.last_error = VppUserStatus.ASSOCIATED, record.id_hash, None
    _log("vpp.user", "associated", user=user.username, client_user_id=vpp_user.client_user_id)
    await _licences_for_waiting(db, user_id, vpp_user)
    return None


async def _licences_for_waiting(db: Db, user_id: int, vpp_user: VppUserRow) -> None:
    for row, _device, app in await store.waiting_for(db, user_id, DeviceAppStatus.WAITING_FOR_VPP_USER):
        await apps.set_device_app_status(db, row.device_id, app.id, DeviceAppStatus.WAITING_FOR_LICENSE,
                                         "Assigning a user-based licence.", LicenseType.USER)
        await jobs.enqueue(db, LICENSE_JOB, {"vpp_user_id": vpp_user.id, "app_id": app.id},
                           dedupe_key=f"licence:{vpp_user.id}:{app.id}")


async def handle_license(db: Db, job: JobRow, ctx: Context) -> jobs.Outcome:
    """Assign the app's user-based licence, then queue InstallApplication on the waiting devices."""
    vpp_user = await db.get(VppUserRow, _id(job, "vpp_user_id"))
    app = await db.get(AppRow, _id(job, "app_id"))
    if vpp_user is None or app is None or not app.adam_id:
        return None
    licence = await vpp_store.licence(db, vpp_user.id, app.id)
    if licence is None or licence.status in (VppLicenseStatus.RELEASED, VppLicenseStatus.FAILED):
        if licence is None:
            licence = VppLicenseRow(vpp_user_id=vpp_user.id, app_id=app.id,
                                    status=VppLicenseStatus.ASSOCIATING)
            db.add(licence)
        licence.status, licence.event_id = VppLicenseStatus.ASSOCIATING, None
        await db.flush()
    if licence.status == VppLicenseStatus.ASSOCIATED:
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
            await _fail_waiting(db, vpp_user.enrollment_user_id, DeviceAppStatus.WAITING_FOR_LICENSE,
                                f"Apps and Books: {exc.message}", app.id)
        return retry_for(exc)
    if status.state is EventState.PENDING:
        return jobs.Retry("Waiting for Apple to assign the licence.", delay=ctx.poll_seconds,
                          counts=False)
    failures = status.failures_for_user(vpp_user.client_user_id)
    if _done_before(failures, ALREADY_ASSIGNED):
        # An earlier run assigned it, and its record was lost with its worker: the licence is there.
        _log("vpp.licence", "assigned_before", app=app.bundle_id, client_user_id=vpp_user.client_user_id)
    elif status.state is EventState.FAILED or failures:
        reason = "; ".join(f.text for f in failures) or "Apple could not assign the licence."
        licence.status, licence.last_error = VppLicenseStatus.FAILED, reason[:1000]
        await _fail_waiting(db, vpp_user.enrollment_user_id, DeviceAppStatus.WAITING_FOR_LICENSE,
                            f"Apps and Books: {reason}", app.id)
        return jobs.Fail(reason)
    licence.status, licence.last_error = VppLicenseStatus.ASSOCIATED, None
    _log("vpp.licence", "associated", app=app.bundle_id, client_user_id=vpp_user.client_user_id)
    await _install_waiting(db, vpp_user.enrollment_user_id, app)
    return None


async def _token_of(db: Db, vpp_user: VppUserRow, ctx: Context) -> str | None:
    row = await db.get(VppTokenRow, vpp_user.token_id)
    return vpp_tokens.decrypt(ctx.settings.var_dir, row.token_encrypted) if row is not None else None


async def _install_waiting(db: Db, user_id: int, app: AppRow) -> None:
    """Queue InstallApplication (user licence, managed) on each device waiting for this app."""
    system = await operator_scope(db, actor=ACTOR)
    waiting = await store.waiting_for(db, user_id, DeviceAppStatus.WAITING_FOR_LICENSE)
    for _row, device, waiting_app in waiting:
        if waiting_app.id != app.id or device.enrollment_status != EnrollmentStatus.ENROLLED.value:
            continue
        command = await commands.queue(db, system, device.id, "InstallApplication", {
            "iTunesStoreID": int(app.adam_id or 0),
            "Options": {"PurchaseMethod": 1},  # an Apps and Books licence
            "ManagementFlags": 1,  # removed with the MDM profile
        }, queued_by=ACTOR)
        await apps.set_device_app_status(db, device.id, app.id, DeviceAppStatus.INSTALL_QUEUED,
                                         "InstallApplication sent; waiting for the device.",
                                         LicenseType.USER, command.uuid)
        _log("apps.install", "queued", device=device.uuid, app=app.bundle_id, command=command.uuid)


async def handle_release(db: Db, job: JobRow, ctx: Context) -> jobs.Outcome:
    """Give back the user's licences (assets/disassociate), unless a device enrolled again."""
    user_id = _id(job, "user_id")
    if await store.enrolled_device_count(db, user_id):
        return None
    for licence, vpp_user, app in await vpp_store.licences_to_release(db, user_id):
        token = await _token_of(db, vpp_user, ctx)
        if token is None or not app.adam_id:
            continue
        try:
            async with ctx.client_for(token) as client:
                await client.disassociate_assets([app.adam_id], [vpp_user.client_user_id])
        except VppError as exc:
            return retry_for(exc)
        licence.status = VppLicenseStatus.RELEASED
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

    def bind(handler: Callable[[Db, JobRow, Context], Awaitable[jobs.Outcome]]) -> jobs.Handler:
        async def run(db: Db, job: JobRow) -> jobs.Outcome:
            return await handler(db, job, ctx)
        return run

    return {USER_JOB: bind(handle_user), LICENSE_JOB: bind(handle_license), RELEASE_JOB: bind(handle_release)}

