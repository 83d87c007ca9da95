"""The conformance cases: every test taking `case_id` is parametrized from the run's request plan (harness/plan/);
with --traffic, only the recorded exchanges are (tests/conformance/test_traffic.py), nothing else is collected."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.plugin import traffic
from harness.plugin.keys import run_of
from harness.plugin.planning import parametrize


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return traffic.ignore(collection_path, config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "recorded" in metafunc.fixturenames:
        metafunc.parametrize("recorded", traffic.params(run_of(metafunc.config)))
    parametrize(metafunc)
