"""`quince pki`: Quince's certificate authority and profile-signing identity."""

from __future__ import annotations

from typing import Any

import typer

from quince.cli.runtime import console, fail, print_json, settings
from quince.cli.views import JsonOption
from quince.pki import authority
from quince.pki.authority import CertificateSummary

app = typer.Typer(no_args_is_help=True, help="Quince's certificate authority (SCEP, profile signing).")

_TITLES = {"ca": "Certificate authority", "signing": "Profile signing"}
_KEYS = {"ca": "CertificateAuthority", "signing": "ProfileSigning"}


def _as_dict(summary: CertificateSummary) -> dict[str, Any]:
    return {
        "Subject": summary.subject,
        "SerialNumber": summary.serial,
        "FingerprintSha256": summary.fingerprint_sha256,
        "NotBefore": summary.not_before.isoformat(),
        "NotAfter": summary.not_after.isoformat(),
    }


@app.command("show")
def show(as_json: JsonOption = False) -> None:
    """Print the CA's and the profile-signing certificate's subject, SHA-256 fingerprint and expiry."""
    config = settings()
    try:
        summaries = authority.load(config.pki_dir).describe()
    except authority.PkiError as exc:
        fail(exc.message)
    if as_json:
        data: dict[str, Any] = {"Directory": str(config.pki_dir.resolve())}
        data.update({_KEYS[s.role]: _as_dict(s) for s in summaries})
        print_json(data)
        return
    # Plain text: a subject may hold "[...]" and a fingerprint ":AB:", which Rich would read as
    # markup or an emoji code.
    def line(text: str) -> None:
        console.print(text, highlight=False, markup=False, emoji=False, soft_wrap=True)

    line(f"Directory: {config.pki_dir.resolve()}")
    for summary in summaries:
        fingerprint = ":".join(
            summary.fingerprint_sha256[i:i + 2] for i in range(0, len(summary.fingerprint_sha256), 2)
        ).upper()
        console.print(f"\n[bold]{_TITLES[summary.role]}[/]", highlight=False)
        line(f"  Subject:     {summary.subject}")
        line(f"  SHA-256:     {fingerprint}")
        line(f"  Serial:      {summary.serial}")
        line(f"  Not before:  {summary.not_before:%Y-%m-%d %H:%M:%S} UTC")
        line(f"  Expires:     {summary.not_after:%Y-%m-%d %H:%M:%S} UTC")
