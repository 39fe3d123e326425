"""Rendering console pages: templates, the headers every page carries, the CSRF cookie."""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from quince.config import Settings
from quince.web.console import cookies
from quince.web.html import page_headers, templates

HERE = Path(__file__).parent
STATIC = HERE / "static"
STYLESHEET_URL = "/console/static/console.css"
HTMX_VERSION = "2.0.11"
HTMX = STATIC / "vendor" / f"htmx-{HTMX_VERSION}.min.js"
HTMX_URL = f"/console/static/htmx-{HTMX_VERSION}.min.js"
PAGE_HEADERS = page_headers(own_scripts=True)
# The masthead's sections: (nav key, main page, label). A page names its section with `nav=`.
SECTIONS = (
    ("home", "/console/", "Dashboard"),
    ("groups", "/console/groups", "Groups & settings"),
    ("users", "/console/users", "Users"),
    ("user-groups", "/console/user-groups", "User groups"),
    ("preview", "/console/preview", "Where will a user enroll?"),
    ("devices", "/console/devices", "Devices"),
    ("apps", "/console/apps", "Apps"),
    ("logs", "/console/logs", "Logs"),
)
_SECTION_PATHS = {key: path for key, path, _ in SECTIONS}
_templates = templates(HERE / "templates")


@functools.cache
def stylesheet() -> bytes:
    """The console's stylesheet: console.css, then one file per area from static/areas/, in name
    order (each area keeps its rules in its own file)."""
    parts = [STATIC / "console.css", *sorted((STATIC / "areas").glob("*.css"))]
    return b"\n".join(part.read_bytes() for part in parts)


def secure_cookies(settings: Settings) -> bool:
    return settings.public_url.lower().startswith("https://")


def request_id(request: Request) -> str:
    return str(getattr(request.state, "activity_id", None) or uuid.uuid4().hex)


def with_page_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    return response


def render(request: Request, key: bytes, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A console page with a CSRF token for its forms, and the console's headers."""
    settings: Settings = request.app.state.settings
    csrf = cookies.CSRF.pair_for(request, key)
    context.setdefault("admin", None)
    context.setdefault("nav", None)
    context["section_path"] = _SECTION_PATHS.get(context["nav"], "/console/")
    html = _templates.get_template(template).render(
        org_name=settings.organization_name, stylesheet=STYLESHEET_URL, htmx=HTMX_URL, sections=SECTIONS,
        request_id=request_id(request), csrf_token=csrf.token, **context,
    )
    response = HTMLResponse(html, status_code=status)
    with_page_headers(response)
    cookies.CSRF.set_cookie(response, csrf, secure=secure_cookies(settings))
    return response
