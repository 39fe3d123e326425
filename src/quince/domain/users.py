"""Rules for enrollment users' fields."""

from __future__ import annotations

import hashlib
import re

from quince.domain.characters import CONTROL, WHITESPACE
from quince.domain.errors import InvalidInput

USERNAME_MAX_LENGTH = 128
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 100
# The REST API states these patterns in its OpenAPI document, anchored, as they are written here.
USERNAME_PATTERN = rf"[^{WHITESPACE}{CONTROL}/\\]+"
# Deliberately simple: one @, no spaces or control characters, a dot in the domain. Mail servers
# decide the rest.
_EMAIL_PART = rf"[^@{WHITESPACE}{CONTROL}]+"
EMAIL_PATTERN = rf"{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}"
_USERNAME = re.compile(USERNAME_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def username_key(username: str) -> str:
    """Usernames are unique across the install, ignoring case."""
    return username.casefold()


def sign_in_name_key(name: str) -> str:
    """What a typed sign-in name (username, email or managed Apple ID) is stored and looked up as:
    one name names one person across the whole install, ignoring case."""
    return name.strip().casefold()[:EMAIL_MAX_LENGTH]


def typed_name_digest(typed: str) -> str:
    """What a log keeps of a name typed at a failed sign-in that names nobody: a short digest,
    never the text (people type their password into the username field). The same typed name
    gives the same digest, so repeated attempts can still be told apart."""
    return "sha256:" + hashlib.sha256(sign_in_name_key(typed).encode()).hexdigest()[:12]


def validate_username(username: str) -> str:
    username = username.strip()
    if not username:
        raise InvalidInput("UserName", "The username must not be empty.")
    if len(username) > USERNAME_MAX_LENGTH:
        raise InvalidInput("UserName", f"The username must be at most {USERNAME_MAX_LENGTH} characters.")
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "UserName", "The username must not contain spaces, slashes or control characters."
        )
    return username


def validate_email(value: str, field: str = "Email") -> str:
    value = value.strip()
    if len(value) > EMAIL_MAX_LENGTH:
        raise InvalidInput(field, f"{field} must be at most {EMAIL_MAX_LENGTH} characters.")
    if not _EMAIL.fullmatch(value):
        raise InvalidInput(field, f"{field} {value!r} is not an email address (name@domain).")
    return value


def validate_person_name(value: str, field: str) -> str:
    value = value.strip()
    if len(value) > NAME_MAX_LENGTH:
        raise InvalidInput(field, f"{field} must be at most {NAME_MAX_LENGTH} characters.")
    if _CONTROL.search(value):
        raise InvalidInput(field, f"{field} must not contain control characters.")
    return value
