"""Console sessions kept on the server, so the server can end them.

The browser holds a random token; the database holds its SHA-256 and the expiry. Signing out, a
password, role or activation change, and removing the admin delete the rows: a copied cookie
stops working at once, not when it would have expired.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from quince.store import admins as admin_store
from quince.store.database import Db
from quince.store.models import AdminRow, AdminSessionRow, utcnow


def _hash(token: str) -> str:
    # Tokens are 256-bit random values: SHA-256 is enough to store them safely.
    return hashlib.sha256(token.encode()).hexdigest()


async def start(db: Db, admin: AdminRow, ttl: timedelta, now: datetime | None = None) -> str:
    """A new session for `admin`; returns its token (shown to the browser once)."""
    now = now or utcnow()
    await admin_store.drop_expired_sessions_of(db, admin.id, now)
    token = secrets.token_urlsafe(32)
    db.add(AdminSessionRow(token_hash=_hash(token), admin_id=admin.id, created_at=now,
                           expires_at=now + ttl))
    await db.flush()
    return token


async def admin_of(db: Db, token: str, now: datetime | None = None) -> AdminRow | None:
    """The active admin whose unexpired session `token` names, else None."""
    return await admin_store.active_admin_of_session(db, _hash(token), now or utcnow())


async def end_all(db: Db, admin_id: int) -> int:
    """End every session of this admin; returns how many there were."""
    return await admin_store.drop_sessions_of(db, admin_id)


async def end(db: Db, token: str) -> AdminRow | None:
    """Sign-out: end every session of the admin `token` belongs to (a copied cookie included).
    Returns that admin, or None when the token names no session."""
    admin = await admin_of(db, token)
    if admin is not None:
        await end_all(db, admin.id)
    return admin


async def prune(db: Db, now: datetime) -> int:
    """Delete every expired session; returns how many."""
    return await admin_store.drop_expired_sessions(db, now)
