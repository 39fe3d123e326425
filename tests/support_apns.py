"""A local APNs for tests: Apple's provider API over HTTP/2 and TLS on a real socket.

It demands a client certificate issued by a test "Apple" CA (as APNs demands the MDM push
certificate), takes `POST /3/device/<token>` with `apns-topic` equal to that certificate's topic,
`apns-push-type: mdm` and the body `{"mdm": "<PushMagic>"}`, records every push, and answers as
scripted: 200 with an apns-id by default, or 410 Unregistered, 400 BadDeviceToken, 429 with
Retry-After, 500, 403, after a delay. Quince's production client talks to it unchanged; only its
base URL and the CA it trusts (QUINCE_APNS_URL, QUINCE_APNS_CA_FILE) differ.

It runs in its own thread with its own event loop, so a Quince server in another thread can push
to it while a test waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import ssl
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_PATH = re.compile(r"/3/device/([^/?]+)")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


# --- Test certificates -----------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def identity_pem(self) -> bytes:
        """Certificate and key in one PEM file."""
        return self.cert_pem + self.key_pem

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        cert, key = directory / f"{name}.crt", directory / f"{name}.key"
        cert.write_bytes(self.cert_pem)
        key.write_bytes(self.key_pem)
        return cert, key


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class TestAuthority:
    """A self-signed CA that issues test certificates."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str) -> None:
        self.key = _key()
        now = datetime.now(UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        subject: x509.Name,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        server_names: list[str] | None = None,
        client: bool = False,
    ) -> Issued:
        key = _key()
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(self.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - timedelta(hours=1))
            .not_valid_after(not_after or now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if server_names:
            names: list[x509.GeneralName] = []
            for name in server_names:
                try:
                    names.append(x509.IPAddress(ipaddress.ip_address(name)))
                except ValueError:
                    names.append(x509.DNSName(name))
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        if client:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return Issued(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))

    def issue_push_certificate(
        self,
        topic: str | None,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Issued:
        """A certificate shaped like Apple's MDM push certificate: the topic in the subject UID."""
        attributes = []
        if topic is not None:
            attributes.append(x509.NameAttribute(NameOID.USER_ID, topic))
        attributes += [
            x509.NameAttribute(NameOID.COMMON_NAME, f"APSP:{uuid.uuid4()}"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
        return self.issue(x509.Name(attributes), not_before=not_before, not_after=not_after, client=True)


def new_topic() -> str:
    return f"com.apple.mgmt.External.{uuid.uuid4()}"


# --- The server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    reason: str | None = None
    retry_after: str | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class ReceivedPush:
    """A request the double received, and what it answered."""

    token: str
    headers: dict[str, str]
    body: bytes
    certificate_topic: str | None
    status: int
    reason: str | None
    apns_id: str
    connection: int

    @property
    def topic(self) -> str | None:
        return self.headers.get("apns-topic")

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Stream:
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)


def _certificate_topic(der: bytes | None) -> str | None:
    if not der:
        return None
    values = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(values[0].value) if values else None


class ApnsDouble:
    """The local APNs. `url`, `ca_file`, `cert_file`/`key_file` (Quince's push certificate),
    `topic`, and `pushes` (every request received) are what tests use."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.server_ca = TestAuthority("Test APNs Server CA")
        self.apple_ca = TestAuthority("Test Apple Application Integration CA")
        self.topic = new_topic()
        self.push_certificate = self.apple_ca.issue_push_certificate(self.topic)
        self.cert_file, self.key_file = self.push_certificate.write(directory, "push")
        self.identity_file = directory / "push.pem"
        self.identity_file.write_bytes(self.push_certificate.identity_pem)
        self.ca_file = directory / "apns-server-ca.pem"
        self.ca_file.write_bytes(self.server_ca.cert_pem)
        server = self.server_ca.issue(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
            server_names=["127.0.0.1", "localhost"],
        )
        server_cert, server_key = server.write(directory, "apns-server")
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._context.load_cert_chain(server_cert, server_key)
        self._context.verify_mode = ssl.CERT_REQUIRED  # APNs: certificate-based provider auth
        self._context.load_verify_locations(cadata=self.apple_ca.cert_pem.decode())
        self._context.set_alpn_protocols(["h2"])

        self.pushes: list[ReceivedPush] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._script: deque[Reply] = deque()
        self._by_token: dict[str, deque[Reply]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="apns-double")
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    # Scripting and inspection (from the test's thread) ----------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def reply(self, *replies: Reply, token: str | None = None) -> None:
        """Answer the next pushes (to `token`, or to any device) with these replies, in order;
        after them, 200 again."""
        with self._lock:
            if token is None:
                self._script.extend(replies)
            else:
                self._by_token.setdefault(token.lower(), deque()).extend(replies)

    def received(self, token: str | None = None) -> list[ReceivedPush]:
        with self._lock:
            return [p for p in self.pushes if token is None or p.token == token.lower()]

    @property
    def delivered(self) -> list[ReceivedPush]:
        return [p for p in self.received() if p.status == 200]

    def environment(self) -> dict[str, str]:
        """QUINCE_* variables that point Quince at this APNs."""
        return {"QUINCE_APNS_URL": self.url, "QUINCE_APNS_CA_FILE": str(self.ca_file)}

    # Lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0, ssl=self._context)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._server.wait_closed(), 2)
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    # The protocol -----------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        ssl_object = writer.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            writer.close()
            return
        with self._lock:
            self.connections += 1
            number = self.connections
        certificate_topic = _certificate_topic(ssl_object.getpeercert(binary_form=True))
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, _Stream] = {}
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        streams[ev.stream_id] = _Stream({str(k): str(v) for k, v in ev.headers or []})
                    elif isinstance(ev, h2.events.DataReceived):
                        streams[ev.stream_id].body.extend(ev.data or b"")
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        stream = streams.pop(ev.stream_id)
                        task = asyncio.create_task(
                            self._respond(conn, writer, ev.stream_id, stream, certificate_topic, number))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    elif isinstance(ev, h2.events.StreamReset):
                        streams.pop(ev.stream_id, None)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        return
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError, h2.exceptions.ProtocolError):
            return
        finally:
            for task in tasks:
                task.cancel()
            writer.close()

    def _check(self, stream: _Stream, certificate_topic: str | None) -> tuple[str, Reply | None]:
        """The token, and the refusal a real APNs would give (None: acceptable)."""
        headers = stream.headers
        match = _PATH.fullmatch(headers.get(":path", ""))
        token = match.group(1).lower() if match else ""
        if headers.get(":method") != "POST":
            return token, Reply(405, "MethodNotAllowed")
        if not match:
            return token, Reply(404, "BadPath")
        if not _HEX.fullmatch(token):
            return token, Reply(400, "BadDeviceToken")
        if "apns-topic" not in headers:
            return token, Reply(400, "MissingTopic")
        if headers["apns-topic"] != certificate_topic:
            return token, Reply(400, "TopicDisallowed")
        if headers.get("apns-push-type") != "mdm":
            return token, Reply(400, "InvalidPushType")
        if headers.get("apns-priority", "10") not in ("5", "10"):
            return token, Reply(400, "BadPriority")
        if not headers.get("apns-expiration", "0").isdigit():
            return token, Reply(400, "BadExpirationDate")
        if not stream.body:
            return token, Reply(400, "PayloadEmpty")
        try:
            payload = json.loads(stream.body)
        except ValueError:
            payload = None
        if not (isinstance(payload, dict) and set(payload) == {"mdm"} and isinstance(payload["mdm"], str)):
            # Not an APNs reason: the double insists on the exact MDM payload to catch client bugs.
            return token, Reply(400, "NotAnMdmPayload")
        return token, None

    def _scripted(self, token: str) -> Reply:
        with self._lock:
            queue = self._by_token.get(token)
            if queue:
                return queue.popleft()
            if self._script:
                return self._script.popleft()
        return Reply()

    async def _respond(self, conn: h2.connection.H2Connection, writer: asyncio.StreamWriter,
                       stream_id: int, stream: _Stream, certificate_topic: str | None,
                       connection: int) -> None:
        token, refusal = self._check(stream, certificate_topic)
        reply = refusal or self._scripted(token)
        apns_id = stream.headers.get("apns-id") or str(uuid.uuid4()).upper()
        with self._lock:
            self.pushes.append(ReceivedPush(
                token=token, headers={k: v for k, v in stream.headers.items() if not k.startswith(":")},
                body=bytes(stream.body), certificate_topic=certificate_topic, status=reply.status,
                reason=reply.reason, apns_id=apns_id, connection=connection,
            ))
        if reply.delay:
            await asyncio.sleep(reply.delay)
        headers = [(":status", str(reply.status)), ("apns-id", apns_id)]
        body = b""
        if reply.reason:
            body = json.dumps({"reason": reply.reason}).encode()
            headers.append(("content-type", "application/json"))
        if reply.retry_after is not None:
            headers.append(("retry-after", reply.retry_after))
        try:
            conn.send_headers(stream_id, headers, end_stream=not body)
            if body:
                conn.send_data(stream_id, body, end_stream=True)
            writer.write(conn.data_to_send())
        except (h2.exceptions.ProtocolError, ConnectionError):
            pass  # the client gave up on this stream


@pytest.fixture
def apns_server(tmp_path: Path) -> Iterator[ApnsDouble]:
    """A running local APNs (see ApnsDouble): url, ca_file, cert_file, key_file, identity_file,
    topic, pushes."""
    double = ApnsDouble(tmp_path / "apns-double")
    double.start()
    try:
        yield double
    finally:
        double.stop()
