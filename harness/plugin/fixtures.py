"""The fixtures tests use: the contract, the target (the embedded mock starts here), the client, `conformance`."""
from __future__ import annotations

import json
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from contracts import Contract
from contracts.checks import Exchange
from harness import safety
from harness.conformance import Conformance, Judge
from harness.plugin.context import RunContext
from harness.plugin.keys import run_of
from harness.recording import REDACTOR, EventWriter
from harness.transport.client import sent_request
from harness.target import TargetConfig
from harness.transport import ApiClient, PoliteAdapter, RetryPolicy, SharedBudget


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
def target_url(run: RunContext, pytestconfig: pytest.Config) -> Iterator[str]:
    """The base URL requests go to: the remote target, or the embedded mock started here on 127.0.0.1."""
    if not run.target.embedded:
        yield str(run.target.base_url)
        return
    from mock import MockSettings, ServerThread, create_app

    option = pytestconfig.getoption
    settings = MockSettings(frozenset({run.target.api_key}), latency_seconds=option("mock_latency"),
                            throttle_every=option("mock_throttle_every"), retry_after_seconds=option("mock_retry_after"))
    with ServerThread(create_app(settings, run.contract)) as server:
        yield server.url


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
def client(target_url: str, run: RunContext) -> Iterator[ApiClient]:
    """The one HTTP client of the process: every request of the run goes through its session."""
    writer, judge_ = run.writer, run.judge

    def on_event(record: dict[str, Any]) -> None:
        if writer is not None:
            writer.write("transport", test=judge_.state.test, **record)

    def ledger(body: Any, label: str = "") -> None:
        if writer is not None and not run.target.embedded:
            writer.write("created", **safety.created_fields(body, test=judge_.state.test, label=label))

    def on_exchange(exchange: Exchange) -> None:
        run.breaker.settle(exchange)

    def on_read(response: Any, body: bytes, truncated: bool) -> None:
        """Every answer read through the session, whoever sent it: 2xx creates go to the ledger."""
        request = sent_request(response.request)
        REDACTOR.learn_request(request)  # before anything of it is written down
        if 200 <= response.status_code < 300 and request.method == run.contract.method.upper() \
                and urlsplit(request.url).path.endswith(run.contract.path):
            try:
                parsed = json.loads(body) if not truncated else None
            except ValueError:
                parsed = None
            ledger(parsed, api.label_in_flight() or "schemathesis")

    adapter = PoliteAdapter(SharedBudget(run.events_dir, run.limits), run.contract.path,
                            policy=RetryPolicy(max_retry_wait=run.max_retry_wait),
                            on_event=on_event)
    api = ApiClient(target_url, run.target.api_key, run.contract.path,
                    timeout=(min(5.0, run.timeout), run.timeout), on_exchange=on_exchange,
                    on_request=REDACTOR.learn_request, on_read=on_read, politeness=adapter)
    run.breaker.install(api.session, api.url)  # outermost: a dead target stops everything sent through the session
    yield api
    api.close()


@pytest.fixture(scope="session")
def _conformance(judge: Judge, client: ApiClient) -> Conformance:
    return Conformance(judge, client)


@pytest.fixture
def conformance(_conformance: Conformance) -> Conformance:
    """Send requests to the target and fail the test on any contract violation."""
    return _conformance
