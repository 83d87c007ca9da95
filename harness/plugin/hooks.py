"""The pytest hooks: set up the run, order the tests, judge reports (known issues, cut-short tests), redact.

Loaded from the root conftest.py with the options and fixtures modules.
Servers start in fixtures, never at import; the views of the run are written
by the controller only (harness/plugin/outputs.py).
"""
from __future__ import annotations

import gc
import os
import random
import secrets
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from contracts import Contract, ContractError, load_contract
from contracts.checks import REGISTRY
from contracts.checks import invariants
from harness import known_issues, safety
from harness.bridge.compat import install_nodeid_shim
from harness.plan.build import DEFAULT_BURST, build_plan
from harness.plugin import drift as drift_mode
from harness.plugin import planning
from harness.plugin.breaker import BreakerPlugin
from harness.plugin.context import RunContext
from harness.plugin.fork import ForkPlugin
from harness.plugin.keys import RUN, run_of
from harness.plugin.options import DEFAULT_REPORTS, validate
from harness.plugin.outputs import RunOutputs
from harness.plugin.progress import Progress
from harness.plugin import traffic as traffic_mode
from harness.plugin.resources import Resources
from harness.transport.replay import ReplayCache
from harness.profiles import active_profile, register, scale_profile
from harness.recording import REDACTOR, EventWriter, FileIdIndex, reset
from harness.target import TargetConfig, TargetUnreachable, UsageProblem, probe, resolve
from harness.transport import CUT_SHORT, CircuitBreaker, Limits, SharedBudget
from harness.verdict import ConformanceFailure

EXIT_UNREACHABLE = 10  # distinct from 1 (contract violations) and 4 (usage errors)
ROOT = Path(__file__).resolve().parents[2]
SELFTEST_DIR = ROOT / "tests" / "selftest"

register()


def _selftest_only(config: pytest.Config) -> bool:
    paths = [Path(str(a).split("::", 1)[0]).resolve() for a in config.args]
    return bool(paths) and all(p == SELFTEST_DIR or SELFTEST_DIR in p.parents for p in paths)


VIEW_FILES = ("conformance.html", "junit.xml", "summary.json", "created-runtimes.json")


def _route_reports(config: pytest.Config, selftest: bool) -> None:
    """One output folder: the HTML and JUnit files go to --reports-dir with the rest, unless named explicitly.

    tox.ini's addopts name them under the default folder; `pytest tests/selftest` must not overwrite the
    conformance report with the suite's own tests.
    """
    default = Path(DEFAULT_REPORTS)
    reports = Path(config.getoption("reports_dir"))
    html, xml = ("selftest.html", "selftest-junit.xml") if selftest else ("conformance.html", "junit.xml")
    if getattr(config.option, "htmlpath", None) == str(default / "conformance.html"):
        config.option.htmlpath = str(reports / html)
    if getattr(config.option, "xmlpath", None) == str(default / "junit.xml"):
        config.option.xmlpath = str(reports / xml)


def _clear_views(reports_dir: Path) -> None:
    """An earlier run's views are removed at start: whatever the folder holds after a run is this run's."""
    for name in VIEW_FILES:
        try:
            (reports_dir / name).unlink()
        except FileNotFoundError:
            pass


def _worker_id(config: pytest.Config) -> str | None:
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else None


def _contract(config: pytest.Config) -> Contract:
    errata = config.getoption("errata")
    return load_contract(config.getoption("contract"), overlay=None if errata == "none" else errata)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    selftest = _selftest_only(config)
    validate(config)
    _route_reports(config, selftest)
    install_nodeid_shim()
    scale_profile(active_profile(config), config.getoption("examples_scale"))
    recorded = traffic_mode.mode(config)
    try:
        contract = _contract(config)
        # Judging a recording sends nothing: no target, no key.
        target = (TargetConfig(f"recorded traffic: {config.getoption('traffic')}", "", "") if recorded
                  else resolve(config.getoption("base_url", None), config.getoption("space_id"),
                               _plan_environ() if config.getoption("plan") else None))
        shared_mock = (getattr(config, "workerinput", None) or {}).get("bctrl_mock_target")
        if shared_mock and target.embedded:  # an xdist worker of an embedded run: the controller's key and space
            target = TargetConfig(None, *shared_mock)
    except (ContractError, UsageProblem) as exc:
        raise pytest.UsageError(str(exc)) from None
    drifting = None if recorded else drift_mode.prepare(config, contract)
    if not recorded and not target.embedded and safety.looks_like_production(target.base_url) \
            and not config.getoption("allow_production"):
        raise pytest.UsageError(
            f"--base-url {target.base_url} looks like production (its host names no staging, dev, test or local "
            "environment): the suite creates runtimes there. Point it at staging, or pass --allow-production")
    known: tuple[known_issues.KnownIssue, ...] = ()
    if config.getoption("known_issues"):
        try:
            known = known_issues.load(config.getoption("known_issues"), [*REGISTRY, "transport"])
        except known_issues.KnownIssuesError as exc:
            raise pytest.UsageError(str(exc)) from None
    worker = _worker_id(config)
    run_id, seed = _run_id_and_seed(config, worker)
    reports_dir = Path(config.getoption("reports_dir"))
    process = worker or f"main-{os.getpid()}"
    REDACTOR.learn_credential(target.api_key)
    # The suite's own tests (pytest tests/selftest) leave the conformance reports alone, unless they
    # name a reports folder (a stand-in conformance module run by a selftest does); a session that
    # sends nothing records nothing either.
    records = not config.option.collectonly and not config.getoption("plan") and (
        not selftest or reports_dir != Path(DEFAULT_REPORTS))
    if records and worker is None:
        # The controller starts the run's records afresh, before any worker exists; a summary to
        # compare with is kept first (it may be the one about to be cleared: --compare-with=reports/summary.json).
        previous = _read_previous(config)
        _clear_views(reports_dir)
        reset(reports_dir / ".events")
        if previous is not None:
            (reports_dir / ".events").mkdir(parents=True, exist_ok=True)
            (reports_dir / ".events" / PREVIOUS_SUMMARY).write_bytes(previous)
        SharedBudget(reports_dir / ".events", Limits(None, None)).reset()
        FileIdIndex(reports_dir / ".events").reset()
    writer = EventWriter(reports_dir / ".events", process, api_key=target.api_key) if records else None
    breaker = CircuitBreaker(threshold=config.getoption("max_dead_answers"))
    if records:  # one count for the run's processes (xdist workers, the forked helper): harness/transport/breaker.py
        breaker.share(reports_dir / ".events", fresh=worker is None)
    limits = safety.default_limits(target.base_url, config.getoption("max_creates"), config.getoption("rate_limit"))
    concurrency = config.getoption("concurrency") or planning.default_concurrency(target.base_url, limits)
    saved_proxy = config.getoption("saved_proxy_id") or os.environ.get("BCTRL_SAVED_PROXY_ID") or None
    run = RunContext(
        contract=contract, target=target, limits=limits,
        run_id=run_id, seed=seed, profile=active_profile(config), reports_dir=reports_dir, process=process,
        controller=worker is None, timeout=config.getoption("request_timeout"),
        max_retry_wait=config.getoption("max_retry_wait"), strict_warnings=config.getoption("fail_on_warning"),
        breaker=breaker, concurrency=concurrency, known=known, writer=writer, saved_proxy_id=saved_proxy)
    run.drift = drifting
    run.resources = Resources(config)
    run.plan_run = planning.PlanRun()
    run.replay = ReplayCache()
    config.stash[RUN] = run
    if recorded:
        traffic_mode.load(config, run)
    elif not selftest:
        run.plan = build_plan(contract, space_id=target.space_id, name_prefix=run.name_prefix,
                              saved_proxy_id=saved_proxy, burst=min(DEFAULT_BURST, concurrency))
        if drifting is not None:
            run.plan = drift_mode.plan(drifting, run.plan, space_id=target.space_id, name_prefix=run.name_prefix,
                                       saved_proxy_id=saved_proxy)
        planning.install(config)
    invariants.use_clock_tolerance(config.getoption("clock_tolerance"))
    if records:
        # Ids must be unique across the run, every xdist worker included: decided in one shared index.
        invariants.use_index(FileIdIndex(run.events_dir))
    config.pluginmanager.register(BreakerPlugin(run), "bctrl-breaker")
    if worker is None and not selftest:
        config.pluginmanager.register(ForkPlugin(config), "bctrl-fork")
    if worker is None and records:
        config.pluginmanager.register(RunOutputs(config, run), "bctrl-outputs")
        config.pluginmanager.register(Progress(config, run), "bctrl-progress")
    if writer is not None:
        writer.write("process", worker=worker or "main", pid=os.getpid(), run_id=run_id, seed=seed)
    if not target.embedded and worker is None and not selftest and not recorded and not config.getoption("plan"):
        try:
            probe(target.base_url, timeout=min(5.0, run.timeout))
        except TargetUnreachable as exc:
            pytest.exit(f"target unreachable: {exc}", returncode=EXIT_UNREACHABLE)


PREVIOUS_SUMMARY = "previous-summary.json"


def _read_previous(config: pytest.Config) -> bytes | None:
    path = config.getoption("compare_with")
    try:
        return Path(path).read_bytes() if path else None
    except OSError:
        return None  # said in the report: "not compared: ..." (harness.reporting.compare_with_file)


def _plan_environ() -> dict[str, str]:
    """`--plan` sends nothing: a remote target needs no key (nor space) to be planned for."""
    environ = dict(os.environ)
    environ["BCTRL_API_KEY"] = environ.get("BCTRL_API_KEY", "").strip() or "plan-sends-nothing"
    environ["BCTRL_SPACE_ID"] = environ.get("BCTRL_SPACE_ID") or "00000000-0000-4000-8000-000000000000"
    return environ


def _run_id_and_seed(config: pytest.Config, worker: str | None) -> tuple[str, int | None]:
    """The controller decides; pytest_configure_node hands both to every xdist worker."""
    if worker is None:
        run_id = config.getoption("run_id") or time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)
        # A seed for every run, printed in the report, so any run can be replayed exactly.
        seed = config.getoption("hypothesis_seed", None)
        seed = random.SystemRandom().randrange(2**32) if seed is None else seed
    else:
        # Workers parse the command line again, so changes to config.option do not travel.
        run_id = config.workerinput.get("bctrl_run_id") or config.getoption("run_id")  # type: ignore[attr-defined]
        seed = config.workerinput.get("bctrl_seed", config.getoption("hypothesis_seed", None))  # type: ignore[attr-defined]
    config.option.run_id = run_id
    if hasattr(config.option, "hypothesis_seed") and seed is not None:
        from hypothesis import core

        config.option.hypothesis_seed = seed
        core.global_force_seed = seed
    return run_id, int(seed) if seed is not None and str(seed).isdigit() else None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller: every worker gets the controller's run id and seed (and embedded target)."""
    node.workerinput["bctrl_run_id"] = node.config.getoption("run_id")
    node.workerinput["bctrl_seed"] = node.config.getoption("hypothesis_seed", None)
    target = run_of(node.config).target
    if target.embedded:  # the mock's throwaway key and the run's space: a worker's own key would be refused
        node.workerinput["bctrl_mock_target"] = [target.api_key, target.space_id]


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(RUN, None)
    if run is not None and run.resources is not None:
        run.plan_run.stop()
        run.resources.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # Everything loaded so far (pytest, hypothesis, schemathesis, the contract and
    # the collected items) lives until the end of the run: move it out of the cyclic
    # garbage collector's sight, so its full collections during the run and at exit
    # do not walk it again each time. Measured A/B, 8 runs each: median 5.3 s -> 4.45 s.
    gc.freeze()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    run_of(item.config).judge.state.start(item.nodeid)
    yield
    run_of(item.config).judge.state.start("")


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = config.stash.get(RUN, None)
    if run is None or _selftest_only(config):
        return []
    where = "embedded reference mock" if run.target.embedded else run.target.base_url
    contract = run.contract
    return [f"bctrl target: {where}",
            f"contract: {contract.title} {contract.version} sha256 {contract.sha256[:12]} "
            f"({len(contract.errata)} errata actions)"]


def _exceptions(error: BaseException | None) -> list[BaseException]:
    """An exception and, for a group (Hypothesis raises one for several distinct failures), its members."""
    if error is None:
        return []
    if isinstance(error, BaseExceptionGroup):
        return [leaf for member in error.exceptions for leaf in _exceptions(member)]
    return [error]


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    run = item.config.stash.get(RUN, None)
    if run is None:
        return
    error = call.excinfo.value if call.excinfo is not None else None
    failures = [e for e in _exceptions(error) if isinstance(e, ConformanceFailure)]
    if failures and report.failed:
        # The message is the reproduction; a traceback into the harness adds nothing. Notes stay:
        # Hypothesis puts the shrunk example and how to replay it there (redacted below).
        notes = [str(n) for n in getattr(error, "__notes__", None) or ()]
        report.longrepr = "\n\n".join([*(str(f) for f in failures), *notes])
    cut_short = None
    if report.when == "call":
        cut_short = _cut_short(run, report, error)
        _known_issues(run, report, failures, error)
    _redact(report)
    if run.writer is not None and (report.when == "call" or report.failed or report.skipped):
        run.writer.write("judgement", test=item.nodeid, outcome=_outcome(report), cut_short=cut_short,
                         exploratory=item.get_closest_marker("exploratory") is not None,
                         known_issues=[i for i in str(dict(report.user_properties).get("known_issue", "")).split(",")
                                       if i],
                         reason=_reason(report))


def _cut_short(run: RunContext, report: pytest.TestReport, error: BaseException | None) -> str | None:
    """A test cut short (budget, throttling, dead target) is not tested; what it found before still fails it."""
    if not report.skipped or not isinstance(error, CUT_SHORT):
        return None
    why = str(error).split("\n", 1)[0]
    found = run.judge.state.failures
    if found:
        # A skip must never hide a failure already found: report it, fail the test.
        from harness.verdict import describe

        report.outcome = "failed"
        lines = [f"{len(found)} failing exchange(s) before the test was cut short ({why}):"]
        lines += [f"  - [{r.get('label') or r.get('source')}] " + "; ".join(
            f"{f['check']}: {f['message']}" for f in r.get("findings") or () if f["severity"] == "failure")
            for r in found[:5]]
        lines += [f"  ... and {len(found) - 5} more"] if len(found) > 5 else []
        report.longrepr = "\n".join(lines) + "\n\nthe first:\n" + describe(found[0])
    return why


def _known_issues(run: RunContext, report: pytest.TestReport, failures: list[ConformanceFailure],
                  error: BaseException | None) -> None:
    """A failing test whose every failing finding a known issue covers is an expected failure (xfail)."""
    if not run.known or not report.failed:
        return
    strict = run.strict_warnings
    others = [e for e in _exceptions(error) if not isinstance(e, ConformanceFailure)]
    found = run.judge.state.failures  # records with uncovered failures, in this test
    covered = sorted({issue for f in failures for issue in f.known.values()})
    if failures and not others and not found and all(not f.uncovered(strict_warnings=strict) for f in failures):
        report.outcome = "skipped"
        report.wasxfail = "; ".join(i.reason_line for i in run.known if i.id in covered)
        report.user_properties.append(("known_issue", ",".join(covered)))
    elif covered:
        report.longrepr = f"new failure, beyond known issue(s) {', '.join(covered)}:\n{report.longrepr}"
        report.user_properties.append(("known_issue", ",".join(covered)))


def _outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when != "call" and report.failed:
        return "error"
    return report.outcome


def _reason(report: pytest.TestReport) -> str | None:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2])[:300]  # a skip: its reason
    return None


def _redact(report: pytest.TestReport) -> None:
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason) must stay a tuple
        report.longrepr = tuple(REDACTOR.text(p) if isinstance(p, str) else p for p in report.longrepr)
    elif report.longrepr is not None:
        report.longrepr = REDACTOR.text(str(report.longrepr))
    report.sections = [(title, REDACTOR.text(text)) for title, text in report.sections]


def pytest_metadata(metadata: dict[str, Any], config: pytest.Config) -> None:
    for key, value in list(metadata.items()):
        if isinstance(value, str):
            metadata[key] = REDACTOR.text(value)
