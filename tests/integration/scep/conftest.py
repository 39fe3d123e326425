"""Enrollment sessions to issue SCEP challenges for, and short-lived database sessions that never
hold a transaction open while the live server writes (SQLite would be locked)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from quince.config import Settings
from quince.pki import authority
from quince.pki.authority import Pki
from quince.services.enrollment import scep
from quince.store.database import make_sessionmaker
from quince.store.models import (
    DeviceCertificateRow,
    DeviceRow,
    EnrollmentSecretRow,
    EnrollmentSessionRow,
    EnrollmentUserRow,
    OrgGroupRow,
)


@dataclass(frozen=True)
class Enrollment:
    """A signed-in enrollment (user, placeholder device, session) as the sign-in pages leave it."""

    session_id: int
    session_uuid: str
    device_uuid: str


NewEnrollment = Callable[[], Awaitable[Enrollment]]
NewChallenge = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
def server_pki(live_settings: Settings) -> Pki:
    """The live server's CA: the files under its var/pki (created by whoever comes first)."""
    return authority.ensure(live_settings.pki_dir)


@pytest.fixture
def new_enrollment(engine: AsyncEngine) -> NewEnrollment:
    async def make() -> Enrollment:
        async with make_sessionmaker(engine)() as db:
            root = await db.scalar(select(OrgGroupRow).where(OrgGroupRow.parent_id.is_(None)))
            assert root is not None
            name = f"scep-{uuid.uuid4().hex[:8]}"
            user = EnrollmentUserRow(
                username=name, username_key=name, email=f"{name}@example.test",
                managed_apple_id=f"{name}@appleid.example.test", og_id=root.id,
            )
            db.add(user)
            await db.flush()
            device = DeviceRow(
                og_id=root.id, enrollment_user_id=user.id, enrollment_status="EnrollmentInProgress",
                ownership="E", is_user_enrolled=True, license_type_eligibility=2,
            )
            db.add(device)
            await db.flush()
            session = EnrollmentSessionRow(
                user_id=user.id, flow="account", og_id=root.id, device_id=device.id,
                decision_basis="default_og", decision_trace=["test"], managed_apple_id=user.managed_apple_id,
                status="SignedIn", expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
            db.add(session)
            await db.commit()
            return Enrollment(session.id, session.uuid, device.uuid)

    return make


@pytest.fixture
def new_challenge(engine: AsyncEngine) -> NewChallenge:
    async def issue(enrollment: Enrollment, *, ttl: timedelta = timedelta(minutes=30),
                    now: datetime | None = None) -> str:
        async with make_sessionmaker(engine)() as db:
            challenge = await scep.issue_challenge(db, enrollment.session_id, ttl=ttl, now=now)
            await db.commit()
            return challenge

    return issue


@dataclass
class Stored:
    """What the database holds about SCEP, read in a transaction of its own."""

    engine: AsyncEngine

    async def certificates(self, session_id: int | None = None) -> list[DeviceCertificateRow]:
        async with make_sessionmaker(self.engine)() as db:
            stmt = select(DeviceCertificateRow).order_by(DeviceCertificateRow.id)
            if session_id is not None:
                stmt = stmt.where(DeviceCertificateRow.session_id == session_id)
            return list(await db.scalars(stmt))

    async def certificate_count(self) -> int:
        async with make_sessionmaker(self.engine)() as db:
            return int(await db.scalar(select(func.count()).select_from(DeviceCertificateRow)) or 0)

    async def session(self, session_id: int) -> EnrollmentSessionRow:
        async with make_sessionmaker(self.engine)() as db:
            row = await db.get(EnrollmentSessionRow, session_id)
            assert row is not None
            return row

    async def challenges(self, session_id: int) -> list[EnrollmentSecretRow]:
        async with make_sessionmaker(self.engine)() as db:
            return list(await db.scalars(
                select(EnrollmentSecretRow).where(
                    EnrollmentSecretRow.session_id == session_id,
                    EnrollmentSecretRow.kind == "scep_challenge",
                )
            ))


@pytest.fixture
def stored(engine: AsyncEngine) -> Stored:
    return Stored(engine)
