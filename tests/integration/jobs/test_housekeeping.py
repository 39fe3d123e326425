"""The job runners' hourly housekeeping forgets sign-in attempts past the back-off window (a day at
least) and deletes expired console sessions and OAuth tokens, so no such table grows without end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quince.config import Settings
from quince.domain.oauth import ClientCredentials
from quince.services.access import admin_sessions, admins, oauth_clients, sign_in_throttle
from quince.services.scope import Scope
from quince.store.models import AdminSessionRow, OAuthTokenRow, SignInAttemptRow, utcnow
from quince.web import workers


async def test_housekeeping_forgets_old_attempts_expired_sessions_and_tokens_and_keeps_the_rest(
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
    client, secret = await oauth_clients.create_client(session, scope, og_id=scope.og_id, name="script")
    settings = Settings(sign_in_window_minutes=60)
    for issued_at in (now, now - timedelta(hours=2)):
        await oauth_clients.issue_token(
            session, ClientCredentials(client.client_id, secret), address="10.0.0.2",
            throttle=sign_in_throttle.from_settings(settings), lifetime=timedelta(hours=1), now=issued_at)
    await session.commit()
    for chore in workers.housekeeping(settings):
        assert await chore.run(session, now) == 1, chore.what
    await session.commit()
    ages = [now - a.created_at.replace(tzinfo=now.tzinfo)
            for a in await session.scalars(select(SignInAttemptRow))]
    assert len(ages) == 1 and ages[0] < timedelta(hours=1)
    assert len(list(await session.scalars(select(AdminSessionRow)))) == 1
    assert await admin_sessions.admin_of(session, live) is not None
    assert len(list(await session.scalars(select(OAuthTokenRow)))) == 1
