"""Names people type may hold "[...]": the CLI's human output prints them as typed, never as Rich
markup (which would restyle them, drop them, or crash on a stray closing tag like "[/bad]")."""

from __future__ import annotations

import pytest

from tests.e2e.cli.conftest import Cli

OG = "Sales [EU] [/bad]"
TEAM = "[bold]Team[/bold]"
FIRST = "[red]Ann[/red]"
LAST = "[/]"
APP = "Notes [beta] [/i]"


@pytest.fixture
async def sales(cli: Cli) -> str:
    """Creates the OG named OG (Group ID "sales") and returns `og create`'s output."""
    return (await cli.ok("og", "create", "--parent", "Global", "--name", OG, "--group-id", "sales",
                         "--type", "Customer")).stdout


async def test_og_create_prints_a_bracketed_name_as_typed(sales: str) -> None:
    assert f"Created Customer {OG} (Group ID sales) below Global." in " ".join(sales.split())


async def test_og_list_tree_and_show_print_a_bracketed_name_as_typed(cli: Cli, sales: str) -> None:
    await cli.ok("og", "create", "--parent", "sales", "--name", "[dim]Child[/dim]", "--group-id", "child")
    listed = (await cli.ok("og", "list")).stdout
    assert OG in listed and "[dim]Child[/dim]" in listed and f"{OG} (sales)" in listed  # the Parent column
    tree = (await cli.ok("og", "tree")).stdout
    assert OG in tree and "[dim]Child[/dim]" in tree
    assert OG in (await cli.ok("og", "show", "sales")).stdout


async def test_og_update_and_delete_print_a_bracketed_name_as_typed(cli: Cli, sales: str) -> None:
    await cli.ok("og", "create", "--parent", "sales", "--name", "Old", "--group-id", "child")
    updated = (await cli.ok("og", "update", "child", "--name", "[u]New[/u]")).stdout
    assert "Updated [u]New[/u] (Group ID child," in updated
    assert "Deleted [u]New[/u] (Group ID child)." in (await cli.ok("og", "delete", "child")).stdout


async def test_usergroups_commands_print_a_bracketed_name_as_typed(cli: Cli, sales: str) -> None:
    added = (await cli.ok("usergroups", "add", TEAM, "--group-id", "sales",
                          "--description", "[italic]who[/]")).stdout
    assert f"Created user group {TEAM} (id " in added
    listed = (await cli.ok("usergroups", "list")).stdout
    assert TEAM in listed and "[italic]who[/]" in listed
    await cli.ok("users", "add", "ann", "--email", "ann@example.com", "--group-id", "sales")
    assert f"Added to {TEAM}: ann." in (await cli.ok("usergroups", "members", "add", TEAM, "ann")).stdout
    assert f"Members of {TEAM}" in (await cli.ok("usergroups", "members", "list", TEAM)).stdout
    mapped = (await cli.ok("usergroups", "map", TEAM, "--group-id", "sales", "--rank", "1")).stdout
    assert f"Mapped {TEAM} -> {OG} (sales) at rank 1." in " ".join(mapped.split())
    mappings = (await cli.ok("usergroups", "mappings", TEAM)).stdout
    assert f"Mappings of {TEAM}" in mappings and OG in mappings
    assert f"Deleted user group {TEAM}." in (await cli.ok("usergroups", "delete", TEAM)).stdout


async def test_users_commands_print_bracketed_names_as_typed(cli: Cli, sales: str) -> None:
    added = (await cli.ok("users", "add", "ann", "--email", "ann@example.com", "--group-id", "sales",
                          "--first-name", FIRST, "--last-name", LAST)).stdout
    assert f"Added user ann at {OG} (sales)" in " ".join(added.split())
    shown = (await cli.ok("users", "show", "ann")).stdout
    assert FIRST in shown and LAST in shown and OG in shown
    assert f"{FIRST} {LAST}" in (await cli.ok("users", "list")).stdout


async def test_errors_quoting_a_bracketed_name_print_it_as_typed(cli: Cli, sales: str) -> None:
    taken = await cli.fails("og", "create", "--parent", "Global", "--name", "Other", "--group-id", "SALES")
    assert f"Error: Group ID 'SALES' is already used by organization group '{OG}'" in taken
    await cli.ok("usergroups", "add", TEAM, "--group-id", "sales")
    again = await cli.fails("usergroups", "add", TEAM, "--group-id", "sales")
    assert f"A user group named '{TEAM}' already exists" in again
    missing = await cli.fails("og", "show", "[/nope]")
    assert "[/nope]" in missing


async def test_settings_show_prints_a_bracketed_source_name_as_typed(cli: Cli, sales: str) -> None:
    await cli.ok("og", "create", "--parent", "sales", "--name", "Child", "--group-id", "child")
    await cli.ok("settings", "set", "sales", "user_enrollment_enabled", "true")
    assert f"Settings at {OG} (sales)" in (await cli.ok("settings", "show", "sales")).stdout
    assert f"Inherit from {OG} (sales)" in (await cli.ok("settings", "show", "child")).stdout
    inherited = (await cli.ok("settings", "inherit", "child", "user_enrollment_enabled")).stdout
    assert f"inherited from {OG} (sales)" in " ".join(inherited.split())


async def test_apps_commands_print_a_bracketed_name_as_typed(cli: Cli, sales: str) -> None:
    added = (await cli.ok("apps", "add-public", APP, "com.example.notes", "--adam-id", "1",
                          "--group-id", "sales")).stdout
    assert f"Added public app '{APP}' (com.example.notes)" in added
    assert APP in (await cli.ok("apps", "list")).stdout
