"""Quince's User Enrollment rules come from Apple's schemas: the tables generated from them
(apple/user_enrollment_rules.py) are current, and the lists the checks use agree with them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from quince.apple import user_enrollment as ue
from quince.apple import user_enrollment_rules as rules

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "tools" / "generate_user_enrollment_rules.py"
REFERENCE = ROOT.parent / "shared" / "reference" / "apple-device-management"


def _with(table: dict[str, str], mode: str) -> set[str]:
    return {name for name, stated in table.items() if stated == mode}


def test_the_commands_user_enrollment_allows_and_forbids_are_apples() -> None:
    assert _with(rules.COMMANDS, "allowed") == ue.ALLOWED_COMMANDS
    assert _with(rules.COMMANDS, "forbidden") == ue.FORBIDDEN_COMMANDS


def test_the_payload_types_user_enrollment_allows_and_forbids_are_apples() -> None:
    # TopLevel and CommonPayloadKeys describe every profile's own keys, not a payload type.
    assert _with(rules.PAYLOADS, "allowed") - {"TopLevel", "CommonPayloadKeys"} == ue.ALLOWED_PAYLOAD_TYPES
    assert _with(rules.PAYLOADS, "forbidden") == ue.FORBIDDEN_PAYLOAD_TYPES


def test_apple_forbids_keys_inside_payloads_user_enrollment_allows() -> None:
    forbidden = {(payload, key) for payload in _with(rules.PAYLOADS, "allowed")
                 for key, mode in rules.PAYLOAD_KEYS.get(payload, {}).items() if mode == "forbidden"}
    assert ("com.apple.wifi.managed", "ProxyServer") in forbidden
    assert len(forbidden) > 100


@pytest.mark.skipif(not REFERENCE.is_dir(),
                    reason="Apple's schema snapshot (../shared/reference) is not beside the checkout")
def test_the_generated_tables_are_what_the_schema_snapshot_says() -> None:
    run = subprocess.run([sys.executable, str(GENERATOR), "--check", "--reference", str(REFERENCE)],  # noqa: S603
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr
