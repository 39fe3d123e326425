"""Rendering the sign-in pages: templates, the headers every page carries, and the one place
where a refusal becomes a page (heading, message, HTTP status)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from quince.config import Settings
from quince.domain.enrollment_policy import (
    EnrollmentRefusal,
    GroupIdOutOfReach,
    InactiveUser,
    UnknownGroupId,
    UserEnrollmentDisabled,
)
from quince.services.access.sign_in_throttle import Throttled
from quince.services.enrollment.sessions import Flow, WrongCredentials
from quince.web.device_management import csrf
from quince.web.html import page_headers, templates
from quince.web.paths import SIGN_IN_PATHS, SIGN_IN_STYLESHEET_PATH

HERE = Path(__file__).parent
STYLESHEET = HERE / "static" / "signin.css"
STYLESHEET_URL = SIGN_IN_STYLESHEET_PATH
# The account-driven flow ends in a 308 to Apple's callback scheme after the form POST; browsers
# apply form-action to that redirect, so the scheme is allowed explicitly.
PAGE_HEADERS = page_headers(extra_form_action="apple-remotemanagement-user-login:")
_templates = templates(HERE / "templates")


@dataclass(frozen=True)
class Refusal:
    """Why the person cannot go on, as they will read it."""

    kind: str
    """Logged as the outcome (`refused:<kind>`, `wrong_credentials`, ...) and set on the page."""
    heading: str
    message: str
    status: int
    retry_after_seconds: int | None = None


def policy_refusal(refusal: EnrollmentRefusal) -> Refusal:
    """The page for a refusal of the enrollment policy (DESIGN.md rule 1)."""
    match refusal:
        case InactiveUser():
            return Refusal("inactive_user", "Your account is not active", refusal.message, 403)
        case UnknownGroupId():
            return Refusal("unknown_group_id", "Group ID not recognised", refusal.message, 403)
        case GroupIdOutOfReach():
            return Refusal("group_id_out_of_reach", "Group ID not available to you", refusal.message, 403)
        case UserEnrollmentDisabled():
            return Refusal(
                "user_enrollment_disabled", "Enrollment is not available", refusal.message, 403
            )
    return Refusal(type(refusal).__name__, "Enrollment is not possible", refusal.message, 403)


def wrong_credentials(exc: WrongCredentials) -> Refusal:
    return Refusal("wrong_credentials", "Check your email address and password", exc.message, 401)


def too_many_attempts(exc: Throttled) -> Refusal:
    return Refusal("rate_limited", "Too many sign-in attempts", exc.message, 429, exc.seconds)


def expired_page(kind: str) -> Refusal:
    """A form that did not come from this browser's own sign-in page, or came too late."""
    return Refusal(
        kind,
        "This page has expired",
        "For your security, a sign-in page works only for a limited time and only in the browser "
        "that opened it. Nothing was changed. Start again to sign in.",
        403,
    )


def form_url(flow: Flow, user_identifier: str | None) -> str:
    """The sign-in form of `flow`, keeping the address the device typed."""
    path = SIGN_IN_PATHS[flow]
    return f"{path}?{urlencode({'user-identifier': user_identifier})}" if user_identifier else path


def secure_cookies(settings: Settings) -> bool:
    return settings.public_url.lower().startswith("https://")


def with_page_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    return response


def render(
    request: Request,
    template: str,
    *,
    outcome: str,
    status: int = 200,
    csrf_pair: csrf.CsrfPair | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page with the organization's name, the request id, and the sign-in pages' headers."""
    settings: Settings = request.app.state.settings
    html = _templates.get_template(template).render(
        org_name=getattr(request.state, "org_name", settings.organization_name),
        stylesheet=STYLESHEET_URL,
        request_id=request.state.request_id,
        outcome=outcome,
        csrf_token=csrf_pair.token if csrf_pair else "",
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    with_page_headers(response)
    if csrf_pair is not None:
        csrf.set_cookie(response, csrf_pair, secure=secure_cookies(settings))
    return response


def refusal_page(request: Request, refusal: Refusal, flow: Flow, user_identifier: str | None) -> HTMLResponse:
    response = render(
        request, "refusal.html", outcome=refusal.kind, status=refusal.status,
        title=refusal.heading, heading=refusal.heading, message=refusal.message,
        retry_url=form_url(flow, user_identifier),
    )
    if refusal.retry_after_seconds is not None:
        response.headers["Retry-After"] = str(refusal.retry_after_seconds)
    return response
