"""Writers at the same moment, on both databases: one-writer sections, dialect upserts, and telling
a lost race from a bug. The one place where concurrency needs `if dialect == ...`.

PostgreSQL runs READ COMMITTED: each statement sees what was committed when it started, so a
check followed by a write can act on data another transaction changes in between. SQLite has one
writer at a time, but the sqlite3 module starts a transaction only at the first write: the reads
before it see the database as it was then, and may be stale when the write waits its turn.
"""

from __future__ import annotations

import zlib
from enum import StrEnum

from sqlalchemy import false, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from quince.store.models import Base, OrgGroupRow


class Section(StrEnum):
    """Changes that must not run at the same moment as one another, whatever rows they touch."""

    ORG_TREE = "org_tree"
    """The OG tree and the settings inherited down it: a move, a new OG's copies of its parent's
    OverrideOnly settings, a setting's child permission and the copies it gives children all read
    more of the tree than they write."""


def is_postgresql(db: AsyncSession) -> bool:
    """Whether this session talks to PostgreSQL (else SQLite): for store modules' dialect branches."""
    return db.get_bind().dialect.name == "postgresql"


async def exclusive(db: AsyncSession, section: Section) -> None:
    """Enter `section` until this transaction ends: another transaction entering it waits, and
    everything read after this sees what the previous holder committed. Call it before reading."""
    if is_postgresql(db):
        # A transaction-scoped advisory lock; taking it again in the same transaction never waits.
        key = zlib.crc32(f"quince:{section.value}".encode())
        await db.execute(select(func.pg_advisory_xact_lock(key)))
        return
    # SQLite has a single write lock: a write that matches no row starts the write transaction
    # now and takes it (waiting for the current writer), before this transaction reads anything.
    table = Base.metadata.tables[OrgGroupRow.__tablename__]
    await db.execute(update(table).where(false()).values(id=table.c.id))


def insert(db: AsyncSession, model: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """INSERT for this database, with ON CONFLICT DO NOTHING / DO UPDATE (both dialects speak it)."""
    return postgresql.insert(model) if is_postgresql(db) else sqlite.insert(model)


# SQLSTATE class 40, "transaction rollback": serialization failure (40001), deadlock (40P01).
_ROLLED_BACK_CLASS = "40"


def lost_race(exc: BaseException) -> bool:
    """True when `exc` means another transaction changed the same data at the same moment: a
    row updated after another request deleted it (StaleDataError), a unique or foreign key that
    fired although the service checked it first (IntegrityError), or a transaction PostgreSQL
    rolled back as a serialization failure or deadlock. Anything else is a bug."""
    if isinstance(exc, StaleDataError | IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(state, str) and state.startswith(_ROLLED_BACK_CLASS)
    return False
