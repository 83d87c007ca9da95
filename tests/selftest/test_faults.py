"""The suite against a misbehaving target: findings or one clear line, never a hang, nothing lost.

Two levels:
- in-process, fast: the client and the circuit breaker against each fault server
  (timeouts, resets, the body cap and its memory, redirects never followed);
- the suite as a user runs it (`run_suite`: `python -m pytest --base-url ...`)
  against each fault, with short `--request-timeout`s. Those runs start in
  parallel in one module fixture (pytest start-up dominates), each bounded.

Exit codes: 1 contract violations, 10 unreachable at start, 11 the target went
down during the run (harness/breaker.py).
"""
from __future__ import annotations

import os
import time
import tracemalloc
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

from contracts import Contract
from contracts.checks.model import MISSING
from harness.transport import EXIT_TARGET_DOWN, CircuitBreaker, TargetDown
from contracts.checks import Exchange
from harness.transport import ApiClient
from harness.conformance import Judge
from harness.recording import read_events
from harness.transport.session import KEEP_WHEN_TRUNCATED
from strategies import minimal_payload
from tests.selftest.faults.catalog import FAULTS, SLOW_SECONDS, dying
from tests.selftest.faults.server import FaultServer, Handler, refused_url
from tests.selftest.suite_runner import SuiteRun, run_suite
from tests.selftest.shared import once

KEY = "faults-key-3c9d0a7e"
SPACE = "1b4e28ba-2fa1-11d2-883f-0016cb6f8a10"
EXIT_VIOLATIONS, EXIT_UNREACHABLE = 1, 10
BASICS = "tests/conformance/test_create_basics.py"  # three requests: enough to show a finding, quick to run
PROBE_SUITE = "tests/selftest/faults/probe_suite.py"


@pytest.fixture
def fault() -> Iterator[Callable[[Handler], FaultServer]]:
    servers: list[FaultServer] = []

    def start(handler: Handler) -> FaultServer:
        servers.append(FaultServer(handler).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def client_for(server: FaultServer, contract: Contract, timeout: float = 0.5, **kw: object) -> ApiClient:
    return ApiClient(server.url, KEY, contract.path, timeout=(timeout, timeout), **kw)  # type: ignore[arg-type]


def create(api: ApiClient) -> Exchange:
    return api.create({"type": "browser", "spaceId": SPACE})


# --- the circuit breaker, alone --------------------------------------------------------------
def test_breaker_trips_after_two_dead_answers_while_the_target_never_answered() -> None:
    breaker = CircuitBreaker("http://t/v2/runtimes", threshold=5)
    breaker.record("connection failed: refused")
    assert breaker.tripped is None
    breaker.record("connection failed: refused")
    assert breaker.tripped and "never answered" in breaker.tripped and "http://t/v2/runtimes" in breaker.tripped
    assert "is the server up" in breaker.tripped and f"exit {EXIT_TARGET_DOWN}" in breaker.tripped
    with pytest.raises(TargetDown, match="not sent: run stopped, target down"):
        breaker.guard()


def test_breaker_counts_only_consecutive_dead_answers_once_the_target_answered() -> None:
    breaker = CircuitBreaker("http://t", threshold=3)
    # None: a usable answer (a 200, a 400, and a 500 too: a server that crashes on some input is alive).
    for reason in [None, "connection failed", "HTTP 503", None, "HTTP 502", "HTTP 504", None]:
        breaker.record(reason)
    assert breaker.tripped is None, "never three dead answers in a row"
    for reason in ["no answer within the 1 s read timeout", "HTTP 429 on every retry", "HTTP 503"]:
        breaker.record(reason)
    assert breaker.tripped and "3 requests in a row" in breaker.tripped and "(last: HTTP 503)" in breaker.tripped
    assert breaker.dead_answers == 7


def test_breaker_with_threshold_zero_never_trips() -> None:
    breaker = CircuitBreaker("http://t", threshold=0)
    for _ in range(50):
        breaker.record("HTTP 503")
    assert breaker.tripped is None
    breaker.guard()


def test_breaker_shared_by_a_run_counts_dead_answers_across_its_processes(tmp_path: Path) -> None:
    # A local run's forked helper and xdist workers each have a breaker; the run has one count.
    main, worker = CircuitBreaker("http://t", threshold=3), CircuitBreaker("http://t", threshold=3)
    main.share(tmp_path, fresh=True)
    worker.share(tmp_path, fresh=False)
    main.record(None)
    main.record("HTTP 503")
    worker.record("HTTP 503")
    assert main.tripped is None and worker.dead_answers == 2
    pid = os.fork()
    if pid == 0:  # a forked child counts in the same file through a file of its own (not the parent's lock)
        try:
            main.record("HTTP 502")
        finally:
            os._exit(0)  # never back into pytest
    os.waitpid(pid, 0)
    assert main.tripped and "3 requests in a row" in main.tripped and "(last: HTTP 502)" in main.tripped
    with pytest.raises(TargetDown):
        worker.guard()
    fresh = CircuitBreaker("http://t", threshold=3)
    fresh.share(tmp_path, fresh=True)
    assert fresh.tripped is None and fresh.dead_answers == 0 and not fresh.answered_or_open()


def test_breaker_shared_by_a_forked_child_loses_no_count(tmp_path: Path) -> None:
    # Parent and child count at the same time: each must lock the file itself (a lock on the open file
    # they inherited would be one lock held by both, and counts would be lost).
    breaker = CircuitBreaker("http://t", threshold=0)
    breaker.share(tmp_path, fresh=True)
    breaker.record(None)  # the parent opened the file before the fork
    pid = os.fork()
    try:
        for _ in range(1500):
            breaker.record("HTTP 503")
    finally:
        if pid == 0:
            os._exit(0)  # never back into pytest
    os.waitpid(pid, 0)
    assert breaker.dead_answers == 3000


# --- the client and the breaker against each fault, in-process ---------------------------------
def test_hanging_target_times_out_and_trips_the_breaker(fault: Callable[[Handler], FaultServer],
                                                        loaded_contract: Contract) -> None:
    server = fault(FAULTS["hang"])
    api = client_for(server, loaded_contract)
    breaker = CircuitBreaker()
    breaker.install(api.session, api.url)
    api.on_exchange = breaker.settle
    started = time.monotonic()
    first, second = create(api), create(api)
    assert time.monotonic() - started < 3
    assert first.response is None and first.error == "no answer within the 0.5 s read timeout"
    assert breaker.tripped and "no answer within the 0.5 s read timeout" in breaker.tripped
    with pytest.raises(TargetDown):
        create(api)
    assert server.requests == 2, "the open breaker must not send"


def test_slow_target_times_out_and_its_server_stops_at_once(loaded_contract: Contract) -> None:
    server = FaultServer(FAULTS["slow"]).start()
    exchange = create(client_for(server, loaded_contract))
    assert exchange.response is None and "read timeout" in (exchange.error or "")
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2, f"stopping must not wait out the {SLOW_SECONDS:g} s answer"


def test_reset_mid_body_is_a_transport_failure_the_breaker_counts(fault: Callable[[Handler], FaultServer],
                                                                  loaded_contract: Contract) -> None:
    server = fault(FAULTS["reset-mid-body"])
    api = client_for(server, loaded_contract, timeout=2)
    breaker = CircuitBreaker(threshold=2)
    breaker.install(api.session, api.url)
    api.on_exchange = breaker.settle
    exchange = create(api)
    # The head arrived (the adapter saw a 200); the body did not: settle() counts it dead.
    assert exchange.response is None and "reset" in (exchange.error or "").lower(), exchange.error
    create(api)
    assert breaker.tripped and "reset" in breaker.tripped.lower()


@pytest.mark.parametrize("name", ["huge-body", "huge-body-unannounced"])
def test_huge_body_is_cut_off_and_never_held_whole(name: str, fault: Callable[[Handler], FaultServer],
                                                   loaded_contract: Contract) -> None:
    server = fault(FAULTS[name])
    api = client_for(server, loaded_contract, timeout=5)
    tracemalloc.start()
    try:
        exchange = create(api)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        raw = api.session.post(api.url, json={}, timeout=5)  # as schemathesis reads: the whole content
        _, session_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert exchange.response is not None and exchange.response.truncated
    assert len(exchange.response.body) <= KEEP_WHEN_TRUNCATED and exchange.response.json is MISSING
    assert raw.raw.truncated and len(raw.content) <= KEEP_WHEN_TRUNCATED
    cap = api.max_response_bytes
    # A transient read of at most the cap (plus a join of it), never the 50 MB.
    assert peak < 2.5 * cap and session_peak < 2.5 * cap, f"peak {peak / 1e6:.1f} MB, {session_peak / 1e6:.1f} MB"
    assert create(api).response is not None, "the next request works (the cut connection was not reused)"


def test_redirect_loop_is_judged_never_followed(fault: Callable[[Handler], FaultServer],
                                                loaded_contract: Contract) -> None:
    server = fault(FAULTS["redirect-loop"])
    api = client_for(server, loaded_contract)
    assert create(api).status == 307
    # Even a caller asking to follow (schemathesis' default) gets the 3xx itself.
    assert api.session.request("POST", api.url, json={}, allow_redirects=True, timeout=2).status_code == 307
    assert server.requests == 2


def test_invalid_json_is_a_response_schema_finding(fault: Callable[[Handler], FaultServer],
                                                   loaded_contract: Contract) -> None:
    server = fault(FAULTS["invalid-json"])
    api = client_for(server, loaded_contract)
    exchange = api.create(minimal_payload(loaded_contract.request_schema, spaceId=SPACE))
    findings, _ = Judge(loaded_contract, None).findings(exchange)
    assert exchange.response is not None and exchange.response.json is MISSING
    assert any(f.check == "response_schema" and f.severity == "failure" for f in findings), findings


def test_429_forever_is_given_up_and_counted(fault: Callable[[Handler], FaultServer],
                                             loaded_contract: Contract) -> None:
    from harness.transport import PoliteAdapter, RetryPolicy, Throttled

    server = fault(FAULTS["429"])
    naps: list[float] = []
    adapter = PoliteAdapter(None, loaded_contract.path, policy=RetryPolicy(max_throttle_retries=2), sleep=naps.append)
    api = client_for(server, loaded_contract, politeness=adapter)
    breaker = CircuitBreaker(threshold=2)
    breaker.install(api.session, api.url)
    for _ in range(2):
        with pytest.raises(Throttled):
            create(api)
    assert naps == [1.0, 1.0] * 2, "Retry-After: 1 honoured, twice per request, then given up"
    assert breaker.tripped and "HTTP 429" in breaker.tripped and "rate-limit" in breaker.tripped
    assert server.requests == 6


# --- the suite as a user runs it ----------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Handler | None  # None: nothing listens
    args: tuple[str, ...]
    # Seconds the whole run may take, start-up included: about twice what a loaded 2-core CI
    # machine needs (four runs share it), far below what a run without the breaker takes (minutes).
    budget: float


SCENARIOS = [  # longest first: the runs share a pool
    Scenario("429", FAULTS["429"], ("--request-timeout=2",), 60),
    Scenario("hang", FAULTS["hang"], ("--request-timeout=1",), 45),
    Scenario("slow", FAULTS["slow"], ("--request-timeout=1",), 45),
    Scenario("503", FAULTS["503"], ("--request-timeout=2",), 45),
    Scenario("reset-mid-body", FAULTS["reset-mid-body"], ("--request-timeout=2",), 45),
    Scenario("invalid-json", FAULTS["invalid-json"], ("--request-timeout=2", BASICS), 45),
    Scenario("huge-body", FAULTS["huge-body-unannounced"], ("--request-timeout=5", BASICS), 45),
    Scenario("redirect-loop", FAULTS["redirect-loop"], ("--request-timeout=2", BASICS), 45),
    Scenario("dies-mid-run", dying(after=3), ("--request-timeout=2", PROBE_SUITE), 45),
    Scenario("refused", None, ("--request-timeout=1",), 40),
]


@dataclass(frozen=True)
class Outcome:
    run: SuiteRun
    seconds: float
    requests: int | None  # as counted by the fault server
    url: str

    @property
    def tail(self) -> str:
        return self.run.output[-3000:]


def _run(scenario: Scenario, reports: Path) -> Outcome:
    server = FaultServer(scenario.fault, name=scenario.name).start() if scenario.fault else None
    url = server.url if server else refused_url()
    started = time.monotonic()
    try:
        run = run_suite(url, KEY, reports / scenario.name, *scenario.args, timeout=scenario.budget + 30)
    finally:
        if server:
            server.stop()
    return Outcome(run, time.monotonic() - started, server.requests if server else None, url)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    return once(tmp_path_factory, "fault-runs", _fault_runs)


def _fault_runs(reports: Path) -> dict[str, Outcome]:
    with ThreadPoolExecutor(max_workers=4) as pool:  # start-up is CPU, the faults are mostly waiting
        done = list(pool.map(lambda s: _run(s, reports), SCENARIOS))
    return {scenario.name: outcome for scenario, outcome in zip(SCENARIOS, done)}


def junit_cases(reports: Path) -> list[tuple[str, str, str]]:
    """(test name, outcome, message) from whichever JUnit file the run wrote."""
    cases = []
    for path in reports.glob("*junit*.xml"):
        for case in ET.parse(path).iter("testcase"):
            outcome, message = "passed", ""
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome, message = child.tag, (child.get("message") or "") + (child.text or "")
            cases.append((case.get("name", ""), outcome, message))
    return cases


def stop_lines(run: SuiteRun) -> list[str]:
    return [line for line in run.output.splitlines() if "target down" in line and "Interrupted" in line]


def _scenario(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)


@pytest.mark.suite_run
def test_refused_target_ends_at_once_with_exit_10_and_one_line(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["refused"]
    assert outcome.run.returncode == EXIT_UNREACHABLE, outcome.tail
    lines = [line for line in outcome.run.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "target unreachable" in lines[0] and outcome.url in lines[0] \
        and "is the server running" in lines[0], outcome.tail
    assert outcome.seconds < _scenario("refused").budget


@pytest.mark.suite_run
@pytest.mark.parametrize("name,reason", [("hang", "no answer within the 1 s read timeout"),
                                         ("slow", "no answer within the 1 s read timeout"),
                                         ("reset-mid-body", "reset"),
                                         ("503", "HTTP 503"),
                                         ("429", "HTTP 429")])
def test_dead_target_stops_the_run_with_exit_11_and_one_line(name: str, reason: str,
                                                             outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[name]
    assert outcome.run.returncode == EXIT_TARGET_DOWN, outcome.tail
    lines = stop_lines(outcome.run)
    assert len(lines) == 1, outcome.tail
    assert reason in lines[0] and outcome.url in lines[0] and "never answered" in lines[0], lines[0]
    assert "Traceback" not in outcome.run.output
    assert outcome.seconds < _scenario(name).budget, f"{outcome.seconds:.1f} s"
    # What was sent before the stop is in the report and the event log, as findings.
    failed = [c for c in junit_cases(outcome.run.reports) if c[1] == "failure"]
    exchanges = [e for e in read_events(outcome.run.reports / ".events") if e.get("kind") == "exchange"]
    if name != "429":  # a throttled create is skipped, not judged
        assert failed and exchanges and all(e["findings"] for e in exchanges), outcome.tail
    assert [e for e in read_events(outcome.run.reports / ".events") if e.get("kind") == "breaker"]


@pytest.mark.suite_run
def test_429_storm_is_bounded_by_the_retry_policy(outcomes: dict[str, Outcome]) -> None:
    # Two creates, each sent once and retried 3 times (Retry-After: 1 honoured), then the breaker stops the run.
    outcome = outcomes["429"]
    assert outcome.requests is not None and outcome.requests <= 2 * 4, outcome.requests


@pytest.mark.suite_run
@pytest.mark.parametrize("name,check", [("invalid-json", "response_schema"), ("huge-body", "response_schema"),
                                        ("redirect-loop", "status_code")])
def test_broken_answers_are_findings_not_crashes(name: str, check: str, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[name]
    assert outcome.run.returncode == EXIT_VIOLATIONS, outcome.tail
    assert "Traceback" not in outcome.run.output and "INTERNALERROR" not in outcome.run.output
    failures = [c for c in junit_cases(outcome.run.reports) if c[1] == "failure"]
    assert failures and any(check in message for _, _, message in failures), outcome.tail
    assert outcome.seconds < _scenario(name).budget, f"{outcome.seconds:.1f} s"


@pytest.mark.suite_run
def test_redirect_loop_costs_one_request_per_request_sent(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["redirect-loop"]
    exchanges = [e for e in read_events(outcome.run.reports / ".events") if e.get("kind") == "exchange"]
    assert outcome.requests == len(exchanges) > 0


@pytest.mark.suite_run
def test_target_dying_mid_run_keeps_what_was_found_before(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["dies-mid-run"]
    assert outcome.run.returncode == EXIT_TARGET_DOWN, outcome.tail
    lines = stop_lines(outcome.run)
    assert len(lines) == 1 and "5 requests in a row" in lines[0], outcome.tail
    cases = junit_cases(outcome.run.reports)
    failed = [message for _, result, message in cases if result == "failure"]
    # 3 answered (schema findings), then 5 dead (transport findings), then the run stopped: 4 probes never ran.
    assert len(cases) == 8, [c[:2] for c in cases]
    assert sum("response_schema" in m for m in failed) == 3 and sum("transport" in m for m in failed) == 5
    exchanges = [e for e in read_events(outcome.run.reports / ".events") if e.get("kind") == "exchange"]
    assert [e["response"] is not None for e in exchanges] == [True] * 3 + [False] * 5
    assert all(any(f["check"] == "response_schema" for f in e["findings"]) for e in exchanges[:3])
    assert outcome.requests == 8
