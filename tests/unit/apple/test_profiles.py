"""The enrollment profile, checked against the key lists of the reference (§4) for each flow."""

from __future__ import annotations

import dataclasses
import plistlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quince.apple import cms
from quince.apple.errors import InvalidProfileSpec
from quince.apple.profiles import (
    PROFILE_CONTENT_TYPE,
    EnrollmentFlow,
    EnrollmentProfileSpec,
    build_enrollment_profile,
    enrollment_profile_identifier,
    enrollment_profile_plist,
    signed_enrollment_profile,
)
from quince.apple.user_enrollment import profile_violations_for_user_enrollment

from .pki import ca_identity, device_identity

TOP_LEVEL_KEYS = {
    "PayloadType",
    "PayloadVersion",
    "PayloadIdentifier",
    "PayloadUUID",
    "PayloadDisplayName",
    "PayloadOrganization",
    "PayloadDescription",
    "PayloadContent",
}
COMMON_PAYLOAD_KEYS = {
    "PayloadType",
    "PayloadVersion",
    "PayloadIdentifier",
    "PayloadUUID",
    "PayloadDisplayName",
}
MDM_REQUIRED_KEYS = {"IdentityCertificateUUID", "Topic", "ServerURL"}
MDM_KEYS = MDM_REQUIRED_KEYS | {"CheckInURL", "SignMessage", "CheckOutWhenRemoved"}


def spec(flow: EnrollmentFlow = EnrollmentFlow.ACCOUNT_DRIVEN, **changes: Any) -> EnrollmentProfileSpec:
    base = EnrollmentProfileSpec(
        flow=flow,
        server_url="https://mdm.example.com/DeviceServices/mdm/connect",
        checkin_url="https://mdm.example.com/DeviceServices/mdm/checkin",
        scep_url="https://mdm.example.com/DeviceServices/scep",
        scep_challenge="one-time-challenge",
        scep_subject_cn="Quince enrollment 42",
        topic="com.apple.mgmt.External.6d9d0c6e-0000-4000-8000-000000000000",
        managed_apple_id="alice@appleid.example.com",
        organization="Example Corp",
        identifier_prefix="com.example.quince",
        uuid_seed="enrollment-session-42",
    )
    return dataclasses.replace(base, **changes)


def payloads(profile: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    by_type = {p["PayloadType"]: p for p in profile["PayloadContent"]}
    assert set(by_type) == {"com.apple.security.scep", "com.apple.mdm"}
    return by_type["com.apple.security.scep"], by_type["com.apple.mdm"]


def all_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from all_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from all_keys(inner)


@pytest.fixture(params=list(EnrollmentFlow))
def flow(request: pytest.FixtureRequest) -> EnrollmentFlow:
    return EnrollmentFlow(request.param)


def test_profile_is_a_configuration_with_the_top_level_keys(flow: EnrollmentFlow) -> None:
    profile = build_enrollment_profile(spec(flow))
    assert set(profile) == TOP_LEVEL_KEYS
    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    assert profile["PayloadIdentifier"] == "com.example.quince.enrollment"
    assert profile["PayloadOrganization"] == "Example Corp"


def test_the_enterprise_wipe_names_the_enrollment_profile_by_the_identifier_it_was_built_with(
    flow: EnrollmentFlow,
) -> None:
    profile = build_enrollment_profile(spec(flow))
    assert profile["PayloadIdentifier"] == enrollment_profile_identifier("com.example.quince")
    # A RemoveProfile of it removes management; the mdm payload asks the device to check out then.
    assert payloads(profile)[1]["CheckOutWhenRemoved"] is True


def test_every_payload_has_the_common_keys(flow: EnrollmentFlow) -> None:
    for payload in build_enrollment_profile(spec(flow))["PayloadContent"]:
        assert set(payload) >= COMMON_PAYLOAD_KEYS
        assert payload["PayloadVersion"] == 1
        assert payload["PayloadIdentifier"].startswith("com.example.quince.enrollment.")


def test_scep_payload_asks_for_an_rsa_2048_identity_with_the_challenge(flow: EnrollmentFlow) -> None:
    scep, _ = payloads(build_enrollment_profile(spec(flow)))
    assert scep["PayloadContent"] == {
        "URL": "https://mdm.example.com/DeviceServices/scep",
        "Subject": [[["CN", "Quince enrollment 42"]]],
        "Challenge": "one-time-challenge",
        "Keysize": 2048,
        "Key Type": "RSA",
        "Key Usage": 5,
    }


def test_scep_name_and_ca_fingerprint_are_included_when_given() -> None:
    scep, _ = payloads(
        build_enrollment_profile(spec(scep_name="Quince CA", scep_ca_fingerprint=b"\x01" * 20))
    )
    assert scep["PayloadContent"]["Name"] == "Quince CA"
    assert scep["PayloadContent"]["CAFingerprint"] == b"\x01" * 20


def test_mdm_payload_has_the_required_keys_and_signs_its_messages(flow: EnrollmentFlow) -> None:
    _, mdm = payloads(build_enrollment_profile(spec(flow)))
    assert set(mdm) >= MDM_KEYS
    assert mdm["ServerURL"] == "https://mdm.example.com/DeviceServices/mdm/connect"
    assert mdm["CheckInURL"] == "https://mdm.example.com/DeviceServices/mdm/checkin"
    assert mdm["SignMessage"] is True
    assert mdm["CheckOutWhenRemoved"] is True
    assert mdm["Topic"].startswith("com.apple.mgmt.")


def test_identity_certificate_uuid_is_the_scep_payload_uuid(flow: EnrollmentFlow) -> None:
    scep, mdm = payloads(build_enrollment_profile(spec(flow)))
    assert mdm["IdentityCertificateUUID"] == scep["PayloadUUID"]


def test_account_driven_profile_is_byod_with_the_assigned_managed_apple_id() -> None:
    _, mdm = payloads(build_enrollment_profile(spec(EnrollmentFlow.ACCOUNT_DRIVEN)))
    assert mdm["EnrollmentMode"] == "BYOD"
    assert mdm["AssignedManagedAppleID"] == "alice@appleid.example.com"
    assert "ManagedAppleID" not in mdm


def test_web_profile_carries_managed_apple_id_and_no_account_driven_keys() -> None:
    _, mdm = payloads(build_enrollment_profile(spec(EnrollmentFlow.WEB)))
    assert mdm["ManagedAppleID"] == "alice@appleid.example.com"
    assert "EnrollmentMode" not in mdm
    assert "AssignedManagedAppleID" not in mdm


def test_no_access_rights_and_no_removal_lock_in_any_flow(flow: EnrollmentFlow) -> None:
    profile = build_enrollment_profile(spec(flow))
    keys = set(all_keys(profile))
    assert "AccessRights" not in keys
    assert "PayloadRemovalDisallowed" not in keys


def test_profile_is_acceptable_to_a_user_enrolled_device(flow: EnrollmentFlow) -> None:
    assert profile_violations_for_user_enrollment(build_enrollment_profile(spec(flow))) == ()


def test_checkin_url_and_optional_keys_are_left_out_when_not_set() -> None:
    _, mdm = payloads(build_enrollment_profile(spec(checkin_url=None)))
    assert "CheckInURL" not in mdm
    assert "ServerCapabilities" not in mdm
    assert "UseDevelopmentAPNS" not in mdm


def test_server_capabilities_and_development_apns_are_included_when_set() -> None:
    _, mdm = payloads(
        build_enrollment_profile(
            spec(server_capabilities=("com.apple.mdm.token",), use_development_apns=True)
        )
    )
    assert mdm["ServerCapabilities"] == ["com.apple.mdm.token"]
    assert mdm["UseDevelopmentAPNS"] is True


def test_urls_must_be_https_in_production() -> None:
    for field in ("server_url", "checkin_url"):
        with pytest.raises(InvalidProfileSpec, match="https"):
            build_enrollment_profile(
                spec(EnrollmentFlow.ACCOUNT_DRIVEN, **{field: "http://mdm.example.com/x"})
            )


def test_http_urls_are_allowed_only_when_insecure_is_explicit() -> None:
    profile = build_enrollment_profile(
        spec(
            server_url="http://127.0.0.1:8000/connect",
            checkin_url="http://127.0.0.1:8000/checkin",
            allow_insecure=True,
        )
    )
    assert payloads(profile)[1]["ServerURL"] == "http://127.0.0.1:8000/connect"


def test_scep_url_may_be_http_because_scep_messages_are_encrypted() -> None:
    scep, _ = payloads(build_enrollment_profile(spec(scep_url="http://mdm.example.com/scep")))
    assert scep["PayloadContent"]["URL"] == "http://mdm.example.com/scep"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"topic": "com.example.mdm"}, "Topic"),
        ({"topic": "com.apple.mgmt."}, "Topic"),
        ({"managed_apple_id": "not an id"}, "ManagedAppleID"),
        ({"scep_challenge": ""}, "Challenge"),
        ({"scep_subject_cn": "  "}, "Subject CN"),
        ({"organization": ""}, "PayloadOrganization"),
        ({"identifier_prefix": "com..example"}, "PayloadIdentifier"),
        ({"scep_url": "ftp://mdm.example.com/scep"}, "SCEP URL"),
        ({"server_url": "/relative"}, "ServerURL"),
        ({"flow": "byod"}, "flow"),
    ],
)
def test_inputs_apple_would_reject_are_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidProfileSpec) as caught:
        build_enrollment_profile(spec(**changes))
    assert caught.value.field == field


def test_profile_is_deterministic_for_its_inputs(flow: EnrollmentFlow) -> None:
    assert enrollment_profile_plist(spec(flow)) == enrollment_profile_plist(spec(flow))


def test_payload_uuids_are_distinct_and_change_with_the_seed() -> None:
    first = build_enrollment_profile(spec())
    second = build_enrollment_profile(spec(uuid_seed="enrollment-session-43"))

    def uuids(profile: dict[str, Any]) -> list[str]:
        return [profile["PayloadUUID"], *(p["PayloadUUID"] for p in profile["PayloadContent"])]

    assert len(set(uuids(first))) == 3
    assert not set(uuids(first)) & set(uuids(second))


def test_given_uuids_are_used_as_is() -> None:
    ids = [uuid.UUID(int=n) for n in (1, 2, 3)]
    profile = build_enrollment_profile(
        spec(profile_uuid=ids[0], scep_payload_uuid=ids[1], mdm_payload_uuid=ids[2])
    )
    scep, mdm = payloads(profile)
    assert profile["PayloadUUID"] == str(ids[0]).upper()
    assert scep["PayloadUUID"] == mdm["IdentityCertificateUUID"] == str(ids[1]).upper()
    assert mdm["PayloadUUID"] == str(ids[2]).upper()


def test_plist_bytes_parse_back_to_the_dict(flow: EnrollmentFlow) -> None:
    assert plistlib.loads(enrollment_profile_plist(spec(flow))) == build_enrollment_profile(spec(flow))


def test_signed_profile_verifies_and_holds_the_same_profile(flow: EnrollmentFlow) -> None:
    signing = device_identity("rsa")
    signed = signed_enrollment_profile(spec(flow), signing.cert, signing.key, chain=[ca_identity().cert])
    content, signer = cms.verify_attached(signed)
    assert signer == signing.cert
    assert cms.issued_by(signer, ca_identity().cert)
    assert plistlib.loads(content) == build_enrollment_profile(spec(flow))


def test_profile_content_type_is_apples() -> None:
    assert PROFILE_CONTENT_TYPE == "application/x-apple-aspen-config"


@given(st.text(min_size=1, max_size=100).filter(lambda s: s.strip() and s.isprintable()))
def test_any_seed_gives_valid_distinct_reproducible_uuids(seed: str) -> None:
    first = spec(uuid_seed=seed)
    roles = ("profile", "scep", "mdm")
    values = [first.payload_uuid(role) for role in roles]
    assert len(set(values)) == 3
    assert all(str(uuid.UUID(v)).upper() == v for v in values)
    assert values == [spec(uuid_seed=seed).payload_uuid(role) for role in roles]
