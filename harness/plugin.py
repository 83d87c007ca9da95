"""The pytest plugin: options, target resolution, fixtures, and redaction of every report.

Loaded from the root conftest.py. Servers start in fixtures, never at import.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from contracts import DEFAULT_CONTRACT, DEFAULT_OVERLAY, Contract, ContractError, load_contract
from harness import redact
from harness.client import ApiClient
from harness.conformance import Conformance
from harness.events import EventLog, reset
from harness.profiles import DEFAULT_PROFILE, register
from harness.target import TargetConfig, TargetUnreachable, UsageProblem, probe, resolve
from harness.verdict import ConformanceFailure

EXIT_UNREACHABLE = 10  # distinct from 1 (contract violations) and 4 (usage errors)
CONTRACT_KEY = pytest.StashKey[Contract]()
TARGET_KEY = pytest.StashKey[TargetConfig]()

register()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bctrl", "bctrl Runtimes API conformance")
    group.addoption("--space-id", default=None, help="space to create runtimes in (default: $BCTRL_SPACE_ID; "
                    "the embedded mock takes any)")
    group.addoption("--contract", default=str(DEFAULT_CONTRACT), help="upstream OpenAPI document (YAML or JSON)")
    group.addoption("--errata", default=str(DEFAULT_OVERLAY), help="errata overlay (OpenAPI Overlay 1.0); "
                    "'none' to test the document as published")
    group.addoption("--request-timeout", type=float, default=30.0, help="seconds to wait for each answer (default 30)")
    group.addoption("--fail-on-warning", action="store_true", help="treat conformance warnings as failures")
    group.addoption("--reports-dir", default="reports", help="where reports and the event log go (default: reports)")


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
    if profile is None:
        from hypothesis import settings

        settings.load_profile(DEFAULT_PROFILE)
    elif profile not in ("dev", "ci", "nightly", "default"):
        raise pytest.UsageError(f"unknown --hypothesis-profile {profile!r}: use dev, ci or nightly")
    timeout = config.getoption("request_timeout")
    if not timeout > 0:
        raise pytest.UsageError(f"--request-timeout must be a positive number of seconds, got {timeout}")
    errata = config.getoption("errata")
    try:
        config.stash[CONTRACT_KEY] = load_contract(config.getoption("contract"),
                                                   overlay=None if errata == "none" else errata)
        target = resolve(config.getoption("base_url", None), config.getoption("space_id"))
    except (ContractError, UsageProblem) as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[TARGET_KEY] = target
    redact.register(target.api_key)
    if not target.embedded and _worker_id(config) is None:
        try:
            probe(target.base_url, timeout=min(5.0, timeout))
        except TargetUnreachable as exc:
            pytest.exit(f"target unreachable: {exc}", returncode=EXIT_UNREACHABLE)


def pytest_sessionstart(session: pytest.Session) -> None:
    if _worker_id(session.config) is None:
        reset(events_dir(session.config))


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
        # The message is the reproduction; a traceback into the harness adds nothing.
        report.longrepr = str(call.excinfo.value)
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason) must stay a tuple
        report.longrepr = tuple(redact.text(p) if isinstance(p, str) else p for p in report.longrepr)
    elif report.longrepr is not None:
        report.longrepr = redact.text(str(report.longrepr))
    report.sections = [(title, redact.text(text)) for title, text in report.sections]


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
def target_url(target: TargetConfig, contract: Contract) -> Iterator[str]:
    if not target.embedded:
        yield target.base_url
        return
    from mock import MockSettings, ServerThread, create_app

    with ServerThread(create_app(MockSettings(frozenset({target.api_key})), contract)) as server:
        yield server.url


@pytest.fixture(scope="session")
def space_id(target: TargetConfig) -> str:
    return target.space_id


@pytest.fixture(scope="session")
def event_log(pytestconfig: pytest.Config) -> Iterator[EventLog]:
    log = EventLog(events_dir(pytestconfig), _worker_id(pytestconfig) or f"main-{os.getpid()}")
    yield log
    log.close()


@pytest.fixture(scope="session")
def client(target_url: str, target: TargetConfig, contract: Contract, pytestconfig: pytest.Config) -> Iterator[ApiClient]:
    timeout = pytestconfig.getoption("request_timeout")
    api = ApiClient(target_url, target.api_key, contract.path, timeout=(min(5.0, timeout), timeout))
    yield api
    api.close()


@pytest.fixture(scope="session")
def _conformance(contract: Contract, client: ApiClient, event_log: EventLog, pytestconfig: pytest.Config) -> Conformance:
    return Conformance(contract, client, event_log, strict_warnings=pytestconfig.getoption("fail_on_warning"))


@pytest.fixture
def conformance(_conformance: Conformance, request: pytest.FixtureRequest) -> Conformance:
    """Send requests to the target and fail the test on any contract violation."""
    return _conformance.for_test(request.node.nodeid)
