"""Politeness on a shared server: budget, pacing, 429 + Retry-After, retries only when safe.

Against the real mock (which can throttle) and against raw sockets that
misbehave in exactly one way, with sleeps recorded instead of slept where the
waiting itself is not under test.
"""
from __future__ import annotations

import multiprocessing
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from contracts import Contract
from harness.transport import BudgetExhausted, Limits, SharedBudget
from harness.transport import ApiClient
from harness.transport.politeness import PoliteAdapter, RetryPolicy, Throttled, retry_after_seconds
from harness.safety import default_limits, is_loopback, looks_like_production
from mock import MockSettings, ServerThread, create_app
from strategies import minimal_payload
from tests.selftest.conftest import SELFTEST_KEY


class Recorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.events: list[dict[str, Any]] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def polite_client(url: str, contract: Contract, tmp_path: Path, *, limits: Limits = Limits(None, None),
                  policy: RetryPolicy = RetryPolicy(), recorder: Recorder | None = None,
                  timeout: tuple[float, float] = (2.0, 5.0)) -> ApiClient:
    recorder = recorder or Recorder()
    adapter = PoliteAdapter(SharedBudget(tmp_path / "state", limits), contract.path, policy=policy,
                            on_event=recorder.events.append, sleep=recorder.sleep)
    return ApiClient(url, SELFTEST_KEY, contract.path, timeout=timeout, politeness=adapter)


@pytest.fixture
def throttling_mock(loaded_contract: Contract) -> Iterator[tuple[str, MockSettings]]:
    settings = MockSettings(frozenset({SELFTEST_KEY}), throttle_every=3, retry_after_seconds=1)
    with ServerThread(create_app(settings, loaded_contract)) as server:
        yield server.url, settings


def payload(contract: Contract) -> dict[str, Any]:
    return minimal_payload(contract.request_schema, spaceId=str(uuid.uuid4()))


# -- Retry-After ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, seconds", [("3", 3.0), ("0", 0.0), (" 12 ", 12.0), (None, None), ("", None),
                                            ("soon", None), ("-1", None)])
def test_retry_after_delta_seconds(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value) == seconds


def test_retry_after_http_date() -> None:
    now = 1_800_000_000.0
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 7))
    assert retry_after_seconds(date, now=now) == pytest.approx(7.0)
    assert retry_after_seconds(time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now - 60)), now=now) == 0.0


# -- 429 -------------------------------------------------------------------------------------

def test_429_with_retry_after_is_waited_out_and_counted(throttling_mock, loaded_contract, tmp_path) -> None:
    url, settings = throttling_mock
    recorder = Recorder()
    client = polite_client(url, loaded_contract, tmp_path, recorder=recorder)
    statuses = [client.create(payload(loaded_contract)).status for _ in range(6)]
    assert statuses == [200] * 6, "the test sees only the answer after the wait, never the 429"
    # The mock counts every create it sees: #3 and #6 get 429, their retries are #4 and #7.
    assert settings.counters["throttled"] == 2
    assert recorder.sleeps == [1.0] * 2, "each 429 waited exactly its Retry-After"
    assert [e["event"] for e in recorder.events] == ["throttled"] * 2
    assert all(e["retry_after"] == "1" and not e["gave_up"] for e in recorder.events)


def test_persistent_429_gives_up_after_the_retries_and_skips(loaded_contract, tmp_path) -> None:
    settings = MockSettings(frozenset({SELFTEST_KEY}), throttle_every=1, retry_after_seconds=2)
    recorder = Recorder()
    with ServerThread(create_app(settings, loaded_contract)) as server:
        client = polite_client(server.url, loaded_contract, tmp_path, recorder=recorder,
                               policy=RetryPolicy(max_throttle_retries=3))
        with pytest.raises(Throttled, match="4 answers 429 in a row"):
            client.create(payload(loaded_contract))
    assert settings.counters["throttled"] == 4 and recorder.sleeps == [2.0, 2.0, 2.0]
    assert recorder.events[-1]["gave_up"] is True


def test_a_retry_after_beyond_the_bound_is_not_waited(loaded_contract, tmp_path) -> None:
    settings = MockSettings(frozenset({SELFTEST_KEY}), throttle_every=1, retry_after_seconds=600)
    recorder = Recorder()
    with ServerThread(create_app(settings, loaded_contract)) as server:
        client = polite_client(server.url, loaded_contract, tmp_path, recorder=recorder,
                               policy=RetryPolicy(max_retry_wait=30))
        with pytest.raises(Throttled, match="asked to wait 600 s, more than --max-retry-wait 30"):
            client.create(payload(loaded_contract))
    assert recorder.sleeps == [] and settings.counters["throttled"] == 1


# -- budget and pacing -------------------------------------------------------------------------

def test_budget_refuses_the_create_beyond_it_without_sending(mock_url, loaded_contract, tmp_path) -> None:
    recorder = Recorder()
    client = polite_client(mock_url, loaded_contract, tmp_path, limits=Limits(4, None), recorder=recorder)
    for _ in range(4):
        assert client.create(payload(loaded_contract)).status == 200
    other = client.send("GET", intent="unknown")  # not a create: the budget does not apply
    assert other.status == 405
    with pytest.raises(BudgetExhausted, match="already created 4 runtimes"):
        client.create(payload(loaded_contract))
    usage = SharedBudget(tmp_path / "state", Limits(4, None)).usage()
    assert usage == {"creates": 4, "requests": 5, "refused": 1, "given_back": 0}
    assert recorder.events[-1]["event"] == "budget_exhausted"


def test_a_refused_create_costs_no_budget(mock_url, loaded_contract, tmp_path) -> None:
    """The budget counts what staging pays for: a POST answered 4xx gives its reservation back."""
    client = polite_client(mock_url, loaded_contract, tmp_path, limits=Limits(2, None))
    for _ in range(5):
        assert client.create({"type": "browser"}, intent="invalid").status == 422  # spaceId missing
    assert [client.create(payload(loaded_contract)).status for _ in range(2)] == [200, 200]
    with pytest.raises(BudgetExhausted):
        client.create({"type": "browser"}, intent="invalid")  # could create on a broken server: not sent
    usage = SharedBudget(tmp_path / "state", Limits(2, None)).usage()
    assert usage == {"creates": 2, "requests": 7, "refused": 1, "given_back": 5}


def test_requests_in_flight_never_exceed_the_budget(tmp_path) -> None:
    """Eight threads racing for 3 creates: the last reservations wait for answers, none goes over."""
    budget = SharedBudget(tmp_path, Limits(3, None))
    created, refused, lock = [], [], threading.Lock()

    def attempt(number: int) -> None:
        try:
            budget.acquire(create=True)
        except BudgetExhausted:
            with lock:
                refused.append(number)
            return
        time.sleep(0.05)
        accepted = number % 2 == 0  # odd ones answered 4xx: their reservation comes back
        budget.settle(created=accepted)
        with lock:
            (created if accepted else refused).append(number)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(created) == 3 and budget.usage()["creates"] == 3
    assert len(created) + len(refused) == 8


def _take(folder: str, attempts: int, results: Any) -> None:
    budget = SharedBudget(Path(folder), Limits(50, None))
    granted = 0
    for _ in range(attempts):
        try:
            budget.acquire(create=True)
            budget.settle(created=True)
            granted += 1
        except BudgetExhausted:
            pass
    results.put(granted)


def test_budget_holds_across_processes(tmp_path) -> None:
    """xdist workers share one budget: three processes asking 30 each get 50 in all, not 90."""
    context = multiprocessing.get_context("fork")  # the child only takes file locks; spawn would re-import the suite
    results = context.Queue()
    processes = [context.Process(target=_take, args=(str(tmp_path), 30, results)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert sum(results.get(timeout=5) for _ in processes) == 50


def test_rate_limit_spaces_requests_out(tmp_path) -> None:
    budget = SharedBudget(tmp_path, Limits(None, 20.0))
    started = time.monotonic()
    for _ in range(11):
        budget.acquire(create=False)
    assert time.monotonic() - started >= 0.45  # 10 intervals of 50 ms after the first


# -- retries of transport failures ---------------------------------------------------------------

class RawServer:
    """Accepts connections and misbehaves: 'reset' reads the request then closes; 'silent' never answers."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                if self.mode == "silent":
                    self._stop.wait(5)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def raw_server(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    server = RawServer(request.param)
    yield server
    server.close()


@pytest.mark.parametrize("raw_server", ["reset"], indirect=True)
def test_a_create_that_reached_the_server_is_never_retried(raw_server, loaded_contract, tmp_path) -> None:
    recorder = Recorder()
    client = polite_client(f"http://127.0.0.1:{raw_server.port}", loaded_contract, tmp_path, recorder=recorder)
    exchange = client.create(payload(loaded_contract))
    assert exchange.response is None and exchange.error
    time.sleep(0.1)
    assert raw_server.connections == 1, "a POST that may have created a runtime must not be sent again"
    assert recorder.sleeps == []


@pytest.mark.parametrize("raw_server", ["reset"], indirect=True)
def test_an_idempotent_request_is_retried_with_backoff(raw_server, loaded_contract, tmp_path) -> None:
    recorder = Recorder()
    client = polite_client(f"http://127.0.0.1:{raw_server.port}", loaded_contract, tmp_path, recorder=recorder,
                           policy=RetryPolicy(max_connection_retries=2, backoff=0.5))
    exchange = client.send("GET")
    assert exchange.response is None
    time.sleep(0.1)
    assert raw_server.connections == 3 and recorder.sleeps == [0.5, 1.0]
    assert [e["event"] for e in recorder.events] == ["retry", "retry"]


@pytest.mark.parametrize("raw_server", ["silent"], indirect=True)
def test_a_create_that_timed_out_is_never_retried(raw_server, loaded_contract, tmp_path) -> None:
    client = polite_client(f"http://127.0.0.1:{raw_server.port}", loaded_contract, tmp_path, timeout=(2.0, 0.5))
    exchange = client.create(payload(loaded_contract))
    assert exchange.response is None and "read timeout" in (exchange.error or "")
    assert raw_server.connections == 1


def test_a_create_that_never_connected_is_retried(loaded_contract, tmp_path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    recorder = Recorder()
    client = polite_client(f"http://127.0.0.1:{port}", loaded_contract, tmp_path, recorder=recorder)
    exchange = client.create(payload(loaded_contract))
    assert exchange.response is None and "connection failed" in (exchange.error or "")
    assert [e["event"] for e in recorder.events] == ["retry", "retry"], "refused before sending: safe to retry"


# -- which targets get which defaults ----------------------------------------------------------------

@pytest.mark.parametrize("url, production", [
    ("https://api.bctrl.ai", True),
    ("https://bctrl.ai/api", True),
    ("https://runtimes.example-corp.com", True),
    ("https://8.8.8.8", True),
    ("https://staging.bctrl.ai", False),
    ("https://api-staging.bctrl.ai", False),
    ("https://api.stg2.bctrl.ai", False),
    ("https://dev.bctrl.ai", False),
    ("https://devices.bctrl.ai", True),  # 'dev' only as a whole label
    ("http://localhost:8787", False),
    ("http://127.0.0.1:8787", False),
    ("http://10.0.3.7", False),
    ("http://bctrl.internal", False),
    ("http://runtimes.test", False),
])
def test_production_guard(url: str, production: bool) -> None:
    assert looks_like_production(url) is production


def test_default_limits_apply_to_shared_targets_only() -> None:
    assert default_limits(None, None, None) == Limits(None, None)  # embedded mock
    assert default_limits("http://127.0.0.1:9", None, None) == Limits(None, None)  # your own machine
    assert default_limits("https://staging.example.com", None, None) == Limits(300, 5.0)
    assert default_limits("https://staging.example.com", 50, 2.0) == Limits(50, 2.0)
    assert default_limits("https://staging.example.com", 0, 0) == Limits(None, None)  # 0: off, explicitly
    assert default_limits("http://127.0.0.1:9", 10, None) == Limits(10, None)
    assert is_loopback("http://[::1]:80") and not is_loopback("https://staging.example.com")
