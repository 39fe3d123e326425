"""The MDM push certificate: Apple's certificate and its key under `<var_dir>/apns/`, and the push
topic it carries (`quince apns set-cert`).

Apple issues the certificate for one topic, `com.apple.mgmt.External.<uuid>`, written in the subject's
UID attribute. Enrollment profiles name that topic, devices report it at TokenUpdate, and every push
must be sent on it. Certificate, chain and key are kept in one PEM file so that a renewal replaces
them in one atomic rename and a reader never sees a new certificate with an old key.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from quince.config import Settings
from quince.domain.errors import QuinceError

TOPIC_PREFIX = "com.apple.mgmt."
IDENTITY_FILE = "push.pem"
DIR_MODE = 0o700
FILE_MODE = 0o600

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


class PushCertificateError(QuinceError):
    """The push certificate given to Quince cannot be used; the message says why."""


@dataclass(frozen=True)
class PushCertificate:
    """The installed push certificate, as `quince apns show` prints it."""

    topic: str
    subject: str
    issuer: str
    serial: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    path: Path

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.not_after


def topic_of(certificate: x509.Certificate) -> str:
    """The push topic in the subject's UID (OID 0.9.2342.19200300.100.1.1)."""
    values = [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.USER_ID)]
    topics = [v for v in values if isinstance(v, str) and v.startswith(TOPIC_PREFIX)]
    if not topics:
        found = f" (its UID is {values[0]!r})" if values else ""
        raise PushCertificateError(
            f"The certificate {certificate.subject.rfc4514_string()!r} is not an MDM push certificate: "
            f"its subject has no UID starting with {TOPIC_PREFIX!r}{found}. Use the certificate Apple's "
            "Push Certificates Portal issued for your MDM CSR."
        )
    return str(topics[0])


def _private_key(pem: bytes, password: bytes | None) -> PrivateKeyTypes | None:
    for block in _PEM_BLOCK.finditer(pem):
        if block.group(1).endswith(b"PRIVATE KEY"):
            try:
                return serialization.load_pem_private_key(block.group(0), password)
            except TypeError as exc:  # encrypted without a password, or a password for a plain key
                raise PushCertificateError(
                    "The private key is encrypted: give its password with --password."
                    if password is None else f"The private key could not be read: {exc}."
                ) from None
            except ValueError:
                raise PushCertificateError(
                    "The private key could not be read: wrong password or not a valid PEM key."
                ) from None
    return None


def read_identity(
    data: bytes, key_data: bytes | None = None, password: bytes | None = None
) -> tuple[list[x509.Certificate], PrivateKeyTypes]:
    """Certificates (leaf first) and key from PEM (one file or two) or PKCS#12 (.p12/.pfx)."""
    if b"-----BEGIN" not in data:
        if key_data is not None:
            raise PushCertificateError("--key goes with a PEM certificate, not with a PKCS#12 file.")
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            raise PushCertificateError(
                "The file is neither PEM nor a PKCS#12 file Quince can open (wrong --password?)."
            ) from None
        if cert is None or key is None:
            raise PushCertificateError("The PKCS#12 file must hold the certificate and its private key.")
        return _leaf_first([cert, *extra], key), key
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise PushCertificateError("The file holds no PEM certificate Quince can read.") from None
    key = _private_key(key_data if key_data is not None else data, password)
    if key is None:
        where = "the --key file" if key_data is not None else "the certificate file (or give --key)"
        raise PushCertificateError(f"No private key was found in {where}.")
    return _leaf_first(certificates, key), key


def _public_der(key: object) -> bytes:
    public_bytes = getattr(key, "public_bytes", None)
    if public_bytes is None:
        return b""
    der: bytes = public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def _leaf_first(certificates: list[x509.Certificate], key: PrivateKeyTypes) -> list[x509.Certificate]:
    mine = _public_der(key.public_key())
    leaf = [c for c in certificates if _public_der(c.public_key()) == mine]
    if not leaf:
        raise PushCertificateError("The private key does not belong to the certificate.")
    return leaf[:1] + [c for c in certificates if c is not leaf[0]]


def describe(certificate: x509.Certificate, path: Path) -> PushCertificate:
    return PushCertificate(
        topic=topic_of(certificate),
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial=format(certificate.serial_number, "x"),
        fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        path=path,
    )


def install(
    directory: Path,
    data: bytes,
    key_data: bytes | None = None,
    password: bytes | None = None,
    *,
    allow_new_topic: bool = False,
    now: datetime | None = None,
) -> PushCertificate:
    """Check a push certificate and its key and install them (replacing any older one)."""
    now = now or datetime.now(UTC)
    certificates, key = read_identity(data, key_data, password)
    leaf = certificates[0]
    path = directory / IDENTITY_FILE
    summary = describe(leaf, path)
    if summary.not_after <= now:
        raise PushCertificateError(
            f"The push certificate for {summary.topic} expired on {summary.not_after:%Y-%m-%d}. "
            "Renew it in Apple's Push Certificates Portal (keep the same topic) and install the new one."
        )
    if summary.not_before > now:
        raise PushCertificateError(
            f"The push certificate for {summary.topic} is valid only from "
            f"{summary.not_before:%Y-%m-%d %H:%M} UTC; check this machine's clock."
        )
    current = load(directory)
    if current is not None and current.topic != summary.topic and not allow_new_topic:
        # Devices enrolled with the old topic can never be pushed on a new one: they must re-enroll.
        raise PushCertificateError(
            f"The installed push certificate is for {current.topic}, this one for {summary.topic}. "
            "Devices enrolled with the old topic cannot be reached with a new one and would have to "
            "enroll again; renew the existing certificate instead, or pass --new-topic to replace it."
        )
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _replace(path, pem)
    return summary


def _replace(path: Path, data: bytes) -> None:
    """Write `data` to `path` (mode 0600, directory 0700) in one atomic rename."""
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.parent.chmod(DIR_MODE)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".push-", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# Parsed certificates by (path, mtime, size): effective_topic() runs for every enrollment profile.
_cache: dict[Path, tuple[tuple[int, int], PushCertificate]] = {}


def load(directory: Path) -> PushCertificate | None:
    """The installed push certificate, or None when `quince apns set-cert` has not been run."""
    path = directory / IDENTITY_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise PushCertificateError(f"The push certificate in {path} cannot be read: {exc}.") from exc
    summary = describe(certificates[0], path)
    _cache[path] = (stamp, summary)
    return summary


def effective_topic(settings: Settings) -> str:
    """The MDM push topic for new enrollment profiles: the installed certificate's, else
    QUINCE_APNS_TOPIC."""
    installed = load(settings.apns_dir)
    return installed.topic if installed is not None else settings.apns_topic
