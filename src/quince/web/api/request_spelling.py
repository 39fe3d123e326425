"""How Workspace ONE clients spell a REST request, mapped onto Quince's routes before routing.

Workspace ONE's paths under `/API/` and its query-parameter names are case-insensitive (`/api/mdm/
devices/search?PageSize=5` is the same call as `/API/mdm/devices/search?pagesize=5`), and a path may
name the API version: `/API/v1/...`, `/API/v2/...`. Quince's routes are written once, in one
spelling; this middleware rewrites an `/API` request's literal path segments to that spelling,
lower-cases its query names (leaving out those sent without a value), and takes the version off
the path into `request.state.api_version` (an `Accept: application/json;version=N` header says the
same thing; the path wins). Path values (ids, Udids, bundle IDs) keep their case. A path no route
has is left alone: it gets the API's 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from quince.web.api.help import HELP_PATH
from quince.web.api.openapi import path_parameter_kinds

PREFIX = "/api/"
VERSIONS = (1, 2)
_VERSION_SEGMENT = re.compile(r"v([0-9]+)", re.IGNORECASE)
_ACCEPT_VERSION = re.compile(r";\s*version\s*=\s*([0-9]+)", re.IGNORECASE)


@dataclass(frozen=True)
class _Template:
    """A route's path, segment by segment: a literal (lower-cased, with its spelling) or a value."""

    segments: tuple[tuple[str, str] | None, ...]  # (lower, spelled) for a literal; None for a value
    integers: frozenset[int]  # the value segments that must be digits ({x:int})

    @classmethod
    def of(cls, path: str, integer_names: set[str]) -> _Template:
        segments: list[tuple[str, str] | None] = []
        integers: set[int] = set()
        for i, part in enumerate(path.strip("/").split("/")):
            if part.startswith("{"):
                segments.append(None)
                if part.strip("{}") in integer_names:
                    integers.add(i)
            else:
                segments.append((part.lower(), part))
        return cls(tuple(segments), frozenset(integers))

    @property
    def literals(self) -> int:
        return sum(s is not None for s in self.segments)

    def spell(self, parts: list[str]) -> str | None:
        """The path in the route's spelling, when `parts` (split on "/") match it; else None."""
        if len(parts) != len(self.segments):
            return None
        spelled = []
        for i, (part, segment) in enumerate(zip(parts, self.segments, strict=True)):
            if segment is None:
                if not part or (i in self.integers and not part.isdigit()):
                    return None
                spelled.append(part)
            elif part.lower() == segment[0]:
                spelled.append(segment[1])
            else:
                return None
        return "/" + "/".join(spelled)


class _Spelling:
    """Every `/API` path of the API's document (and the document's own), most literal segments
    first (`devices/search` before `devices/{id}`)."""

    def __init__(self, app: FastAPI) -> None:
        templates = [_Template.of(app.openapi_url or "", set()), _Template.of(HELP_PATH, set())]
        for path, operations in app.openapi().get("paths", {}).items():
            if path.lower().startswith(PREFIX):
                integers = {name for name, kind in path_parameter_kinds(operations).items()
                            if kind == ("integer", None)}
                templates.append(_Template.of(path, integers))
        self.templates = sorted(templates, key=lambda t: -t.literals)

    def spell(self, path: str) -> str | None:
        parts = path.strip("/").split("/")
        for template in self.templates:
            spelled = template.spell(parts)
            if spelled is not None:
                return spelled
        return None


def version_of(path_parts: list[str], accept: str) -> tuple[list[str], int | None]:
    """The path without a version segment after `API`, and the version it or `accept` named."""
    if len(path_parts) > 1 and (m := _VERSION_SEGMENT.fullmatch(path_parts[1])):
        return [path_parts[0], *path_parts[2:]], int(m.group(1))
    if m := _ACCEPT_VERSION.search(accept):
        return path_parts, int(m.group(1))
    return path_parts, None


class RequestSpelling:
    """ASGI middleware: an `/API` request in any spelling reaches the route written for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._spelling: _Spelling | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].lstrip("/").lower().startswith(PREFIX[1:]):
            self._respell(scope)  # "//API/..." too: a script that joins "https://host/" and "/API"
        await self.app(scope, receive, send)

    def _respell(self, scope: Scope) -> None:
        if self._spelling is None:
            self._spelling = _Spelling(scope["app"])
        accept = ""
        for name, value in scope.get("headers", ()):
            if name == b"accept":
                accept = value.decode("latin-1")
        parts, version = version_of(scope["path"].strip("/").split("/"), accept)
        scope.setdefault("state", {})["api_version"] = version
        path = "/" + "/".join(parts)
        spelled = self._spelling.spell(path)
        if spelled is not None or path != scope["path"]:
            scope["path"] = spelled or path
            scope["raw_path"] = quote(scope["path"]).encode("ascii")
        scope["query_string"] = respell_query(scope.get("query_string", b""))


def respell_query(query: bytes) -> bytes:
    """The query string with each parameter name lower-cased and the parameters without a value
    left out (Workspace ONE's binder takes `orderby=` as no order given, and PowerShell scripts
    send every parameter, empty or not); values stay as sent."""
    if not query:
        return query
    pieces = []
    for piece in query.split(b"&"):
        name, _eq, value = piece.partition(b"=")
        if value:
            pieces.append(name.lower() + b"=" + value)
    return b"&".join(pieces)
