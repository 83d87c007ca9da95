"""The fixtures tests use: the contract, the target (the embedded mock starts here), the client, `conformance`."""
from __future__ import annotations

import pytest

from contracts import Contract
from harness.conformance import Conformance, Judge
from harness.plugin.context import RunContext
from harness.plugin.keys import run_of
from harness.plugin.planning import PlannedRunner
from harness.recording import EventWriter
from harness.target import TargetConfig
from harness.transport import ApiClient


@pytest.fixture(scope="session")
def run(pytestconfig: pytest.Config) -> RunContext:
    """This process's view of the run (contract, target, limits, judge, event writer)."""
    return run_of(pytestconfig)


@pytest.fixture(scope="session")
def contract(run: RunContext) -> Contract:
    return run.contract


@pytest.fixture(scope="session")
def target(run: RunContext) -> TargetConfig:
    return run.target


@pytest.fixture(scope="session")
def target_url(run: RunContext) -> str:
    """The base URL requests go to: the remote target, or the embedded mock started for the run on 127.0.0.1."""
    return run.resources.target_url()


@pytest.fixture(scope="session")
def space_id(run: RunContext) -> str:
    return run.target.space_id


@pytest.fixture(scope="session")
def run_id(run: RunContext) -> str:
    """This run's id (the same in every xdist worker)."""
    return run.run_id


@pytest.fixture(scope="session")
def name_prefix(run: RunContext) -> str:
    """Prefix for the names of runtimes this run creates, so they can be found and cleaned up."""
    return run.name_prefix


@pytest.fixture(scope="session")
def event_log(run: RunContext) -> EventWriter | None:
    """This process's event writer (None in a session that records nothing)."""
    return run.writer


@pytest.fixture(scope="session")
def judge(run: RunContext) -> Judge:
    return run.judge


@pytest.fixture(scope="session")
def client(run: RunContext) -> ApiClient:
    """The one HTTP client of the process: every request of the run goes through its session."""
    return run.resources.client()


# Session-scoped, both: one object serves every test (the test being judged is the judge's state, set per
# item in hooks.py). Function-scoped, pytest built two fixtures and a `request` per test: ~0.5 ms each of
# the ~700 planned tests of a default run.
@pytest.fixture(scope="session")
def conformance(judge: Judge, client: ApiClient) -> Conformance:
    """Send requests to the target and fail the test on any contract violation."""
    return Conformance(judge, client)


@pytest.fixture(scope="session")
def planned(pytestconfig: pytest.Config, conformance: Conformance) -> PlannedRunner:
    """The plan's requests: `planned.verify(case_id)` judges the answer the plan got for this test's case."""
    return PlannedRunner(pytestconfig, conformance)
