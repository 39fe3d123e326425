"""The enrollment sign-in pages (DESIGN.md rules 1, 2, 5 and 8).

`/DeviceManagement/Enrollment` is the web (profile-based) flow a person opens in Safari on
iOS 13-17; `/DeviceManagement/Enrollment/account-driven` is the page the device opens in
ASWebAuthenticationSession for account-driven User Enrollment (the 401 challenge points here, so
the flow is in the path). Both ask for email, password and an optional Group ID; in
`select_from_list` mode a person who left the Group ID empty picks one from a list next. Every page
view and outcome goes to the DeviceManagement log; passwords, tokens and CSRF values never do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from quince import logs
from quince.apple.discovery import authentication_callback_url
from quince.config import Settings
from quince.domain import og_settings as setting_rules
from quince.domain.enrollment_policy import (
    Basis,
    EnrollmentDecision,
    EnrollmentRefusal,
    GroupIdOutOfReach,
    InactiveUser,
    UserEnrollmentDisabled,
)
from quince.domain.errors import InvalidInput
from quince.services.access import sign_in_throttle
from quince.services.access.sign_in_throttle import Throttled
from quince.services.directory import org_groups
from quince.services.directory.org_tree import load_overrides, load_tree
from quince.services.enrollment import decision
from quince.services.enrollment import sessions as enrollment
from quince.services.enrollment.sessions import EnrollmentStarted, Flow, WrongCredentials
from quince.store.models import EnrollmentUserRow
from quince.web.deps import Db
from quince.web.device_management import csrf, forms, pages
from quince.web.paths import PROFILE_PATH, SIGN_IN_PATHS
from quince.web.proxies import client_address
from quince.web.routing import AnsweringRoute
from quince.web.security import signing

STATE_PURPOSE = "signin-group-choice"
STATE_TTL_SECONDS = 10 * 60


@dataclass(frozen=True)
class GroupChoice:
    group_id: str
    name: str
    label: str


# --- request helpers --------------------------------------------------------------------------


def _begin(request: Request) -> str:
    """This request's id: the access log's activity id when there is one, so the lines join up."""
    request_id = getattr(request.state, "activity_id", None) or uuid.uuid4().hex
    request.state.request_id = request_id
    return str(request_id)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _organization(request: Request, db: Db) -> None:
    """The organization these pages name (the one Customer OG, or QUINCE_ORGANIZATION_NAME), kept
    on the request for `pages.render`; solved before the form, so a refusal page names it too."""
    request.state.org_name = await org_groups.organization_name(db, _settings(request))


NAMED = [Depends(_organization)]
_key = signing.request_key


_address = client_address


def _log(request: Request, name: str, outcome: str, flow: Flow, *, warn: bool = False, **fields: Any) -> None:
    logs.event(
        logs.DEVICE_MANAGEMENT, name, outcome, level=logging.WARNING if warn else logging.INFO,
        request_id=request.state.request_id, flow=flow.value, **fields,
    )


class ExpiredForm(Exception):
    """A posted sign-in form that cannot be read (too many fields, a field too large...) or whose
    CSRF token is wrong; `SignInRoute` answers it with the "page expired" refusal."""

    def __init__(self, flow: Flow, user_identifier: str | None) -> None:
        super().__init__("expired form")
        self.flow = flow
        self.user_identifier = user_identifier


def posted(flow: Flow) -> Callable[[Request], Awaitable[FormData]]:
    """A dependency giving `flow`'s posted form, its CSRF token checked; else ExpiredForm."""

    async def form(request: Request) -> FormData:
        _begin(request)
        try:
            form = await request.form(max_files=0, max_fields=16, max_part_size=16 * 1024)
        except (HTTPException, MultiPartException, MultipartParseError, ValueError):
            raise ExpiredForm(flow, None) from None
        if not csrf.is_valid(request, _key(request), form.get(csrf.FIELD)):
            raise ExpiredForm(flow, forms.clean_identifier(form.get("user_identifier")))
        return form

    return form


class SignInRoute(AnsweringRoute):
    """Every sign-in route: an ExpiredForm escaping the route or its dependencies becomes the
    "page expired" refusal page, logged once."""

    answered = (ExpiredForm,)

    @staticmethod
    def answer(request: Request, exc: Exception) -> Response:
        if not isinstance(exc, ExpiredForm):
            raise exc
        _log(request, "signin.submit", "csrf_rejected", exc.flow, warn=True)
        return pages.refusal_page(request, pages.expired_page("csrf_rejected"), exc.flow, exc.user_identifier)


def _signin_page(
    request: Request,
    flow: Flow,
    *,
    outcome: str,
    status: int = 200,
    email: str = "",
    group_id: str = "",
    user_identifier: str | None = None,
    heading: str = "Sign in to enroll your device",
    error: str | None = None,
) -> Response:
    return pages.render(
        request, "signin.html", outcome=outcome, status=status,
        csrf_pair=csrf.pair_for(request, _key(request)),
        title="Sign in", heading=heading, flow=flow.value, action=SIGN_IN_PATHS[flow],
        email=email, group_id=group_id, user_identifier=user_identifier or "", error=error,
    )


router = APIRouter(include_in_schema=False, route_class=SignInRoute)


# --- routes -----------------------------------------------------------------------------------


@router.get(pages.STYLESHEET_URL)
async def stylesheet() -> Response:
    return Response(
        pages.STYLESHEET.read_bytes(), media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get(SIGN_IN_PATHS[Flow.WEB], dependencies=NAMED)
async def web_form(request: Request) -> Response:
    """The web (profile-based) flow's sign-in form."""
    return _show_form(request, Flow.WEB)


@router.post(SIGN_IN_PATHS[Flow.WEB], dependencies=NAMED)
async def web_submit(request: Request, form: Annotated[FormData, Depends(posted(Flow.WEB))],
                     db: Db) -> Response:
    return await _submit(request, db, Flow.WEB, form)


@router.get(SIGN_IN_PATHS[Flow.ACCOUNT], dependencies=NAMED)
async def account_form(request: Request) -> Response:
    """The account-driven flow's sign-in form (the device appends `?user-identifier=`)."""
    return _show_form(request, Flow.ACCOUNT)


@router.post(SIGN_IN_PATHS[Flow.ACCOUNT], dependencies=NAMED)
async def account_submit(request: Request, form: Annotated[FormData, Depends(posted(Flow.ACCOUNT))],
                         db: Db) -> Response:
    return await _submit(request, db, Flow.ACCOUNT, form)


# --- the flow ---------------------------------------------------------------------------------


def _show_form(request: Request, flow: Flow) -> Response:
    _begin(request)
    identifier = forms.clean_identifier(request.query_params.get("user-identifier"))
    _log(request, "signin.form", "shown", flow)
    return _signin_page(
        request, flow, outcome="shown", email=identifier or "", user_identifier=identifier
    )


async def _submit(request: Request, db: Db, flow: Flow, form: FormData) -> Response:
    if "state" in form:
        return await _submit_choice(request, db, flow, form)
    try:
        entry = forms.sign_in(form)
    except InvalidInput as exc:
        _log(request, "signin.submit", "invalid_form", flow, warn=True, field=exc.field)
        return _signin_page(
            request, flow, outcome="invalid_form", status=400,
            email=forms.display_value(form.get("email"), forms.EMAIL_MAX),
            group_id=forms.display_value(form.get("group_id"), forms.GROUP_ID_MAX),
            user_identifier=forms.clean_identifier(form.get("user_identifier")),
            heading="Check the form", error=exc.message,
        )
    settings = _settings(request)
    throttle = sign_in_throttle.from_settings(settings)
    try:
        user = await enrollment.authenticate(db, entry.email, entry.password, _address(request), throttle)
    except Throttled as exc:
        page = pages.too_many_attempts(exc)
        _log(request, "signin.submit", page.kind, flow, warn=True,
             user=await _username_of(db, entry.email))
        return pages.refusal_page(request, page, flow, entry.user_identifier)
    except WrongCredentials as exc:
        await db.commit()  # the failed attempt counts towards the rate limits
        page = pages.wrong_credentials(exc)
        # Logged with the username when the address names a user, for the helpdesk; the page
        # itself never says whether the account exists.
        _log(request, "signin.submit", page.kind, flow, warn=True,
             user=await _username_of(db, entry.email))
        return _signin_page(
            request, flow, outcome=page.kind, status=page.status, email=entry.email,
            group_id=entry.group_id or "", user_identifier=entry.user_identifier,
            heading=page.heading, error=page.message,
        )
    if entry.group_id is None:
        choices = await _group_choices(db, user)
        if choices is not None:
            ticket = await enrollment.choice_ticket(db, user)
            await db.commit()
            return await _choice_page(request, flow, user, ticket, choices, entry.user_identifier)
    return await _start(request, db, flow, user, entry.group_id, entry.user_identifier, "signin.submit")


async def _username_of(db: Db, identifier: str) -> str | None:
    user = await enrollment.find_enrollment_user(db, identifier)
    return user.username if user else None


async def _group_choices(db: Db, user: EnrollmentUserRow) -> list[GroupChoice] | None:
    """The OGs to offer when the user's enrollment OG says `select_from_list`, else None.

    No list either when the choice could not matter: an inactive user is refused anyway, and a
    matching user-group mapping wins over any Group ID (rule 1).
    """
    tree, overrides = await load_tree(db), await load_overrides(db)
    mode = setting_rules.resolve(tree, overrides, user.og_id, "group_id_assignment_mode")
    if mode.value != setting_rules.GroupIdAssignmentMode.SELECT_FROM_LIST.value:
        return None
    outcome = await decision.decide(db, user, None)
    if isinstance(outcome, InactiveUser) or (
        isinstance(outcome, EnrollmentDecision) and outcome.basis is Basis.USER_GROUP_MAPPING
    ):
        return None
    return [
        GroupChoice(og.group_id, og.name, "\u00a0\u00a0" * level + f"{og.name} ({og.group_id})")
        for og, level in tree.descendants(user.og_id)
    ]


async def _choice_page(
    request: Request,
    flow: Flow,
    user: EnrollmentUserRow,
    ticket: int,
    choices: list[GroupChoice],
    user_identifier: str | None,
    *,
    error: str | None = None,
) -> Response:
    # `t` makes the state single-use: choosing redeems the ticket (enrollment.redeem_choice_ticket).
    state = signing.sign(
        _key(request), STATE_PURPOSE,
        {"u": user.id, "t": ticket, "f": flow.value, "i": user_identifier, "b": csrf.binding(request)},
        STATE_TTL_SECONDS,
    )
    home = choices[0]  # descendants() starts with the user's enrollment OG itself
    _log(request, "signin.group_list", "shown", flow, user=user.username, og=home.group_id,
         choices=len(choices))
    return pages.render(
        request, "choose_group.html", outcome="group_list", status=400 if error else 200,
        csrf_pair=csrf.pair_for(request, _key(request)),
        title="Choose your group", heading="Choose your group", action=SIGN_IN_PATHS[flow],
        state=state, username=user.username, home_name=home.name,
        choices=choices, error=error,
    )


async def _submit_choice(request: Request, db: Db, flow: Flow, form: FormData) -> Response:
    """The second step of list mode: the signed state stands in for the password already checked."""
    raw_state = form.get("state")
    state = signing.verify(_key(request), STATE_PURPOSE, raw_state) if isinstance(raw_state, str) else None
    if (
        state is None
        or state.get("f") != flow.value
        or state.get("b") != csrf.binding(request)
        or not isinstance(state.get("u"), int)
        or not isinstance(state.get("t"), int)
    ):
        _log(request, "signin.group_choice", "state_rejected", flow, warn=True)
        return pages.refusal_page(request, pages.expired_page("state_rejected"), flow, None)
    identifier = forms.clean_identifier(state.get("i"))
    user = await db.get(EnrollmentUserRow, state["u"])
    if user is None:
        _log(request, "signin.group_choice", "state_rejected", flow, warn=True)
        return pages.refusal_page(request, pages.expired_page("state_rejected"), flow, identifier)
    try:
        group_id = forms.group_id(form)
    except InvalidInput as exc:
        _log(request, "signin.group_choice", "invalid_form", flow, warn=True, user=user.username)
        choices = await _group_choices(db, user)
        if choices is None:
            return pages.refusal_page(request, pages.expired_page("state_rejected"), flow, identifier)
        return await _choice_page(request, flow, user, state["t"], choices, identifier, error=exc.message)
    if not await enrollment.redeem_choice_ticket(db, user, state["t"]):
        # Sent before: a reload, the back button, or a copy. One sign-in, one enrollment.
        _log(request, "signin.group_choice", "state_reused", flow, warn=True, user=user.username)
        return pages.refusal_page(request, pages.expired_page("state_rejected"), flow, identifier)
    return await _start(request, db, flow, user, group_id, identifier, "signin.group_choice")


def _refused_og(refusal: EnrollmentRefusal) -> str | None:
    if isinstance(refusal, UserEnrollmentDisabled | GroupIdOutOfReach) and refusal.og is not None:
        return refusal.og.group_id
    return None


async def _start(
    request: Request,
    db: Db,
    flow: Flow,
    user: EnrollmentUserRow,
    group_id: str | None,
    user_identifier: str | None,
    event: str,
) -> Response:
    """Run the enrollment policy; on success create the session and placeholder and send the
    person (or device) on with the session's secret."""
    outcome = await enrollment.start(
        db, user, flow=flow, group_id=group_id,
        ttl=timedelta(minutes=_settings(request).enrollment_ttl_minutes),
        user_identifier=user_identifier, client_address=_address(request),
    )
    await db.commit()
    if isinstance(outcome, EnrollmentRefusal):
        page = pages.policy_refusal(outcome)
        _log(request, event, f"refused:{page.kind}", flow, warn=True, user=user.username,
             og=_refused_og(outcome), group_id=group_id)
        return pages.refusal_page(request, page, flow, user_identifier)
    _log(request, event, "enrollment_started", flow, enrollment=outcome.enrollment.uuid,
         user=user.username, device=outcome.device.uuid, og=outcome.decision.og.group_id,
         basis=outcome.decision.basis.value, superseded=len(outcome.superseded))
    return _redirect(flow, outcome)


def _redirect(flow: Flow, started: EnrollmentStarted) -> Response:
    """Account-driven: 308 to Apple's callback with the access token (reference §5 step 6).
    Web: 303 to the single-use profile download."""
    if flow is Flow.ACCOUNT:
        response = RedirectResponse(authentication_callback_url(started.secret), status_code=308)
    else:
        location = f"{PROFILE_PATH}?{urlencode({'token': started.secret})}"
        response = RedirectResponse(location, status_code=303)
    pages.with_page_headers(response)
    return response
