"""A Command through a JSON column and back."""

from __future__ import annotations

import datetime
import json

from quince.apple.commands.building import build_command
from quince.apple.commands.json_codec import command_from_json, command_json
from quince.apple.mdm_messages.replies import command_plist, parse_command_plist

from .profiles import WIFI_PROFILE, signed


def test_a_command_with_data_survives_a_json_column_and_becomes_the_same_plist() -> None:
    command = build_command("InstallProfile", {"Payload": signed(WIFI_PROFILE)})
    command["When"] = datetime.datetime(2025, 1, 1, 8, 30)
    stored = json.loads(json.dumps(command_json(command)))
    assert command_from_json(stored) == command
    assert parse_command_plist(command_plist("c-1", command_from_json(stored))) == ("c-1", command)
