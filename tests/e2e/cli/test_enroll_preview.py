"""`quince enroll preview`: where a user's device would enroll, without enrolling anything."""

from __future__ import annotations

import pytest

from tests.e2e.cli.conftest import Cli

PREVIEW_KEYS = {"Allowed", "GroupId", "LocationGroupId", "Reason", "Trace"}


@pytest.fixture
async def acme(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme Corp", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("og", "create", "--parent", "acme", "--name", "Sales", "--group-id", "acme-sales")
    await cli.ok("settings", "set", "acme", "user_enrollment_enabled", "true")
    await cli.ok("users", "add", "alice", "--email", "alice@acme.example", "--group-id", "acme-sales")


async def test_preview_json_has_exactly_the_documented_keys_for_a_decision(cli: Cli, acme: None) -> None:
    preview = await cli.json("enroll", "preview", "alice")
    assert set(preview) == PREVIEW_KEYS
    assert preview["Allowed"] is True
    assert preview["GroupId"] == "acme-sales"
    target = preview["LocationGroupId"]
    assert set(target) == {"Id", "Name", "Uuid"}
    assert set(target["Id"]) == {"Value"} and isinstance(target["Id"]["Value"], int)
    assert target["Name"] == "Sales"
    assert preview["Reason"] == preview["Trace"][-1]
    assert all(isinstance(step, str) for step in preview["Trace"])


async def test_preview_json_of_a_refusal_names_the_target_and_the_reason(cli: Cli, acme: None) -> None:
    await cli.ok("settings", "set", "acme-sales", "user_enrollment_enabled", "false")
    preview = await cli.json("enroll", "preview", "alice", exit_code=1)
    assert set(preview) == PREVIEW_KEYS
    assert preview["Allowed"] is False
    assert preview["GroupId"] == "acme-sales"
    assert "User Enrollment is not enabled for organization group 'Sales'" in preview["Reason"]


async def test_preview_json_of_an_unknown_group_id_has_no_target(cli: Cli, acme: None) -> None:
    preview = await cli.json("enroll", "preview", "alice", "--group-id", "nowhere", exit_code=1)
    assert set(preview) == PREVIEW_KEYS
    assert (preview["Allowed"], preview["GroupId"], preview["LocationGroupId"]) == (False, None, None)
    assert "'nowhere' is not recognised" in preview["Reason"]


async def test_preview_creates_nothing(cli: Cli, acme: None) -> None:
    before = await cli.json("og", "show", "acme-sales")
    await cli.ok("enroll", "preview", "alice")
    assert await cli.json("og", "show", "acme-sales") == before


async def test_preview_human_output_numbers_the_trace(cli: Cli, acme: None) -> None:
    out = (await cli.ok("enroll", "preview", "alice")).stdout
    assert "Allowed" in out and "Sales (Group ID acme-sales)" in out
    assert "  1. User 'alice' is active" in out


async def test_preview_of_a_refusal_says_refused_and_exits_1(cli: Cli, acme: None) -> None:
    await cli.ok("users", "deactivate", "alice")
    out = (await cli.ok("enroll", "preview", "alice", exit_code=1)).stdout
    assert "Refused" in out and "Reason:" in out and "  1. " in out


async def test_preview_of_an_unknown_user_fails_naming_them(cli: Cli, acme: None) -> None:
    assert "User 'mallory' was not found" in await cli.fails("enroll", "preview", "mallory")
