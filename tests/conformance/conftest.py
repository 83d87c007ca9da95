"""The conformance cases: every test taking `case_id` is parametrized from the run's request plan (harness/plan/)."""
from __future__ import annotations

import pytest

from harness.plugin.planning import parametrize


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc)
