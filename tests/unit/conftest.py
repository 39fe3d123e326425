"""Unit tests: pure code (domain rules, Apple formats, the PKI, the HTTP clients on
httpx.MockTransport), no database, no server, no sockets. Their collection imports neither the web
layer nor uvicorn nor the database drivers; test_light_collection.py checks it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests run Hypothesis's default 100 examples each here, so that the unit tests take
# seconds; in CI (CI=true), or with HYPOTHESIS_PROFILE=thorough, 300 each. A test that sets its
# own max_examples (a slow one asks for fewer) keeps it.
settings.register_profile("quick", max_examples=100)
settings.register_profile("thorough", max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("thorough" if os.environ.get("CI") == "true" else "quick"))

UNIT = Path(__file__).resolve().parent
HEAVY = ("quince.web", "uvicorn", "asyncpg")
COLLECTED_HEAVY = pytest.StashKey[list[str]]()


def heavy_modules() -> list[str]:
    """The modules of HEAVY (and their submodules) this interpreter has imported."""
    return sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def _unit_tests_only(config: pytest.Config) -> bool:
    paths = [Path(arg.split("::", 1)[0]).resolve() for arg in config.args]
    return bool(paths) and all(path == UNIT or UNIT in path.parents for path in paths)


def pytest_collection_finish(session: pytest.Session) -> None:
    # When this run collects the unit tests alone, what it has imported now is exactly what
    # collecting them imports: note it, and test_light_collection.py needs no second interpreter.
    if _unit_tests_only(session.config):
        session.config.stash[COLLECTED_HEAVY] = heavy_modules()
