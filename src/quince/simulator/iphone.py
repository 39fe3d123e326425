"""How a user-enrolled iPhone on iOS 18 answers MDM commands (reference §2, §3, §8); what it holds
is in `holdings`.

This is the device's side only, with no HTTP: `UserEnrolledIPhone.answer(uuid, command)` returns the
report plist (as a dict) the device sends back. It knows its hardware identifiers and personal apps,
and, like a real device under User Enrollment, never reports them: DeviceInformation answers only
the queries User Enrollment allows, app lists hold only managed apps, SecurityInfo leaves out the
passcode details. `leak_hardware_ids` makes it misbehave on purpose (to test the server's filters).

The allow-lists below are the device's own copy of Apple's rules (apple/device-management, iOS 18.1),
kept apart from Quince's so that a mistake on one side shows up as a failing test.
"""

from __future__ import annotations

import hashlib
import plistlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms as asn1_cms
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from quince.simulator.holdings import HardwareFacts, InstalledProfile, ManagedApp

# DeviceInformation queries a user-enrolled iOS device answers (DM information.device.yaml).
UE_DEVICE_INFORMATION_QUERIES = frozenset({
    "OrganizationInfo", "MDMOptions", "DeviceName", "OSVersion", "BuildVersion", "SupplementalBuildVersion",
    "SupplementalOSVersionExtra", "Model", "ModelName", "ModelNumber", "ProductName", "DeviceCapacity",
    "AvailableDeviceCapacity", "CellularTechnology", "BatteryLevel", "IsSupervised", "IsMultiUser",
    "IsDeviceLocatorServiceEnabled", "EASDeviceIdentifier", "DiagnosticSubmissionEnabled",
    "AppAnalyticsEnabled", "TimeZone", "IsNetworkTethered", "DevicePropertiesAttestation",
})
# SecurityInfo keys a user-enrolled iOS device leaves out.
UE_FORBIDDEN_SECURITY_INFO = frozenset({
    "PasscodePresent", "PasscodeCompliantWithProfiles", "PasscodeLockGracePeriod",
    "PasscodeLockGracePeriodEnforced", "AutoLockTime",
})
# Payload types an iOS device refuses to install under User Enrollment (DM mdm/profiles).
UE_FORBIDDEN_PAYLOADS = frozenset({
    "com.apple.vpn.managed", "com.apple.proxy.http.global", "com.apple.dnsSettings.managed",
    "com.apple.apn.managed", "com.apple.cellular", "com.apple.networkusagerules", "com.apple.domains",
    "com.apple.app.lock", "com.apple.homescreenlayout", "com.apple.notificationsettings",
    "com.apple.profileRemovalPassword", "com.apple.SetupAssistant.managed",
    "com.apple.shareddeviceconfiguration", "com.apple.tvremote", "com.apple.osxserver.account",
    "com.apple.declarations",
})
# The commands this device carries out; anything else gets an Error (as iOS does for a command it
# does not know or may not run under User Enrollment).
HANDLED_COMMANDS = frozenset({
    "DeviceInformation", "InstalledApplicationList", "ManagedApplicationList", "ProfileList",
    "CertificateList", "SecurityInfo", "InstallApplication", "RemoveApplication", "InstallProfile",
    "RemoveProfile", "DeviceLock", "Settings",
})

MDM_ERROR_DOMAIN = "MCMDMErrorDomain"
INSTALLATION_ERROR_DOMAIN = "MCInstallationErrorDomain"
PROFILE_ERROR_DOMAIN = "MCProfileErrorDomain"

# Store IDs the device can resolve without the App Store (a tiny catalogue for tests and demos).
KNOWN_STORE_APPS: dict[int, tuple[str, str]] = {
    338761996: ("com.air-watch.agent", "Intelligent Hub"),
    586447913: ("com.microsoft.Office.Word", "Microsoft Word"),
    1113153706: ("com.microsoft.skype.teams", "Microsoft Teams"),
    951937596: ("com.microsoft.Office.Outlook", "Microsoft Outlook"),
}


@dataclass(frozen=True)
class Report:
    """One answer the device sends on the connect channel."""

    status: str  # Acknowledged, Error, CommandFormatError, NotNow
    body: dict[str, Any]


def _error(code: int, domain: str, description: str) -> dict[str, Any]:
    return {"ErrorCode": code, "ErrorDomain": domain, "LocalizedDescription": description,
            "USEnglishDescription": description}


class UserEnrolledIPhone:
    """The state of the managed side of a user-enrolled iPhone, and its answers to commands."""

    def __init__(
        self,
        facts: HardwareFacts | None = None,
        *,
        not_now: Mapping[str, int] | None = None,
        leak_hardware_ids: bool = False,
    ) -> None:
        self.facts = facts or HardwareFacts()
        self.not_now: dict[str, int] = dict(not_now or {})
        self.leak_hardware_ids = leak_hardware_ids
        self.managed_apps: dict[str, ManagedApp] = {}
        self.profiles: dict[str, InstalledProfile] = {}
        self.identity: x509.Certificate | None = None
        self.enrollment_id: str | None = None
        self.eas_identifier = secrets.token_hex(16).upper()
        self.locked = 0
        self.organization_info: dict[str, Any] = {}
        self.mdm_options: dict[str, Any] = {}

    # --- enrollment state -----------------------------------------------------------------

    def enrolled(self, enrollment_id: str, profile: InstalledProfile, identity: x509.Certificate) -> None:
        self.enrollment_id = enrollment_id
        self.profiles = {profile.identifier: profile}
        self.identity = identity

    def unenrolled(self) -> None:
        """Removing the enrollment profile removes the managed volume: apps, profiles, certificates."""
        self.enrollment_id = None
        self.profiles.clear()
        self.managed_apps.clear()
        self.identity = None

    # --- answering ------------------------------------------------------------------------

    def answer(self, command_uuid: str, command: Any) -> Report:
        """The report for one command (without the EnrollmentID, which the channel adds)."""
        if not isinstance(command, dict) or not isinstance(command.get("RequestType"), str):
            return Report("CommandFormatError", {"CommandUUID": command_uuid, "Status": "CommandFormatError"})
        request_type = command["RequestType"]
        if self.not_now.get(request_type, 0) > 0:
            self.not_now[request_type] -= 1
            return Report("NotNow", {"CommandUUID": command_uuid, "Status": "NotNow"})
        if request_type not in HANDLED_COMMANDS:
            return self._failed(command_uuid, _error(
                12021, MDM_ERROR_DOMAIN, f"The command “{request_type}” is not supported on this device."
            ))
        handler = getattr(self, f"_{request_type}")
        outcome = handler(command)
        if isinstance(outcome, Report):
            return Report(outcome.status, {"CommandUUID": command_uuid, **outcome.body})
        return Report("Acknowledged", {"CommandUUID": command_uuid, "Status": "Acknowledged", **outcome})

    def _failed(self, command_uuid: str, *errors: dict[str, Any]) -> Report:
        return Report("Error", {"CommandUUID": command_uuid, "Status": "Error", "ErrorChain": list(errors)})

    @staticmethod
    def _error_report(*errors: dict[str, Any]) -> Report:
        return Report("Error", {"Status": "Error", "ErrorChain": list(errors)})

    # --- commands (names match RequestType) ------------------------------------------------

    def _device_information_values(self) -> dict[str, Any]:
        f = self.facts
        return {
            "DeviceName": f.device_name, "OSVersion": f.os_version, "BuildVersion": f.build_version,
            "SupplementalBuildVersion": f.build_version, "Model": f.model, "ModelName": f.model_name,
            "ModelNumber": f.model_number, "ProductName": f.product_name, "DeviceCapacity": f.capacity_gb,
            "AvailableDeviceCapacity": f.available_gb, "CellularTechnology": 3,
            "BatteryLevel": f.battery_level,
            "IsSupervised": False, "IsMultiUser": False, "IsDeviceLocatorServiceEnabled": True,
            "EASDeviceIdentifier": self.eas_identifier, "DiagnosticSubmissionEnabled": False,
            "AppAnalyticsEnabled": False, "TimeZone": f.time_zone, "IsNetworkTethered": False,
            "OrganizationInfo": dict(self.organization_info), "MDMOptions": dict(self.mdm_options),
        }

    def _DeviceInformation(self, command: dict[str, Any]) -> dict[str, Any]:
        values = self._device_information_values()
        queries = command.get("Queries")
        wanted = [q for q in queries if isinstance(q, str)] if isinstance(queries, list) else list(values)
        # Forbidden queries are ignored, not refused: the device answers the rest.
        answers = {q: values[q] for q in wanted if q in UE_DEVICE_INFORMATION_QUERIES and q in values}
        if self.leak_hardware_ids:
            answers.update(self.facts.hardware_identifiers())
        return {"QueryResponses": answers}

    def _app_record(self, app: ManagedApp) -> dict[str, Any]:
        return {
            "Identifier": app.identifier, "Name": app.name, "Version": app.version,
            "ShortVersion": app.short_version, "BundleSize": 48_000_000, "DynamicSize": 1_200_000,
            "IsValidated": True, "ExternalVersionIdentifier": 860_000_000 + (app.store_id or 0) % 1000,
            "AppStoreVendable": app.store_id is not None, "DeviceBasedVPP": False, "BetaApp": False,
            "AdHocCodeSigned": False, "HasUpdateAvailable": False, "Installing": False,
        }

    def _InstalledApplicationList(self, command: dict[str, Any]) -> dict[str, Any]:
        # Under User Enrollment only managed apps are listed, whatever ManagedAppsOnly says.
        apps = list(self.managed_apps.values())
        identifiers = command.get("Identifiers")
        if isinstance(identifiers, list):
            apps = [a for a in apps if a.identifier in identifiers]
        return {"InstalledApplicationList": [self._app_record(a) for a in apps]}

    def _ManagedApplicationList(self, command: dict[str, Any]) -> dict[str, Any]:
        identifiers = command.get("Identifiers")
        apps = [a for a in self.managed_apps.values()
                if not isinstance(identifiers, list) or a.identifier in identifiers]
        return {"ManagedApplicationList": {
            a.identifier: {"Status": "Managed", "ManagementFlags": a.management_flags,
                           "HasConfiguration": a.has_configuration, "HasFeedback": False,
                           "IsValidated": True, "ExternalVersionIdentifier": 860_000_000}
            for a in apps
        }}

    def _ProfileList(self, command: dict[str, Any]) -> dict[str, Any]:
        listed = []
        for installed in self.profiles.values():
            p = installed.plist
            listed.append({
                "PayloadIdentifier": p.get("PayloadIdentifier", ""), "PayloadUUID": p.get("PayloadUUID", ""),
                "PayloadDisplayName": p.get("PayloadDisplayName", ""),
                "PayloadDescription": p.get("PayloadDescription", ""),
                "PayloadOrganization": p.get("PayloadOrganization", ""),
                "PayloadVersion": p.get("PayloadVersion", 1), "PayloadRemovalDisallowed": False,
                "HasRemovalPasscode": False, "IsEncrypted": False, "IsManaged": installed.managed,
                "PayloadContent": [
                    {k: item[k] for k in ("PayloadType", "PayloadIdentifier", "PayloadUUID",
                                          "PayloadDisplayName", "PayloadVersion") if k in item}
                    for item in p.get("PayloadContent", []) if isinstance(item, dict)
                ],
                **({"SignerCertificates": [installed.signer.public_bytes(serialization.Encoding.DER)]}
                   if installed.signer is not None else {}),
            })
        return {"ProfileList": listed}

    def _certificates(self) -> list[tuple[x509.Certificate, bool]]:
        found: list[tuple[x509.Certificate, bool]] = []
        if self.identity is not None:
            found.append((self.identity, True))
        for installed in self.profiles.values():
            for item in installed.plist.get("PayloadContent", []):
                if isinstance(item, dict) and item.get("PayloadType") in (
                    "com.apple.security.root", "com.apple.security.pkcs1", "com.apple.security.pem"
                ):
                    certificate = _load_certificate(item.get("PayloadContent"))
                    if certificate is not None:
                        found.append((certificate, False))
        return found

    def _CertificateList(self, command: dict[str, Any]) -> dict[str, Any]:
        # Only the certificates of the managed side: the enrollment identity and managed profiles'.
        return {"CertificateList": [
            {"CommonName": _common_name(c), "Data": c.public_bytes(serialization.Encoding.DER),
             "IsIdentity": identity}
            for c, identity in self._certificates()
        ]}

    def _SecurityInfo(self, command: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "HardwareEncryptionCaps": 3, "PasscodeCompliant": True,
            "ManagementStatus": {"EnrolledViaDEP": False, "IsUserEnrollment": True,
                                 "UserApprovedEnrollment": True, "IsActivationLockManageable": False},
        }
        if self.leak_hardware_ids:
            info.update({"PasscodePresent": True, "AutoLockTime": 60})
        return {"SecurityInfo": {k: v for k, v in info.items()
                                 if self.leak_hardware_ids or k not in UE_FORBIDDEN_SECURITY_INFO}}

    def _InstallApplication(self, command: dict[str, Any]) -> dict[str, Any] | Report:
        if "ChangeManagementState" in command:
            # Under User Enrollment a personal app can never be taken over.
            return self._error_report(_error(
                12027, MDM_ERROR_DOMAIN,
                "Changing an app's management state is not allowed with User Enrollment.",
            ))
        store_id = command.get("iTunesStoreID")
        identifier = command.get("Identifier")
        name = None
        if isinstance(store_id, int) and not isinstance(store_id, bool):
            identifier, name = KNOWN_STORE_APPS.get(store_id, (f"com.example.store.app{store_id}", None))
        elif isinstance(command.get("ManifestURL"), str):
            digest = hashlib.sha256(command["ManifestURL"].encode()).hexdigest()[:8]
            identifier = identifier or f"com.example.inhouse.app{digest}"
        if not isinstance(identifier, str) or not identifier:
            return Report("CommandFormatError", {"Status": "CommandFormatError"})
        if identifier in {i for i, _ in self.facts.personal_apps}:
            # A personal app of the same bundle ID cannot become managed.
            return {"Identifier": identifier, "State": "Failed",
                    "RejectionReason": "ManagementChangeNotSupported"}
        flags = command.get("ManagementFlags", 0)
        self.managed_apps[identifier] = ManagedApp(
            identifier, name or identifier.rsplit(".", 1)[-1],
            management_flags=flags if isinstance(flags, int) else 0,
            has_configuration=isinstance(command.get("Configuration"), dict),
            store_id=store_id if isinstance(store_id, int) else None,
        )
        # The install itself happens in the background; the next app list shows it as Managed.
        return {"Identifier": identifier, "State": "Queued"}

    def _RemoveApplication(self, command: dict[str, Any]) -> dict[str, Any] | Report:
        identifier = command.get("Identifier")
        if not isinstance(identifier, str):
            return Report("CommandFormatError", {"Status": "CommandFormatError"})
        if self.managed_apps.pop(identifier, None) is None:
            return self._error_report(
                _error(12029, MDM_ERROR_DOMAIN, f"The app “{identifier}” is not managed.")
            )
        return {}

    def _InstallProfile(self, command: dict[str, Any]) -> dict[str, Any] | Report:
        payload = command.get("Payload")
        if not isinstance(payload, bytes):
            return Report("CommandFormatError", {"Status": "CommandFormatError"})
        profile = _profile_plist(payload)
        if (profile is None or profile.get("PayloadType") != "Configuration"
                or not profile.get("PayloadIdentifier")):
            return self._error_report(_error(1000, PROFILE_ERROR_DOMAIN, "The profile is not valid."))
        kinds = {p.get("PayloadType") for p in profile.get("PayloadContent", []) if isinstance(p, dict)}
        refused = sorted(k for k in kinds if k in UE_FORBIDDEN_PAYLOADS)
        if refused or "PayloadRemovalDisallowed" in profile:
            return self._error_report(_error(
                4001, INSTALLATION_ERROR_DOMAIN,
                "The profile cannot be installed with User Enrollment "
                f"({', '.join(refused) or 'PayloadRemovalDisallowed'}).",
            ))
        installed = InstalledProfile(profile, managed=True)
        self.profiles[installed.identifier] = installed
        return {}

    def _RemoveProfile(self, command: dict[str, Any]) -> dict[str, Any] | Report:
        identifier = command.get("Identifier")
        installed = self.profiles.get(identifier) if isinstance(identifier, str) else None
        if installed is None or not installed.managed:
            return self._error_report(
                _error(1003, PROFILE_ERROR_DOMAIN, f"The profile “{identifier}” is not installed.")
            )
        del self.profiles[installed.identifier]
        return {}

    def _DeviceLock(self, command: dict[str, Any]) -> dict[str, Any]:
        self.locked += 1
        return {}

    def _Settings(self, command: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in command.get("Settings", []) if isinstance(command.get("Settings"), list) else []:
            kind = item.get("Item") if isinstance(item, dict) else None
            if kind == "OrganizationInfo" and isinstance(item.get("OrganizationInfo"), dict):
                self.organization_info = dict(item["OrganizationInfo"])
            elif kind == "MDMOptions" and isinstance(item.get("MDMOptions"), dict):
                self.mdm_options = dict(item["MDMOptions"])
            elif kind == "ApplicationConfiguration" and item.get("Identifier") in self.managed_apps:
                self.managed_apps[item["Identifier"]].has_configuration = "Configuration" in item
            results.append({"Item": kind, "Status": "Acknowledged"})
        return {"Settings": results}


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def _load_certificate(data: object) -> x509.Certificate | None:
    if not isinstance(data, bytes):
        return None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        return None


def _profile_plist(payload: bytes) -> dict[str, Any] | None:
    """The Configuration of an InstallProfile payload, signed (CMS) or not."""
    data = payload
    if payload[:1] == b"\x30":  # a SignedData: take its content, as iOS does before installing
        try:
            signed = asn1_cms.ContentInfo.load(payload)["content"]
            content = signed["encap_content_info"]["content"]
            data = bytes(content.native) if not isinstance(content.native, bytes) else content.native
        except (ValueError, TypeError, KeyError):
            return None
    try:
        profile = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError):
        return None
    return profile if isinstance(profile, dict) else None


def new_enrollment_id() -> str:
    """An Enrollment ID as iOS makes them: a new upper-case UUID for every enrollment."""
    return str(uuid.uuid4()).upper()
