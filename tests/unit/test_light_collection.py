"""Unit tests stay light: collecting tests/unit loads neither the web layer nor the server nor the
database drivers, so the root conftest and the unit tests import only what they test."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.unit.conftest import COLLECTED_HEAVY, UNIT

# Collect tests/unit in a fresh interpreter and print the heavy modules it imported.
_COLLECT = """
import sys
import pytest
from tests.unit.conftest import heavy_modules
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "tests/unit"])
print("HEAVY:", " ".join(heavy_modules()))
sys.exit(int(code))
"""


def _collect_in_a_fresh_interpreter() -> list[str]:
    run = subprocess.run(  # noqa: S603 (this interpreter, a fixed program)
        [sys.executable, "-c", _COLLECT], cwd=UNIT.parents[1], capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.rsplit("HEAVY:", 1)[1].split()


def test_collecting_the_unit_tests_imports_no_web_layer_server_or_database_driver(
    request: pytest.FixtureRequest,
) -> None:
    # A run of tests/unit alone noted what its collection imported (conftest.py); a wider run has
    # imported the rest of the suite's fixtures, so it asks a fresh interpreter.
    heavy = request.config.stash.get(COLLECTED_HEAVY, None)
    if heavy is None:
        heavy = _collect_in_a_fresh_interpreter()
    assert heavy == [], f"collecting tests/unit imported {heavy}"
