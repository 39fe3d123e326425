"""The SCEP responder (RFC 8894) at /DeviceServices/scep: GetCACaps, GetCACert, PKIOperation.

Devices fetch their MDM identity certificate here with the challenge from their enrollment
profile. Each operation is one line in the DeviceServices log; challenges are never logged.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from quince.pki import scep
from quince.pki.authority import Pki
from quince.services.enrollment import scep as scep_service
from quince.web.deps import Db
from quince.web.device_services.log import log_event
from quince.web.pki_state import current_pki
from quince.web.request_body import BodyTooLarge, read_limited

router = APIRouter(prefix="/DeviceServices", include_in_schema=False)

# A PKCSReq with a 4096-bit key is about 5 KB; anything far larger is not a SCEP request.
MAX_MESSAGE_BYTES = 64 * 1024

CurrentPki = Annotated[Pki, Depends(current_pki)]
Operation = Annotated[str, Query(max_length=64)]


def _refuse(request: Request, status: int, outcome: str, text: str) -> Response:
    log_event(request, "scep.pki_operation", outcome, warn=True, status=status)
    return Response(text + "\n", status_code=status, media_type="text/plain")


@router.get("/scep")
async def scep_get(
    request: Request,
    db: Db,
    pki: CurrentPki,
    operation: Operation = "",
    message: Annotated[str | None, Query(max_length=MAX_MESSAGE_BYTES * 2)] = None,
) -> Response:
    """GetCACaps, GetCACert, and PKIOperation with a base64 `message` (clients without POST)."""
    if operation == "GetCACaps":
        log_event(request, "scep.get_ca_caps", "served")
        return Response(scep.ca_capabilities(), media_type="text/plain")
    if operation == "GetCACert":
        log_event(request, "scep.get_ca_cert", "served")
        return Response(scep.ca_certificate_der(pki), media_type=scep.CA_CERT_TYPE)
    if operation == "PKIOperation":
        try:
            # A '+' that was not percent-encoded arrives as a space; line breaks are allowed.
            text = (message or "").replace(" ", "+").replace("\r", "").replace("\n", "")
            body = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return _refuse(request, 400, "refused:bad_encoding", "The message is not base64.")
        if len(body) > MAX_MESSAGE_BYTES:
            return _refuse(request, 413, "refused:too_large", "The message is too large.")
        return await _pki_operation(request, db, pki, body)
    return _refuse(request, 400, "refused:unknown_operation", "Unknown SCEP operation.")


@router.post("/scep")
async def scep_post(request: Request, db: Db, pki: CurrentPki, operation: Operation = "") -> Response:
    """PKIOperation with the DER message as the body (POSTPKIOperation)."""
    if operation != "PKIOperation":
        return _refuse(request, 400, "refused:unknown_operation", "Unknown SCEP operation.")
    try:
        body = await read_limited(request, MAX_MESSAGE_BYTES)
    except BodyTooLarge:
        return _refuse(request, 413, "refused:too_large", "The message is too large.")
    return await _pki_operation(request, db, pki, body)


async def _pki_operation(request: Request, db: Db, pki: Pki, body: bytes) -> Response:
    try:
        result = await scep_service.handle_pki_operation(db, pki, body)
    except scep.ScepMessageError as exc:
        return _refuse(request, 400, "refused:not_scep", exc.message)
    if result.outcome is scep_service.Outcome.ISSUED:
        await db.commit()
    # Otherwise nothing was written: the session closes uncommitted, rolling the transaction back.
    log_event(
        request, "scep.pki_operation", result.outcome.value,
        warn=result.outcome is not scep_service.Outcome.ISSUED,
        enrollment=result.enrollment, device=result.device, user=result.user,
        transaction_id=result.transaction_id,
        serial=result.serial, fail_info=result.fail_info.name if result.fail_info else None,
        reason=result.reason,
    )
    return Response(result.body, media_type=scep.PKI_MESSAGE_TYPE)
