"""Fixtures for the suite's own tests: a reference mock with a known key."""
from __future__ import annotations

from typing import Iterator

import pytest

from contracts import Contract, load_contract
from mock import MockSettings, ServerThread, create_app

SELFTEST_KEY = "selftest-key-0123456789"


@pytest.fixture(scope="session")
def loaded_contract() -> Contract:
    return load_contract()


@pytest.fixture(scope="session")
def mock_url(loaded_contract: Contract) -> Iterator[str]:
    with ServerThread(create_app(MockSettings(frozenset({SELFTEST_KEY})), loaded_contract)) as server:
        yield server.url


@pytest.fixture(scope="session")
def runtimes_url(mock_url: str, loaded_contract: Contract) -> str:
    return mock_url + loaded_contract.path
