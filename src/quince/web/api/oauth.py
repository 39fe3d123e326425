"""The OAuth 2.0 token endpoint (RFC 6749 §4.4, client credentials): `POST /connect/token`, where
Workspace ONE's token service answers (so a script changes only the host), and `POST /API/oauth/token`.
The token goes in `Authorization: Bearer` on every other call (web/api/deps.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from quince.domain.oauth import GRANT_TYPE, OAuthError, TokenRefused, client_credentials_request
from quince.services.access import oauth_clients
from quince.services.access.sign_in_throttle import Throttled
from quince.web.api import errors
from quince.web.deps import Db
from quince.web.proxies import client_address

PATHS = ("/connect/token", "/API/oauth/token")
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 16
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class AccessToken(BaseModel):
    access_token: str = Field(description="Send it as `Authorization: Bearer <access_token>`.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int = Field(description="Seconds the token stays good (QUINCE_OAUTH_TOKEN_SECONDS).")


class TokenError(BaseModel):
    error: OAuthError
    error_description: str


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"model": TokenError, "description": description,
            **({"headers": headers} if headers else {})}


_HEADER = {"schema": {"type": "string"}}
_REQUEST_BODY = {
    "required": True,
    "content": {FORM: {"schema": {
        "type": "object",
        "required": ["grant_type"],
        "properties": {
            "grant_type": {"type": "string", "enum": [GRANT_TYPE]},
            "client_id": {"type": "string", "minLength": 1, "maxLength": 64,
                          "description": "Or send the client's id and secret as HTTP Basic."},
            "client_secret": {"type": "string", "minLength": 1, "maxLength": 256},
        },
    }}},
}

router = APIRouter(tags=["OAuth"])


async def token(request: Request, db: Db) -> JSONResponse:
    """Issue an access token to an OAuth client (client credentials; see docs/api.md)."""
    form = await _form(request)
    credentials = client_credentials_request(form, request.headers.get("authorization"))
    settings = request.app.state.settings
    try:
        issued = await oauth_clients.issue_token(
            db, credentials, address=client_address(request), throttle=request.app.state.throttle,
            lifetime=timedelta(seconds=settings.oauth_token_seconds))
    except Throttled as exc:
        raise TokenRefused(OAuthError.INVALID_CLIENT, exc.message, retry_after=exc.seconds) from None
    finally:
        # The attempt is recorded (a failure counts towards the back-off) whatever happens next.
        await db.commit()
    body = AccessToken(access_token=issued.access_token, expires_in=issued.expires_in)
    return JSONResponse(body.model_dump(), headers=NO_STORE)


async def _form(request: Request) -> dict[str, list[str]]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise TokenRefused(OAuthError.INVALID_REQUEST, f"Send the request as {FORM}.")
    try:
        return parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True,
                        max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise TokenRefused(OAuthError.INVALID_REQUEST, "The form is not valid.") from None


for _path in PATHS:
    router.add_api_route(
        _path, token, methods=["POST"], response_model=AccessToken, summary="Get an access token",
        operation_id=f"token_{_path.strip('/').replace('/', '_')}",
        openapi_extra={"requestBody": _REQUEST_BODY, "security": []},
        responses={
            200: {"headers": {"Cache-Control": {**_HEADER, "description": "`no-store`"}}},
            400: _error("The request is not a client-credentials token request (RFC 6749 §5.2)."),
            401: _error("The client's id and secret are not valid, or the client is revoked.", {
                "WWW-Authenticate": {**_HEADER, "description": 'Always `Basic realm="Quince API"`.'}}),
            413: errors.RESPONSES[413],
            429: _error("Too many failed attempts for this client or from this address: wait "
                        "Retry-After seconds.", {"Retry-After": {**_HEADER}}),
        },
    )
