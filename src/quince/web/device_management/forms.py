"""The fields of the sign-in pages, size-limited and checked before anything else sees them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from quince.domain.errors import InvalidInput

EMAIL_MAX = 254
PASSWORD_MAX = 256
GROUP_ID_MAX = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Group IDs are letters, digits, '-', '_' and '.' (domain/org_groups.py); anything else names no OG.
_GROUP_ID = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    group_id: str | None
    user_identifier: str | None


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):  # a file upload where text belongs
        raise InvalidInput(name, "The form was not filled in as expected. Please try again.")
    return value


def clean_identifier(value: object) -> str | None:
    """The `user-identifier` the device typed, if it is plausible text; else None (never an error)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > EMAIL_MAX or _CONTROL.search(value):
        return None
    return value


def display_value(value: object, limit: int) -> str:
    """A submitted value safe to put back into the form: text only, no controls, cut to `limit`."""
    return _CONTROL.sub("", value)[:limit] if isinstance(value, str) else ""


def group_id(form: Mapping[str, object]) -> str | None:
    """The Group ID typed or chosen, or None for none."""
    value = _text(form, "group_id").strip()
    if not value:
        return None
    if len(value) > GROUP_ID_MAX:
        raise InvalidInput("group_id", f"The Group ID is too long: it has at most {GROUP_ID_MAX} characters.")
    if not _GROUP_ID.fullmatch(value):
        raise InvalidInput(
            "group_id",
            "A Group ID holds only letters, digits, '-', '_' and '.'. Check the Group ID your IT "
            "department gave you, or leave it empty.",
        )
    return value


def sign_in(form: Mapping[str, object]) -> SignIn:
    """The credentials form, or InvalidInput with a message for the person."""
    email = _text(form, "email").strip()
    password = _text(form, "password")
    if not email:
        raise InvalidInput("email", "Enter your email address.")
    if len(email) > EMAIL_MAX:
        raise InvalidInput("email", f"The email address is too long: it has at most {EMAIL_MAX} characters.")
    if _CONTROL.search(email):
        raise InvalidInput("email", "The email address contains characters that are not allowed.")
    if not password:
        raise InvalidInput("password", "Enter your password.")
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(
            "password", f"The password is too long: it has at most {PASSWORD_MAX} characters."
        )
    if "\x00" in password:
        raise InvalidInput("password", "The password contains characters that are not allowed.")
    return SignIn(email, password, group_id(form), clean_identifier(form.get("user_identifier")))
