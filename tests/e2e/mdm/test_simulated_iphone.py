"""The simulated iPhone's own behaviour, without a server: what it answers to commands Quince would
never send (so the end-to-end tests cannot reach them), and how it reads what servers send."""

from __future__ import annotations

import plistlib

import pytest

from quince.simulator import ProtocolViolation, UserEnrolledIPhone
from quince.simulator.answers import access_token_from, parse_bearer_challenge
from quince.simulator.enrollment_profile import read_profile
from quince.simulator.iphone import UE_DEVICE_INFORMATION_QUERIES


def test_an_unknown_or_forbidden_command_gets_an_error_with_its_error_chain() -> None:
    iphone = UserEnrolledIPhone()
    for request_type in ("EraseDevice", "NoSuchCommand"):
        report = iphone.answer("uuid-1", {"RequestType": request_type})
        assert report.status == "Error"
        (error,) = report.body["ErrorChain"]
        assert set(error) == {"ErrorCode", "ErrorDomain", "LocalizedDescription", "USEnglishDescription"}
        assert request_type in error["USEnglishDescription"]
        plistlib.dumps(report.body)  # every answer is a valid plist


def test_a_command_without_request_type_is_a_command_format_error() -> None:
    assert UserEnrolledIPhone().answer("uuid-1", {"Queries": []}).status == "CommandFormatError"


def test_device_information_ignores_forbidden_queries_and_answers_the_rest() -> None:
    report = UserEnrolledIPhone().answer("uuid-1", {
        "RequestType": "DeviceInformation",
        "Queries": ["UDID", "SerialNumber", "IMEI", "OSVersion", "ModelName"],
    })
    assert report.status == "Acknowledged"
    assert set(report.body["QueryResponses"]) == {"OSVersion", "ModelName"}


def test_device_information_without_queries_answers_only_what_user_enrollment_allows() -> None:
    answers = UserEnrolledIPhone().answer("u", {"RequestType": "DeviceInformation"}).body["QueryResponses"]
    assert answers and set(answers) <= UE_DEVICE_INFORMATION_QUERIES


def test_not_now_is_answered_as_many_times_as_asked_then_the_command_runs() -> None:
    iphone = UserEnrolledIPhone(not_now={"DeviceLock": 2})
    statuses = [iphone.answer(f"u{i}", {"RequestType": "DeviceLock"}).status for i in range(3)]
    assert statuses == ["NotNow", "NotNow", "Acknowledged"]


def test_installing_an_app_makes_it_managed_and_removing_it_unmanages_it() -> None:
    iphone = UserEnrolledIPhone()
    installed = iphone.answer("u1", {"RequestType": "InstallApplication", "Identifier": "com.acme.app",
                                     "Options": {"PurchaseMethod": 1}})
    assert (installed.status, installed.body["Identifier"]) == ("Acknowledged", "com.acme.app")
    listed = iphone.answer("u2", {"RequestType": "ManagedApplicationList"}).body["ManagedApplicationList"]
    assert listed["com.acme.app"]["Status"] == "Managed"
    remove = {"RequestType": "RemoveApplication", "Identifier": "com.acme.app"}
    assert iphone.answer("u3", remove).status == "Acknowledged"
    assert iphone.answer("u4", remove).status == "Error"  # no longer managed
    taken_over = iphone.answer("u5", {"RequestType": "InstallApplication", "Identifier": "com.acme.app",
                                      "ChangeManagementState": "Managed"})
    assert taken_over.status == "Error"


@pytest.mark.parametrize("header", [
    'Bearer method="apple-as-web", url="https://mdm.example.com/signin"',  # Apple's example
    'Bearer method="apple-as-web" url="https://mdm.example.com/signin"',  # Fleet's capture
])
def test_both_forms_of_the_bearer_challenge_are_read(header: str) -> None:
    assert parse_bearer_challenge(header) == {"method": "apple-as-web", "url": "https://mdm.example.com/signin"}


def test_the_access_token_comes_from_the_callback_url() -> None:
    url = "apple-remotemanagement-user-login://authentication-results?access-token=abc.DEF-123"
    assert access_token_from(url) == "abc.DEF-123"
    with pytest.raises(ProtocolViolation):
        access_token_from("apple-remotemanagement-user-login://elsewhere?access-token=abc")


def test_an_unsigned_or_broken_profile_is_refused() -> None:
    with pytest.raises(ProtocolViolation, match="signature"):
        read_profile(plistlib.dumps({"PayloadType": "Configuration"}))
