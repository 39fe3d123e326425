"""What a device PUTs to the connect endpoint: `Idle`, or a report on a command, and `parse_report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from quince.apple.errors import MalformedMessage
from quince.apple.mdm_messages.fields import COMMAND_UUID, kind_of, load_message, shown, text_field
from quince.apple.mdm_messages.identity import DeviceMessage, identity_of

CONNECT_CONTENT_TYPE = "application/x-apple-aspen-mdm"


class ReportStatus(StrEnum):
    IDLE = "Idle"
    ACKNOWLEDGED = "Acknowledged"
    ERROR = "Error"
    COMMAND_FORMAT_ERROR = "CommandFormatError"
    NOT_NOW = "NotNow"


@dataclass(frozen=True)
class ErrorChainItem:
    code: int | None = None
    domain: str | None = None
    localized_description: str | None = None
    us_english_description: str | None = None

    def as_json(self) -> dict[str, object]:
        """The item under Apple's key names, present keys only (what `commands.error_chain` stores)."""
        values: dict[str, object | None] = {
            "ErrorCode": self.code,
            "ErrorDomain": self.domain,
            "LocalizedDescription": self.localized_description,
            "USEnglishDescription": self.us_english_description,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class CommandReport(DeviceMessage):
    """A connect PUT: `Idle` asks for a command; anything else reports on `command_uuid`."""

    status: ReportStatus
    command_uuid: str | None = None
    error_chain: list[ErrorChainItem] = field(default_factory=list)

    @property
    def is_idle(self) -> bool:
        return self.status is ReportStatus.IDLE

    def error_chain_json(self) -> list[dict[str, object]]:
        return [item.as_json() for item in self.error_chain]


def parse_report(body: bytes) -> CommandReport:
    """Parse a connect body (Status, CommandUUID, ErrorChain); raise `MalformedMessage` if it is not one."""
    raw, fields = load_message(body)
    identity = identity_of(fields)
    status_text = text_field(fields, "Status", required=True)
    assert status_text is not None
    try:
        status = ReportStatus(status_text)
    except ValueError:
        known = ", ".join(s.value for s in ReportStatus)
        raise MalformedMessage(f"Status {shown(status_text)} is not one of {known}") from None
    command_uuid = text_field(
        fields, "CommandUUID", required=status is not ReportStatus.IDLE, pattern=COMMAND_UUID
    )
    return CommandReport(
        identity,
        status,
        command_uuid,
        _error_chain(fields),
        raw=raw,
        fields=fields,
    )


def _error_chain(fields: dict[str, Any]) -> list[ErrorChainItem]:
    chain = fields.get("ErrorChain")
    if chain is None:
        return []
    if not isinstance(chain, list):
        raise MalformedMessage(f"ErrorChain is {kind_of(chain)}, not an array")
    items = []
    for index, entry in enumerate(chain):
        if not isinstance(entry, dict):
            raise MalformedMessage(f"ErrorChain item {index} is {kind_of(entry)}, not a dictionary")
        code = entry.get("ErrorCode")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            raise MalformedMessage(
                f"ErrorChain item {index}: ErrorCode is {kind_of(code)}, not an integer"
            )
        where = f"ErrorChain item {index}: "
        items.append(
            ErrorChainItem(
                code=code,
                domain=text_field(entry, "ErrorDomain", where=where),
                localized_description=text_field(entry, "LocalizedDescription", where=where),
                us_english_description=text_field(entry, "USEnglishDescription", where=where),
            )
        )
    return items
