"""`quince apns set-cert` and `quince apns show`: the MDM push certificate and its topic."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from quince.clients.apns_certificate import effective_topic
from quince.config import Settings
from tests.e2e.cli.conftest import Cli
from tests.support_apns import ApnsDouble, Issued, TestAuthority, new_topic


def var_dir(cli: Cli) -> Path:
    return Path(cli.env["QUINCE_VAR_DIR"])


def inspect(path: Path) -> tuple[int, int, bytes]:
    """The file's mode, its directory's mode, and its content."""
    return stat.S_IMODE(path.stat().st_mode), stat.S_IMODE(path.parent.stat().st_mode), path.read_bytes()


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


async def test_set_cert_installs_the_certificate_and_reads_its_topic(
    cli: Cli, apns_server: ApnsDouble, tmp_path: Path
) -> None:
    out = await cli.ok("apns", "set-cert", str(apns_server.identity_file))
    assert apns_server.topic in out.stdout
    assert "Expires:" in out.stdout

    shown = await cli.json("apns", "show")
    assert shown["Installed"] is True
    assert shown["Topic"] == apns_server.topic
    assert datetime.fromisoformat(shown["NotAfter"]) > datetime.now(UTC) + timedelta(days=300)
    installed = Path(shown["File"])
    assert installed.parent == (var_dir(cli) / "apns").resolve()
    file_mode, dir_mode, content = inspect(installed)
    assert (file_mode, dir_mode) == (0o600, 0o700)
    # The key went along (in the same file, so a renewal replaces both at once).
    assert b"PRIVATE KEY" in content


async def test_the_installed_topic_is_the_one_new_profiles_name(
    cli: Cli, apns_server: ApnsDouble
) -> None:
    settings = Settings(var_dir=var_dir(cli))
    assert effective_topic(settings) == settings.apns_topic  # nothing installed: QUINCE_APNS_TOPIC
    await cli.ok("apns", "set-cert", str(apns_server.identity_file))
    assert effective_topic(settings) == apns_server.topic


async def test_set_cert_accepts_the_key_in_a_second_file(cli: Cli, apns_server: ApnsDouble) -> None:
    data = await cli.json("apns", "set-cert", str(apns_server.cert_file), "--key", str(apns_server.key_file))
    assert data["Topic"] == apns_server.topic


async def test_set_cert_accepts_pkcs12_with_its_password(
    cli: Cli, apns_server: ApnsDouble, tmp_path: Path
) -> None:
    cert = x509.load_pem_x509_certificate(apns_server.push_certificate.cert_pem)
    key = serialization.load_pem_private_key(apns_server.push_certificate.key_pem, None)
    p12 = pkcs12.serialize_key_and_certificates(
        b"push", key, cert, None, serialization.BestAvailableEncryption(b"export-pass"))  # type: ignore[arg-type]
    path = write(tmp_path, "push.p12", p12)

    assert "password" in await cli.fails("apns", "set-cert", path)
    data = await cli.json("apns", "set-cert", path, "--password", "export-pass")
    assert data["Topic"] == apns_server.topic


async def test_set_cert_refuses_a_certificate_without_a_push_topic(cli: Cli, tmp_path: Path) -> None:
    apple = TestAuthority("Test Apple")
    no_uid = write(tmp_path, "no-uid.pem", apple.issue_push_certificate(None).identity_pem)
    assert "is not an MDM push certificate" in await cli.fails("apns", "set-cert", no_uid)

    app_topic = write(tmp_path, "app.pem", apple.issue_push_certificate("com.example.app").identity_pem)
    message = await cli.fails("apns", "set-cert", app_topic)
    assert "com.apple.mgmt." in message and "'com.example.app'" in message
    assert (await cli.json("apns", "show"))["Installed"] is False


async def test_set_cert_refuses_an_expired_certificate(cli: Cli, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    expired = TestAuthority("Test Apple").issue_push_certificate(
        new_topic(), not_before=now - timedelta(days=400), not_after=now - timedelta(days=35))
    message = await cli.fails("apns", "set-cert", write(tmp_path, "old.pem", expired.identity_pem))
    assert "expired on" in message and "Renew it" in message
    assert (await cli.json("apns", "show"))["Installed"] is False


async def test_set_cert_refuses_a_key_of_another_certificate(cli: Cli, tmp_path: Path) -> None:
    apple = TestAuthority("Test Apple")
    one, other = apple.issue_push_certificate(new_topic()), apple.issue_push_certificate(new_topic())
    mixed = write(tmp_path, "mixed.pem", Issued(one.cert_pem, other.key_pem).identity_pem)
    assert "does not belong" in await cli.fails("apns", "set-cert", mixed)
    assert "No private key" in await cli.fails("apns", "set-cert", write(tmp_path, "c.pem", one.cert_pem))


async def test_a_renewal_keeps_the_topic_and_a_new_topic_needs_saying_so(
    cli: Cli, apns_server: ApnsDouble, tmp_path: Path
) -> None:
    await cli.ok("apns", "set-cert", str(apns_server.identity_file))
    renewed = apns_server.apple_ca.issue_push_certificate(apns_server.topic)
    await cli.ok("apns", "set-cert", write(tmp_path, "renewed.pem", renewed.identity_pem))

    other_topic = apns_server.apple_ca.issue_push_certificate(new_topic())
    other = write(tmp_path, "other.pem", other_topic.identity_pem)
    message = await cli.fails("apns", "set-cert", other)
    assert "enroll again" in message and "--new-topic" in message
    assert (await cli.json("apns", "show"))["Topic"] == apns_server.topic
    data = await cli.json("apns", "set-cert", other, "--new-topic")
    assert (await cli.json("apns", "show"))["Topic"] == data["Topic"] != apns_server.topic


async def test_show_without_a_certificate_says_what_to_do(cli: Cli) -> None:
    out = await cli.ok("apns", "show")
    assert "No MDM push certificate is installed" in out.stdout
    assert "quince apns set-cert" in out.stdout
    data = await cli.json("apns", "show")
    assert data == {"Installed": False, "Topic": Settings().apns_topic}
