"""MDM pushes: a durable job per device that wakes it through APNs, coalesced per device.

`request_push` is called in the transaction that queues a command, so the push exists exactly when
the command does; several commands queued before the worker runs make one push. The handler is
idempotent (a second push only makes the device ask for commands once more).
"""

from __future__ import annotations

import logging
from typing import Any

from quince.clients.apns import ApnsClient, ApnsClients, PushOutcome, short
from quince.domain.devices import EnrollmentStatus, PushState
from quince.logs import DEVICE_SERVICES, event
from quince.services import jobs
from quince.store.database import Db
from quince.store.models import DeviceRow, JobRow

log = logging.getLogger("quince.push")

PUSH_JOB = "apns.push"
# Waiting for an administrator to install the push certificate: check again this often, and do
# not use up the job's attempts meanwhile.
NO_CERTIFICATE_RECHECK = 300.0


def dedupe_key(device_id: int) -> str:
    return f"device:{device_id}"


async def request_push(db: Db, device_id: int) -> None:
    """Ask for a push to this device, in the caller's transaction (coalesced with a waiting one)."""
    await jobs.enqueue(db, PUSH_JOB, {"device_id": device_id}, dedupe_key=dedupe_key(device_id))


def _log(device: DeviceRow, job: JobRow, outcome: str, level: int = logging.INFO, **fields: Any) -> None:
    event(DEVICE_SERVICES, "apns.push", outcome, level=level, device=device.uuid, udid=device.udid,
          job=job.id, attempt=job.attempts, **fields)


async def handle_push(db: Db, job: JobRow, apns: ApnsClient | None) -> jobs.Outcome:
    """Send the push of one `apns.push` job; the outcome tells the runner what became of it."""
    device_id = job.payload.get("device_id")
    device = await db.get(DeviceRow, device_id) if isinstance(device_id, int) else None
    if device is None:
        log.info("push job %s: device %r no longer exists; nothing to push", job.id, device_id)
        return None
    if device.enrollment_status == EnrollmentStatus.UNENROLLED:
        _log(device, job, "skipped", reason="device is unenrolled")
        return None
    if not device.push_token or not device.push_magic:
        _log(device, job, "skipped", reason="no push token yet (no TokenUpdate)")
        return None
    if device.push_state == PushState.INVALID_TOKEN:
        _log(device, job, "skipped", reason="APNs said the push token is no longer valid")
        return None
    if apns is None:
        return jobs.Retry(
            "No MDM push certificate is installed, so devices cannot be woken: run "
            "`quince apns set-cert`.",
            delay=NO_CERTIFICATE_RECHECK, counts=False, alarming=True,
        )
    certificate = apns.certificate
    if certificate.expired():
        return jobs.Retry(
            f"The MDM push certificate for {certificate.topic} expired on "
            f"{certificate.not_after:%Y-%m-%d}: renew it in Apple's Push Certificates Portal and run "
            "`quince apns set-cert`.",
            alarming=True,
        )
    if device.topic and device.topic != certificate.topic:
        _log(device, job, "refused", logging.WARNING, topic=device.topic)
        return jobs.Fail(
            f"The device enrolled with push topic {device.topic}, but the installed push certificate "
            f"is for {certificate.topic}: APNs would refuse the push. The device must enroll again."
        )
    result = await apns.send_mdm_push(device.push_token, device.push_magic, certificate.topic)
    fields: dict[str, Any] = {
        "token": short(device.push_token), "status": result.status, "reason": result.reason,
        "apns_id": result.apns_id,
    }
    if result.outcome is PushOutcome.DELIVERED:
        device.push_state = PushState.OK
        _log(device, job, "delivered", **fields)
        return None
    if result.outcome is PushOutcome.INVALID_TOKEN:
        # Not retried: the device sends a new token (TokenUpdate) if it is still enrolled.
        device.push_state = PushState.INVALID_TOKEN
        _log(device, job, "invalid_token", logging.WARNING, **fields)
        return None
    if result.outcome is PushOutcome.RETRY:
        _log(device, job, "retry", logging.ERROR if result.alarming else logging.WARNING, **fields)
        reason = result.describe()
        if result.alarming:
            reason += " (a problem with the MDM push certificate: check `quince apns show`)"
        return jobs.Retry(reason, delay=result.retry_after, alarming=result.alarming)
    _log(device, job, "failed", logging.ERROR, **fields)
    return jobs.Fail(result.describe())


def handlers(apns: ApnsClients) -> dict[str, jobs.Handler]:
    """The job handlers of this module, for a JobRunner."""

    async def push(db: Db, job: JobRow) -> jobs.Outcome:
        return await handle_push(db, job, await apns.get())

    return {PUSH_JOB: push}
