"""One PKI for the whole run (creating RSA-3072 keys takes a moment), and a pool of real RSA keys
so that the tests which create PKIs of their own do not generate and check new keys every time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from quince.pki import authority
from quince.pki.authority import Pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return _session_pki(tmp_path_factory.mktemp("pki") / "pki")


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A second, unrelated Quince CA."""
    return _session_pki(tmp_path_factory.mktemp("other-pki") / "pki")


def _session_pki(directory: Path) -> Pki:
    # New keys of its own (the pool's are lent to one test at a time), each loaded once.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(serialization, "load_pem_private_key", _POOL.load_pem_private_key)
        return authority.ensure(directory)


class KeyPool:
    """Real RSA keys, every one distinct within a test, handed out again to later tests, and each
    PEM key parsed (and checked by OpenSSL) once.

    A 3072-bit key takes up to a second to generate and about a third of one to load (OpenSSL checks
    its primes), and the PKI tests create about twenty PKIs and load each three times. No test can
    tell a key another test used from a new one, or a key loaded before from a fresh parse. The
    session-wide PKIs above are created before any test borrows from the pool, so their keys are
    never handed out."""

    def __init__(self) -> None:
        self._generate = rsa.generate_private_key
        self._load = serialization.load_pem_private_key
        self._free: dict[tuple[int, int], list[rsa.RSAPrivateKey]] = {}
        self._lent: dict[tuple[int, int], list[rsa.RSAPrivateKey]] = {}
        self._loaded: dict[tuple[bytes, bytes | None], PrivateKeyTypes] = {}

    def generate_private_key(
        self, public_exponent: int, key_size: int, backend: object = None
    ) -> rsa.RSAPrivateKey:
        kind = (public_exponent, key_size)
        free = self._free.setdefault(kind, [])
        key = free.pop() if free else self._generate(public_exponent=public_exponent, key_size=key_size)
        self._lent.setdefault(kind, []).append(key)
        return key

    def load_pem_private_key(self, data: bytes, password: bytes | None, backend: object = None,
                             **options: bool) -> PrivateKeyTypes:
        known = (bytes(data), password)
        if known not in self._loaded:  # a failed load raises every time, as it should
            self._loaded[known] = self._load(data, password, **options)
        return self._loaded[known]

    def give_back(self) -> None:
        for kind, keys in self._lent.items():
            self._free.setdefault(kind, []).extend(keys)
        self._lent.clear()


_POOL = KeyPool()


@pytest.fixture(autouse=True)
def pooled_rsa_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyPool]:
    """RSA keys made or loaded during a test (by quince.pki or the test's SCEP client) go through
    the pool."""
    monkeypatch.setattr(rsa, "generate_private_key", _POOL.generate_private_key)
    monkeypatch.setattr(serialization, "load_pem_private_key", _POOL.load_pem_private_key)
    yield _POOL
    _POOL.give_back()
