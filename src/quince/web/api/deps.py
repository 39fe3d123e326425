"""Request dependencies of the REST API: the caller's scope, ids and paging (the database session
is shared by every face: `quince.web.deps`)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from quince.domain.errors import InvalidInContext, InvalidInput
from quince.services.access.admins import AuthenticationFailed, VerifiedPasswords, api_scope
from quince.services.access.oauth_clients import bearer_scope
from quince.services.directory import org_groups
from quince.services.scope import Scope
from quince.store.paging import MAX_PAGE_SIZE, PageRequest
from quince.web.api.errors import UnsupportedVersion
from quince.web.api.fields import AnyCase, Uuid
from quince.web.api.request_spelling import VERSIONS
from quince.web.api.schemas import MAX_ID
from quince.web.deps import Db
from quince.web.proxies import client_address

# Longer credentials are refused before any lookup or hash (the console's limits).
USERNAME_MAX = 128
PASSWORD_MAX = 256


def _basic_credentials(header: str | None) -> tuple[str, str]:
    if not header or not header.lower().startswith("basic "):
        raise AuthenticationFailed("no HTTP Basic Authorization header")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("the Authorization header is not valid HTTP Basic") from None
    username, sep, password = decoded.partition(":")
    if not sep or "\x00" in decoded or len(username) > USERNAME_MAX or len(password) > PASSWORD_MAX:
        raise AuthenticationFailed("the Authorization header is not valid HTTP Basic")
    return username, password


async def caller_scope(
    request: Request,
    db: Db,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    # Documented once as security schemes in the OpenAPI document (web/api/openapi.py).
    aw_tenant_code: Annotated[str | None, Header(alias="aw-tenant-code", include_in_schema=False)] = None,
) -> Scope:
    if authorization and authorization[:7].lower() == "bearer ":
        # An OAuth token carries its client's OG and role; an aw-tenant-code beside it, which
        # Workspace ONE scripts send on some calls only, is ignored (docs/api.md).
        scope = await bearer_scope(db, authorization[7:].strip())
        request.state.actor = scope.actor
        return scope
    username, password = _basic_credentials(authorization)
    verified: VerifiedPasswords = request.app.state.verified_passwords
    try:
        scope = await api_scope(db, username, password, aw_tenant_code or "", verified,
                                address=client_address(request), throttle=request.app.state.throttle)
    finally:
        # The attempt is recorded (a failure counts towards the back-off; a success forgives),
        # whatever the route does with the session afterwards.
        await db.commit()
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


async def og_filter(
    db: Db,
    caller: Caller,
    locationgroupid: IdQuery = None,
    lgid: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Workspace ONE's short name for "
                                      "locationgroupid.")] = None,
    organizationgroupid: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Workspace ONE's "
                                                     "newer name for locationgroupid.")] = None,
    organizationgroupuuid: Annotated[Uuid | None, Query(description="The group by its Uuid.")] = None,
) -> int | None:
    """The organization group a search is narrowed to (with the groups below it), under any of
    Workspace ONE's names for it; several names must name the same group."""
    given = (("locationgroupid", locationgroupid), ("lgid", lgid),
             ("organizationgroupid", organizationgroupid))
    named = {name: value for name, value in given if value is not None}
    if organizationgroupuuid is not None:
        og = await org_groups.get_by_uuid(db, caller, organizationgroupuuid)
        named["organizationgroupuuid"] = og.id
    if len(set(named.values())) > 1:
        raise InvalidInContext(next(iter(named)),
                               f"{' and '.join(named)} name different organization groups.")
    return next(iter(named.values()), None)


OgFilter = Annotated[int | None, Depends(og_filter)]


def known_query_names(request: Request) -> None:
    """An /API request whose query names a parameter its route does not read is refused: a filter
    Quince silently dropped would widen the answer (a search a script meant for one group would
    reach the whole tenant)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.path.startswith("/API/"):
        return
    known = _QUERY_NAMES.get(id(route))
    if known is None:
        known = _QUERY_NAMES[id(route)] = _query_names(route.dependant)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        offered = ", ".join(sorted(known)) or "none"
        raise InvalidInput(unknown[0], f"Unknown query parameter {', '.join(unknown)}: this endpoint "
                                       f"reads {offered}.")


# The query names each route reads (routes live as long as the app).
_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> frozenset[str]:
    found = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        found |= _query_names(sub)
    return frozenset(found)


def supported_api_version(request: Request) -> int | None:
    """The API version the request named (web/api/request_spelling.py), refused when unknown."""
    version: int | None = getattr(request.state, "api_version", None)
    if version is not None and version not in VERSIONS:
        raise UnsupportedVersion(version, VERSIONS)
    return version


def page_request(
    page: Annotated[int, Query(ge=0, le=MAX_PAGE, description="0-based page number")] = 0,
    pagesize: Annotated[int, Query(ge=1, le=MAX_ID, description=(
        f"Items per page, at most {MAX_PAGE_SIZE}: a larger number is taken as {MAX_PAGE_SIZE} "
        "(the answer's PageSize says so), as Workspace ONE does."))] = MAX_PAGE_SIZE,
) -> PageRequest:
    return PageRequest(page, min(pagesize, MAX_PAGE_SIZE))


Paging = Annotated[PageRequest, Depends(page_request)]


SortOrder = Annotated[
    Annotated[str, AnyCase(("ASC", "DESC"), "sortorder")] | None, Query(description="ASC (default) or DESC.")
]


def sort_descending(sortorder: str | None) -> bool:
    return sortorder == "DESC"
