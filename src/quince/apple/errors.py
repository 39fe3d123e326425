"""Errors raised while reading or writing Apple's wire formats; each face maps them to a response."""

from __future__ import annotations

from quince.domain.errors import InvalidInput, QuinceError


class InvalidUserIdentifier(InvalidInput):
    """The `user-identifier` a device sent (what the person typed in Settings) is not `name@domain`."""

    def __init__(self, value: str, rule: str) -> None:
        super().__init__("user-identifier", f"User identifier {value!r} is not valid: {rule}.")
        self.value = value
        self.rule = rule


class InvalidServiceURL(QuinceError):
    """A URL Quince would hand to a device breaks Apple's rules (https, absolute, no query where banned)."""

    def __init__(self, field: str, url: str, rule: str) -> None:
        super().__init__(f"{field} {url!r} is not usable: {rule}.")
        self.field = field
        self.url = url
        self.rule = rule


class InvalidAccessToken(QuinceError):
    """An access token that cannot travel in a callback URL and come back as a Bearer token."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"The access token is not valid: {rule}.")
        self.rule = rule


class InvalidProfileSpec(QuinceError):
    """The inputs of an enrollment profile break a rule of Apple's schema or of User Enrollment."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"Enrollment profile field {field}: {rule}.")
        self.field = field
        self.rule = rule


class MalformedMachineInfo(QuinceError):
    """The body of the account-driven enrollment POST is not a (CMS-signed) MachineInfo plist."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The MachineInfo body is malformed: {reason}.")
        self.reason = reason


class InvalidSignature(QuinceError):
    """A CMS SignedData is malformed, unsupported, or its signature does not verify."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The CMS signature is not valid: {reason}.")
        self.reason = reason


class MalformedMessage(QuinceError):
    """A check-in or connect body from a device is not a message Quince can read (answer 400)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The device message is malformed: {reason}.")
        self.reason = reason


class InvalidCommand(InvalidInput):
    """An MDM command an administrator asked for has unknown keys, wrong types or missing values."""

    def __init__(self, request_type: str, reason: str, key: str | None = None) -> None:
        super().__init__(key or "RequestType", f"{request_type} command is not valid: {reason}.")
        self.request_type = request_type
        self.reason = reason
        self.key = key


class ForbiddenForUserEnrollment(QuinceError):
    """The command must not go to a user-enrolled device (reference §3); nothing is queued."""

    def __init__(self, request_type: str, reason: str) -> None:
        super().__init__(f"{request_type} is not allowed on a user-enrolled device ({reason}).")
        self.request_type = request_type
        self.reason = reason
