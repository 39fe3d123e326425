"""`quince simulate`: enroll simulated iPhones against a running Quince, over HTTP only."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.table import Table

from quince.cli.runtime import console, err_console, fail, plain, print_json, progress_bar
from quince.cli.views import JsonOption, PasswordStdinOption, read_password
from quince.domain.expiry_warnings import push_topic_warning
from quince.simulator import Credentials, DeviceRun, run_many


def _as_dict(run: DeviceRun) -> dict[str, Any]:
    enrollment, session = run.enrollment, run.session
    return {
        "Index": run.index + 1,
        "Email": run.device.credentials.email,
        "Outcome": "failed" if run.error else (enrollment.outcome if enrollment else "failed"),
        "EnrollmentId": enrollment.enrollment_id if enrollment else None,
        "ManagedAppleId": enrollment.managed_apple_id if enrollment else None,
        "Topic": enrollment.topic if enrollment else None,
        "Seconds": round(run.seconds, 3),
        "Error": run.error,
        "Steps": [
            {"Name": s.name, "Method": s.method, "Path": s.path, "Status": s.status,
             "Milliseconds": round(s.seconds * 1000, 1)}
            for s in run.device.steps
        ],
        "Commands": [
            {"CommandUuid": e.command_uuid, "RequestType": e.request_type, "Status": e.status}
            for e in (session.exchanges if session else [])
        ],
    }


def simulate(
    server: Annotated[str, typer.Option("--server", help="Quince's public URL, e.g. https://mdm.example.com.")],
    email: Annotated[str, typer.Option("--email", help="The work address the person types on the device.")],
    password: Annotated[str | None, typer.Option("--password", help="The person's password.")] = None,
    password_stdin: PasswordStdinOption = False,
    group_id: Annotated[str | None, typer.Option("--group-id", help="The Group ID typed at sign-in.")] = None,
    devices: Annotated[int, typer.Option("--devices", min=1, max=100_000, help="How many devices.")] = 1,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256,
                                             help="Devices enrolling at the same time.")] = 4,
    abort_after_sign_in: Annotated[bool, typer.Option(
        "--abort-after-sign-in",
        help="Sign in, then cancel: an abandoned enrollment (no profile, no check-in).",
    )] = False,
    connect: Annotated[bool, typer.Option(
        "--connect", help="After enrolling, connect once and answer the queued commands.",
    )] = False,
    ca_file: Annotated[str | None, typer.Option(
        "--ca-file", help="CA bundle that signs the server's TLS certificate (default: the system's).",
    )] = None,
    as_json: JsonOption = False,
) -> None:
    """Enroll simulated iOS 18 iPhones with account-driven User Enrollment, as real devices do:
    discovery, the sign-in page, the signed profile, SCEP, Authenticate and TokenUpdate."""
    secret = read_password(password, password_stdin, required=False)
    if secret is None:
        secret = str(typer.prompt("Password", hide_input=True))
    progress = progress_bar("Enrolling devices", quiet=as_json)
    task = progress.add_task("simulate", total=devices)
    with progress:
        runs = asyncio.run(run_many(
            server, Credentials(email, secret, group_id), devices, concurrency=concurrency,
            abort_after_sign_in=abort_after_sign_in, connect=connect, verify=ca_file or True,
            on_finished=lambda _: progress.advance(task),
        ))
    results = [_as_dict(run) for run in runs]
    # The profile's topic says whether the server has a push certificate: without one, the
    # simulated device answered because it connected by itself, but a real one is never woken.
    push = push_topic_warning(next((r["Topic"] for r in results if r["Topic"]), None)) if connect else None
    if as_json:
        print_json(results)
    else:
        table = Table(title=f"Simulated devices against {plain(server)}")
        for column in ("#", "Outcome", "Enrollment ID", "Seconds", "Commands answered"):
            table.add_column(column, justify="right" if column in ("#", "Seconds") else "left")
        for r in results:
            commands = ", ".join(f"{c['RequestType']}: {c['Status']}" for c in r["Commands"]) or "-"
            outcome = r["Outcome"] if not r["Error"] else f"failed: {r['Error']}"
            table.add_row(str(r["Index"]), plain(outcome), plain(r["EnrollmentId"] or "-"),
                          f"{r['Seconds']:.2f}", plain(commands))
        console.print(table)
    if push is not None:
        err_console.print(f"[yellow]Warning:[/] {plain(push.message)} The simulated devices connected "
                          "on their own; a real device would not.", highlight=False)
    failed = sum(1 for r in results if r["Error"])
    if failed:
        fail(f"{failed} of {len(results)} device(s) failed.")
