"""MachineInfo: the signed body of the account-driven enrollment POST."""

from __future__ import annotations

import contextlib
import os
import plistlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quince.apple import cms
from quince.apple.errors import MalformedMachineInfo
from quince.apple.machine_info import HARDWARE_IDENTIFIER_KEYS, MachineInfo, parse_machine_info

from .pki import Identity, device_identity, handmade_signed_data

USER_ENROLLMENT_INFO = {"LANGUAGE": "en-US", "PRODUCT": "iPhone17,1", "VERSION": "22C161"}
FULL_INFO = {
    **USER_ENROLLMENT_INFO,
    "OS_VERSION": "18.2",
    "SOFTWARE_VERSION": "18.2",
    "UDID": "00008140-001A2B3C4D5E6F70",
    "SERIAL": "F2LXK0ABCD12",
    "IMEI": "35 123456 789012 3",
    "MEID": "35123456789012",
    "DEVICE_NAME": "Alice's iPhone",
    "MDM_CAN_REQUEST_SOFTWARE_UPDATE": True,
}


def device_signed(content: bytes, signer: Identity | None = None) -> bytes:
    """What an iPhone sends: the plist in a SignedData made with its built-in identity."""
    signer = signer or device_identity("ec")
    builder = (
        pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(signer.cert, signer.key, hashes.SHA256())
    )
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_signed_machine_info_parses_with_its_signer(kind: str) -> None:
    signer = device_identity(kind)
    message = parse_machine_info(device_signed(plistlib.dumps(USER_ENROLLMENT_INFO), signer))
    assert message.info == MachineInfo(language="en-US", product="iPhone17,1", version="22C161")
    assert message.signed
    assert message.signer_certificate == signer.cert
    assert message.raw == USER_ENROLLMENT_INFO


def test_bare_xml_plist_is_accepted_as_in_apples_example() -> None:
    message = parse_machine_info(plistlib.dumps(USER_ENROLLMENT_INFO))
    assert message.info.product == "iPhone17,1"
    assert not message.signed


def test_bare_binary_plist_is_accepted() -> None:
    message = parse_machine_info(plistlib.dumps(USER_ENROLLMENT_INFO, fmt=plistlib.FMT_BINARY))
    assert message.info.version == "22C161"


def test_hardware_identifiers_stay_in_raw_and_never_reach_the_typed_value() -> None:
    message = parse_machine_info(device_signed(plistlib.dumps(FULL_INFO)))
    assert message.info == MachineInfo(
        language="en-US", product="iPhone17,1", version="22C161", os_version="18.2", software_version="18.2"
    )
    record = message.info.as_record()
    assert record == {
        "LANGUAGE": "en-US",
        "PRODUCT": "iPhone17,1",
        "VERSION": "22C161",
        "OS_VERSION": "18.2",
        "SOFTWARE_VERSION": "18.2",
    }
    assert not HARDWARE_IDENTIFIER_KEYS & set(record)
    assert message.raw["UDID"] == FULL_INFO["UDID"]
    redacted = message.redacted()
    assert not HARDWARE_IDENTIFIER_KEYS & set(redacted)
    assert redacted["DEVICE_NAME"] == "Alice's iPhone"
    assert "00008140" not in repr(message)


def test_missing_optional_keys_are_none_and_left_out_of_the_record() -> None:
    message = parse_machine_info(plistlib.dumps({"PRODUCT": "iPad16,3"}))
    assert message.info == MachineInfo(product="iPad16,3")
    assert message.info.as_record() == {"PRODUCT": "iPad16,3"}


def test_signature_that_does_not_verify_is_malformed() -> None:
    body = plistlib.dumps(USER_ENROLLMENT_INFO)
    bad = handmade_signed_data(body, device_identity("rsa"), message_digest=b"\x01" * 32)
    with pytest.raises(MalformedMachineInfo, match="message digest"):
        parse_machine_info(bad)


def test_signature_check_can_be_skipped() -> None:
    body = plistlib.dumps(USER_ENROLLMENT_INFO)
    bad = handmade_signed_data(body, device_identity("rsa"), message_digest=b"\x01" * 32)
    message = parse_machine_info(bad, verify_signature=False)
    assert message.info.language == "en-US"
    assert not message.signed


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x8f\x11random-ish bytes\x00\xff", "not a property list"),
        (b"\x30\x82\x01\x00\x06\x09", "not a valid CMS SignedData"),
        (plistlib.dumps(["LANGUAGE", "PRODUCT"]), "list, not a dictionary"),
        (plistlib.dumps("just a string"), "str, not a dictionary"),
        (plistlib.dumps({"PRODUCT": 42}), "PRODUCT is a int"),
        (b"<?xml version='1.0'?><plist><dict><key>A</key>", "not a property list"),
    ],
)
def test_malformed_bodies_raise_the_typed_error(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedMachineInfo, match=reason):
        parse_machine_info(body)


def test_truncated_signed_body_is_malformed() -> None:
    signed = device_signed(plistlib.dumps(USER_ENROLLMENT_INFO))
    for length in (1, 2, 10, len(signed) // 2, len(signed) - 1):
        with pytest.raises(MalformedMachineInfo):
            parse_machine_info(signed[:length])


def test_signed_data_whose_content_is_not_a_plist_is_malformed() -> None:
    with pytest.raises(MalformedMachineInfo, match="not a property list"):
        parse_machine_info(device_signed(b"LANGUAGE=en-US; PRODUCT=iPhone"))


def test_signed_plist_that_is_not_a_dict_is_malformed() -> None:
    with pytest.raises(MalformedMachineInfo, match="not a dictionary"):
        parse_machine_info(device_signed(plistlib.dumps([USER_ENROLLMENT_INFO])))


def test_xml_entity_declarations_are_refused() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaaaaaaaa">]>'
        b'<plist version="1.0"><dict><key>LANGUAGE</key><string>&a;</string></dict></plist>'
    )
    with pytest.raises(MalformedMachineInfo):
        parse_machine_info(body)


def test_big_bodies_are_handled() -> None:
    big = plistlib.dumps({**USER_ENROLLMENT_INFO, "PADDING": "x" * 1_000_000})
    assert parse_machine_info(device_signed(big)).info.product == "iPhone17,1"
    with pytest.raises(MalformedMachineInfo):
        parse_machine_info(b"\x30" + os.urandom(1_000_000))


def test_non_bytes_body_is_malformed() -> None:
    with pytest.raises(MalformedMachineInfo):
        parse_machine_info("<plist/>")  # type: ignore[arg-type]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_either_parse_or_raise_the_typed_error(body: bytes) -> None:
    try:
        message = parse_machine_info(body)
    except MalformedMachineInfo:
        return
    assert isinstance(message.info, MachineInfo)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_any_bytes_that_look_like_der_either_parse_or_raise_the_typed_error(tail: bytes) -> None:
    with contextlib.suppress(MalformedMachineInfo):
        parse_machine_info(b"\x30" + tail)


_PLIST_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_PLIST_TEXT, _PLIST_TEXT, _PLIST_TEXT)
def test_signed_values_come_back_unchanged(language: str, product: str, version: str) -> None:
    info = {"LANGUAGE": language, "PRODUCT": product, "VERSION": version}
    message = parse_machine_info(device_signed(plistlib.dumps(info)))
    assert message.info == MachineInfo(language=language, product=product, version=version)


def test_profile_signing_identity_also_signs_machine_info_like_a_device() -> None:
    # The same cms.sign Quince uses for profiles produces a body the parser accepts.
    signer = device_identity("rsa")
    message = parse_machine_info(cms.sign(plistlib.dumps(USER_ENROLLMENT_INFO), signer.cert, signer.key))
    assert message.signer_certificate == signer.cert
