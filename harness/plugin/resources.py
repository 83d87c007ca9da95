"""The run's live resources, made once per process when first needed: the target URL (the embedded mock starts
here), the one HTTP client and its transport. Fixtures hand them to tests; the plan's executor uses them too.
"""
from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest

from contracts.checks import Exchange
from harness import safety
from harness.recording import REDACTOR
from harness.transport import ApiClient, PoliteAdapter, RetryPolicy, SharedBudget
from harness.transport.client import sent_request
from harness.transport import replay
from harness.transport.inflight import InFlight


class Resources:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._server: Any = None
        self._url: str | None = None
        self._client: ApiClient | None = None
        self.answer_times: list[float] = []  # how long the target took per answer, for --prefetch auto

    @property
    def run(self) -> Any:
        from harness.plugin.keys import run_of

        return run_of(self.config)

    def target_url(self) -> str:
        """The base URL requests go to: the remote target, the controller's mock, or a mock started here."""
        with self._lock:
            if self._url is None:
                self._url = self._resolve_url()
            return self._url

    def _resolve_url(self) -> str:
        run = self.run
        if not run.target.embedded:
            return str(run.target.base_url)
        given = (getattr(self.config, "workerinput", None) or {}).get("bctrl_mock_url")
        if given:  # an xdist worker: the controller's mock, one server for the whole run
            return str(given)
        from mock import MockSettings, ServerProcess, create_app

        option = self.config.getoption
        settings = MockSettings(frozenset({run.target.api_key}), latency_seconds=option("mock_latency"),
                                throttle_every=option("mock_throttle_every"),
                                retry_after_seconds=option("mock_retry_after"))
        # In its own process: the reference server and the suite use both cores instead of taking turns on one.
        # In a drift run the mock stands for the server that has not moved yet: it serves OLD.
        served = run.drift.mock_contract if run.drift is not None else run.contract
        self._server = ServerProcess(create_app(settings, served)).start()
        return self._server.url

    def client(self) -> ApiClient:
        """The one HTTP client of the process: every request of the run goes through its session."""
        url = self.target_url()
        with self._lock:
            if self._client is None:
                self._client = self._make_client(url)
            return self._client

    def _make_client(self, target_url: str) -> ApiClient:
        run = self.run
        writer, judge = run.writer, run.judge
        api: ApiClient

        def test_now() -> str:
            return api.test_in_flight() or judge.state.test

        def on_event(record: dict[str, Any]) -> None:
            if writer is not None:
                writer.write("transport", test=test_now(), **record)

        def ledger(body: Any, label: str = "") -> None:
            if writer is not None and not run.target.embedded:
                writer.write("created", **safety.created_fields(body, test=test_now(), label=label))

        def on_exchange(exchange: Exchange) -> None:
            run.breaker.settle(exchange)
            if exchange.response is not None:
                self.answer_times.append(exchange.response.elapsed)

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
                                policy=RetryPolicy(max_retry_wait=run.max_retry_wait), on_event=on_event,
                                inflight=InFlight(run.events_dir, run.concurrency), guard=run.breaker.guard)
        api = ApiClient(target_url, run.target.api_key, run.contract.path,
                        timeout=(min(5.0, run.timeout), run.timeout), on_exchange=on_exchange,
                        on_request=REDACTOR.learn_request, on_read=on_read, politeness=adapter)
        run.breaker.install(api.session, api.url)  # a dead target stops everything sent through the session
        replay.install(api.session, run.replay)  # outermost: a prefetched answer is handed out, not sent again
        return api

    def forked(self) -> None:
        """In a forked helper (harness/plugin/fork.py): a client of its own; the mock stays the parent's to stop."""
        with self._lock:
            self._client = None  # made before the fork it would share the parent's pooled connections
            self._server = None

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._server is not None:
                self._server.stop()
                self._server = None
