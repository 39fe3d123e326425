"""Rendering console pages: templates, the headers every page carries, the CSRF cookie."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from quince.config import Settings
from quince.web.console import cookies
from quince.web.html import page_headers, templates

HERE = Path(__file__).parent
STYLESHEET = HERE / "static" / "console.css"
STYLESHEET_URL = "/console/static/console.css"
PAGE_HEADERS = page_headers()
_templates = templates(HERE / "templates")


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
    cookie, token = cookies.csrf_pair(request, key)
    context.setdefault("admin", None)
    context.setdefault("nav", None)
    html = _templates.get_template(template).render(
        org_name=settings.organization_name, stylesheet=STYLESHEET_URL,
        request_id=request_id(request), csrf_token=token, **context,
    )
    response = HTMLResponse(html, status_code=status)
    with_page_headers(response)
    cookies.set_csrf(response, cookie, secure=secure_cookies(settings))
    return response
