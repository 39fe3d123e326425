"""Request dependencies of the REST API: a database session and the caller's scope."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from quince.domain.errors import InvalidInput
from quince.services.admins import AuthenticationFailed, VerifiedPasswords, api_scope
from quince.services.paging import MAX_PAGE_SIZE, PageRequest
from quince.services.scope import Scope
from quince.web.api.fields import AnyCase
from quince.web.api.schemas import MAX_ID


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session per request; routes that change data commit it themselves."""
    async with request.app.state.sessionmaker() as db:
        yield db


Db = Annotated[AsyncSession, Depends(session)]


def _basic_credentials(header: str | None) -> tuple[str, str]:
    if not header or not header.lower().startswith("basic "):
        raise AuthenticationFailed("This API needs HTTP Basic credentials and an aw-tenant-code header.")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("The Authorization header is not valid HTTP Basic.") from None
    username, sep, password = decoded.partition(":")
    if not sep or "\x00" in decoded:
        raise AuthenticationFailed("The Authorization header is not valid HTTP Basic.")
    return username, password


async def caller_scope(
    request: Request,
    db: Db,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    # Documented once as security schemes in the OpenAPI document (web/api/openapi.py).
    aw_tenant_code: Annotated[str | None, Header(alias="aw-tenant-code", include_in_schema=False)] = None,
) -> Scope:
    username, password = _basic_credentials(authorization)
    if not aw_tenant_code:
        raise AuthenticationFailed("The aw-tenant-code header with an API key is required.")
    verified: VerifiedPasswords = request.app.state.verified_passwords
    scope = await api_scope(db, username, password, aw_tenant_code, verified)
    request.state.actor = scope.actor
    return scope


Caller = Annotated[Scope, Depends(caller_scope)]


# Keeps page * pagesize inside a 64-bit OFFSET on every database.
MAX_PAGE = 10_000_000

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def reject_nul_in_query(request: Request) -> None:
    """Databases cannot store or compare NUL characters; refuse them in every query parameter."""
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise InvalidInput(name, f"Query parameter {name!r} must not contain NUL characters.")


def page_request(
    page: Annotated[int, Query(ge=0, le=MAX_PAGE, description="0-based page number")] = 0,
    pagesize: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = MAX_PAGE_SIZE,
) -> PageRequest:
    return PageRequest(page, pagesize)


Paging = Annotated[PageRequest, Depends(page_request)]


SortOrder = Annotated[
    Annotated[str, AnyCase(("ASC", "DESC"), "sortorder")] | None, Query(description="ASC (default) or DESC.")
]


def sort_descending(sortorder: str | None) -> bool:
    return sortorder == "DESC"
