"""What the database raises, named for the layers above store/ (which import no sqlalchemy)."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

# A write that lost a race raises one of these (store.concurrency.lost_race tells a lost race
# from a bug); DBAPIError also covers a database that cannot be reached or used.
DATABASE_ERRORS: tuple[type[Exception], ...] = (StaleDataError, DBAPIError)

# Anything the database layer raises (a batch that must be rolled back and reported).
DatabaseError = SQLAlchemyError

__all__ = ["DATABASE_ERRORS", "DBAPIError", "DatabaseError", "IntegrityError", "StaleDataError", "masked_url"]


def masked_url(url: str) -> str:
    """A database URL with any password masked, for printing."""
    return make_url(url).render_as_string(hide_password=True)
