"""`quince settings`: inherit or override per OG, with child permissions."""

from __future__ import annotations

from typing import Any

from tests.e2e.cli.conftest import Cli


async def _tree(cli: Cli) -> None:
    await cli.ok("og", "create", "--parent", "Global", "--name", "Acme Corp", "--group-id", "acme",
                 "--type", "Customer")
    await cli.ok("og", "create", "--parent", "acme", "--name", "Engineering", "--group-id", "acme-eng")
    await cli.ok("og", "create", "--parent", "acme-eng", "--name", "Mobile", "--group-id", "acme-mobile")


def _setting(shown: dict[str, Any], key: str) -> dict[str, Any]:
    return next(s for s in shown["Settings"] if s["Key"] == key)


async def test_settings_show_gives_value_current_setting_and_source(cli: Cli) -> None:
    await _tree(cli)
    shown = await cli.json("settings", "show", "acme-eng")
    assert shown["GroupId"] == "acme-eng"
    ue = _setting(shown, "user_enrollment_enabled")
    assert ue["Value"] is False
    assert ue["CurrentSetting"] == "Inherit"
    assert ue["SourceGroupId"] == "Global"
    assert ue["ChildPermission"] == "InheritOrOverride"
    assert {s["Key"] for s in shown["Settings"]} == {
        "user_enrollment_enabled", "group_id_assignment_mode", "default_ownership",
        "companion_app_bundle_id", "vpp_release_license_on_unenroll",
    }


async def test_settings_set_overrides_and_children_inherit_it(cli: Cli) -> None:
    await _tree(cli)
    set_ = await cli.json("settings", "set", "acme", "user_enrollment_enabled", "true")
    assert set_["Value"] is True and set_["CurrentSetting"] == "Override"
    below = _setting(await cli.json("settings", "show", "acme-mobile"), "user_enrollment_enabled")
    assert below["Value"] is True
    assert below["CurrentSetting"] == "Inherit"
    assert below["SourceGroupId"] == "acme"


async def test_settings_inherit_drops_the_override(cli: Cli) -> None:
    await _tree(cli)
    await cli.ok("settings", "set", "acme", "user_enrollment_enabled", "true")
    await cli.ok("settings", "set", "acme-eng", "user_enrollment_enabled", "false")
    back = await cli.json("settings", "inherit", "acme-eng", "user_enrollment_enabled")
    assert back["Value"] is True and back["CurrentSetting"] == "Inherit" and back["SourceGroupId"] == "acme"


async def test_settings_set_refuses_an_override_below_inherit_only(cli: Cli) -> None:
    await _tree(cli)
    await cli.ok("settings", "set", "acme-eng", "user_enrollment_enabled", "false",
                 "--child-permission", "InheritOnly")
    message = await cli.fails("settings", "set", "acme-mobile", "user_enrollment_enabled", "true")
    assert "cannot be set to override at 'Mobile'" in message
    assert "'Engineering' sets child permission InheritOnly" in message


async def test_settings_set_refuses_an_unknown_setting_and_a_bad_value(cli: Cli) -> None:
    await _tree(cli)
    assert "There is no setting 'colour'" in await cli.fails("settings", "set", "acme", "colour", "red")
    message = await cli.fails("settings", "set", "acme", "user_enrollment_enabled", "maybe")
    assert "takes true or false" in message


async def test_settings_human_output_says_where_the_value_comes_from(cli: Cli) -> None:
    await _tree(cli)
    await cli.ok("settings", "set", "acme", "user_enrollment_enabled", "true")
    out = (await cli.ok("settings", "show", "acme-mobile")).stdout
    assert "Inherit from Acme Corp (acme)" in out
