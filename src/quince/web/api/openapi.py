"""The OpenAPI document served at /API/help, adjusted to what the API really does."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

_SECURITY_SCHEMES = {
    "basicAuth": {"type": "http", "scheme": "basic", "description": "An admin's username and password."},
    "tenantCode": {
        "type": "apiKey", "in": "header", "name": "aw-tenant-code",
        "description": "A REST API key; it and the admin together decide which OGs you reach.",
    },
    "oauthClientCredentials": {
        "type": "oauth2",
        "description": "Instead of the two above: `Authorization: Bearer <access_token>`, the token "
        "from POST /connect/token (or /API/oauth/token) with an OAuth client's id and secret "
        "(`quince apiclient create`). The client's OG and role decide what it reaches; "
        "aw-tenant-code is not needed (and ignored).",
        "flows": {"clientCredentials": {"tokenUrl": "/connect/token", "scopes": {}}},
    },
}


def path_parameter_kinds(operations: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    """Each path parameter of a document path's operations, with its schema's (type, format): an
    id is ("integer", None), a Uuid ("string", "uuid"). Routing helpers match paths by them."""
    return {
        parameter["name"]: (schema.get("type"), schema.get("format"))
        for operation in operations.values()
        for parameter in operation.get("parameters", ())
        if parameter.get("in") == "path" and (schema := parameter.get("schema", {})) is not None
    }


def _not_null(parameter: dict[str, Any]) -> None:
    # An optional parameter is absent, never null: FastAPI writes `str | None` as anyOf [string,
    # null], which would tell clients they may send null (and test tools that "null" is valid).
    schema = parameter.get("schema", {})
    branches = [b for b in schema.get("anyOf", ()) if b != {"type": "null"}]
    if "anyOf" in schema and len(branches) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        parameter["schema"] = {**branches[0], **rest}


# An optional query parameter sent without a value counts as not sent (web/api/request_spelling.py:
# Workspace ONE's binder does so, and PowerShell scripts send every parameter, empty or not).
_EMPTY = {"type": "string", "maxLength": 0, "description": "Empty: the same as not sent."}


def _empty_is_absent(parameter: dict[str, Any]) -> None:
    if parameter.get("in") == "query" and not parameter.get("required"):
        parameter["schema"] = {"anyOf": [parameter.get("schema", {}), dict(_EMPTY)]}


def _adjust(schema: dict[str, Any]) -> None:
    # Validation errors are 400s here (web/api/errors.py), never FastAPI's default 422; a 422 a
    # route declares itself (an ApiError) stays.
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                responses.pop("422")
            for parameter in operation.get("parameters", ()):
                _not_null(parameter)
                _empty_is_absent(parameter)
    components = schema.setdefault("components", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.get("schemas", {}).pop(name, None)
    # Credentials are parsed by hand (web/api/deps.py), so declare them here: an admin and an API
    # key together, or an OAuth client's token (the token endpoint itself declares none).
    components["securitySchemes"] = _SECURITY_SCHEMES
    schema["security"] = [{"basicAuth": [], "tenantCode": []}, {"oauthClientCredentials": []}]


def document(app: FastAPI) -> None:
    """Make `app.openapi()` return the adjusted document (FastAPI caches the result)."""
    generate = app.openapi
    adjusted: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not adjusted:  # adjusted once: FastAPI hands back the same cached document each time
            schema = generate()
            _adjust(schema)
            adjusted.append(schema)
        return adjusted[0]

    app.openapi = openapi  # type: ignore[method-assign]
