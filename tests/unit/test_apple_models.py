"""The model names the console shows beside Apple's identifiers."""

from __future__ import annotations

from quince.domain.apple_models import MARKETING_NAMES, marketing_name


def test_an_identifier_reads_as_the_name_people_know() -> None:
    assert marketing_name("iPhone16,1") == "iPhone 15 Pro"
    assert marketing_name("iPhone10,1") == "iPhone 8"
    assert marketing_name("iPad7,5") == "iPad (6th generation)"
    assert marketing_name("iPad16,5") == "iPad Pro 13-inch (M4)"


def test_an_unknown_or_missing_identifier_has_no_name() -> None:
    for identifier in ("iPhone9,1", "iPad6,11", "Watch7,1", "iphone16,1", "", None):
        assert marketing_name(identifier) is None


def test_every_identifier_is_an_iphone_or_ipad_and_names_its_own_family() -> None:
    for identifier, name in MARKETING_NAMES.items():
        family = identifier.split(",")[0].rstrip("0123456789")
        assert family in ("iPhone", "iPad") and name.startswith(family), identifier
