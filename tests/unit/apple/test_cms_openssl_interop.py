"""Interoperability with an independent CMS implementation (the openssl command), when installed.

OpenSSL's `-stream` output is BER with indefinite lengths, as some Apple clients send.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from quince.apple import cms

from .pki import Identity, device_identity

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
BODY = b"<plist version='1.0'><dict><key>Status</key><string>Idle</string></dict></plist>\n"


def openssl(*args: str | Path) -> bytes:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *map(str, args)], check=True, capture_output=True).stdout  # noqa: S603 - fixed argv


@pytest.fixture(params=["rsa", "ec"])
def files(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Identity, Path, Path, Path]:
    identity = device_identity(request.param)
    cert, key, body = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "body"
    cert.write_bytes(identity.cert.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        identity.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    body.write_bytes(BODY)
    return identity, cert, key, body


@pytest.mark.parametrize("extra", [[], ["-stream"], ["-md", "sha1"], ["-md", "sha384"], ["-noattr"]])
def test_attached_signatures_made_by_openssl_verify(
    files: tuple[Identity, Path, Path, Path], extra: list[str]
) -> None:
    identity, cert, key, body = files
    signed = openssl(
        "cms",
        "-sign",
        "-binary",
        "-nodetach",
        "-in",
        body,
        "-signer",
        cert,
        "-inkey",
        key,
        "-outform",
        "DER",
        *extra,
    )
    assert cms.verify_attached(signed) == (BODY, identity.cert)


def test_detached_signatures_made_by_openssl_verify(files: tuple[Identity, Path, Path, Path]) -> None:
    identity, cert, key, body = files
    signature = openssl(
        "cms", "-sign", "-binary", "-in", body, "-signer", cert, "-inkey", key, "-outform", "DER"
    )
    assert cms.verify_detached(signature, BODY) == identity.cert


def test_openssl_verifies_what_quince_signs(files: tuple[Identity, Path, Path, Path], tmp_path: Path) -> None:
    identity, _, _, _ = files
    signed = tmp_path / "signed.der"
    signed.write_bytes(cms.sign(BODY, identity.cert, identity.key))
    # -noverify: the throwaway certificate chains to nothing openssl trusts; the signature is checked.
    assert openssl("cms", "-verify", "-noverify", "-binary", "-inform", "DER", "-in", signed) == BODY
