"""`quince apns`: the MDM push certificate, whose topic devices are pushed on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from quince.cli.runtime import console, err_console, fail, print_json, settings
from quince.cli.views import JsonOption, PasswordStdinOption, read_password
from quince.clients import apns_certificate
from quince.clients.apns import expires_soon
from quince.clients.apns_certificate import PushCertificate, PushCertificateError

app = typer.Typer(no_args_is_help=True, help="The MDM push certificate (APNs) and its push topic.")

CertificateFile = Annotated[Path, typer.Argument(
    exists=True, dir_okay=False, readable=True,
    help="The certificate: PEM (with its key, or give --key) or PKCS#12 (.p12, .pfx).",
)]


def _as_dict(cert: PushCertificate) -> dict[str, Any]:
    return {
        "Installed": True, "Topic": cert.topic, "Subject": cert.subject, "Issuer": cert.issuer,
        "SerialNumber": cert.serial, "FingerprintSha256": cert.fingerprint_sha256,
        "NotBefore": cert.not_before.isoformat(), "NotAfter": cert.not_after.isoformat(),
        "Expired": cert.expired(), "File": str(cert.path.resolve()),
    }


def _line(text: str) -> None:
    # Subjects may hold "[...]": print them as typed, not as Rich markup.
    console.print(text, highlight=False, markup=False, emoji=False, soft_wrap=True)


def _print(cert: PushCertificate) -> None:
    _line(f"Topic:    {cert.topic}")
    _line(f"Subject:  {cert.subject}")
    _line(f"Issuer:   {cert.issuer}")
    _line(f"Expires:  {cert.not_after:%Y-%m-%d %H:%M} UTC")
    _line(f"File:     {cert.path.resolve()}")
    if cert.expired():
        err_console.print("[bold red]The push certificate has expired: devices cannot be pushed.[/] Renew "
                          "it in Apple's Push Certificates Portal (same Apple ID, same topic).")
    elif expires_soon(cert):
        days = (cert.not_after - datetime.now(UTC)).days
        err_console.print(f"[yellow]The push certificate expires in {days} day(s):[/] renew it in Apple's "
                          "Push Certificates Portal (same Apple ID, same topic).")


@app.command("set-cert")
def set_cert(
    file: CertificateFile,
    key: Annotated[Path | None, typer.Option(
        "--key", exists=True, dir_okay=False, readable=True,
        help="PEM private key, when FILE holds only the certificate.",
    )] = None,
    password: Annotated[str | None, typer.Option(
        "--password", help="Password of a PKCS#12 file or an encrypted PEM key."
    )] = None,
    password_stdin: PasswordStdinOption = False,
    new_topic: Annotated[bool, typer.Option(
        "--new-topic", help="Replace an installed certificate that has another topic (devices enrolled "
        "with the old topic must then enroll again).",
    )] = False,
    as_json: JsonOption = False,
) -> None:
    """Install the MDM push certificate Apple issued (PEM with its key, in one file or two, or
    PKCS#12). Its topic goes into new enrollment profiles and every push."""
    config = settings()
    secret = read_password(password, password_stdin, required=False)
    try:
        installed = apns_certificate.install(
            config.apns_dir, file.read_bytes(), key.read_bytes() if key else None,
            secret.encode() if secret is not None else None, allow_new_topic=new_topic,
        )
    except PushCertificateError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(f"Cannot install the push certificate in {config.apns_dir}: {exc}.")
    if as_json:
        print_json(_as_dict(installed))
        return
    console.print("[green]Installed the MDM push certificate.[/]", highlight=False)
    _print(installed)
    console.print("New enrollment profiles name this topic; running servers pick the certificate up "
                  "on their next push.", highlight=False)


@app.command("show")
def show(as_json: JsonOption = False) -> None:
    """The installed push certificate: its topic and expiry."""
    config = settings()
    try:
        installed = apns_certificate.load(config.apns_dir)
    except PushCertificateError as exc:
        fail(exc.message)
    if installed is None:
        if as_json:
            print_json({"Installed": False, "Topic": config.apns_topic})
            return
        _line("No MDM push certificate is installed: devices cannot be pushed.")
        _line(f"Enrollment profiles name the topic from QUINCE_APNS_TOPIC: {config.apns_topic}")
        _line("Install the certificate from Apple's Push Certificates Portal with "
              "`quince apns set-cert FILE`.")
        return
    if as_json:
        print_json(_as_dict(installed))
        return
    _print(installed)
