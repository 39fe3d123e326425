"""The demo tenant `make run` seeds on a fresh install: small, fixed, and showing every rule of
where a device enrolls (mapping win, rank win, a tie, User Enrollment disabled, inactive user),
with a few enrollments so the console has devices to show (`demo_devices`), and two purchased
apps so the Apps pages are not empty."""

from __future__ import annotations

from dataclasses import dataclass

from quince.domain.app_eligibility import AppKind
from quince.domain.errors import Conflict
from quince.domain.org_groups import group_id_key
from quince.services.access import admins
from quince.services.apps import catalog as apps
from quince.services.apps.catalog import NewApp
from quince.services.demo import devices as demo_devices
from quince.services.directory import og_settings, org_groups, user_groups, users
from quince.services.scope import Scope
from quince.store import org_groups as og_store
from quince.store.database import Db
from quince.store.models import utcnow

CUSTOMER_GROUP_ID = "acme"
# Published in the README on purpose: this is a demo tenant, never a real one.
USER_PASSWORD = "Demo-pass-1"  # noqa: S105
ADMIN_USERNAME = "demo-admin"
ADMIN_PASSWORD = "Demo-admin-1"  # noqa: S105
DOMAIN = "acme.example"


@dataclass(frozen=True)
class DemoOG:
    group_id: str
    name: str
    parent: str
    type: str = "Container"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    group_id: str
    groups: tuple[str, ...] = ()
    active: bool = True
    managed_apple_id: str | None = None
    shows: str = ""

    @property
    def email(self) -> str:
        return f"{self.username}@{DOMAIN}"


@dataclass(frozen=True)
class DemoUserGroup:
    name: str
    description: str
    mappings: tuple[tuple[str, int], ...]


OGS = (
    DemoOG(CUSTOMER_GROUP_ID, "Acme Corp", "Global", "Customer"),
    DemoOG("acme-sales", "Sales", CUSTOMER_GROUP_ID),
    DemoOG("acme-eng", "Engineering", CUSTOMER_GROUP_ID),
    DemoOG("acme-eng-mobile", "Mobile", "acme-eng"),
    DemoOG("acme-contractors", "Contractors", CUSTOMER_GROUP_ID),
)

# (Group ID, setting, value): everything else is inherited from Global's defaults.
SETTINGS = (
    (CUSTOMER_GROUP_ID, "user_enrollment_enabled", True),
    ("acme-contractors", "user_enrollment_enabled", False),
    ("acme-eng", "group_id_assignment_mode", "select_from_list"),
)

USER_GROUPS = (
    DemoUserGroup("Engineering", "Everyone in engineering.", (("acme-eng", 2),)),
    DemoUserGroup("Mobile team", "Engineers building the mobile apps.", (("acme-eng-mobile", 1),)),
    DemoUserGroup("Contractors", "External contractors.", (("acme-contractors", 1),)),
    DemoUserGroup("Sales", "The sales force.", (("acme-sales", 1),)),
)

USERS = (
    DemoUser("alice", "Alice", "Andersen", "acme-sales",
             shows="no mapping, no Group ID: her enrollment OG, Sales"),
    DemoUser("bob", "Bob", "Berg", "acme-eng", ("Engineering",),
             shows="a user-group mapping wins: Engineering, even with --group-id acme-sales"),
    DemoUser("carol", "Carol", "Chen", "acme-eng", ("Engineering", "Mobile team"),
             shows="two mappings, the better rank wins: Mobile (rank 1) over Engineering (rank 2)"),
    DemoUser("dave", "Dave", "Diaz", "acme-contractors", ("Contractors",),
             shows="refused: User Enrollment is overridden to disabled at Contractors"),
    DemoUser("erin", "Erin", "Evans", "acme-sales", active=False,
             shows="refused: the account is inactive"),
    DemoUser("grace", "Grace", "Green", "acme-eng", ("Mobile team", "Sales"),
             shows="a tie at rank 1, broken by user-group name: Mobile team before Sales"),
    DemoUser("henry", "Henry", "Hall", CUSTOMER_GROUP_ID,
             managed_apple_id=f"h.hall@appleid.{DOMAIN}",
             shows="managed Apple ID differs from email; a Group ID picks an OG below Acme Corp"),
)



@dataclass(frozen=True)
class DemoApp:
    """A purchased (Apps and Books) app in Acme Corp's catalog, with the licence counts a sync
    would have brought (the demo has no token: nothing is asked of Apple)."""

    name: str
    bundle_id: str
    adam_id: str
    total: int
    assigned: int


APPS = (
    DemoApp("Microsoft Outlook", "com.microsoft.Office.Outlook", "951937596", total=50, assigned=12),
    DemoApp("Slack", "com.tinyspeck.chatlyio", "618783545", total=25, assigned=4),
)


@dataclass(frozen=True)
class DemoSummary:
    """What `quince demo` tells the operator after seeding."""

    customer_group_id: str
    users: tuple[DemoUser, ...]
    user_password: str
    admin_username: str
    admin_password: str
    api_key: str


async def is_fresh(session: Db) -> bool:
    """True when the install holds no organization group but the Global root."""
    return len(await og_store.all_ogs(session)) <= 1


async def is_seeded(session: Db) -> bool:
    return await og_store.by_group_id_key(session, group_id_key(CUSTOMER_GROUP_ID)) is not None


async def seed(session: Db, scope: Scope) -> DemoSummary:
    """Create the demo tenant below the scope's top OG (the caller commits)."""
    scope.require_write()
    if await is_seeded(session):
        raise Conflict(
            f"The demo tenant is already there (Group ID {CUSTOMER_GROUP_ID!r}); "
            f"delete it first or use another install."
        )
    og_ids: dict[str, int] = {"Global": scope.og_id}
    for og in OGS:
        row = await org_groups.create(
            session, scope, og_ids[og.parent], name=og.name, group_id=og.group_id, og_type=og.type
        )
        og_ids[og.group_id] = row.id
    for group_id, key, value in SETTINGS:
        await og_settings.override(session, scope, og_ids[group_id], key, value)
    user_ids: dict[str, int] = {}
    for u in USERS:
        user = await users.add(
            session, scope, username=u.username, email=u.email, og_id=og_ids[u.group_id],
            password=USER_PASSWORD, managed_apple_id=u.managed_apple_id,
            first_name=u.first_name, last_name=u.last_name, active=u.active,
        )
        user_ids[u.username] = user.id
    for g in USER_GROUPS:
        group = await user_groups.create(
            session, scope, name=g.name, og_id=og_ids[CUSTOMER_GROUP_ID], description=g.description
        )
        for target, rank in g.mappings:
            await user_groups.add_mapping(session, scope, group.id, og_ids[target], rank)
        for u in USERS:
            if g.name in u.groups:
                await user_groups.add_member(session, scope, group.id, user_ids[u.username])
    for app in APPS:
        await apps.create(session, scope, NewApp(
            AppKind.PURCHASED, og_ids[CUSTOMER_GROUP_ID], app.name, app.bundle_id, adam_id=app.adam_id,
            total_licenses=app.total, assigned_licenses=app.assigned))
    people = {u.username: await users.get(session, scope, user_ids[u.username]) for u in USERS}
    await demo_devices.seed(session, people, utcnow())
    await admins.add_admin(
        session, scope, username=ADMIN_USERNAME, password=ADMIN_PASSWORD,
        og_id=og_ids[CUSTOMER_GROUP_ID], role=admins.Role.ADMINISTRATOR.value,
    )
    _row, key = await admins.create_api_key(
        session, scope, og_id=og_ids[CUSTOMER_GROUP_ID], name="demo"
    )
    return DemoSummary(
        customer_group_id=CUSTOMER_GROUP_ID, users=USERS, user_password=USER_PASSWORD,
        admin_username=ADMIN_USERNAME, admin_password=ADMIN_PASSWORD, api_key=key,
    )
