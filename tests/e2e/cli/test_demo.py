"""`quince demo`: the demo tenant, and the enrollment outcomes the README promises for it."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.cli.conftest import Cli


async def test_demo_if_fresh_seeds_once(cli: Cli) -> None:
    first = await cli.json("demo", "--if-fresh")
    second = await cli.json("demo", "--if-fresh")
    assert first["Seeded"] is True and second == {"Seeded": False}
    assert len(await cli.json("users", "list")) == len(first["Users"])


async def test_demo_if_fresh_leaves_an_install_that_has_groups_alone(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Real", "--group-id", "real",
                 "--type", "Customer")
    assert await cli.json("demo", "--if-fresh") == {"Seeded": False}
    assert "acme" not in {og["GroupId"] for og in await cli.json("og", "list")}


async def test_demo_without_if_fresh_refuses_when_the_demo_is_there(cli: Cli) -> None:
    await cli.ok("demo")
    message = await cli.fails("demo")
    assert "The demo tenant is already there" in message


async def test_demo_builds_the_tree_the_readme_shows(cli: Cli) -> None:
    await cli.ok("demo")
    tree = await cli.json("og", "tree", "--group-id", "acme")
    assert (tree["Name"], tree["LocationGroupType"]) == ("Acme Corp", "Customer")
    children = {c["GroupId"]: c for c in tree["Children"]}
    assert set(children) == {"acme-sales", "acme-eng", "acme-contractors"}
    assert [c["GroupId"] for c in children["acme-eng"]["Children"]] == ["acme-eng-mobile"]
    settings = {s["Key"]: s for s in (await cli.json("settings", "show", "acme-contractors"))["Settings"]}
    assert settings["user_enrollment_enabled"]["Value"] is False
    assert settings["user_enrollment_enabled"]["CurrentSetting"] == "Override"
    eng = {s["Key"]: s for s in (await cli.json("settings", "show", "acme-eng"))["Settings"]}
    assert eng["group_id_assignment_mode"]["Value"] == "select_from_list"


async def test_demo_devices_show_enrolled_in_progress_and_abandoned_records(cli: Cli) -> None:
    await cli.ok("demo")
    found = await cli.json("devices", "list")
    by_status: dict[str, list[dict[str, object]]] = {}
    for row in found:
        by_status.setdefault(str(row["EnrollmentStatus"]), []).append(row)
    enrolled = by_status["Enrolled"]
    assert len(enrolled) == 5  # alice, bob (iPhone and iPad), grace's second try, carol
    assert all(d["IsUserEnrolled"] and d["Ownership"] == "E" and d["LicenseTypeEligibility"] == 2
               and d["Udid"] for d in enrolled)
    in_progress = by_status["EnrollmentInProgress"]
    abandoned = [d for d in in_progress if d["SupersededByDeviceId"]]
    assert len(in_progress) == 2 and len(abandoned) == 1  # henry just signed in; grace's first try
    assert abandoned[0]["SupersededByDeviceId"] in {d["Id"] for d in enrolled}


async def test_demo_users_have_the_documented_managed_apple_ids(cli: Cli) -> None:
    await cli.ok("demo")
    users = {u["UserName"]: u for u in await cli.json("users", "list")}
    assert len(users) == 7
    assert users["alice"]["ManagedAppleId"] == "alice@acme.example"
    assert users["henry"]["ManagedAppleId"] == "h.hall@appleid.acme.example"
    assert users["henry"]["Email"] == "henry@acme.example"
    assert users["erin"]["Status"] is False


@pytest.mark.parametrize(
    ("username", "group_id", "allowed", "target", "in_trace"),
    [
        ("alice", None, True, "acme-sales", "Candidate: the user's enrollment organization group"),
        ("bob", None, True, "acme-eng", "from user group 'Engineering'"),
        ("bob", "acme-sales", True, "acme-eng", "is ignored: a user-group mapping wins"),
        ("carol", None, True, "acme-eng-mobile", "Best rank is 1: user group 'Mobile team'"),
        ("grace", None, True, "acme-eng-mobile", "Tie at rank 1 between 'Mobile team', 'Sales'"),
        ("dave", None, False, "acme-contractors", "User Enrollment is disabled at 'Contractors'"),
        ("erin", None, False, None, "User 'erin' is inactive"),
        ("henry", None, True, "acme", "User Enrollment is enabled at 'Acme Corp' (Group ID acme) "
                                      "(overridden here)"),
        ("henry", "acme-eng-mobile", True, "acme-eng-mobile", "from the entered Group ID"),
        ("alice", "acme-eng", False, None, "is not 'Sales' (Group ID acme-sales) or below it"),
    ],
)
async def test_demo_previews_give_the_outcomes_the_readme_claims(
    cli: Cli, username: str, group_id: str | None, allowed: bool, target: str | None, in_trace: str
) -> None:
    await cli.ok("demo")
    args = ["enroll", "preview", username] + (["--group-id", group_id] if group_id else [])
    preview = await cli.json(*args, exit_code=0 if allowed else 1)
    assert preview["Allowed"] is allowed
    assert preview["GroupId"] == target
    assert any(in_trace in step for step in preview["Trace"]), preview["Trace"]


async def test_demo_admin_and_key_reach_the_rest_preview(cli: Cli, live_server: str) -> None:
    seeded = await cli.json("demo")
    admin = seeded["Admin"]
    async with httpx.AsyncClient(
        base_url=live_server, auth=(admin["UserName"], admin["Password"]),
        headers={"aw-tenant-code": seeded["Key"]}, timeout=30,
    ) as client:
        response = await client.get("/API/mdm/enrollment/preview", params={"username": "carol"})
    assert response.status_code == 200, response.text
    assert response.json() == await cli.json("enroll", "preview", "carol")


async def test_demo_has_purchased_apps_with_licence_counts_without_asking_apple(cli: Cli) -> None:
    await cli.ok("demo")
    found = await cli.json("apps", "list", "--kind", "purchased")
    by_name = {app["ApplicationName"]: app for app in found}
    assert set(by_name) == {"Microsoft Outlook", "Slack"}
    outlook = by_name["Microsoft Outlook"]
    assert (outlook["BundleId"], outlook["GroupId"], outlook["Purchased"], outlook["Redeemed"]) == (
        "com.microsoft.Office.Outlook", "acme", 50, 12)
