"""`quince init` creates Quince's CA; `quince pki show` prints it (issue 3, "PKI and SCEP")."""

from __future__ import annotations

import stat
from pathlib import Path

from quince.pki import authority
from tests.e2e.cli.conftest import Cli


def _pki_dir(cli: Cli) -> Path:
    return Path(cli.env["QUINCE_VAR_DIR"]) / "pki"


async def test_init_creates_the_ca_and_signing_identity_with_private_files(cli: Cli) -> None:
    result = await cli.ok("init")
    assert "Certificate authority ready" in result.stdout
    directory = _pki_dir(cli)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in ("ca.key", "ca.crt", "signing.key", "signing.crt"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name


async def test_init_again_keeps_the_same_ca(cli: Cli) -> None:
    await cli.ok("init")
    first = (_pki_dir(cli) / "ca.key").read_bytes()
    await cli.ok("init")
    assert (_pki_dir(cli) / "ca.key").read_bytes() == first


async def test_pki_show_json_gives_subject_fingerprint_and_expiry_of_both(cli: Cli) -> None:
    await cli.ok("init")
    shown = await cli.json("pki", "show")
    pki = authority.load(_pki_dir(cli))
    assert shown["Directory"] == str(_pki_dir(cli).resolve())
    for key, certificate in (("CertificateAuthority", pki.ca_certificate),
                             ("ProfileSigning", pki.signing_certificate)):
        assert set(shown[key]) == {"Subject", "SerialNumber", "FingerprintSha256", "NotBefore", "NotAfter"}
        assert shown[key]["Subject"] == certificate.subject.rfc4514_string()
        assert shown[key]["FingerprintSha256"] == authority.fingerprint_sha256(certificate)
        assert shown[key]["NotAfter"] == certificate.not_valid_after_utc.isoformat()


async def test_pki_show_prints_the_fingerprint_for_people(cli: Cli) -> None:
    await cli.ok("init")
    out = (await cli.ok("pki", "show")).stdout
    fingerprint = authority.fingerprint_sha256(authority.load(_pki_dir(cli)).ca_certificate).upper()
    assert ":".join(fingerprint[i:i + 2] for i in range(0, 64, 2)) in out
    assert "Certificate authority" in out and "Profile signing" in out and "Expires:" in out


async def test_pki_show_before_init_says_to_run_init(cli: Cli) -> None:
    assert "quince init" in await cli.fails("pki", "show")


async def test_pki_show_prints_subjects_verbatim(cli: Cli) -> None:
    # Rich would read "[EU]" as markup and ":cd:" as an emoji code; fingerprints hold ":AB:" too.
    await cli.ok("init", QUINCE_ORGANIZATION_NAME="Acme [EU] :cd:")
    out = (await cli.ok("pki", "show")).stdout
    assert "O=Acme [EU] :cd:" in out
    assert "CN=Acme [EU] :cd: MDM Profile Signing" in out
