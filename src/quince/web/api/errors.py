"""The one place where errors become REST responses: `{errorCode, message, activityId}`."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from quince.apple.errors import ForbiddenForUserEnrollment, InvalidCommand
from quince.domain.errors import (
    ConcurrentChange,
    Conflict,
    InvalidInContext,
    InvalidInput,
    InvalidPlacement,
    NotFound,
    OutOfScope,
    QuinceError,
    ReadOnly,
    SettingLocked,
)
from quince.domain.oauth import TokenRefused
from quince.domain.og_settings import UnknownSetting
from quince.services.access.admins import AuthenticationFailed
from quince.services.access.sign_in_throttle import Throttled
from quince.services.devices.records import DeviceNotFound
from quince.store.concurrency import lost_race
from quince.store.errors import DATABASE_ERRORS
from quince.web.api.openapi import path_parameter_kinds
from quince.web.api.schemas import ApiError

log = logging.getLogger("quince.api")


class UnsupportedVersion(QuinceError):
    """The request names an API version (`/API/v3/...`, `Accept: ...;version=3`) Quince lacks."""

    def __init__(self, version: int, supported: tuple[int, ...]) -> None:
        names = " and ".join(f"version={v}" for v in supported)
        super().__init__(f"API version {version} is not supported: Quince answers {names}.")

# (HTTP status, Workspace ONE-style error code). Codes are Quince's own except 1013 and 5061-style
# "not found", which mirror what Workspace ONE scripts already recognise.
_MAPPING: list[tuple[type[QuinceError], int, int]] = [
    (AuthenticationFailed, 401, 1013),
    (UnsupportedVersion, 406, 1015),
    (Throttled, 429, 1014),
    (ReadOnly, 403, 1003),
    (OutOfScope, 403, 1004),
    (DeviceNotFound, 404, 5061),
    (NotFound, 404, 1005),
    (ForbiddenForUserEnrollment, 422, 1030),
    (SettingLocked, 409, 1022),
    (Conflict, 409, 1020),
    (UnknownSetting, 400, 1021),
    # 422: the request follows the OpenAPI document, but a rule the document cannot state refuses
    # it (see InvalidInContext). The keys of an MDM command are Apple's, checked per RequestType.
    (InvalidPlacement, 422, 1011),
    (InvalidCommand, 422, 1031),
    (InvalidInContext, 422, 1012),
    (InvalidInput, 400, 1010),
]


# Documented on every route of the API, so generated clients know the error body.
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ApiError, "description": text}
    for status, text in (
        (400, "The request does not follow this document; the message says which field and rule."),
        (401, "Missing or wrong credentials or aw-tenant-code."),
        (403, "The caller's role or organization groups do not allow this."),
        (404, "Not found, or outside the caller's organization groups."),
        (409, "The change clashes with what is stored."),
        (406, "The path or the Accept header names an API version other than 1 or 2."),
        (413, "The request body is too large."),
        (429, "Too many failed sign-ins from this address or for this admin: wait Retry-After "
              "seconds."),
    )
}
RESPONSES[401]["headers"] = {
    "WWW-Authenticate": {"description": 'Always `Basic realm="Quince API"`.', "schema": {"type": "string"}},
}

# Documented on the routes that can answer it.
UNPROCESSABLE: dict[int | str, dict[str, Any]] = {
    422: {"model": ApiError, "description": (
        "The request follows this document, but a rule the document cannot state refuses it: a "
        "relation between its values or to what is stored. The message says which.")},
}


def activity_id(request: Request) -> str:
    """The id of this request, shared by the response and the log lines it causes."""
    if not hasattr(request.state, "activity_id"):
        request.state.activity_id = uuid.uuid4().hex
    return str(request.state.activity_id)


def error_response(request: Request, status: int, code: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="Quince API"'} if status == 401 else None
    return JSONResponse(
        {"errorCode": code, "message": message, "activityId": activity_id(request)},
        status_code=status,
        headers=headers,
    )


def classify(exc: QuinceError) -> tuple[int, int]:
    """The HTTP status and errorCode of an error (a bulk request reports them per item)."""
    for kind, status, code in _MAPPING:
        if isinstance(exc, kind):
            return status, code
    return 400, 1000


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "The request is not valid: " + "; ".join(parts) + "."


def _path_pattern(path: str, operations: dict[str, Any]) -> re.Pattern[str]:
    """The paths a templated path of the document matches: an integer parameter (an id) matches
    digits only and a UUID one a UUID, as their routes do, so /API/mam/apps/internal is not
    /API/mam/apps/{app_id} and /API/system/users/adduser is not /API/system/users/{user_uuid}."""
    kinds = path_parameter_kinds(operations)

    def segment(match: re.Match[str]) -> str:
        kind = kinds.get(match.group(1))
        if kind == ("integer", None):
            return "[0-9]+"
        if kind == ("string", "uuid"):
            return "[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}"
        return "[^/]+"

    return re.compile("^" + re.sub(r"\\\{([^/]+?)\\\}", segment, re.escape(path)) + "$")


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API's own document lists for a path matching this request's."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = [
            (_path_pattern(path, operations), {method.upper() for method in operations})
            for path, operations in request.app.openapi().get("paths", {}).items()
        ]
        request.app.state.allowed_methods = table
    found: set[str] = set()
    for pattern, methods in table:
        if pattern.match(request.url.path):
            found |= methods
    return sorted(found)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error type into the API's error body."""

    @app.exception_handler(QuinceError)
    async def _quince(request: Request, exc: QuinceError) -> JSONResponse:
        status, code = classify(exc)
        # An authentication failure answers one message for every cause; the log says which.
        detail = exc.reason if isinstance(exc, AuthenticationFailed) else exc.message
        log.info("api refused %s %s: %s %s", request.method, request.url.path, status, detail,
                 extra={"activity_id": activity_id(request)})
        response = error_response(request, status, code, exc.message)
        if isinstance(exc, Throttled):
            response.headers["Retry-After"] = str(exc.seconds)
        return response

    @app.exception_handler(TokenRefused)
    async def _token_refused(request: Request, exc: TokenRefused) -> JSONResponse:
        # The token endpoint answers in OAuth's shape (RFC 6749 §5.2), never Quince's.
        log.info("token refused %s %s: %s %s", request.method, request.url.path, exc.status, exc.reason,
                 extra={"activity_id": activity_id(request)})
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Quince API"'
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse({"error": exc.error.value, "error_description": exc.message},
                            status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(request, 400, 1001, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":  # no route has this path
            message = (f"No such endpoint: {request.method} {request.url.path}. The API's document "
                       "is at /API/help.")
        response = error_response(request, exc.status_code, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            # RFC 9110: a 405 lists what the resource allows. The framework names only the methods
            # of the first route whose path matched; the API's document knows them all.
            allowed = _allowed_methods(request)
            if allowed:
                response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", extra={"activity_id": activity_id(request)})
        return error_response(
            request, 500, 1999,
            "Quince could not complete the request; quote the activityId to your support team.",
        )

    async def _lost_race(request: Request, exc: Exception) -> JSONResponse:
        # A write that lost a race with another request (see store.concurrency.lost_race): the
        # transaction is rolled back, nothing changed, and retrying is safe. Never a 500.
        if not lost_race(exc):
            return await _unexpected(request, exc)
        log.warning("api conflict %s %s: %s: %s", request.method, request.url.path,
                    type(exc).__name__, getattr(exc, "orig", None) or exc,
                    extra={"activity_id": activity_id(request)})
        refusal = ConcurrentChange()
        status, code = classify(refusal)
        return error_response(request, status, code, refusal.message)

    for error in DATABASE_ERRORS:  # DBAPIError covers IntegrityError and PostgreSQL's class 40
        app.add_exception_handler(error, _lost_race)
