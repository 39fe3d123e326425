"""PascalCase JSON shapes of the device API, as Workspace ONE's v1 API spells them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from quince.apple.commands.building import KNOWN_REQUEST_TYPES
from quince.services.mdm.ws1_commands import COMMAND_NAMES
from quince.web.api.fields import AnyCase, Text
from quince.web.api.schemas import ApiModel, IdValue, Paged, Reference

MAX_BULK_VALUES = 500


class DeviceReference(ApiModel):
    id: IdValue
    uuid: str


class Device(ApiModel):
    """A device record (Workspace ONE's v1 Device, plus Quince's placeholder fields).

    A user-enrolled device reports no hardware identity: `Udid` holds its Enrollment ID, and
    `SerialNumber`, `MacAddress` and `Imei` are always empty."""

    id: IdValue
    uuid: str
    udid: str = Field(description="The UDID, or for a user-enrolled device its Enrollment ID; "
                                  "empty until the device's first check-in.")
    serial_number: str = Field(description="Always empty for a user-enrolled device.")
    mac_address: str
    imei: str
    device_friendly_name: str
    device_reported_name: str
    location_group_id: Reference
    location_group_name: str
    user_id: Reference | None
    user_name: str
    user_email_address: str
    ownership: Literal["C", "E", "S", "Undefined"]
    platform: str
    model: str = Field(description="The product name the device reports, e.g. iPhone16,2.")
    model_name: str = Field(description="The model family, e.g. iPhone.")
    operating_system: str
    os_build_version: str = Field(alias="OSBuildVersion")
    last_seen: str | None
    enrollment_status: str
    last_enrolled_on: str | None
    is_supervised: bool
    is_user_enrolled: bool
    license_type_eligibility: int = Field(description="2: user-based Apps and Books licences only.")
    enrollment_user_uuid: str | None
    is_abandoned_placeholder: bool = Field(
        description="True for a placeholder left behind when its user restarted enrollment."
    )
    superseded_by: DeviceReference | None = Field(
        description="The record that replaced an abandoned placeholder (null when it is outside "
                    "your organization groups, or there is none)."
    )


class DeviceSearch(Paged):
    devices: list[Device]


class ExtendedProperty(ApiModel):
    name: str
    value: str = Field(description="Always a string, as Workspace ONE stores them.")


class ExtendedProperties(ApiModel):
    extended_properties: list[ExtendedProperty]


RequestType = StrEnum("RequestType", {name: name for name in sorted(KNOWN_REQUEST_TYPES)})  # type: ignore[misc]
"""The MDM commands Quince knows by name (Apple's spelling)."""


class CommandRequest(BaseModel):
    """`{"RequestType": "...", …}`: every other key is a key of the command, as Apple names it,
    checked against the command (422 when a key is unknown, of the wrong type, or unusable)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    request_type: RequestType = Field(alias="RequestType")

    @property
    def command_keys(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class QueuedCommand(ApiModel):
    command_uuid: str
    request_type: str
    status: str
    queued_at: str


class Command(QueuedCommand):
    sent_at: str | None
    completed_at: str | None
    error_chain: list[dict[str, Any]] | None
    queued_by: str | None


class CommandHistory(Paged):
    commands: list[Command]


class DeviceMessage(ApiModel):
    channel: str = Field(description="checkin or connect.")
    message_type: str = Field(description="The check-in MessageType, or the connect Status.")
    command_uuid: str | None
    received_at: str
    plist: str = Field(description="The message as the device sent it: XML text, or base64 of "
                                   "a binary plist (see PlistEncoding).")
    plist_encoding: Literal["xml", "base64"]


class DeviceMessages(Paged):
    messages: list[DeviceMessage]


Ws1CommandName = Annotated[str, AnyCase(COMMAND_NAMES, "command")]
"""A Workspace ONE command name (`DeviceQuery`, `SyncDevice`, `EnterpriseWipe`, …), any case."""


class Ws1CommandBody(BaseModel):
    """`{"command": "ClearPasscode"}`: the body one Workspace ONE client posts instead of
    `?command=`."""

    model_config = ConfigDict(extra="forbid")

    command: Ws1CommandName


class BulkValueList(ApiModel):
    value: list[Annotated[Text, Field(min_length=1, max_length=128)]] = Field(
        min_length=1, max_length=MAX_BULK_VALUES)


class BulkValues(ApiModel):
    """`{"BulkValues": {"Value": ["1", "2"]}}`: the devices, as `searchby` names them."""

    bulk_values: BulkValueList


class BulkFault(ApiModel):
    item_value: str = Field(description="The value of BulkValues that failed.")
    error_code: int = Field(description="The errorCode the single-device request would answer.")
    message: str


class BulkFaults(ApiModel):
    fault: list[BulkFault]


class BulkResponse(ApiModel):
    total_items: int
    accepted_items: int
    failed_items: int
    faults: BulkFaults


class DeviceSecurityInfo(ApiModel):
    """What the device last reported in a SecurityInfo answer; null where it reported nothing.
    A user-enrolled device never reports PasscodePresent or PasscodeCompliantWithProfiles
    (Apple's User Enrollment rules), so they are null for it."""

    id: IdValue
    uuid: str
    udid: str
    is_user_enrolled: bool
    security_info_reported_on: str | None = Field(
        description="When the device answered the SecurityInfo these values come from; null: "
                    "never (send command=SecurityInfo).")
    is_compromised: None = Field(description="Always null: Quince does not detect compromised devices.")
    hardware_encryption_caps: int | None
    block_level_encryption: bool | None
    file_level_encryption: bool | None
    is_passcode_present: bool | None
    is_passcode_compliant: bool | None
    is_passcode_compliant_with_profiles: bool | None


class DeviceCountInfo(ApiModel):
    """The devices of an OG and its children."""

    total_devices: int
    enrollment_status: dict[str, int] = Field(
        description="Every Workspace ONE enrollment status with its count.")
    ownership: dict[str, int] = Field(
        description="CorporateDedicated, EmployeeOwned, CorporateShared, Undefined (a user-enrolled "
                    "device is always EmployeeOwned).")
    platform: dict[str, int] = Field(description="Apple: every device Quince manages.")
