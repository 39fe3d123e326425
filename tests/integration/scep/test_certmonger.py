"""Interoperability with an independent SCEP client: certmonger (Debian package `certmonger`).

`scep-submit` reads GetCACaps and GetCACert; the certmonger daemon itself builds a PKCSReq (its own
key, CSR with challengePassword, envelope, signature), and `scep-submit` sends it, checks the
CertRep's signature against Quince's CA and decrypts the certificate. The daemon runs without
systemd or D-Bus: `certmonger -L` listens on a private socket and `-c` runs one script, then stops.

Outside CI the tests are skipped when certmonger is not installed; under CI=true they must run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from quince.pki.authority import Pki
from tests.integration.scep.conftest import NewChallenge, NewEnrollment, Stored

SCEP = "/DeviceServices/scep"
SCEP_SUBMIT = ("/usr/libexec/certmonger/scep-submit", "/usr/lib/certmonger/scep-submit")


@dataclass(frozen=True)
class Tools:
    scep_submit: str
    certmonger: str
    getcert: str


def _find_tools() -> Tools | None:
    scep_submit = next((p for p in SCEP_SUBMIT if os.access(p, os.X_OK)), None)
    certmonger = shutil.which("certmonger") or shutil.which("certmonger", path="/usr/sbin:/sbin")
    getcert = shutil.which("getcert")
    if scep_submit and certmonger and getcert:
        return Tools(scep_submit, certmonger, getcert)
    return None


@pytest.fixture(scope="module")
def tools() -> Tools:
    found = _find_tools()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("certmonger (scep-submit, certmonger, getcert) must be installed under CI: "
                        "apt-get install -y certmonger")
        pytest.skip("certmonger is not installed (apt-get install -y certmonger)")
    return found


def _run(
    argv: list[str], env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (a fixed program and arguments built here)
        argv, capture_output=True, text=True, timeout=timeout, check=False, env=env,
    )


async def test_scep_submit_reads_the_capabilities(tools: Tools, live_server: str) -> None:
    done = await asyncio.to_thread(_run, [tools.scep_submit, "-u", live_server + SCEP, "-c"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert {"POSTPKIOperation", "SHA-256", "AES", "SCEPStandard"} <= set(done.stdout.split())


async def test_scep_submit_reads_the_ca_certificate(tools: Tools, live_server: str, server_pki: Pki) -> None:
    done = await asyncio.to_thread(_run, [tools.scep_submit, "-u", live_server + SCEP, "-C"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert x509.load_pem_x509_certificates(done.stdout.encode()) == [server_pki.ca_certificate]


@dataclass
class Daemon:
    """A private certmonger: its state, socket and files in one short temporary directory."""

    tools: Tools
    home: Path

    def request(self, url: str, ca_pem: Path, challenge: str) -> str:
        """Add Quince as an SCEP CA, request a certificate with `challenge`, wait; `getcert list`."""
        script = self.home / "enroll.sh"
        script.write_text(
            # -N pins Quince's CA (as a device pins CAFingerprint): certmonger treats a lone
            # GetCACert certificate as the RA's and verifies CertReps against -N.
            f'"{self.tools.getcert}" add-scep-ca -c Quince -u "{url}" -N "{ca_pem}"\n'
            f'"{self.tools.getcert}" request -c Quince -k "{self.home}/device.key" '
            f'-f "{self.home}/device.crt" -N "CN=certmonger device" -L "{challenge}" -w -v\n'
            f'"{self.tools.getcert}" list\n'
        )
        state = {name: self.home / name for name in ("requests", "cas", "local", "tmp")}
        for path in state.values():
            path.mkdir(mode=0o700)
        env = {
            **os.environ,
            "CERTMONGER_CONFIG_DIR": str(self.home),
            "CERTMONGER_REQUESTS_DIR": str(state["requests"]),
            "CERTMONGER_CAS_DIR": str(state["cas"]),
            "CERTMONGER_LOCAL_CA_DIR": str(state["local"]),
            "CERTMONGER_TMPDIR": str(state["tmp"]),
            "CERTMONGER_SYSTEM_LOCK_FILE": str(self.home / "lock"),
        }
        done = _run(
            [self.tools.certmonger, "-n", "-L", "-P", str(self.home / "socket"), "-d", "1",
             "-c", f"sh {script}"],
            env=env,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr


@pytest.fixture
def daemon(tools: Tools) -> Iterator[Daemon]:
    # A short path: the private socket's name must fit in sun_path (108 bytes).
    home = Path(tempfile.mkdtemp(prefix="qcm-"))
    try:
        yield Daemon(tools, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _ca_pem(daemon: Daemon, pki: Pki) -> Path:
    path = daemon.home / "quince-ca.pem"
    path.write_bytes(pki.ca_certificate.public_bytes(serialization.Encoding.PEM))
    return path


async def test_certmonger_obtains_a_certificate_with_the_enrollment_challenge(
    daemon: Daemon, live_server: str, server_pki: Pki, new_enrollment: NewEnrollment,
    new_challenge: NewChallenge, stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    challenge = await new_challenge(enrollment)
    output = await asyncio.to_thread(
        daemon.request, live_server + SCEP, _ca_pem(daemon, server_pki), challenge
    )
    assert "status: MONITORING" in output, output
    certificate = x509.load_pem_x509_certificate((daemon.home / "device.crt").read_bytes())
    certificate.verify_directly_issued_by(server_pki.ca_certificate)
    # certmonger asked for "CN=certmonger device"; Quince names the certificate after the enrollment.
    assert certificate.subject == server_pki.device_subject(enrollment.session_uuid)
    key = serialization.load_pem_private_key((daemon.home / "device.key").read_bytes(), password=None)
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    (row,) = await stored.certificates(enrollment.session_id)
    assert row.serial == format(certificate.serial_number, "x")


async def test_certmonger_is_rejected_with_a_wrong_challenge_and_nothing_is_issued(
    daemon: Daemon, live_server: str, server_pki: Pki, new_enrollment: NewEnrollment,
    new_challenge: NewChallenge, stored: Stored,
) -> None:
    enrollment = await new_enrollment()
    await new_challenge(enrollment)
    before = await stored.certificate_count()
    output = await asyncio.to_thread(
        daemon.request, live_server + SCEP, _ca_pem(daemon, server_pki),
        "00000000000000000000000000000000",
    )
    # certmonger read a signed CertRep FAILURE with failInfo badRequest and gave up.
    assert "status: CA_REJECTED" in output, output
    assert "Transaction either is not permitted or is not supported by server" in output
    assert not (daemon.home / "device.crt").exists()
    assert await stored.certificate_count() == before
