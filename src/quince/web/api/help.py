"""/API/help: the REST API's endpoints for people, grouped by tag, drawn from the OpenAPI document
(which is served as JSON at /API/openapi.json, and at /API/help to a client that asks for JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from quince.web.html import page_headers, templates

HELP_PATH = "/API/help"
DOCUMENT_PATH = "/API/openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")
_templates = templates(Path(__file__).parent / "templates")
_HEADERS = page_headers()

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str


def endpoints_by_tag(document: dict[str, Any]) -> list[tuple[str, list[Endpoint]]]:
    """The document's operations under each tag (the first one; "Other" for none), in tag order."""
    groups: dict[str, list[Endpoint]] = {}
    for path, operations in document.get("paths", {}).items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["Other"])[0]
            first_paragraph = " ".join((operation.get("description") or "").strip().split("\n\n")[0].split())
            summary = first_paragraph or operation.get("summary", "")
            groups.setdefault(tag, []).append(Endpoint(method.upper(), path, summary))
    return sorted(groups.items(), key=lambda item: item[0].lower())


def wants_json(request: Request) -> bool:
    """True when the Accept header prefers application/json to text/html (scripts, API clients)."""
    best: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(","):
        kind, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        best[kind.strip().lower()] = max(quality, best.get(kind.strip().lower(), 0.0))
    return best.get("application/json", 0.0) > best.get("text/html", 0.0)


@router.get(HELP_PATH)
async def api_help(request: Request) -> Response:
    document = request.app.openapi()
    if wants_json(request):
        return JSONResponse(document)
    info = document.get("info", {})
    html = _templates.get_template("help.html").render(
        title=info.get("title", "REST API"), version=info.get("version", ""),
        description=info.get("description", ""), groups=endpoints_by_tag(document),
        document_url=DOCUMENT_PATH,
    )
    return HTMLResponse(html, headers=_HEADERS)
