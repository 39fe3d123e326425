"""The `quince` command.

Each command's module is imported only when that command runs or shows its own help: `quince --help`
lists the commands from `COMMANDS` without importing any of them, and a command that does not serve
never imports the web app (docs/cli.md, "Start-up: where the time goes").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import typer
from typer.core import TyperGroup

SETUP, DIRECTORY, DEVICES, APPS, OPERATIONS = "Setup", "Directory", "Devices", "Apps", "Operations"


@dataclass(frozen=True)
class Entry:
    """A top-level command: where it lives, its `quince --help` panel, and the line listed there
    (a test holds it to the command's own help)."""

    module: str  # in quince.cli
    attribute: str  # a typer.Typer (a command group) or a command function
    panel: str
    help: str


COMMANDS: dict[str, Entry] = {
    "init": Entry("server", "init", SETUP, "Create or upgrade the database under QUINCE_VAR_DIR (and the "
                  "Global root group) and the CA."),
    "serve": Entry("server", "serve", SETUP, "Upgrade the database, then serve Quince with uvicorn."),
    "demo": Entry("demo", "demo", SETUP, "Seed the demo tenant: Acme Corp with its OGs, users, user groups, "
                  "an admin and an API key."),
    "doctor": Entry("doctor", "doctor", SETUP, "Report sign-in names (emails, managed Apple IDs, usernames) "
                    "that several users share."),
    "pki": Entry("pki", "app", SETUP, "Quince's certificate authority (SCEP, profile signing)."),
    "apns": Entry("apns", "app", SETUP, "The MDM push certificate (APNs) and its push topic."),
    "og": Entry("org_groups", "app", DIRECTORY, "Organization groups (OGs): the tree devices enroll into."),
    "settings": Entry("settings", "app", DIRECTORY, "Organization group settings: inherit from the parent "
                      "or override, with child permissions."),
    "users": Entry("users", "app", DIRECTORY, "Enrollment users: the people who enroll devices."),
    "usergroups": Entry("user_groups", "app", DIRECTORY, "User groups: members, and mappings to the OG a "
                        "member's device enrolls into."),
    "admin": Entry("admins", "admin_app", DIRECTORY, "Administrators: REST API accounts with a role, "
                   "limited to one OG and everything below it."),
    "apikey": Entry("admins", "apikey_app", DIRECTORY, "REST API keys (the aw-tenant-code header), each "
                    "belonging to one OG."),
    "apiclient": Entry("api_clients", "app", DIRECTORY, "OAuth clients of the REST API: a client id and "
                       "secret get Bearer tokens at /connect/token, reaching one OG and everything below "
                       "it with a role."),
    "devices": Entry("devices", "app", DEVICES, "Device records and their MDM commands."),
    "enroll": Entry("enroll", "app", DEVICES, "Enrollment: preview where a user's device would enroll."),
    "simulate": Entry("simulate", "simulate", DEVICES, "Enroll simulated iOS 18 iPhones with account-driven "
                      "User Enrollment, as real devices do:\ndiscovery, the sign-in page, the signed "
                      "profile, SCEP, Authenticate and TokenUpdate."),
    "apps": Entry("apps", "app", APPS, "The app catalog, assignments and apps on devices."),
    "vpp": Entry("vpp", "app", APPS, "Apps and Books (VPP): location tokens and purchased apps."),
    "jobs": Entry("jobs", "app", OPERATIONS, "Background jobs: APNs pushes and other outbound work, "
                  "retried with backoff."),
    "logs": Entry("logs", "app", OPERATIONS, "Quince's logs: collect support bundles."),
}


@cache
def load(name: str) -> Any:
    """The click command of `quince NAME`, importing its module."""
    entry = COMMANDS[name]
    target = getattr(importlib.import_module(f"quince.cli.{entry.module}"), entry.attribute)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)  # a group even when it holds one command
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    command.rich_help_panel = entry.panel
    return command


class LazyGroup(TyperGroup):
    """The root group: `COMMANDS`, each loaded when it is resolved; the help lists them unloaded."""

    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        if self.listing:
            return TyperGroup(name=cmd_name, help=entry.help, rich_help_panel=entry.panel)
        return load(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.listing = False


# No local variables in tracebacks: they could hold passwords or API keys.
app = typer.Typer(
    cls=LazyGroup,
    no_args_is_help=True,
    help="Quince: Apple MDM for BYOD User Enrollment.",
    pretty_exceptions_show_locals=False,
)


@app.callback()
def root() -> None:
    """Quince: Apple MDM for BYOD User Enrollment."""


def main() -> None:
    app()
