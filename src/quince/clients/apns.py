"""The APNs client: MDM pushes over HTTP/2, authenticated by the MDM push certificate.

A push is `POST /3/device/<token>` with `apns-topic` (the certificate's topic), `apns-push-type: mdm`
and the body `{"mdm":"<PushMagic>"}`; the device then connects to Quince for its commands. The push
magic and the token are never logged in full: with the certificate they are what wakes a device.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

import httpx

from quince.clients.apns_certificate import PushCertificate, load
from quince.clients.retry_after import retry_after_seconds
from quince.config import Settings

log = logging.getLogger("quince.apns")

# APNs stores one undelivered push per topic and device and delivers it when the device is back
# online. MDM devices contact the server only when pushed, so the push must be stored: 0 ("deliver
# once, never store") would leave a device that is offline for a minute unreachable until the next
# command. Apple keeps pushes for at most 30 days.
PUSH_TTL = timedelta(days=7)
TIMEOUT = httpx.Timeout(15.0, connect=10.0)
# APNs tokens are 32 bytes today; Apple says they may grow, so allow some room.
_TOKEN = re.compile(r"(?:[0-9a-f]{2}){16,256}")


class PushOutcome(StrEnum):
    DELIVERED = "delivered"
    INVALID_TOKEN = "invalid_token"  # noqa: S105  (the device's push token is dead: stop pushing it)
    RETRY = "retry"  # try again later (throttled, APNs trouble, network, certificate trouble)
    FAILED = "failed"  # APNs refused this push for good


@dataclass(frozen=True)
class PushResult:
    outcome: PushOutcome
    status: int | None = None
    reason: str | None = None
    apns_id: str | None = None
    retry_after: float | None = None
    """Seconds APNs asked us to wait (Retry-After), when it said."""
    alarming: bool = False
    """A problem with Quince's push certificate: every device's pushes fail until someone acts."""

    def describe(self) -> str:
        if self.status is None:
            return f"APNs could not be reached: {self.reason}"
        reason = f" {self.reason}" if self.reason else ""
        return f"APNs answered {self.status}{reason}"


def short(value: str) -> str:
    """The first characters of a token, enough to tell devices apart in a log."""
    return f"{value[:8]}..." if len(value) > 8 else value


def _reason(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    reason = data.get("reason") if isinstance(data, dict) else None
    return reason if isinstance(reason, str) else None


def interpret(status: int, headers: httpx.Headers, body: bytes, now: float | None = None) -> PushResult:
    """What an APNs answer means for Quince (Apple: "Handling notification responses from APNs")."""
    apns_id = headers.get("apns-id")
    if status == 200:
        return PushResult(PushOutcome.DELIVERED, status, apns_id=apns_id)
    reason = _reason(body)
    retry_after = retry_after_seconds(headers.get("retry-after"), time.time() if now is None else now)
    if status == 410 or (status == 400 and reason == "BadDeviceToken"):
        outcome = PushOutcome.INVALID_TOKEN
    elif status == 429 or status >= 500:
        outcome = PushOutcome.RETRY
    elif status == 403:
        # Certificate trouble (expired, revoked, wrong environment): retried, but loudly.
        return PushResult(PushOutcome.RETRY, status, reason, apns_id, retry_after, alarming=True)
    else:
        outcome = PushOutcome.FAILED
    return PushResult(outcome, status, reason, apns_id, retry_after)


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "SSL" in str(exc) or "certificate" in str(exc).lower()


class ApnsClient:
    """One long-lived HTTP/2 connection to APNs with the push certificate as client certificate."""

    def __init__(
        self,
        certificate: PushCertificate,
        *,
        base_url: str = "https://api.push.apple.com",
        ca_file: Path | None = None,
        timeout: httpx.Timeout = TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport` replaces the network (tests: httpx.MockTransport), as in VppClient."""
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        context.load_cert_chain(certificate.path)
        self.certificate = certificate
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            verify=context,
            http1=False,  # APNs speaks HTTP/2 only
            http2=True,
            timeout=timeout,
            transport=transport,
            # HTTP/2 multiplexes every push over one connection; Apple asks providers to keep it
            # open rather than reconnect for each push.
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=3600),
        )

    @property
    def topic(self) -> str:
        return self.certificate.topic

    async def send_mdm_push(self, token_hex: str, push_magic: str, topic: str) -> PushResult:
        """Wake one device: POST /3/device/<token> with {"mdm": push_magic} on `topic`."""
        token = token_hex.strip().lower()
        if not _TOKEN.fullmatch(token):
            return PushResult(PushOutcome.INVALID_TOKEN, reason="MalformedDeviceToken")
        body = json.dumps({"mdm": push_magic}, separators=(",", ":")).encode()
        headers = {
            "apns-topic": topic,
            "apns-push-type": "mdm",
            "apns-priority": "10",
            "apns-expiration": str(int(time.time() + PUSH_TTL.total_seconds())),
            "content-type": "application/json",
        }
        try:
            response = await self._http.post(f"/3/device/{token}", content=body, headers=headers)
        except httpx.HTTPError as exc:
            result = PushResult(
                PushOutcome.RETRY, reason=f"{type(exc).__name__}: {exc}".rstrip(": "),
                alarming=_is_tls_failure(exc),
            )
            log.warning("apns push to %s not sent: %s", short(token), result.describe())
            return result
        result = interpret(response.status_code, response.headers, response.content)
        log.debug("apns push to %s: %s %s", short(token), result.outcome.value, result.describe())
        return result

    async def aclose(self) -> None:
        await self._http.aclose()


class ApnsClients:
    """The client for whichever push certificate is installed: made on first use, remade when
    `quince apns set-cert` installs another, None while there is none."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: ApnsClient | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> ApnsClient | None:
        certificate = load(self._settings.apns_dir)
        async with self._lock:
            current = self._client
            if certificate is None:
                return None
            fingerprint = certificate.fingerprint_sha256
            if current is not None and current.certificate.fingerprint_sha256 == fingerprint:
                return current
            self._client = ApnsClient(
                certificate, base_url=self._settings.apns_url, ca_file=self._settings.apns_ca_file
            )
            log.info("apns client for topic %s (certificate expires %s)", certificate.topic,
                     f"{certificate.not_after:%Y-%m-%d}")
        if current is not None:
            await current.aclose()
        return self._client

    async def aclose(self) -> None:
        async with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def expires_soon(certificate: PushCertificate, now: datetime | None = None) -> bool:
    """True in the last 30 days of the certificate's year: time to renew it at Apple."""
    return certificate.not_after - (now or datetime.now(UTC)) < timedelta(days=30)
