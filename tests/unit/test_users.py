"""Rules for enrollment users' fields: username, email, names."""

from __future__ import annotations

import pytest

from quince.domain.errors import InvalidInput
from quince.domain.users import (
    username_key,
    validate_email,
    validate_person_name,
    validate_username,
)


def test_usernames_are_trimmed() -> None:
    assert validate_username("  alice ") == "alice"


@pytest.mark.parametrize("username", ["alice", "alice.smith", "alice_2", "alice@acme.com", "jean-é"])
def test_ordinary_usernames_are_accepted(username: str) -> None:
    assert validate_username(username) == username


@pytest.mark.parametrize("username", ["", "   "])
def test_empty_username_is_refused(username: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_username(username)
    assert err.value.field == "UserName"
    assert "must not be empty" in err.value.message


def test_username_of_128_characters_is_accepted_and_129_refused() -> None:
    assert validate_username("u" * 128) == "u" * 128
    with pytest.raises(InvalidInput, match="at most 128 characters"):
        validate_username("u" * 129)


@pytest.mark.parametrize("username", ["alice smith", "a/b", "a\\b", "a\x00b", "a\tb", "a\x7fb"])
def test_usernames_with_spaces_slashes_or_control_characters_are_refused(username: str) -> None:
    with pytest.raises(InvalidInput, match="spaces, slashes or control characters"):
        validate_username(username)


def test_usernames_compare_ignoring_case() -> None:
    assert username_key("Alice") == username_key("ALICE") == username_key("alice")


@pytest.mark.parametrize("email", ["alice@acme.com", "a.b+tag@mail.acme.co.uk", "  alice@acme.com "])
def test_valid_email_addresses_are_accepted_and_trimmed(email: str) -> None:
    assert validate_email(email) == email.strip()


@pytest.mark.parametrize(
    "email", ["", "alice", "alice@", "@acme.com", "alice@acme", "al ice@acme.com", "a@b@acme.com"]
)
def test_invalid_email_addresses_are_refused_naming_the_field(email: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_email(email)
    assert err.value.field == "Email"
    assert "is not an email address" in err.value.message


def test_the_field_name_is_used_in_the_email_message() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_email("nope", "ManagedAppleId")
    assert err.value.field == "ManagedAppleId"
    assert err.value.message.startswith("ManagedAppleId")


def test_email_longer_than_254_characters_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at most 254 characters"):
        validate_email("a" * 250 + "@acme.com")


def test_person_names_are_trimmed_and_may_be_empty() -> None:
    assert validate_person_name("  Zoë ", "FirstName") == "Zoë"
    assert validate_person_name("", "FirstName") == ""


def test_person_names_with_control_characters_or_too_long_are_refused() -> None:
    with pytest.raises(InvalidInput, match="LastName must not contain control characters"):
        validate_person_name("a\nb", "LastName")
    with pytest.raises(InvalidInput, match="at most 100 characters"):
        validate_person_name("x" * 101, "LastName")
