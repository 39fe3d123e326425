"""What a device talks to while it enrolls: service discovery, the account-driven enrollment
POSTs (BaseURL), and the web flow's one-time profile download. Writes the DeviceServices log.

To a device, 401 means "authenticate" here (the account-driven challenge) and nothing else;
malformed requests get 400, refusals 403.
"""

from __future__ import annotations

import plistlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from quince.apple import discovery
from quince.apple.errors import InvalidUserIdentifier, MalformedMachineInfo
from quince.apple.machine_info import parse_machine_info
from quince.apple.profiles import PROFILE_CONTENT_TYPE
from quince.clients import apns_certificate
from quince.config import Settings
from quince.pki.authority import Pki
from quince.services.enrollment import profile as enrollment_profile
from quince.services.enrollment import sessions as enrollments
from quince.services.enrollment.sessions import Flow, SecretKind
from quince.store.models import DeviceRow, EnrollmentSessionRow, EnrollmentUserRow
from quince.web.deps import Db
from quince.web.device_services.log import log_event
from quince.web.paths import ENROLLMENT_PATH, PROFILE_PATH, SIGN_IN_PATHS
from quince.web.pki_state import current_pki
from quince.web.request_body import BodyTooLarge, read_limited

router = APIRouter(include_in_schema=False)

SIGN_IN_PATH = SIGN_IN_PATHS[Flow.ACCOUNT]
MAX_MACHINE_INFO_BYTES = 64 * 1024

CurrentPki = Annotated[Pki, Depends(current_pki)]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _who(db: Db, enrollment: EnrollmentSessionRow) -> dict[str, Any]:
    """The log fields that tie a line to its enrollment, user and device."""
    user = await db.get(EnrollmentUserRow, enrollment.user_id)
    device = await db.get(DeviceRow, enrollment.device_id)
    return {"enrollment": enrollment.uuid, "user": user.username if user else None,
            "device": device.uuid if device else None, "flow": enrollment.flow}


def _profile_settings(settings: Settings) -> enrollment_profile.ProfileSettings:
    return enrollment_profile.ProfileSettings(
        # The installed push certificate's topic (else QUINCE_APNS_TOPIC): devices are pushed on it.
        public_url=settings.public_url, topic=apns_certificate.effective_topic(settings),
        organization=settings.organization_name,
    )


@router.get(discovery.WELL_KNOWN_PATH)
async def service_discovery(
    request: Request,
    db: Db,
    user_identifier: Annotated[str, Query(alias="user-identifier", max_length=320)] = "",
    model_family: Annotated[str, Query(alias="model-family", max_length=32)] = "",
) -> Response:
    """Account-driven enrollment starts here: which server enrolls this work address?"""
    settings = _settings(request)
    try:
        identifier = discovery.parse_user_identifier(user_identifier)
    except InvalidUserIdentifier:
        log_event(request, "discovery", "refused:bad_identifier", warn=True, model_family=model_family)
        return _well_known_failed("The address is not a work account Quince can enroll.")
    if not await enrollments.serves_domain(db, identifier.domain):
        log_event(request, "discovery", "refused:unknown_domain", domain=identifier.domain,
             model_family=model_family)
        return _well_known_failed(f"Quince does not enroll accounts of {identifier.domain}.")
    log_event(request, "discovery", "served", domain=identifier.domain, model_family=model_family)
    body = discovery.service_discovery_json(
        settings.public_url + ENROLLMENT_PATH, allow_insecure=not settings.public_url.startswith("https://")
    )
    return Response(body, media_type=discovery.DISCOVERY_CONTENT_TYPE)


def _well_known_failed(description: str) -> Response:
    return Response(
        discovery.well_known_failed_json(description=description), status_code=403,
        media_type="application/json",
    )


@router.post(ENROLLMENT_PATH)
async def account_driven_enroll(request: Request, db: Db, pki: CurrentPki) -> Response:
    """The device's enrollment POST: 401 with the sign-in challenge until it brings a valid bearer
    token, then the signed profile for that token's enrollment session."""
    settings = _settings(request)
    try:
        body = await read_limited(request, MAX_MACHINE_INFO_BYTES)
    except BodyTooLarge:
        log_event(request, "enroll.request", "refused:too_large", warn=True)
        return Response("Request body too large.", status_code=413, media_type="text/plain")
    try:
        message = parse_machine_info(body)
    except MalformedMachineInfo as exc:
        log_event(request, "enroll.request", "refused:malformed_machine_info", warn=True, reason=exc.reason)
        return Response(f"Malformed MachineInfo: {exc.reason}", status_code=400, media_type="text/plain")
    token = discovery.bearer_token(request.headers.get("authorization"))
    enrollment = (
        await enrollments.redeem_secret(db, SecretKind.ACCESS_TOKEN, token, consume=False)
        if token else None
    )
    if enrollment is None or enrollment.flow != Flow.ACCOUNT.value:
        log_event(request, "enroll.request", "challenged" if not token else "challenged:invalid_token",
             product=message.info.product, os_version=message.info.version)
        challenge = discovery.bearer_challenge(
            settings.public_url + SIGN_IN_PATH,
            allow_insecure=not settings.public_url.startswith("https://"),
        )
        return Response(status_code=401, headers={"WWW-Authenticate": challenge})
    # Rule 3: the hardware identity stays private, so only the redacted plist is kept.
    await enrollments.record_machine_info(
        db, enrollment, message.info.as_record(), plistlib.dumps(message.redacted())
    )
    who = await _who(db, enrollment)
    profile = await enrollment_profile.deliver(db, pki, _profile_settings(settings), enrollment)
    await db.commit()
    log_event(request, "enroll.profile", "delivered", product=message.info.product, **who)
    return Response(profile, media_type=PROFILE_CONTENT_TYPE)


@router.get(PROFILE_PATH)
async def web_profile_download(
    request: Request,
    db: Db,
    pki: CurrentPki,
    token: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    """The web flow's profile: one download per sign-in, before the session expires."""
    enrollment = await enrollments.redeem_secret(db, SecretKind.PROFILE_DOWNLOAD, token, consume=True)
    if enrollment is None:
        log_event(request, "enroll.profile_download", "refused:invalid_or_used_token", warn=True)
        return Response(
            "This enrollment link has expired or was already used. Open the enrollment page and "
            "sign in again.", status_code=403, media_type="text/plain",
        )
    who = await _who(db, enrollment)
    profile = await enrollment_profile.deliver(db, pki, _profile_settings(_settings(request)), enrollment)
    await db.commit()
    log_event(request, "enroll.profile_download", "delivered", **who)
    return Response(profile, media_type=PROFILE_CONTENT_TYPE, headers={
        "Content-Disposition": 'attachment; filename="enroll.mobileconfig"',
        "Cache-Control": "no-store",
    })
