"""A pytest plugin for the fork selftests (`-p tests.selftest.planted`), steered by $SELFTEST_PLANT.

- `fail`: test_accepts_valid_payloads fails with "planted failure" (in whichever process runs it);
- `die`: the helper process of an embedded run leaves with exit status 3 in the middle of test_schemathesis.
"""
from __future__ import annotations

import os

import pytest


def pytest_runtest_call(item: pytest.Item) -> None:
    plant = os.environ.get("SELFTEST_PLANT", "")
    if plant == "fail" and item.name == "test_accepts_valid_payloads":
        raise AssertionError("planted failure")
    if plant == "die" and item.name == "test_schemathesis":
        from harness.plugin.keys import run_of

        if run_of(item.config).process.startswith("explore-"):
            os._exit(3)
