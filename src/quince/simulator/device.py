"""A simulated iOS 18 iPhone that enrolls with account-driven User Enrollment and then answers MDM
commands, talking to a running Quince over HTTP only, exactly as a real device does (reference §1,
§2, §5; the request shapes follow the Fleet capture of iOS 18.2.1 in §9).

    device = SimulatedDevice("https://quince.example", "maria@acme.example", "secret")
    result = await device.enroll()          # discovery ... Authenticate, TokenUpdate
    session = await device.connect()        # Idle, then answers commands until the empty reply
    await device.checkout()
    await device.aclose()

Everything the device signs it signs itself with `cryptography`: MachineInfo with its built-in
identity, check-in and connect bodies (`Mdm-Signature`) with the identity it got by SCEP.
"""

from __future__ import annotations

import base64
import plistlib
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from quince.simulator import scep_client, web_sheet
from quince.simulator.answers import parse_bearer_challenge, read_command, refused
from quince.simulator.built_in_identity import BuiltInIdentity, new_built_in_identity
from quince.simulator.enrollment_profile import EnrollmentProfile, check_scep_ca, read_profile
from quince.simulator.errors import NotEnrolled, ProtocolViolation, ServerRefused
from quince.simulator.holdings import HardwareFacts, InstalledProfile
from quince.simulator.iphone import UserEnrolledIPhone, new_enrollment_id
from quince.simulator.outcomes import CommandExchange, ConnectResult, EnrollmentResult, Step
from quince.simulator.web_sheet import Credentials

WELL_KNOWN_PATH = "/.well-known/com.apple.remotemanagement"
MACHINE_INFO_TYPE = "application/pkcs7-signature"
PROFILE_TYPE = "application/x-apple-aspen-config"
CHECKIN_TYPE = "application/x-apple-aspen-mdm-checkin"
CONNECT_TYPE = "application/x-apple-aspen-mdm"
# The user agents of the capture: the enrollment client, the web sheet, and the MDM client.
ENROLLMENT_AGENT = "DeviceManagementClient/1.0"
MDM_AGENT = "MDM/1.0"
WEB_SHEET_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS {os} like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1")


@dataclass(frozen=True)
class PendingEnrollment:
    """A device whose person has signed in (`start_enrollment`) and that has not yet fetched its
    profile (`finish_enrollment`)."""

    base_url: str
    machine_info: bytes = field(repr=False)
    access_token: str = field(repr=False)
    started: float
    first_step: int


@dataclass
class _Enrollment:
    access_token: str
    profile: EnrollmentProfile
    identity_key: rsa.RSAPrivateKey = field(repr=False)
    identity: x509.Certificate
    enrollment_id: str


class SimulatedDevice:
    """One iPhone and its person. Not safe to use from two tasks at once (neither is an iPhone)."""

    def __init__(
        self,
        server: str,
        credentials: Credentials,
        *,
        facts: HardwareFacts | None = None,
        not_now: Mapping[str, int] | None = None,
        leak_hardware_ids: bool = False,
        verify: bool | str = True,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        language: str = "en-GB",
    ) -> None:
        self.server = server.rstrip("/")
        self.credentials = credentials
        self.iphone = UserEnrolledIPhone(facts, not_now=not_now, leak_hardware_ids=leak_hardware_ids)
        self.language = language
        self.built_in: BuiltInIdentity = new_built_in_identity(f"Simulated {self.iphone.facts.product_name}")
        self.push_token = secrets.token_bytes(32)
        self.push_magic = str(uuid.uuid4()).upper()
        self.received: list[CommandExchange] = []  # every command ever received, in order
        self.steps: list[Step] = []
        self._enrollment: _Enrollment | None = None
        self._verify = verify
        self._timeout = timeout
        self._transport = transport  # shared by many devices (run_many); not closed here
        self._http = self._client({"User-Agent": ENROLLMENT_AGENT})

    def _client(self, headers: dict[str, str]) -> httpx.AsyncClient:
        if self._transport is not None:
            return httpx.AsyncClient(transport=self._transport, headers=headers, timeout=self._timeout)
        return httpx.AsyncClient(verify=self._verify, headers=headers, timeout=self._timeout)

    async def aclose(self) -> None:
        if self._transport is None:
            await self._http.aclose()

    async def __aenter__(self) -> SimulatedDevice:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # --- state ----------------------------------------------------------------------------

    @property
    def enrolled(self) -> bool:
        return self._enrollment is not None

    @property
    def enrollment_id(self) -> str | None:
        return self._enrollment.enrollment_id if self._enrollment else None

    @property
    def profile(self) -> EnrollmentProfile | None:
        return self._enrollment.profile if self._enrollment else None

    @property
    def identity_certificate(self) -> x509.Certificate | None:
        return self._enrollment.identity if self._enrollment else None

    def _current(self, step: str) -> _Enrollment:
        if self._enrollment is None:
            raise NotEnrolled(step, "the device is not enrolled")
        return self._enrollment

    # --- HTTP -----------------------------------------------------------------------------

    async def _send(
        self, step: str, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerRefused(step, 0, f"{type(exc).__name__}: {exc}") from exc
        self.steps.append(Step(step, method, urlsplit(url).path, response.status_code,
                               time.perf_counter() - started))
        return response

    # --- enrollment -----------------------------------------------------------------------

    async def enroll(self, *, abort_after_sign_in: bool = False) -> EnrollmentResult:
        """Account-driven User Enrollment from the work address to the first TokenUpdate.

        With `abort_after_sign_in` the person signs in and then cancels: the device never brings
        its token back, so the enrollment stays unfinished on the server."""
        pending = await self.start_enrollment()
        if abort_after_sign_in:
            return self._result(pending, EnrollmentResult(self.credentials.email, "aborted_after_sign_in"))
        return await self.finish_enrollment(pending)

    async def start_enrollment(self) -> PendingEnrollment:
        """The first half of `enroll`: discovery, the enrollment POST and the sign-in, up to the
        access token (Quince now holds the placeholder record). Several devices can be started
        before any is finished, as when one person sets up an iPhone and an iPad at once."""
        started, first_step = time.perf_counter(), len(self.steps)
        base_url = await self.discover()
        machine_info = self.built_in.sign(self._machine_info())
        sign_in_url = await self._challenge(base_url, machine_info)
        token = await self.sign_in(sign_in_url)
        return PendingEnrollment(base_url, machine_info, token, started, first_step)

    async def finish_enrollment(self, pending: PendingEnrollment) -> EnrollmentResult:
        """The second half of `enroll`: the profile, SCEP, Authenticate and the first TokenUpdate."""
        profile = await self._fetch_profile(pending.base_url, pending.machine_info, pending.access_token)
        scep = await self._scep(profile)
        self._enrollment = _Enrollment(pending.access_token, profile, scep.key, scep.certificate,
                                       new_enrollment_id())
        self.iphone.enrolled(self._enrollment.enrollment_id,
                             InstalledProfile(profile.plist, managed=False, signer=profile.signer),
                             scep.certificate)
        try:
            await self._checkin("checkin.Authenticate", {
                "MessageType": "Authenticate", "Topic": profile.mdm.topic,
                "EnrollmentID": self._enrollment.enrollment_id, "OSVersion": self.iphone.facts.os_version,
                "BuildVersion": self.iphone.facts.build_version,
                "ProductName": self.iphone.facts.product_name,
            })
            await self.token_update()
        except Exception:
            # iOS removes a profile whose check-in fails: the device is not enrolled.
            self._enrollment = None
            self.iphone.unenrolled()
            raise
        return self._result(pending, EnrollmentResult(
            self.credentials.email, "enrolled", self._enrollment.enrollment_id,
            profile.mdm.assigned_managed_apple_id, profile.mdm.topic,
        ))

    def _result(self, pending: PendingEnrollment, result: EnrollmentResult) -> EnrollmentResult:
        result.steps = self.steps[pending.first_step:]
        result.seconds = time.perf_counter() - pending.started
        return result

    def _machine_info(self) -> bytes:
        facts = self.iphone.facts
        # What iOS sends: no UDID or serial number in User Enrollment.
        return plistlib.dumps({"LANGUAGE": self.language, "PRODUCT": facts.product_name,
                               "VERSION": facts.build_version, "OS_VERSION": facts.os_version})

    async def discover(self) -> str:
        """Service discovery for the work address; returns the BaseURL of the mdm-byod server."""
        step = "discovery"
        response = await self._send(step, self._http, "GET", self.server + WELL_KNOWN_PATH, params={
            "user-identifier": self.credentials.email, "model-family": "iPhone",
        })
        if response.status_code != 200:
            raise refused(step, response)
        try:
            servers = response.json()["Servers"]
            (entry,) = [s for s in servers if s.get("Version") == "mdm-byod"]
            base_url = entry["BaseURL"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProtocolViolation(step, f"the discovery answer is not usable ({exc})") from None
        if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("https", "http"):
            raise ProtocolViolation(step, f"BaseURL {base_url!r} is not a URL")
        return base_url

    async def _challenge(self, base_url: str, machine_info: bytes) -> str:
        step = "enroll.machine_info"
        response = await self._send(step, self._http, "POST", base_url, content=machine_info,
                                    headers={"Content-Type": MACHINE_INFO_TYPE})
        if response.status_code != 401:
            raise refused(step, response)
        params = parse_bearer_challenge(response.headers.get("www-authenticate", ""))
        if params.get("method") != "apple-as-web" or not params.get("url"):
            raise ProtocolViolation(step, f"unusable challenge {response.headers.get('www-authenticate')!r}")
        return params["url"]

    async def sign_in(self, sign_in_url: str) -> str:
        """The web sheet: show the form, sign in (and pick a group if asked), and return the access
        token from the final redirect to the apple-remotemanagement-user-login callback."""
        agent = WEB_SHEET_AGENT.format(os=self.iphone.facts.os_version.replace(".", "_"))
        sheet = self._client({"User-Agent": agent})  # its own cookie jar, as a web sheet has
        try:
            return await web_sheet.sign_in(self._send, sheet, sign_in_url, self.credentials)
        finally:
            if self._transport is None:
                await sheet.aclose()

    async def _fetch_profile(self, base_url: str, machine_info: bytes, token: str) -> EnrollmentProfile:
        step = "enroll.profile"
        response = await self._send(step, self._http, "POST", base_url, content=machine_info, headers={
            "Content-Type": MACHINE_INFO_TYPE, "Authorization": f"Bearer {token}",
        })
        if response.status_code != 200:
            raise refused(step, response)
        if response.headers.get("content-type", "").split(";")[0].strip() != PROFILE_TYPE:
            raise ProtocolViolation(step, f"the profile came as {response.headers.get('content-type')!r}")
        return read_profile(response.content)

    async def _scep(self, profile: EnrollmentProfile) -> scep_client.ScepIdentity:
        step = "scep"
        url = profile.scep.url
        try:
            ca = await scep_client.fetch_ca(self._http, url)
            check_scep_ca(profile, ca.certificate)
            key = scep_client.new_key(profile.scep.key_size)
            identity = await scep_client.request_certificate(
                self._http, url, ca, profile.scep.challenge, key=key,
                subject=profile.scep.subject or "Quince device",
            )
        except scep_client.ScepFailure as exc:
            raise ServerRefused(step, 200, f"the CA refused the request (failInfo {exc.fail_info})") from exc
        except scep_client.ScepError as exc:
            raise ProtocolViolation(step, str(exc)) from exc
        self.steps.append(Step(step, "SCEP", urlsplit(url).path, 200, 0.0))
        return identity

    # --- the MDM channel ------------------------------------------------------------------

    def _signed_headers(self, enrollment: _Enrollment, body: bytes, content_type: str) -> dict[str, str]:
        signature = (
            pkcs7.PKCS7SignatureBuilder().set_data(body)
            .add_signer(enrollment.identity, enrollment.identity_key, hashes.SHA256())
            .sign(serialization.Encoding.DER,
                  [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
        )
        return {
            "Content-Type": content_type, "User-Agent": MDM_AGENT,
            "Mdm-Signature": base64.b64encode(signature).decode(),
            "Authorization": f"Bearer {enrollment.access_token}",
        }

    async def _checkin(self, step: str, message: dict[str, Any]) -> httpx.Response:
        enrollment = self._current(step)
        body = plistlib.dumps(message)
        response = await self._send(step, self._http, "PUT", enrollment.profile.mdm.checkin_url, content=body,
                                    headers=self._signed_headers(enrollment, body, CHECKIN_TYPE))
        if response.status_code != 200:
            raise refused(step, response)
        return response

    async def token_update(self, *, new_push_token: bool = False) -> None:
        """Send TokenUpdate (iOS sends one after Authenticate, and again when its push token changes)."""
        enrollment = self._current("checkin.TokenUpdate")
        if new_push_token:
            self.push_token = secrets.token_bytes(32)
        await self._checkin("checkin.TokenUpdate", {
            "MessageType": "TokenUpdate", "Topic": enrollment.profile.mdm.topic,
            "EnrollmentID": enrollment.enrollment_id, "Token": self.push_token, "PushMagic": self.push_magic,
            "AwaitingConfiguration": False,
        })

    async def checkout(self) -> None:
        """The person removes the enrollment profile: CheckOut (CheckOutWhenRemoved), and the managed
        apps, profiles and identity go with it."""
        enrollment = self._current("checkin.CheckOut")
        if enrollment.profile.mdm.check_out_when_removed:
            await self._checkin("checkin.CheckOut", {
                "MessageType": "CheckOut", "Topic": enrollment.profile.mdm.topic,
                "EnrollmentID": enrollment.enrollment_id,
            })
        self._enrollment = None
        self.iphone.unenrolled()

    async def connect(self, *, max_commands: int = 1000, url: str | None = None) -> ConnectResult:
        """One connect session, as after a push: Idle, then answer each command the server sends
        until it replies with an empty body. `url` replaces the profile's ServerURL (the benchmark
        sends the same signed messages to a bare endpoint to measure the machine's ceiling)."""
        enrollment = self._current("connect")
        server_url = url or enrollment.profile.mdm.server_url
        result = ConnectResult()
        report: dict[str, Any] = {"Status": "Idle"}
        for _ in range(max_commands + 1):
            body = plistlib.dumps({**report, "EnrollmentID": enrollment.enrollment_id})
            headers = self._signed_headers(enrollment, body, CONNECT_TYPE)
            started = time.perf_counter()  # the round trip, without the device's own signing
            response = await self._send("connect", self._http, "PUT", server_url, content=body,
                                        headers=headers)
            result.latencies.append(time.perf_counter() - started)
            result.messages += 1
            if response.status_code != 200:
                raise refused("connect", response)
            if not response.content:
                return result
            command_uuid, command = read_command(response.content)
            request_type = str(command.get("RequestType", "")) if isinstance(command, dict) else ""
            if request_type == "RemoveProfile" and command.get("Identifier") == enrollment.profile.identifier:
                # Removing the enrollment profile removes management (an Enterprise Wipe): the
                # device checks out and never answers the command.
                gone = CommandExchange(command_uuid, request_type, "Unenrolled", command, {})
                result.exchanges.append(gone)
                self.received.append(gone)
                await self.checkout()
                return result
            answer = self.iphone.answer(command_uuid, command)
            exchange = CommandExchange(command_uuid, request_type, answer.status,
                                       command if isinstance(command, dict) else {}, answer.body)
            result.exchanges.append(exchange)
            self.received.append(exchange)
            report = answer.body
        raise ProtocolViolation("connect", f"more than {max_commands} commands in one session")

