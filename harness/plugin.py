"""The pytest plugin: options, target resolution, fixtures, and redaction of every report.

Loaded from the root conftest.py. Servers start in fixtures, never at import.
"""
from __future__ import annotations

import gc
import math
import os
import random
import re
import secrets
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from contracts import DEFAULT_CONTRACT, DEFAULT_OVERLAY, Contract, ContractError, load_contract
from harness import known_issues, redact, staging
from harness.breaker import DEFAULT_THRESHOLD, BreakerPlugin, CircuitBreaker
from harness.budget import Limits, SharedBudget
from harness.client import ApiClient, Exchange
from harness.conformance import Conformance
from harness.events import EventLog, reset
from harness.politeness import PoliteAdapter, RetryPolicy
from harness.profiles import active_profile, register, scale_profile
from harness.run_report import RunReporter
from harness.target import TargetConfig, TargetUnreachable, UsageProblem, probe, resolve
from harness.verdict import ConformanceFailure

EXIT_UNREACHABLE = 10  # distinct from 1 (contract violations) and 4 (usage errors)
CONTRACT_KEY = pytest.StashKey[Contract]()
TARGET_KEY = pytest.StashKey[TargetConfig]()
LIMITS_KEY = pytest.StashKey[Limits]()
KNOWN_KEY = pytest.StashKey[tuple[known_issues.KnownIssue, ...]]()
BREAKER_KEY = pytest.StashKey[CircuitBreaker]()
_current_test = ""  # the test this process is running: politeness events name it

register()


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
    group.addoption("--reports-dir", default="reports", help="where reports and the event log go (default: reports)")
    group.addoption("--max-dead-answers", type=int, default=DEFAULT_THRESHOLD, metavar="N",
                    help=f"stop the run (exit 11) after N requests in a row get no answer, 502/503/504 or a 429 given "
                         f"up on (default {DEFAULT_THRESHOLD}; 2 while the target has never answered; 0 never stops)")
    polite = parser.getgroup("bctrl-staging", "bctrl: safety on a shared server")
    polite.addoption("--max-creates", type=int, default=None,
                     help=f"request budget: most creates (POSTs, retries included) the run sends, across xdist workers "
                          f"(default {staging.REMOTE_MAX_CREATES} for a remote target off this machine, else none; 0: none)")
    polite.addoption("--rate-limit", type=float, default=None,
                     help=f"most requests per second, across xdist workers (default {staging.REMOTE_RATE_LIMIT:g} "
                          "for a remote target off this machine, else unpaced; 0: unpaced)")
    polite.addoption("--max-retry-wait", type=float, default=30.0,
                     help="longest Retry-After (seconds) honoured on a 429; a longer one skips the test (default 30)")
    polite.addoption("--allow-production", action="store_true",
                     help="allow a base URL that looks like production (no staging/dev/test/local in its host)")
    polite.addoption("--known-issues", default=None, metavar="PATH",
                     help="expectations file of known, ticketed deviations -> strict xfails (e.g. known-issues.yaml)")
    polite.addoption("--cleanup-template", default=os.environ.get("BCTRL_CLEANUP_TEMPLATE"), metavar="'METHOD /path/{id}'",
                     help="after the run, send this request once per created runtime, e.g. 'DELETE /v2/runtimes/{id}' "
                          "(default $BCTRL_CLEANUP_TEMPLATE; off when unset: the contract documents no delete)")
    polite.addoption("--run-id", default=None, help="id of this run in runtime names (default: time + random)")
    mock = parser.getgroup("bctrl-mock", "bctrl: the embedded mock's deliberate misbehaviour")
    mock.addoption("--mock-throttle-every", type=int, default=0, metavar="N",
                   help="the embedded mock answers 429 to every Nth valid create (default 0: never)")
    mock.addoption("--mock-retry-after", type=int, default=1, metavar="S",
                   help="Retry-After seconds on the embedded mock's 429s (default 1)")
    mock.addoption("--mock-latency", type=float, default=0.0, metavar="S",
                   help="seconds the embedded mock waits before each successful create (default 0)")


ROOT = Path(__file__).resolve().parent.parent
SELFTEST_DIR = ROOT / "tests" / "selftest"


def _selftest_only(config: pytest.Config) -> bool:
    paths = [Path(str(a).split("::", 1)[0]).resolve() for a in config.args]
    return bool(paths) and all(p == SELFTEST_DIR or SELFTEST_DIR in p.parents for p in paths)


def _route_selftest_reports(config: pytest.Config) -> None:
    # `pytest tests/selftest` must not overwrite the conformance report with the suite's own tests.
    reports = Path(config.getoption("reports_dir"))
    if getattr(config.option, "htmlpath", None) == str(reports / "conformance.html"):
        config.option.htmlpath = str(reports / "selftest.html")
    if getattr(config.option, "xmlpath", None) == str(reports / "junit.xml"):
        config.option.xmlpath = str(reports / "selftest-junit.xml")


def _worker_id(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if _selftest_only(config):
        _route_selftest_reports(config)
    profile = config.getoption("hypothesis_profile", None)
    if profile is not None and profile not in ("dev", "ci", "nightly", "default"):
        raise pytest.UsageError(f"unknown --hypothesis-profile {profile!r}: use dev, ci or nightly")
    scale = config.getoption("examples_scale")
    if scale < 1:
        raise pytest.UsageError(f"--examples-scale must be a whole number of at least 1, got {scale}")
    scale_profile(active_profile(config), scale)
    timeout = config.getoption("request_timeout")
    if not (timeout > 0 and math.isfinite(timeout)):
        raise pytest.UsageError(f"--request-timeout must be a positive number of seconds, got {timeout}")
    if config.getoption("max_dead_answers") < 0:
        raise pytest.UsageError(f"--max-dead-answers must be 0 or more, got {config.getoption('max_dead_answers')}; "
                                "0 never stops the run")
    try:
        Path(config.getoption("reports_dir")).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(f"--reports-dir {config.getoption('reports_dir')!r} cannot be created "
                                f"({exc.strerror}): pass a writable folder") from None
    errata = config.getoption("errata")
    try:
        config.stash[CONTRACT_KEY] = load_contract(config.getoption("contract"),
                                                   overlay=None if errata == "none" else errata)
        target = resolve(config.getoption("base_url", None), config.getoption("space_id"))
    except (ContractError, UsageProblem) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[TARGET_KEY] = target
    redact.register_credential(target.api_key)
    _configure_safety(config, target)
    breaker = config.stash[BREAKER_KEY] = CircuitBreaker(threshold=config.getoption("max_dead_answers"))
    config.pluginmanager.register(BreakerPlugin(breaker, events_dir(config), _worker_id(config) or f"main-{os.getpid()}",
                                                controller=_worker_id(config) is None), "bctrl-breaker")
    if not target.embedded and _worker_id(config) is None:
        try:
            probe(target.base_url, timeout=min(5.0, timeout))
        except TargetUnreachable as exc:
            pytest.exit(f"target unreachable: {exc}", returncode=EXIT_UNREACHABLE)


def _configure_safety(config: pytest.Config, target: TargetConfig) -> None:
    """Production guard, limits, known issues, run id and seed; the controller decides, workers inherit."""
    if not target.embedded and staging.looks_like_production(target.base_url) and not config.getoption("allow_production"):
        raise pytest.UsageError(
            f"--base-url {target.base_url} looks like production (its host names no staging, dev, test or local "
            "environment): the suite creates runtimes there. Point it at staging, or pass --allow-production")
    for name in ("max_creates", "mock_throttle_every"):
        if (config.getoption(name) or 0) < 0:
            raise pytest.UsageError(f"--{name.replace('_', '-')} must be 0 or more")
    for name in ("rate_limit", "max_retry_wait", "mock_latency"):
        if (config.getoption(name) or 0) < 0:
            raise pytest.UsageError(f"--{name.replace('_', '-')} must be 0 or more")
    config.stash[LIMITS_KEY] = staging.default_limits(target.base_url, config.getoption("max_creates"),
                                                      config.getoption("rate_limit"))
    template = config.getoption("cleanup_template")
    if template:
        try:
            staging.CleanupTemplate.parse(template)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    path = config.getoption("known_issues")
    if path:
        from contracts.checks import REGISTRY

        try:
            config.stash[KNOWN_KEY] = known_issues.load(path, [*REGISTRY, "transport"])
        except known_issues.KnownIssuesError as exc:
            raise pytest.UsageError(str(exc)) from None
    run_id = config.getoption("run_id")
    if run_id and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", run_id):
        raise pytest.UsageError(f"--run-id {run_id!r} goes into runtime names: use up to 64 letters, digits, '.', '_' "
                                "or '-', e.g. --run-id=gh-1234")
    if _worker_id(config) is None:
        # The controller decides; pytest_configure_node hands the values to every xdist worker
        # (workers parse the command line again, so changes to config.option do not travel).
        run_id = config.getoption("run_id") or time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)
        # A seed for every run, printed in the report, so any run can be replayed exactly.
        seed = config.getoption("hypothesis_seed", None)
        seed = random.SystemRandom().randrange(2**32) if seed is None else seed
        if not _selftest_only(config):
            config.pluginmanager.register(RunReporter(config), "bctrl-run-reporter")
    else:
        run_id = config.workerinput.get("bctrl_run_id") or config.getoption("run_id")  # type: ignore[attr-defined]
        seed = config.workerinput.get("bctrl_seed", config.getoption("hypothesis_seed", None))  # type: ignore[attr-defined]
    config.option.run_id = run_id
    if hasattr(config.option, "hypothesis_seed") and seed is not None:
        from hypothesis import core

        config.option.hypothesis_seed = seed
        core.global_force_seed = seed


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller: every worker gets the controller's run id and seed."""
    node.workerinput["bctrl_run_id"] = node.config.getoption("run_id")
    node.workerinput["bctrl_seed"] = node.config.getoption("hypothesis_seed", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The covering set, catalogs and properties first, generic exploration last (a stable sort,
    # identical in every xdist worker): a remote run that exhausts --max-creates loses the least.
    items.sort(key=lambda item: item.get_closest_marker("exploratory") is not None)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # Everything loaded so far (pytest, hypothesis, schemathesis, the contract and
    # the collected items) lives until the end of the run: move it out of the cyclic
    # garbage collector's sight, so its full collections during the run and at exit
    # do not walk it again each time. Measured A/B, 8 runs each: median 5.3 s -> 4.45 s.
    gc.freeze()


def pytest_sessionstart(session: pytest.Session) -> None:
    if _worker_id(session.config) is None:
        reset(events_dir(session.config))
        SharedBudget(events_dir(session.config), session.config.stash[LIMITS_KEY]).reset()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _current_test
    _current_test = item.nodeid
    yield
    _current_test = ""


def events_dir(config: pytest.Config) -> Path:
    return Path(config.getoption("reports_dir")) / ".events"


def pytest_report_header(config: pytest.Config) -> list[str]:
    target, contract = config.stash.get(TARGET_KEY, None), config.stash.get(CONTRACT_KEY, None)
    if target is None or contract is None:
        return []
    where = "embedded reference mock" if target.embedded else target.base_url
    return [f"bctrl target: {where}",
            f"contract: {contract.title} {contract.version} sha256 {contract.sha256[:12]} "
            f"({len(contract.errata)} errata actions)"]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and isinstance(call.excinfo.value, ConformanceFailure) and report.failed:
        # The message is the reproduction; a traceback into the harness adds nothing. Notes stay:
        # Hypothesis puts the shrunk example and how to replay it there (redacted below).
        notes = [str(n) for n in getattr(call.excinfo.value, "__notes__", None) or ()]
        report.longrepr = "\n".join([str(call.excinfo.value), *notes])
    if report.when == "call":
        _apply_known_issues(item, call, report)
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason) must stay a tuple
        report.longrepr = tuple(redact.text(p) if isinstance(p, str) else p for p in report.longrepr)
    elif report.longrepr is not None:
        report.longrepr = redact.text(str(report.longrepr))
    report.sections = [(title, redact.text(text)) for title, text in report.sections]


def _target_key(config: pytest.Config) -> str:
    target = config.stash[TARGET_KEY]
    return target.base_url or "embedded"


def _apply_known_issues(item: pytest.Item, call: pytest.CallInfo[Any], report: pytest.TestReport) -> None:
    """Strict expected failures from the known issues file (see harness/known_issues.py)."""
    entries = [i for i in item.config.stash.get(KNOWN_KEY, ()) if i.applies_to(item.nodeid, _target_key(item.config))]
    if not entries or report.skipped:
        return
    ids = ",".join(i.id for i in entries)
    if report.passed:
        outcome = known_issues.STALE
        report.outcome = "failed"
        report.longrepr = ("[XPASS(strict)] stale known issue: this test no longer fails as the known issues file "
                           "says; the deviation looks fixed, remove the entry:\n"
                           + "\n".join(f"  - {i.reason_line} (check {i.check})" for i in entries))
    else:
        exc = call.excinfo.value if call.excinfo is not None else None
        if isinstance(exc, ConformanceFailure) and exc.exchange is not None:
            failures = [f for f in exc.findings if f.severity == "failure"] or list(exc.findings)
            used, uncovered = known_issues.explain(entries, failures, exc.exchange.request)
        else:  # raised outside our checks (schemathesis): match on the check named in the message
            used = known_issues.explain_text(entries, str(report.longrepr))
            uncovered = [] if used else [None]
        if used and not uncovered:
            outcome = known_issues.XFAILED
            report.outcome = "skipped"
            report.wasxfail = "; ".join(i.reason_line for i in entries if i.id in used)
        else:
            outcome = known_issues.NEW_FAILURE
            report.longrepr = (f"new failure, not covered by known issue(s) {ids}:\n{report.longrepr}")
    report.user_properties += [("known_issue", ids), ("known_issue_outcome", outcome)]


def pytest_metadata(metadata: dict[str, Any], config: pytest.Config) -> None:
    for key, value in list(metadata.items()):
        if isinstance(value, str):
            metadata[key] = redact.text(value)


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Contract:
    return pytestconfig.stash[CONTRACT_KEY]


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> TargetConfig:
    return pytestconfig.stash[TARGET_KEY]


@pytest.fixture(scope="session")
def target_url(target: TargetConfig, contract: Contract, pytestconfig: pytest.Config) -> Iterator[str]:
    if not target.embedded:
        yield target.base_url
        return
    from mock import MockSettings, ServerThread, create_app

    option = pytestconfig.getoption
    settings = MockSettings(frozenset({target.api_key}), latency_seconds=option("mock_latency"),
                            throttle_every=option("mock_throttle_every"), retry_after_seconds=option("mock_retry_after"))
    with ServerThread(create_app(settings, contract)) as server:
        yield server.url


@pytest.fixture(scope="session")
def space_id(target: TargetConfig) -> str:
    return target.space_id


@pytest.fixture(scope="session")
def run_id(pytestconfig: pytest.Config) -> str:
    """This run's id (the same in every xdist worker)."""
    return str(pytestconfig.getoption("run_id"))


@pytest.fixture(scope="session")
def name_prefix(run_id: str) -> str:
    """Prefix for the names of runtimes this run creates, so they can be found and cleaned up."""
    return f"conformance-{run_id}-"


@pytest.fixture(scope="session")
def event_log(pytestconfig: pytest.Config) -> Iterator[EventLog]:
    log = EventLog(events_dir(pytestconfig), _worker_id(pytestconfig) or f"main-{os.getpid()}")
    # Which process ran with which run id and seed: the summary checks all workers agree.
    log.write({"kind": "process", "worker": _worker_id(pytestconfig) or "main", "pid": os.getpid(),
               "run_id": pytestconfig.getoption("run_id"), "seed": pytestconfig.getoption("hypothesis_seed", None)})
    yield log
    log.close()


@pytest.fixture(scope="session")
def client(target_url: str, target: TargetConfig, contract: Contract, pytestconfig: pytest.Config,
           event_log: EventLog) -> Iterator[ApiClient]:
    timeout = pytestconfig.getoption("request_timeout")

    def on_event(record: dict[str, Any]) -> None:
        event_log.write({**record, "test": _current_test, "time": round(time.time(), 3)})

    def on_exchange(exchange: Exchange) -> None:
        breaker.settle(exchange)
        response = exchange.response
        if not target.embedded and response is not None and 200 <= response.status < 300 \
                and exchange.request.method == contract.method.upper():
            record = staging.created_record(response.json, test=_current_test, label=exchange.request.label)
            if record:
                event_log.write(record)

    def on_created(response: Any) -> None:
        if not target.embedded:
            try:
                record = staging.created_record(response.json(), test=_current_test)
            except ValueError:
                record = None
            if record:
                event_log.write(record)

    adapter = PoliteAdapter(SharedBudget(events_dir(pytestconfig), pytestconfig.stash[LIMITS_KEY]), contract.path,
                            policy=RetryPolicy(max_retry_wait=pytestconfig.getoption("max_retry_wait")),
                            on_event=on_event, on_created=on_created)
    api = ApiClient(target_url, target.api_key, contract.path, timeout=(min(5.0, timeout), timeout),
                    on_exchange=on_exchange, politeness=adapter)
    breaker = pytestconfig.stash[BREAKER_KEY]
    breaker.install(api.session, api.url)  # outermost: a dead target stops everything sent through the session
    yield api
    api.close()


@pytest.fixture(scope="session")
def _conformance(contract: Contract, client: ApiClient, event_log: EventLog, pytestconfig: pytest.Config) -> Conformance:
    return Conformance(contract, client, event_log, strict_warnings=pytestconfig.getoption("fail_on_warning"))


@pytest.fixture
def conformance(_conformance: Conformance, request: pytest.FixtureRequest) -> Conformance:
    """Send requests to the target and fail the test on any contract violation."""
    return _conformance.for_test(request.node.nodeid)
