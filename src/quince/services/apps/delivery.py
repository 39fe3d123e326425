"""Deciding which apps a device gets and starting their delivery (DESIGN.md rules 5-7): at
enrollment, for a new automatic assignment, on demand, and what a device's leaving gives back.

Each app is checked against the rules: public and in-house apps are recorded as not supported and
no command is sent; purchased apps get a user-based licence, whose Apps and Books jobs (user,
licence, InstallApplication, release) are in `licensing`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from quince.domain import og_settings as setting_rules
from quince.domain.app_eligibility import AppKind, Eligibility, Eligible, LicenseType, eligibility
from quince.domain.app_statuses import UNDER_WAY, DeviceAppStatus
from quince.domain.devices import EnrollmentStatus
from quince.domain.errors import Conflict, InvalidInput
from quince.logs import DEVICE_SERVICES, event
from quince.services.apps import catalog as apps
from quince.services.apps import licensing, vpp_tokens
from quince.services.devices import records as devices
from quince.services.directory import users
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.services.scope import Scope
from quince.store import apps as store
from quince.store import vpp as vpp_store
from quince.store.database import Db
from quince.store.models import AppAssignmentRow, AppRow, DeviceAppRow, DeviceRow, OrgGroupRow

log = logging.getLogger("quince.app_delivery")


def _log(name: str, outcome: str, level: int = logging.INFO, **fields: object) -> None:
    event(DEVICE_SERVICES, name, outcome, level=level, **fields)


# --- deciding what a device gets ------------------------------------------------------------------


async def _companion_app(db: Db, device: DeviceRow) -> AppRow | None:
    """The purchased app the device's OG names as its companion (Hub) app, if any."""
    tree, overrides = await load_tree(db), await load_overrides(db)
    bundle_id = str(setting_rules.resolve(tree, overrides, device.og_id, "companion_app_bundle_id").value)
    if not bundle_id:
        return None
    og = await db.get(OrgGroupRow, device.og_id)
    assert og is not None
    lineage = apps.og_ids_of_path(og.path)
    # The nearest catalog wins: the deepest OG on the device's path that holds the app.
    rows = await store.purchased_apps_in(db, lineage, bundle_id)
    rows.sort(key=lambda a: lineage.index(a.og_id), reverse=True)
    return rows[0] if rows else None


def _eligibility(device: DeviceRow, app: AppRow) -> Eligibility:
    """The rule (DESIGN.md rule 6) applied to this device and app."""
    return eligibility(AppKind(app.kind), device_is_user_enrolled=device.is_user_enrolled,
                       device_licensing_enabled=app.device_licensing_enabled)


def _takes_user_licence(verdict: Eligibility) -> bool:
    return isinstance(verdict, Eligible) and verdict.license_type is LicenseType.USER


async def deliver(db: Db, device: DeviceRow, app: AppRow) -> DeviceAppRow:
    """Start delivering one app to one device, as the rules allow; returns its status row."""
    verdict = _eligibility(device, app)
    if not isinstance(verdict, Eligible):
        _log("apps.deliver", "not_supported", device=device.uuid, app=app.bundle_id)
        return await apps.set_device_app_status(db, device.id, app.id, DeviceAppStatus.NOT_SUPPORTED,
                                                verdict.reason)
    if not _takes_user_licence(verdict):
        # Quince delivers only Apps and Books apps with user licences (the UE case); say so.
        return await apps.set_device_app_status(
            db, device.id, app.id, DeviceAppStatus.NOT_SUPPORTED,
            "Quince installs only Apps and Books apps with user-based licences.",
        )
    if device.enrollment_user_id is None:
        # A device enrolled without a user (e.g. a shared corporate device): no one to license.
        _log("apps.deliver", "no_user", device=device.uuid, app=app.bundle_id)
        return await apps.set_device_app_status(
            db, device.id, app.id, DeviceAppStatus.NOT_SUPPORTED,
            "A user-based licence needs an enrollment user, and this device has none.",
        )
    row = await apps.set_device_app_status(
        db, device.id, app.id, DeviceAppStatus.WAITING_FOR_VPP_USER,
        "Registering the user with Apple's Apps and Books service.", LicenseType.USER,
    )
    await licensing.register_user(db, device.enrollment_user_id, device.og_id)
    return row


async def associate_at_enrollment(db: Db, device: DeviceRow) -> bool:
    """Silent Apps and Books association (DESIGN.md rule 7): when a user-enrolled device enrolls
    and a token serves its OG (set there or above), the enrollment user's Apps and Books user is
    registered with their Managed Apple ID, whether or not an app is assigned to them. Idempotent:
    nothing is queued when the user already has an Apps and Books user under that token (another
    device, a retry), and a registration still waiting absorbs a second one. True when queued."""
    if not device.is_user_enrolled or device.enrollment_user_id is None:
        return False
    token = await vpp_tokens.token_row(db, device.og_id)
    if token is None:
        return False
    if await vpp_store.vpp_user(db, token.id, device.enrollment_user_id) is not None:
        return False
    await licensing.register_user(db, device.enrollment_user_id, device.og_id)
    _log("vpp.user", "association_queued", device=device.uuid)
    return True


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
    db: Db, scope: Scope, app: AppRow, assignment: AppAssignmentRow,
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
    reach = store.reached_by(assignment, paths.get(assignment.target_id), catalog.path)
    reached = await store.enrolled_devices_reached(db, scope.og_ids(), catalog.path, reach)
    busy = await store.devices_with_app_in(db, app.id, UNDER_WAY, [d.id for d in reached])
    started = refused = 0
    for device in reached:
        if device.id in busy:
            continue
        if _takes_user_licence(_eligibility(device, app)) and device.enrollment_user_id is None:
            continue  # a user-based licence needs a user (a shared device without one is left out)
        row = await deliver(db, device, app)
        if row.status == DeviceAppStatus.NOT_SUPPORTED:
            refused += 1
        else:
            started += 1
    return DeliveryStart(started, refused, len(busy))


async def on_enrolled(db: Db, device: DeviceRow) -> list[DeviceAppRow]:
    """A device completed enrollment: its user's Apps and Books user is associated silently, and
    its automatic apps and its OG's companion app go out."""
    await associate_at_enrollment(db, device)
    return [await deliver(db, device, app) for app in await _automatic_apps(db, device)]


async def _automatic_apps(db: Db, device: DeviceRow) -> list[AppRow]:
    """The apps a device gets without asking: its automatic assignments and its OG's companion app."""
    chosen: dict[int, AppRow] = {app.id: app for app, _ in await apps.apps_for_device(db, device)}
    companion = await _companion_app(db, device)
    if companion is not None:
        chosen.setdefault(companion.id, companion)
    return list(chosen.values())


async def on_moved(db: Db, device: DeviceRow) -> list[DeviceAppRow]:
    """An Enrolled device moved to another OG: the automatic apps reaching it there (and that
    OG's companion app) go out as at enrollment; apps it has or is getting are left alone, and
    apps no longer assigned to it stay installed (Quince removes no app on a move)."""
    if device.enrollment_status != EnrollmentStatus.ENROLLED.value:
        return []
    started = []
    for app in await _automatic_apps(db, device):
        if device.id not in await store.devices_with_app_in(db, app.id, UNDER_WAY, [device.id]):
            started.append(await deliver(db, device, app))
    return started


async def install_on_demand(
    db: Db, scope: Scope, app_id: int, *, device_id: int | None = None,
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
        targets = await store.enrolled_devices_of(db, user.id)
    for device in targets:
        if device.enrollment_status != EnrollmentStatus.ENROLLED.value:
            raise Conflict(f"Device {device.id} is {device.enrollment_status}; apps can be installed "
                           "on Enrolled devices only.")
    return [await deliver(db, device, app) for device in targets]


# --- unenrolment ----------------------------------------------------------------------------------


async def on_unenrolled(db: Db, device: DeviceRow) -> None:
    """A device left: its apps are gone; the user's licences go too when this was their last
    enrolled device and the OG says so (vpp_release_license_on_unenroll)."""
    for row in await store.device_apps_of(db, device.id):
        row.status, row.reason, row.command_uuid = DeviceAppStatus.REMOVED, "The device unenrolled.", None
    if device.enrollment_user_id is None:
        return
    others = await store.enrolled_device_count(db, device.enrollment_user_id, besides=device.id)
    tree, overrides = await load_tree(db), await load_overrides(db)
    release = setting_rules.resolve(tree, overrides, device.og_id, "vpp_release_license_on_unenroll").value
    if others or release is not True:
        return
    await licensing.release_licences(db, device.enrollment_user_id)

