"""`quince logs collect`: one command gives a support engineer the lines of one user, device or
enrollment from either log (DESIGN.md rule 8)."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quince.log_bundles import BadFilter, parse_since
from tests.e2e.cli.conftest import Cli

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _line(minutes_ago: int, event: str, outcome: str, **fields: str) -> str:
    when = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat(timespec="milliseconds")
    return json.dumps({"time": when, "level": "INFO", "event": event, "outcome": outcome, **fields}) + "\n"


@pytest.fixture
def log_dir(cli: Cli) -> Path:
    path = Path(cli.env["QUINCE_VAR_DIR"]) / "log"
    path.mkdir(parents=True)
    (path / "DeviceManagement.log").write_text(
        _line(300, "signin.form", "shown", request_id="r1")
        + _line(299, "signin.submit", "enrollment_started", user="alice", enrollment="e-a", device="d-a")
        + _line(10, "signin.submit", "wrong_credentials", request_id="r2")
        + _line(9, "signin.submit", "enrollment_started", user="bob", enrollment="e-b", device="d-b")
        + "not json at all\n"
    )
    (path / "DeviceServices.log").write_text(
        _line(298, "enroll.profile", "delivered", user="alice", enrollment="e-a", device="d-a")
        + _line(297, "scep.pki_operation", "issued", enrollment="e-a")
        + _line(8, "enroll.profile", "delivered", user="bob", enrollment="e-b", device="d-b")
    )
    return path


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The umask of a shell that makes files world-readable (022)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _read(bundle: Path) -> dict[str, str]:
    with zipfile.ZipFile(bundle) as z:
        return {name: z.read(name).decode() for name in z.namelist()}


async def test_collect_filters_both_logs_to_one_user(cli: Cli, log_dir: Path, tmp_path: Path) -> None:
    await cli.ok("logs", "collect", "--user", "alice", "-o", str(tmp_path / "alice.zip"))
    files = _read(tmp_path / "alice.zip")
    assert set(files) == {"DeviceManagement.log", "DeviceServices.log", "summary.json"}
    assert [json.loads(x)["event"] for x in files["DeviceManagement.log"].splitlines()] == ["signin.submit"]
    assert [json.loads(x)["user"] for x in files["DeviceServices.log"].splitlines()] == ["alice"]
    summary = json.loads(files["summary.json"])
    assert summary["filters"]["user"] == "alice"
    assert summary["files"] == {"DeviceManagement.log": 1, "DeviceServices.log": 1}
    assert summary["unreadable_lines"] == 1


async def test_collect_by_enrollment_finds_lines_that_carry_no_user(
    cli: Cli, log_dir: Path, tmp_path: Path
) -> None:
    out = await cli.json("logs", "collect", "--log", "deviceservices", "--enrollment", "e-a",
                         "-o", str(tmp_path / "e.zip"))
    assert out["Files"] == {"DeviceServices.log": 2}
    assert out["Events"] == {
        "DeviceServices enroll.profile delivered": 1, "DeviceServices scep.pki_operation issued": 1,
    }
    assert "DeviceManagement.log" not in _read(tmp_path / "e.zip")


async def test_collect_by_device_and_since(cli: Cli, log_dir: Path, tmp_path: Path) -> None:
    out = await cli.json("logs", "collect", "--device", "d-b", "--since", "1h", "-o", str(tmp_path / "d.zip"))
    assert out["Files"] == {"DeviceManagement.log": 1, "DeviceServices.log": 1}
    recent = await cli.json("logs", "collect", "--since", "30m", "-o", str(tmp_path / "r.zip"))
    assert recent["Files"] == {"DeviceManagement.log": 2, "DeviceServices.log": 1}


async def test_the_bundle_is_readable_only_by_its_owner_whatever_the_umask(
    cli: Cli, log_dir: Path, tmp_path: Path, permissive_umask: None
) -> None:
    await cli.ok("logs", "collect", "--user", "alice", "-o", str(tmp_path / "alice.zip"))
    assert _mode(tmp_path / "alice.zip") == 0o600
    assert "DeviceServices.log" in _read(tmp_path / "alice.zip")
    # Writing over an earlier, world-readable file does not keep its mode.
    earlier = tmp_path / "earlier.zip"
    earlier.write_bytes(b"old")
    earlier.chmod(0o644)
    await cli.ok("logs", "collect", "--user", "bob", "-o", str(earlier))
    assert _mode(earlier) == 0o600
    assert "DeviceServices.log" in _read(earlier)
    assert _names(tmp_path) == ["alice.zip", "earlier.zip", "var"]  # no temporary file left behind


async def test_bad_filters_are_refused_with_a_clear_message(cli: Cli, log_dir: Path, tmp_path: Path) -> None:
    assert "--since 'yesterday'" in await cli.fails("logs", "collect", "--since", "yesterday", "-o", "x.zip")
    assert "--log must be one of" in await cli.fails("logs", "collect", "--log", "apache", "-o", "x.zip")


def test_since_takes_durations_and_iso_times() -> None:
    assert parse_since("2h", NOW) == NOW - timedelta(hours=2)
    assert parse_since("1d12h", NOW) == NOW - timedelta(days=1, hours=12)
    assert parse_since("2026-11-25T10:00:00", NOW) == datetime(2026, 11, 25, 10, tzinfo=UTC)
    with pytest.raises(BadFilter):
        parse_since("2x", NOW)
