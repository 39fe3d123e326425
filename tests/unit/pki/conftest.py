"""One PKI for the whole module run: creating RSA-3072 keys takes a moment."""

from __future__ import annotations

import pytest

from quince.pki import authority
from quince.pki.authority import Pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return authority.ensure(tmp_path_factory.mktemp("pki") / "pki")


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A second, unrelated Quince CA."""
    return authority.ensure(tmp_path_factory.mktemp("other-pki") / "pki")
