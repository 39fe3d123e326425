"""The job runners' hourly housekeeping forgets sign-in attempts past the back-off window (a day at
least) and deletes expired console sessions, so neither table grows without end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.config import Settings
from quince.services.access import admin_sessions, admins
from quince.services.scope import Scope
from quince.store.models import AdminSessionRow, SignInAttemptRow, utcnow
from quince.web import workers


async def test_housekeeping_forgets_old_attempts_and_expired_sessions_and_keeps_the_rest(
    session: AsyncSession, scope: Scope
) -> None:
    now = utcnow()
    admin = await admins.add_admin(session, scope, username="ops", password="ops-password-1",
                                   og_id=scope.og_id, role="administrator")
    for age in (timedelta(days=2), timedelta(minutes=5)):
        session.add(SignInAttemptRow(username_key="admin:ops", address="10.0.0.1", succeeded=False,
                                     created_at=now - age))
    live = await admin_sessions.start(session, admin, timedelta(hours=8), now=now)
    await admin_sessions.start(session, admin, timedelta(hours=1), now=now - timedelta(hours=2))
    await session.commit()
    for chore in workers.housekeeping(Settings(sign_in_window_minutes=60)):
        assert await chore.run(session, now) == 1, chore.what
    await session.commit()
    ages = [now - a.created_at.replace(tzinfo=now.tzinfo)
            for a in await session.scalars(select(SignInAttemptRow))]
    assert len(ages) == 1 and ages[0] < timedelta(hours=1)
    assert len(list(await session.scalars(select(AdminSessionRow)))) == 1
    assert await admin_sessions.admin_of(session, live) is not None
