"""The suite's command-line options, and their validation into one readable line per mistake."""
from __future__ import annotations

import math
import os
import re
import uuid
from pathlib import Path

import pytest

from contracts import DEFAULT_CONTRACT, DEFAULT_OVERLAY
from harness import safety
from harness.plugin.exploration import add_options as add_exploration_options
from harness.plugin.fork import add_options as add_fork_options
from harness.plugin.planning import add_options as add_plan_options
from harness.plugin.progress import add_options as add_progress_options
from harness.plugin.drift import add_options as add_drift_options
from harness.plugin.traffic import add_options as add_traffic_options
from harness.profiles import PROFILES
from harness.transport.breaker import DEFAULT_THRESHOLD

DEFAULT_REPORTS = "reports"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bctrl", "bctrl Runtimes API conformance")
    group.addoption("--space-id", default=None, help="space to create runtimes in (default: $BCTRL_SPACE_ID; "
                    "the embedded mock takes any)")
    group.addoption("--contract", default=str(DEFAULT_CONTRACT), help="upstream OpenAPI document (YAML or JSON)")
    group.addoption("--errata", default=str(DEFAULT_OVERLAY), help="errata overlay (OpenAPI Overlay 1.0); "
                    "'none' to test the document as published")
    group.addoption("--examples-scale", type=int, default=1, metavar="N",
                    help="multiply the profile's Hypothesis examples by N (for measuring growth; default 1)")
    group.addoption("--request-timeout", type=float, default=30.0, help="seconds to wait for each answer (default 30)")
    group.addoption("--fail-on-warning", action="store_true", help="treat conformance warnings as failures")
    group.addoption("--clock-tolerance", type=float, default=300.0, metavar="S",
                    help="how far a fresh runtime's timestamps may lie from this machine's clock (default 300 s)")
    group.addoption("--reports-dir", default=DEFAULT_REPORTS, help="where reports and the event log go (default: reports)")
    group.addoption("--compare-with", default=None, metavar="SUMMARY",
                    help="a previous run's summary.json: the report says which defects are new, still there or fixed")
    group.addoption("--max-dead-answers", type=int, default=DEFAULT_THRESHOLD, metavar="N",
                    help=f"stop the run (exit 11) after N requests in a row get no answer, 502/503/504 or a 429 given "
                         f"up on (default {DEFAULT_THRESHOLD}; 2 while the target has never answered; 0 never stops)")
    polite = parser.getgroup("bctrl-staging", "bctrl: safety on a shared server")
    polite.addoption("--max-creates", type=int, default=None,
                     help=f"request budget: most runtimes the run may create (POSTs answered 2xx; a POST is held "
                          f"against it while in flight), across xdist workers (default {safety.REMOTE_MAX_CREATES} for "
                          "a remote target off this machine, else none; 0: none)")
    polite.addoption("--rate-limit", type=float, default=None,
                     help=f"most requests per second, across xdist workers (default {safety.REMOTE_RATE_LIMIT:g} "
                          "for a remote target off this machine, else unpaced; 0: unpaced)")
    polite.addoption("--max-retry-wait", type=float, default=30.0,
                     help="longest Retry-After (seconds) honoured on a 429; a longer one skips the test (default 30)")
    polite.addoption("--allow-production", action="store_true",
                     help="allow a base URL that looks like production (no staging/dev/test/local in its host)")
    polite.addoption("--known-issues", default=None, metavar="PATH",
                     help="expectations file of known, ticketed deviations -> expected failures (e.g. known-issues.yaml)")
    polite.addoption("--cleanup-template", default=os.environ.get("BCTRL_CLEANUP_TEMPLATE"),
                     metavar="'METHOD /path/{id}'",
                     help="after the run, send this request once per created runtime, e.g. 'DELETE /v2/runtimes/{id}' "
                          "(default $BCTRL_CLEANUP_TEMPLATE; off when unset: the contract documents no delete)")
    polite.addoption("--run-id", default=None, help="id of this run in runtime names (default: time + random)")
    add_plan_options(parser)
    add_exploration_options(parser)
    add_fork_options(parser)
    add_progress_options(parser)
    add_traffic_options(parser)
    add_drift_options(parser)
    mock = parser.getgroup("bctrl-mock", "bctrl: the embedded mock's deliberate misbehaviour")
    mock.addoption("--mock-throttle-every", type=int, default=0, metavar="N",
                   help="the embedded mock answers 429 to every Nth valid create (default 0: never)")
    mock.addoption("--mock-retry-after", type=int, default=1, metavar="S",
                   help="Retry-After seconds on the embedded mock's 429s (default 1)")
    mock.addoption("--mock-latency", type=float, default=0.0, metavar="S",
                   help="seconds the embedded mock waits before each successful create (default 0)")


def validate(config: pytest.Config) -> None:
    """Refuse a wrong option with one line saying what is wrong and how to fix it (pytest exits 4)."""
    option = config.getoption
    profile = option("hypothesis_profile", None)
    if profile is not None and profile not in (*PROFILES, "default"):
        raise pytest.UsageError(f"unknown --hypothesis-profile {profile!r}: use dev, ci or nightly")
    if option("examples_scale") < 1:
        raise pytest.UsageError(f"--examples-scale must be a whole number of at least 1, got {option('examples_scale')}")
    timeout = option("request_timeout")
    if not (timeout > 0 and math.isfinite(timeout)):
        raise pytest.UsageError(f"--request-timeout must be a positive number of seconds, got {timeout}")
    if option("max_dead_answers") < 0:
        raise pytest.UsageError(f"--max-dead-answers must be 0 or more, got {option('max_dead_answers')}; "
                                "0 never stops the run")
    if option("concurrency") is not None and option("concurrency") < 1:
        raise pytest.UsageError(f"--concurrency must be 1 or more, got {option('concurrency')}")
    proxy = option("saved_proxy_id")
    if proxy:
        try:
            uuid.UUID(proxy)
        except ValueError:
            raise pytest.UsageError(f"--saved-proxy-id {proxy!r} is not a uuid; pass the id of a saved proxy of "
                                    "the space") from None
    for name in ("max_creates", "mock_throttle_every", "rate_limit", "max_retry_wait", "mock_latency", "plan_latency",
                 "clock_tolerance", "progress_every"):
        value = option(name)
        if value is not None and (value < 0 or not math.isfinite(value)):
            raise pytest.UsageError(f"--{name.replace('_', '-')} must be 0 or more, got {value}")
    run_id = option("run_id")
    if run_id and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", run_id):
        raise pytest.UsageError(f"--run-id {run_id!r} goes into runtime names: use up to 64 letters, digits, '.', '_' "
                                "or '-', e.g. --run-id=gh-1234")
    template = option("cleanup_template")
    if template:
        try:
            safety.CleanupTemplate.parse(template)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    try:
        Path(option("reports_dir")).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(f"--reports-dir {option('reports_dir')!r} cannot be created "
                                f"({exc.strerror}): pass a writable folder") from None
