"""Where the pytest integration keeps the run: one stash key, read through small accessors."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contracts import Contract
    from harness.plugin.context import RunContext

RUN = pytest.StashKey["RunContext"]()


def run_of(config: pytest.Config) -> "RunContext":
    """The run this pytest process takes part in (set up in pytest_configure)."""
    return config.stash[RUN]


def contract_of(config: pytest.Config) -> "Contract":
    """The contract under test, e.g. to parametrize tests from its catalogs at collection."""
    return config.stash[RUN].contract
