"""The configuration profile inside an InstallProfile Payload."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from quince.apple.commands.profile_payload import profile_from_payload
from quince.apple.errors import InvalidCommand


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_payload_is_a_profile_or_invalid(payload: bytes) -> None:
    with contextlib.suppress(InvalidCommand):
        profile_from_payload(payload)
