"""The conformance cases: every test taking `case_id` is parametrized from the run's request plan (harness/plan/);
with --traffic, only the recorded exchanges are (tests/conformance/test_traffic.py), nothing else is collected;
the drift probes (tests/conformance/test_drift.py) only with --drift-from or --upstream-contract."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.plugin import drift, traffic
from harness.plugin.keys import run_of
from harness.plugin.planning import parametrize


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    return traffic.ignore(collection_path, config) or drift.ignore(collection_path, config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "recorded" in metafunc.fixturenames:
        metafunc.parametrize("recorded", traffic.params(run_of(metafunc.config)))
    if "drift_probe" in metafunc.fixturenames:
        metafunc.parametrize("drift_probe", drift.params(run_of(metafunc.config).drift))
    parametrize(metafunc)
