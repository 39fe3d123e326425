"""The `quince` command."""

from __future__ import annotations

import typer

from quince.cli import (
    admins,
    api_clients,
    apns,
    apps,
    demo,
    devices,
    doctor,
    enroll,
    jobs,
    logs,
    org_groups,
    pki,
    server,
    settings,
    simulate,
    user_groups,
    users,
    vpp,
)

# No local variables in tracebacks: they could hold passwords or API keys.
app = typer.Typer(
    no_args_is_help=True,
    help="Quince: Apple MDM for BYOD User Enrollment.",
    pretty_exceptions_show_locals=False,
)
app.command()(server.init)
app.command()(server.serve)
app.command()(demo.demo)
app.command()(simulate.simulate)
app.command()(doctor.doctor)
app.add_typer(org_groups.app, name="og")
app.add_typer(settings.app, name="settings")
app.add_typer(users.app, name="users")
app.add_typer(user_groups.app, name="usergroups")
app.add_typer(admins.admin_app, name="admin")
app.add_typer(admins.apikey_app, name="apikey")
app.add_typer(api_clients.app, name="apiclient")
app.add_typer(enroll.app, name="enroll")
app.add_typer(logs.app, name="logs")
app.add_typer(devices.app, name="devices")
app.add_typer(pki.app, name="pki")
app.add_typer(apns.app, name="apns")
app.add_typer(jobs.app, name="jobs")
app.add_typer(vpp.app, name="vpp")
app.add_typer(apps.app, name="apps")


def main() -> None:
    app()
