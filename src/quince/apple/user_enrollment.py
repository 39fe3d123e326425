"""What iOS User Enrollment allows (reference §3, from DM `supportedOS.iOS.userenrollment.mode`).

Quince refuses anything else *before* queueing it. Unknown names are refused too: a command or
payload Apple has not marked as allowed for User Enrollment is treated as forbidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# --- MDM commands (RequestType), reference §3a ---------------------------------------------------

ALLOWED_COMMANDS: frozenset[str] = frozenset(
    {
        "InstallApplication",
        "InstalledApplicationList",
        "ManagedApplicationList",
        "RemoveApplication",
        "ValidateApplications",
        "ManagedApplicationAttributes",
        "ManagedApplicationConfiguration",
        "ManagedApplicationFeedback",
        "InstallMedia",
        "ManagedMediaList",
        "RemoveMedia",
        "InstallProfile",
        "RemoveProfile",
        "ProfileList",
        "InstallProvisioningProfile",
        "RemoveProvisioningProfile",
        "ProvisioningProfileList",
        "CertificateList",
        "DeviceInformation",
        "SecurityInfo",
        "Settings",
        "DeviceLock",
        "RequestMirroring",
        "DeclarativeManagement",
    }
)

FORBIDDEN_COMMANDS: frozenset[str] = frozenset(
    {
        "EraseDevice",
        "ClearPasscode",
        "RequestUnlockToken",
        "Restrictions",
        "ClearRestrictionsPassword",
        "ActivationLockBypassCode",
        "ClearActivationLockBypassCode",
        "EnableLostMode",
        "DisableLostMode",
        "DeviceLocation",
        "PlayLostModeSound",
        "RestartDevice",
        "ShutDownDevice",
        "StopMirroring",
        "AvailableOSUpdates",
        "ScheduleOSUpdate",
        "OSUpdateStatus",
        "DeviceConfigured",
        "UserConfigured",
        "InviteToProgram",
        "ApplyRedemptionCode",
        "RefreshCellularPlans",
        "UserList",
        "DeleteUser",
        "LogOutUser",
    }
)

# macOS-only commands: never valid for an iOS device, enrolled any way.
NOT_ON_IOS_COMMANDS: frozenset[str] = frozenset(
    {
        "AccountConfiguration",
        "ActiveNSExtensions",
        "NSExtensionMappings",
        "InstallEnterpriseApplication",
        "ContentCachingInformation",
        "LOMDeviceRequest",
        "LOMSetupRequest",
        "SetFirmwarePassword",
        "VerifyFirmwarePassword",
        "SetRecoveryLock",
        "VerifyRecoveryLock",
        "EnableRemoteDesktop",
        "DisableRemoteDesktop",
        "RotateFileVaultKey",
        "SetAutoAdminPassword",
        "ScheduleOSUpdateScan",
        "UnlockUserAccount",
    }
)

# --- configuration profile payloads (PayloadType), reference §3b ---------------------------------
# The reference counts 33 allowed schemas; two of them (extensiblesso and its Kerberos variant) share
# the PayloadType com.apple.extensiblesso, hence 32 names.

ALLOWED_PAYLOAD_TYPES: frozenset[str] = frozenset(
    {
        "com.apple.mdm",
        "com.apple.security.scep",
        "com.apple.security.acme",
        "com.apple.security.pkcs12",
        "com.apple.security.pkcs1",
        "com.apple.security.pem",
        "com.apple.security.root",
        "com.apple.security.certificaterevocation",
        "com.apple.security.certificatetransparency",
        "com.apple.wifi.managed",
        "com.apple.vpn.managed.applayer",
        "com.apple.dnsProxy.managed",
        "com.apple.relay.managed",
        "com.apple.globalethernet.managed",
        "com.apple.cellularprivatenetwork.managed",
        "com.apple.webcontent-filter",
        "com.apple.eas.account",
        "com.apple.caldav.account",
        "com.apple.carddav.account",
        "com.apple.ldap.account",
        "com.apple.subscribedcalendar.account",
        "com.apple.mail.managed",
        "com.apple.google-oauth",
        "com.apple.sso",
        "com.apple.extensiblesso",
        "com.apple.webClip.managed",
        "com.apple.font",
        "com.apple.airplay",
        "com.apple.airprint",
        "com.apple.education",
        "com.apple.applicationaccess",
        "com.apple.mobiledevice.passwordpolicy",
    }
)

FORBIDDEN_PAYLOAD_TYPES: frozenset[str] = frozenset(
    {
        "com.apple.vpn.managed",
        "com.apple.proxy.http.global",
        "com.apple.dnsSettings.managed",
        "com.apple.apn.managed",
        "com.apple.cellular",
        "com.apple.networkusagerules",
        "com.apple.domains",
        "com.apple.app.lock",
        "com.apple.homescreenlayout",
        "com.apple.notificationsettings",
        "com.apple.profileRemovalPassword",
        "com.apple.SetupAssistant.managed",
        "com.apple.shareddeviceconfiguration",
        "com.apple.tvremote",
        "com.apple.osxserver.account",
        "com.apple.declarations",
    }
)

# Top-level profile keys a user-enrolled device refuses.
FORBIDDEN_TOP_LEVEL_KEYS: frozenset[str] = frozenset({"PayloadRemovalDisallowed"})

# --- DeviceInformation queries (DM mdm/commands/information.device.yaml, iOS) --------------------

ALLOWED_DEVICE_INFORMATION_QUERIES: frozenset[str] = frozenset(
    {
        "OrganizationInfo",
        "MDMOptions",
        "DeviceName",
        "OSVersion",
        "SupplementalOSVersionExtra",
        "BuildVersion",
        "SupplementalBuildVersion",
        "ModelName",
        "Model",
        "ModelNumber",
        "ProductName",
        "DeviceCapacity",
        "AvailableDeviceCapacity",
        "CellularTechnology",
        "BatteryLevel",
        "IsSupervised",
        "IsMultiUser",
        "IsDeviceLocatorServiceEnabled",
        "EASDeviceIdentifier",
        "DiagnosticSubmissionEnabled",
        "AppAnalyticsEnabled",
        "TimeZone",
        "IsNetworkTethered",
        "DevicePropertiesAttestation",
    }
)

FORBIDDEN_DEVICE_INFORMATION_QUERIES: frozenset[str] = frozenset(
    {
        # hardware and subscriber identity
        "UDID",
        "SerialNumber",
        "IMEI",
        "MEID",
        "ICCID",
        "PhoneNumber",
        "BluetoothMAC",
        "WiFiMAC",
        "SoftwareUpdateDeviceID",
        "ModemFirmwareVersion",
        # carrier, roaming and subscriptions
        "CurrentCarrierNetwork",
        "SIMCarrierNetwork",
        "SubscriberCarrierNetwork",
        "CarrierSettingsVersion",
        "CurrentMCC",
        "CurrentMNC",
        "SubscriberMCC",
        "SubscriberMNC",
        "DataRoamingEnabled",
        "VoiceRoamingEnabled",
        "PersonalHotspotEnabled",
        "IsRoaming",
        "ServiceSubscriptions",
        # device-wide state the organization does not own
        "LastCloudBackupDate",
        "IsCloudBackupEnabled",
        "AwaitingConfiguration",
        "iTunesStoreAccountIsActive",
        "iTunesStoreAccountHash",
        "IsActivationLockEnabled",
        "IsDoNotDisturbInEffect",
        "IsMDMLostModeEnabled",
        "PushToken",
        "SoftwareUpdateSettings",
        "AccessibilitySettings",
        # Shared iPad
        "MaximumResidentUsers",
        "EstimatedResidentUsers",
        "QuotaSize",
        "ResidentUsers",
        "UserSessionTimeout",
        "TemporarySessionTimeout",
        "TemporarySessionOnly",
        "ManagedAppleIDDefaultDomains",
        "OnlineAuthenticationGracePeriod",
        "SkipLanguageAndLocaleSetupForNewUsers",
    }
)

# --- Settings command items, reference §3a --------------------------------------------------------

ALLOWED_SETTINGS_ITEMS: frozenset[str] = frozenset(
    {"ApplicationConfiguration", "ApplicationAttributes", "OrganizationInfo", "MDMOptions"}
)

# InstallApplication keys a user-enrolled device refuses (user-installed apps cannot be taken over).
FORBIDDEN_INSTALL_APPLICATION_KEYS: frozenset[str] = frozenset({"ChangeManagementState"})


def is_command_allowed_for_user_enrollment(request_type: str) -> bool:
    """True only for the RequestTypes Apple marks as allowed under iOS User Enrollment."""
    return request_type in ALLOWED_COMMANDS


def is_payload_allowed_for_user_enrollment(payload_type: str) -> bool:
    """True only for the PayloadTypes Apple marks as allowed under iOS User Enrollment."""
    return payload_type in ALLOWED_PAYLOAD_TYPES


def is_device_information_query_allowed_for_user_enrollment(query: str) -> bool:
    """True only for the DeviceInformation queries a user-enrolled iPhone or iPad answers."""
    return query in ALLOWED_DEVICE_INFORMATION_QUERIES


def is_settings_item_allowed_for_user_enrollment(item: str) -> bool:
    """True only for the Settings command items usable under iOS User Enrollment."""
    return item in ALLOWED_SETTINGS_ITEMS


def disallowed_device_information_queries(queries: Iterable[str]) -> tuple[str, ...]:
    """The queries of a DeviceInformation command that a user-enrolled device must not be asked."""
    return tuple(q for q in queries if not is_device_information_query_allowed_for_user_enrollment(q))


def profile_violations_for_user_enrollment(profile: Mapping[str, Any]) -> tuple[str, ...]:
    """Why a configuration profile (as a dict) cannot go to a user-enrolled device; empty if it can."""
    problems = [
        f"top-level key {key} is forbidden" for key in sorted(FORBIDDEN_TOP_LEVEL_KEYS) if key in profile
    ]
    content = profile.get("PayloadContent", [])
    if not isinstance(content, list):
        return (*problems, "PayloadContent is not an array")
    for index, payload in enumerate(content):
        if not isinstance(payload, Mapping):
            problems.append(f"payload {index} is not a dictionary")
            continue
        payload_type = payload.get("PayloadType")
        if not isinstance(payload_type, str) or not is_payload_allowed_for_user_enrollment(payload_type):
            problems.append(f"payload {index} of type {payload_type!r} is not allowed")
        if payload_type == "com.apple.mdm" and "AccessRights" in payload:
            problems.append("com.apple.mdm carries AccessRights, which User Enrollment ignores")
    return tuple(problems)
