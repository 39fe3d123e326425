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
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from quince.simulator import scep_client
from quince.simulator.built_in_identity import BuiltInIdentity, new_built_in_identity
from quince.simulator.enrollment_profile import EnrollmentProfile, check_scep_ca, read_profile
from quince.simulator.errors import NotEnrolled, ProtocolViolation, ServerRefused
from quince.simulator.html_forms import read_page
from quince.simulator.iphone import HardwareFacts, InstalledProfile, UserEnrolledIPhone, new_enrollment_id

WELL_KNOWN_PATH = "/.well-known/com.apple.remotemanagement"
CALLBACK_SCHEME = "apple-remotemanagement-user-login"
MACHINE_INFO_TYPE = "application/pkcs7-signature"
PROFILE_TYPE = "application/x-apple-aspen-config"
CHECKIN_TYPE = "application/x-apple-aspen-mdm-checkin"
CONNECT_TYPE = "application/x-apple-aspen-mdm"
# The user agents of the capture: the enrollment client, the web sheet, and the MDM client.
ENROLLMENT_AGENT = "DeviceManagementClient/1.0"
MDM_AGENT = "MDM/1.0"
WEB_SHEET_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS {os} like Mac OS X) AppleWebKit/605.1.15 "
                   "(KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1")
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Credentials:
    """What the person types: the work address (also the user identifier) and password."""

    email: str
    password: str
    group_id: str | None = None


@dataclass(frozen=True)
class Step:
    """One HTTP request the device made, for reports and timing."""

    name: str
    method: str
    path: str
    status: int
    seconds: float


@dataclass
class EnrollmentResult:
    email: str
    outcome: str  # "enrolled" or "aborted_after_sign_in"
    enrollment_id: str | None = None
    managed_apple_id: str | None = None
    topic: str | None = None
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class CommandExchange:
    """One command the device received and what it answered."""

    command_uuid: str
    request_type: str
    status: str
    command: dict[str, Any] = field(repr=False)
    response: dict[str, Any] = field(repr=False)


@dataclass
class ConnectResult:
    """One connect session: from Idle to the server's empty reply."""

    exchanges: list[CommandExchange] = field(default_factory=list)
    messages: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds per PUT, in order

    @property
    def commands(self) -> list[str]:
        return [e.request_type for e in self.exchanges]

    @property
    def statuses(self) -> list[str]:
        return [e.status for e in self.exchanges]


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

    @staticmethod
    def _refused(step: str, response: httpx.Response) -> ServerRefused:
        detail = response.text[:300] if response.headers.get("content-type", "").startswith(
            ("text/", "application/json")) else ""
        if response.headers.get("content-type", "").startswith("text/html"):
            detail = read_page(response.text).message
        return ServerRefused(step, response.status_code, detail)

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
            raise self._refused(step, response)
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
            raise self._refused(step, response)
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
            return await self._sign_in(sheet, sign_in_url)
        finally:
            if self._transport is None:
                await sheet.aclose()

    async def _sign_in(self, sheet: httpx.AsyncClient, sign_in_url: str) -> str:
        email = self.credentials.email
        separator = "&" if urlsplit(sign_in_url).query else "?"
        url = f"{sign_in_url}{separator}{urlencode({'user-identifier': email})}"
        response = await self._send("sign_in.form", sheet, "GET", url)
        data: dict[str, str] | None = None
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("location") if response.is_redirect else None
            if location is not None and location.startswith(CALLBACK_SCHEME + ":"):
                if response.status_code != 308:
                    raise ProtocolViolation("sign_in", f"the callback came with HTTP {response.status_code}")
                return access_token_from(location)
            if location is not None:
                url = urljoin(str(response.request.url), location)
                response = await self._send("sign_in.redirect", sheet, "GET", url)
                continue
            if (response.status_code >= 400 and data is not None) or response.status_code >= 500:
                raise self._refused("sign_in", response)
            page = read_page(response.text)
            form = page.form_with("state") if data is not None else None
            if form is not None:  # the group list: the person picks their group
                data = {**form.fields, "group_id": self._pick_group(form.options.get("group_id", []))}
                step = "sign_in.group_choice"
            elif data is None and (form := page.form_with("password")) is not None:
                data = {**form.fields, "email": email, "password": self.credentials.password,
                        "group_id": self.credentials.group_id or ""}
                step = "sign_in.submit"
            else:
                raise self._refused("sign_in", response)
            target = urljoin(str(response.request.url), form.action or str(response.request.url))
            response = await self._send(step, sheet, "POST", target, data=data)
        raise ProtocolViolation("sign_in", "too many redirects")

    def _pick_group(self, options: list[str]) -> str:
        wanted = self.credentials.group_id or ""
        if wanted and wanted not in options:
            raise ProtocolViolation("sign_in.group_choice", f"the group list does not offer {wanted!r}")
        return wanted

    async def _fetch_profile(self, base_url: str, machine_info: bytes, token: str) -> EnrollmentProfile:
        step = "enroll.profile"
        response = await self._send(step, self._http, "POST", base_url, content=machine_info, headers={
            "Content-Type": MACHINE_INFO_TYPE, "Authorization": f"Bearer {token}",
        })
        if response.status_code != 200:
            raise self._refused(step, response)
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
            raise self._refused(step, response)
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
                raise self._refused("connect", response)
            if not response.content:
                return result
            command_uuid, command = read_command(response.content)
            answer = self.iphone.answer(command_uuid, command)
            request_type = str(command.get("RequestType", "")) if isinstance(command, dict) else ""
            exchange = CommandExchange(command_uuid, request_type, answer.status,
                                       command if isinstance(command, dict) else {}, answer.body)
            result.exchanges.append(exchange)
            self.received.append(exchange)
            report = answer.body
        raise ProtocolViolation("connect", f"more than {max_commands} commands in one session")


def read_command(body: bytes) -> tuple[str, Any]:
    """The CommandUUID and Command of a server reply."""
    try:
        message = plistlib.loads(body)
    except (plistlib.InvalidFileException, ValueError) as exc:
        raise ProtocolViolation("connect", f"the reply is not a plist ({exc})") from None
    if not isinstance(message, dict) or not isinstance(message.get("CommandUUID"), str):
        raise ProtocolViolation("connect", "the reply has no CommandUUID")
    return message["CommandUUID"], message.get("Command")


def parse_bearer_challenge(header: str) -> dict[str, str]:
    """The parameters of `WWW-Authenticate: Bearer k="v", k2="v2"` (comma- or space-separated,
    as Apple's example and Fleet's server differ)."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return {}
    params: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " ,\t":
            i += 1
        start = i
        while i < n and rest[i] not in "= ,\t":
            i += 1
        name = rest[start:i].strip().lower()
        if i >= n or rest[i] != "=":
            continue
        i += 1
        if i < n and rest[i] == '"':
            end = rest.find('"', i + 1)
            end = n if end < 0 else end
            value, i = rest[i + 1:end], end + 1
        else:
            start = i
            while i < n and rest[i] not in " ,\t":
                i += 1
            value = rest[start:i]
        if name:
            params[name] = value
    return params


def access_token_from(callback_url: str) -> str:
    """The access-token of `apple-remotemanagement-user-login://authentication-results?access-token=…`."""
    parts = urlsplit(callback_url)
    tokens = parse_qs(parts.query).get("access-token", [])
    if parts.netloc != "authentication-results" or len(tokens) != 1 or not tokens[0]:
        raise ProtocolViolation("sign_in", f"unusable callback {callback_url!r}")
    return tokens[0]
