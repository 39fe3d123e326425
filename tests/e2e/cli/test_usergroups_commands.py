"""`quince usergroups`: user groups, members and ranked OG mappings."""

from __future__ import annotations

import pytest

from tests.e2e.cli.conftest import Cli


@pytest.fixture
async def acme(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme Corp", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("og", "create", "--parent", "acme", "--name", "Engineering", "--group-id", "acme-eng")
    await cli.ok("og", "create", "--parent", "Global", "--name", "Beta", "--group-id", "beta",
                 "--type", "Customer")
    for name in ("bob", "carol"):
        await cli.ok("users", "add", name, "--email", f"{name}@acme.example", "--group-id", "acme")


async def test_usergroups_add_and_list(cli: Cli, acme: None) -> None:
    added = await cli.json("usergroups", "add", "Engineering", "--group-id", "acme",
                           "--description", "Everyone in engineering")
    assert added["Name"] == "Engineering" and added["GroupId"] == "acme" and added["Members"] == 0
    listed = await cli.json("usergroups", "list")
    assert [(g["Name"], g["Members"]) for g in listed] == [("Engineering", 0)]


async def test_usergroups_members_add_list_and_remove(cli: Cli, acme: None) -> None:
    await cli.ok("usergroups", "add", "Engineering", "--group-id", "acme")
    added = await cli.json("usergroups", "members", "add", "Engineering", "bob", "carol")
    assert added["Added"] == ["bob", "carol"]
    again = await cli.json("usergroups", "members", "add", "engineering", "bob")
    assert again["AlreadyMembers"] == ["bob"]
    members = await cli.json("usergroups", "members", "list", "Engineering")
    assert [m["UserName"] for m in members] == ["bob", "carol"]
    await cli.ok("usergroups", "members", "remove", "Engineering", "carol")
    assert [m["UserName"] for m in await cli.json("usergroups", "members", "list", "Engineering")] == ["bob"]


async def test_usergroups_map_lists_and_unmaps_with_ranks(cli: Cli, acme: None) -> None:
    await cli.ok("usergroups", "add", "Engineering", "--group-id", "acme")
    mapped = await cli.json("usergroups", "map", "Engineering", "--group-id", "acme-eng", "--rank", "2")
    assert (mapped["GroupId"], mapped["Rank"], mapped["UserGroup"]) == ("acme-eng", 2, "Engineering")
    await cli.ok("usergroups", "map", "Engineering", "--group-id", "acme", "--rank", "5")
    reranked = await cli.json("usergroups", "map", "Engineering", "--group-id", "acme", "--rank", "1")
    assert reranked["Rank"] == 1
    mappings = await cli.json("usergroups", "mappings", "Engineering")
    assert [(m["GroupId"], m["Rank"]) for m in mappings] == [("acme", 1), ("acme-eng", 2)]
    await cli.ok("usergroups", "unmap", "Engineering", "--group-id", "acme")
    assert [m["GroupId"] for m in await cli.json("usergroups", "mappings", "Engineering")] == ["acme-eng"]


async def test_usergroups_map_refuses_an_og_outside_the_groups_own(cli: Cli, acme: None) -> None:
    await cli.ok("usergroups", "add", "Engineering", "--group-id", "acme")
    message = await cli.fails("usergroups", "map", "Engineering", "--group-id", "beta", "--rank", "1")
    assert "can only map to that organization group or one below it" in message


async def test_usergroups_delete_keeps_the_users(cli: Cli, acme: None) -> None:
    await cli.ok("usergroups", "add", "Engineering", "--group-id", "acme")
    await cli.ok("usergroups", "members", "add", "Engineering", "bob")
    await cli.ok("usergroups", "delete", "Engineering")
    assert await cli.json("usergroups", "list") == []
    assert (await cli.json("users", "show", "bob"))["UserName"] == "bob"
    message = await cli.fails("usergroups", "mappings", "Engineering")
    assert "User group 'Engineering' was not found" in message
