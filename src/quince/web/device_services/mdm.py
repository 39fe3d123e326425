"""The MDM channel: check-in (`PUT …/mdm/checkin`) and connect (`PUT …/mdm/server`).

Every request is parsed into one typed identity first, then authenticated (services/mdm/checkin.py),
then acted on; the raw plist is kept. A body of the wrong Content-Type is a 415, malformed input a
400, each with its reason in the DeviceServices log, an unauthenticated request a 403; never 401
and never 500 for bad input.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from cryptography import x509
from fastapi import APIRouter, Depends, Request, Response

from quince.apple import cms
from quince.apple.commands.json_codec import command_from_json
from quince.apple.discovery import bearer_token
from quince.apple.errors import InvalidSignature, MalformedMessage
from quince.apple.mdm_messages.checkin import CheckInMessage, parse_checkin
from quince.apple.mdm_messages.command_report import CommandReport, ReportStatus, parse_report
from quince.apple.mdm_messages.identity import DeviceIdentity
from quince.apple.mdm_messages.replies import command_plist
from quince.config import Settings
from quince.domain.devices import still_managed
from quince.pki.authority import Pki
from quince.services.mdm import checkin, commands
from quince.services.mdm.checkin import DeviceContext, DeviceRefused, NotSupported
from quince.web.deps import Db, RequestSettings
from quince.web.device_services.errors import ChannelRefusal, DeviceServicesRoute, plain_text
from quince.web.device_services.log import log_event
from quince.web.paths import CHECKIN_PATH, SERVER_PATH
from quince.web.pki_state import current_pki
from quince.web.proxies import from_trusted_proxy
from quince.web.request_body import BodyTooLarge, read_limited

router = APIRouter(include_in_schema=False, route_class=DeviceServicesRoute)
T = TypeVar("T")

MAX_CHECKIN_BYTES = 256 * 1024
PLIST_TYPE = "application/xml"
# What devices send (Apple's check-in and command protocol pages); checked as a media type, so
# parameters and case do not matter.
CHECKIN_TYPE = "application/x-apple-aspen-mdm-checkin"
CONNECT_TYPE = "application/x-apple-aspen-mdm"

CurrentPki = Annotated[Pki, Depends(current_pki)]


@dataclass(frozen=True)
class Read(Generic[T]):
    """A message as read: the body as sent (for the signature and the raw copy) and what it says."""

    body: bytes
    message: T


def _signer(request: Request, body: bytes) -> x509.Certificate:
    """The certificate that vouches for this request: the Mdm-Signature signer, or (only when
    configured, and only from a trusted proxy) an RFC 9440 Client-Cert header."""
    header = request.headers.get("mdm-signature")
    if header:
        try:
            return cms.verify_mdm_signature(header, body)
        except InvalidSignature as exc:
            raise DeviceRefused(f"Mdm-Signature: {exc.message}") from None
    settings: Settings = request.app.state.settings
    forwarded = request.headers.get("client-cert")
    if forwarded and settings.trust_client_cert_header and from_trusted_proxy(
        request, request.app.state.proxy_networks
    ):
        try:  # RFC 9440: the DER certificate as a structured-field byte sequence, ":base64:"
            return x509.load_der_x509_certificate(base64.b64decode(forwarded.strip().strip(":")))
        except (ValueError, binascii.Error):
            raise DeviceRefused("Client-Cert header is not a certificate") from None
    raise DeviceRefused("no Mdm-Signature")


async def _authenticate(
    request: Request, db: Db, pki: Pki, body: bytes, identity: DeviceIdentity
) -> DeviceContext:
    signer = _signer(request, body)
    token = bearer_token(request.headers.get("authorization"))
    return await checkin.authenticate_device(db, pki, signer, identity, token)


def _who(context: DeviceContext) -> dict[str, Any]:
    # The user name came with the authentication query: no second transaction after the commit.
    return {"device": context.device.uuid, "udid": context.device.udid,
            "enrollment": context.enrollment.uuid, "user": context.username}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _read(
    request: Request, channel: str, media_type: str, limit: int, parse: Callable[[bytes], T]
) -> Read[T]:
    """The body and what it says; else a ChannelRefusal (415, 413 or 400), logged with its reason."""
    if _media_type(request) != media_type:
        log_event(request, channel, "refused:unsupported_media_type", warn=True,
                  content_type=request.headers.get("content-type", "")[:100])
        raise ChannelRefusal(415, f"The {channel} message must be sent as {media_type}.",
                             {"Accept": media_type})
    try:
        body = await read_limited(request, limit)
        return Read(body, parse(body))
    except BodyTooLarge:
        log_event(request, channel, "refused:too_large", warn=True)
        raise ChannelRefusal(413, f"The {channel} message is larger than {limit} bytes.") from None
    except MalformedMessage as exc:
        log_event(request, channel, "refused:malformed", warn=True, reason=exc.reason)
        raise ChannelRefusal(400, exc.message) from None


async def checkin_message(request: Request) -> Read[CheckInMessage]:
    """The dependency behind `CheckIn`: the check-in body and the message it holds."""
    return await _read(request, "checkin", CHECKIN_TYPE, MAX_CHECKIN_BYTES, parse_checkin)


async def command_report(request: Request, settings: RequestSettings) -> Read[CommandReport]:
    """The dependency behind `Report`: the connect body and the report it holds. Result reports can
    be large (an InstalledApplicationList of a few thousand apps): they may take the device
    channel's whole cap, QUINCE_DEVICE_MAX_BODY_BYTES."""
    return await _read(request, "connect", CONNECT_TYPE, settings.device_max_body_bytes, parse_report)


CheckIn = Annotated[Read[CheckInMessage], Depends(checkin_message)]
Report = Annotated[Read[CommandReport], Depends(command_report)]


@router.put(CHECKIN_PATH)
async def checkin_endpoint(request: Request, db: Db, pki: CurrentPki, read: CheckIn) -> Response:
    body, message = read.body, read.message
    try:
        context = await _authenticate(request, db, pki, body, message.identity)
        await checkin.keep_message(
            db, context.device, "checkin", message.message_type,
            checkin.raw_to_keep(context.device, message),
        )
        outcome = await checkin.handle_checkin(db, context, message)
    except DeviceRefused as exc:
        await db.rollback()
        log_event(request, f"checkin.{message.message_type}", "refused:unauthenticated", warn=True,
             reason=exc.reason, identity=message.identity.id)
        return plain_text(403, exc.message)
    except NotSupported as exc:
        await db.commit()  # the raw message is kept
        log_event(request, f"checkin.{message.message_type}", "not_supported",
             **_who(context))
        return plain_text(400, exc.message)
    await db.commit()
    log_event(request, f"checkin.{message.message_type}", outcome, **_who(context))
    return Response(status_code=200)


@router.put(SERVER_PATH)
async def connect_endpoint(request: Request, db: Db, pki: CurrentPki, read: Report) -> Response:
    body, report = read.body, read.message
    try:
        context = await _authenticate(request, db, pki, body, report.identity)
        if not still_managed(context.device.enrollment_status):
            raise DeviceRefused(f"device is {context.device.enrollment_status}")
    except DeviceRefused as exc:
        await db.rollback()
        log_event(request, "connect", "refused:unauthenticated", warn=True, reason=exc.reason,
             identity=report.identity.id)
        return plain_text(403, exc.message)
    device = context.device
    await checkin.keep_message(db, device, "connect", report.status.value, body, report.command_uuid)
    done = await commands.record_report(db, device, report)
    following = await commands.next_for(db, device, after_not_now=report.status is ReportStatus.NOT_NOW)
    if following is not None:
        await commands.mark_sent(db, following)
    await db.commit()
    who = _who(context)
    if done is not None:
        log_event(request, "connect.report", report.status.value, command=done.uuid,
             request_type=done.request_type, **who)
    if following is None:
        log_event(request, "connect.idle", "no_command", **who)
        return Response(status_code=200)
    log_event(request, "connect.command", "sent", command=following.uuid,
         request_type=following.request_type, **who)
    return Response(
        command_plist(following.uuid, command_from_json(following.command)), media_type=PLIST_TYPE
    )
