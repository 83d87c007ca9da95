"""One judged proxy run: the event log, the `TrafficJudge` behind the proxy app, and the views at the end.

Used by `python -m harness.proxy` (which adds the command line, the start-up
probe and the signals) and by the selftests, which serve `run.app` with a
`ProxyServer` of their own:

    run = ProxyRun(contract, "http://127.0.0.1:8787", Path("reports/proxy"), api_key=key)
    with ProxyServer(run.app) as server:
        ...                         # clients talk to server.url
    code = run.finish()             # drain, judge the rest, write the views: 0, or 1 on a violation

Judging runs in the proxy's worker thread, in this process, by default; with
`judge_process=True` (`--judge-process`) it runs in a child process
(`JudgeProcess`): the proxy then only pickles each exchange into a pipe, so the
checks' CPU time no longer competes with the event loop for the GIL. The child
builds its own `TrafficJudge` from a setup file (`ChildSetup`), writes its
records to its own file in the same event log, and sends back one small,
redacted summary per exchange for the terminal and the exit code.

The run writes the same record kinds as a pytest run: a `run` header (mode
"traffic"), a `process` record, an `exchange` and a `judgement` per exchange
judged (a skipped judgement per exchange not judged), a `footer`.
"""
from __future__ import annotations

import logging
import os
import pickle
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from contracts import Contract
from contracts.checks.model import Received, SentRequest
from harness.conformance import Judge
from harness.known_issues import KnownIssue
from harness.proxy.forward import ProxyApp, create_proxy_app
from harness.proxy.offload import JudgeFailure, JudgeProcess
from harness.proxy.report import write_views
from harness.recording import REDACTOR, EventWriter, reset
from harness.reporting import terminal_lines
from harness.traffic.judging import TrafficJudge, TrafficOutcome

log = logging.getLogger("harness.proxy")

EXIT_OK, EXIT_VIOLATIONS = 0, 1
NOT_JUDGED_LISTED = 10  # on the terminal; summary.json and the page list them all
SETUP_ENV = "BCTRL_PROXY_JUDGE_SETUP"  # the judge process's setup file
KEY_ENV = "BCTRL_PROXY_JUDGE_KEY"  # the API key, for the judge process only (never in the setup file)


class RedactingFormatter(logging.Formatter):
    """Log lines pass through the redactor: a message quoting a URL or an error body shows no credential."""

    def format(self, record: logging.LogRecord) -> str:
        return REDACTOR.text(super().format(record))


def redacted_logging(level: int = logging.WARNING) -> None:
    """The proxy's warnings (502, 504, answers broken off, judge errors) on stderr, redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("harness.proxy")
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


@dataclass(frozen=True)
class Summary:
    """What the terminal and the exit code need of one exchange (redacted; small enough to pickle back)."""

    outcome: str  # passed, failed, xfailed, skipped, other path, error
    test: str
    line: str
    reason: str = ""

    @classmethod
    def of(cls, outcome: TrafficOutcome) -> "Summary":
        return cls(outcome.outcome, REDACTOR.text(outcome.test), outcome.line(), REDACTOR.text(outcome.reason))


@dataclass(frozen=True)
class ChildSetup:
    """What a judge process needs to judge like the proxy's own thread would."""

    contract: Contract
    known: tuple[KnownIssue, ...]
    target: str
    events_dir: str
    run_id: str


class ProxyRun:
    """A proxy app whose every exchange is judged and recorded under `reports_dir` (see the module doc)."""

    def __init__(self, contract: Contract, target: str, reports_dir: Path, *, known: tuple[KnownIssue, ...] = (),
                 api_key: str | None = None, run_id: str | None = None,
                 echo: Callable[[str], None] | None = None, quiet: bool = False, judge_process: bool = False,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0, body_cap: int = 10 * 1024 * 1024) -> None:
        self.contract = contract
        self.target = target.rstrip("/")
        self.reports_dir = reports_dir
        self.known = known
        self.echo = echo or (lambda line: print(line, flush=True))
        self.quiet = quiet
        self.read_timeout = read_timeout
        self.started = time.time()
        self.run_id = run_id or time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)
        if api_key:
            REDACTOR.learn_credential(api_key)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {k: 0 for k in ("exchanges", "passed", "failed", "xfailed", "skipped",
                                                       "other path", "error")}
        self.no_answer = 0
        self.not_judged: list[Summary] = []
        self.data: dict[str, Any] | None = None
        self.written: list[Path] = []
        # The app first: a target that is no http(s) URL fails here, before anything is written.
        self.app: ProxyApp = create_proxy_app(self.target, self._on_exchange, connect_timeout=connect_timeout,
                                              read_timeout=read_timeout, body_cap=body_cap)
        events = reports_dir / ".events"
        reset(events)
        self.writer = EventWriter(events, f"main-{os.getpid()}", api_key=api_key)
        self.writer.write(
            "run", format=1, run_id=self.run_id, seed=None, profile="traffic", mode="traffic",
            target={"embedded": False, "base_url": self.target},
            contract={"title": contract.title, "version": contract.version, "sha256": contract.sha256},
            limits={"max_creates": None, "rate_limit": None, "concurrency": None})
        self.writer.write("process", worker="main", pid=os.getpid(), run_id=self.run_id, seed=None)
        self.traffic: TrafficJudge | None = None
        self.offload: JudgeProcess | None = None
        self._setup_file: Path | None = None
        if judge_process:
            setup = ChildSetup(contract, known, self.target, str(events), self.run_id)
            self.offload = self._start_judge_process(setup, api_key)
        else:
            self.traffic = traffic_judge(contract, self.writer, known, self.target, api_key, on_outcome=self._count)

    def _start_judge_process(self, setup: ChildSetup, api_key: str | None) -> JudgeProcess:
        handle, name = tempfile.mkstemp(prefix="bctrl-proxy-judge-", suffix=".pickle")  # mode 0600
        with os.fdopen(handle, "wb") as file:
            pickle.dump(setup, file)
        self._setup_file = Path(name)
        # The child is spawned with this process's environment as it is at start: the setup's path,
        # and the key (kept out of the file) for as long as the spawn takes.
        saved = {k: os.environ.get(k) for k in (SETUP_ENV, KEY_ENV)}
        os.environ[SETUP_ENV] = name
        if api_key:
            os.environ[KEY_ENV] = api_key
        try:
            return JudgeProcess(f"{__name__}:judge_in_child", self._count)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- during the run --------------------------------------------------------------------------------------------

    def _on_exchange(self, request: SentRequest, response: Received | None, meta: dict[str, Any]) -> None:
        with self._lock:
            self.no_answer += response is None
        if self.offload is not None:
            REDACTOR.learn_request(request)  # this process's log lines must not show them either
            self.offload(request, response, meta)
            return
        assert self.traffic is not None
        # The exchange was queued just before the client's last body bytes were sent: give the GIL back
        # once, so the event loop finishes that answer before the checks compute (measured A/B, 4 pairs of
        # runs on a shared 2-core machine: the median added latency 0.2-1.0 ms lower with it).
        time.sleep(0)
        try:
            self.traffic(request, response, meta)
        except Exception as exc:  # noqa: BLE001 - one exchange our judge cannot handle must not end the run
            REDACTOR.learn_request(request)
            log.exception("the judge failed on exchange %s (%s %s)", meta.get("number"), request.method,
                          meta.get("path"))
            test = self.traffic.test_id(request)
            self.writer.write("judgement", test=test, outcome="error", known_issues=[], cut_short=None,
                              reason=f"the judge failed: {type(exc).__name__}: {exc}"[:300])
            self._count(Summary("error", REDACTOR.text(test), REDACTOR.text(f"{request.method} {meta.get('path')} "
                                                                               "(the judge failed)")))

    def _count(self, outcome: TrafficOutcome | Summary | JudgeFailure) -> None:
        """Every exchange's outcome, from this process's judge or the judge process, in arrival order."""
        if isinstance(outcome, JudgeFailure):  # the judge process caught its judge's exception (and logged it)
            self.writer.write("judgement", test=f"proxy::exchange[proxy#{outcome.number}]", outcome="error",
                              known_issues=[], cut_short=None, reason="the judge failed (see the proxy's log)")
            outcome = Summary("error", f"proxy::exchange[proxy#{outcome.number}]",
                              f"exchange proxy#{outcome.number}: the judge failed")
        summary = outcome if isinstance(outcome, Summary) else Summary.of(outcome)
        with self._lock:
            self.counts["exchanges"] += 1
            self.counts[summary.outcome] += 1
            if summary.outcome == "skipped":
                self.not_judged.append(summary)
        if not self.quiet:
            self.echo(summary.line)

    # -- at the end ------------------------------------------------------------------------------------------------

    @property
    def exit_code(self) -> int:
        return EXIT_VIOLATIONS if self.counts["failed"] or self.counts["error"] else EXIT_OK

    def facts(self, exit_status: int) -> dict[str, Any]:
        counts = self.counts
        return {
            "run_id": self.run_id,
            "mode": "traffic",
            "source": "proxy",
            "name_prefix": "",
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration_seconds": round(time.time() - self.started, 2),
            "exit_status": exit_status,
            "seed": None,
            "hypothesis_profile": "none (traffic judged, nothing generated)",
            "schemathesis_coverage_modes": [],
            "workers": 0,
            "target": {"embedded": False, "base_url": self.target,
                       "description": "the target behind the validating proxy (python -m harness.proxy)"},
            "politeness": {"max_creates": None, "rate_limit": None, "timeout": self.read_timeout,
                           "creates_used": 0},
            "traffic": {
                "judging": "judge process" if self.offload is not None else "in process",
                "exchanges": counts["exchanges"],
                "judged": counts["passed"] + counts["failed"] + counts["xfailed"],
                "failed": counts["failed"],
                "known_issue": counts["xfailed"],
                "other_paths": counts["other path"],
                "no_answer": self.no_answer,
                "judge_errors": counts["error"],
                "not_judged": {"count": len(self.not_judged),
                               "exchanges": [{"test": o.test, "reason": o.reason} for o in self.not_judged]},
            },
        }

    def summary_lines(self) -> list[str]:
        counts = self.counts
        judged = counts["passed"] + counts["failed"] + counts["xfailed"]
        lines = [f"{counts['exchanges']} exchanges, {self.no_answer} without an answer from the target",
                 f"{judged} judged ({counts['failed']} failed, {counts['xfailed']} known issues), "
                 f"{len(self.not_judged)} not judged, {counts['other path']} on other paths"
                 + (f", {counts['error']} the judge failed on" if counts["error"] else "")]
        for summary in self.not_judged[:NOT_JUDGED_LISTED]:
            lines.append(f"  {summary.test}: {summary.reason}")
        if len(self.not_judged) > NOT_JUDGED_LISTED:
            lines.append(f"  ... and {len(self.not_judged) - NOT_JUDGED_LISTED} more (see summary.json)")
        return [REDACTOR.text(line) for line in lines]

    def finish(self, drain_timeout: float = 30.0) -> int:
        """Judge what is still queued, write the footer and the views, print the summary; the exit code."""
        drained = self.app.drain(drain_timeout)
        self.app.close(timeout=5.0 if drained else 1.0)
        if not drained:
            self.echo(f"warning: {self.app.queued} exchange(s) were still waiting for the judge after "
                      f"{drain_timeout:g} s and are not in the report")
        if self.offload is not None:
            if not self.offload.close(drain_timeout):
                self.echo(f"warning: the judge process judged {self.offload.received} of the {self.offload.sent} "
                          "exchanges handed to it; the others are not in the report")
            if self._setup_file is not None:
                self._setup_file.unlink(missing_ok=True)
        code = self.exit_code
        facts = self.facts(code)
        self.writer.write("footer", exit_status=code, duration_seconds=facts["duration_seconds"])
        self.writer.close()
        self.data, self.written = write_views(self.contract, self.reports_dir, facts, self.known,
                                              title=f"bctrl conformance (proxy): {self.target}")
        for line in [*self.summary_lines(), *terminal_lines(self.data, self.written)]:
            self.echo(REDACTOR.text(line))
        return code


def traffic_judge(contract: Contract, writer: EventWriter, known: tuple[KnownIssue, ...], target: str,
                  api_key: str | None, on_outcome: Callable[[TrafficOutcome], None] | None = None) -> TrafficJudge:
    """The proxy's TrafficJudge: records through `writer`, known issues matched against `target`."""
    judge = Judge(contract, writer, known=known, target=target)
    return TrafficJudge(judge, source="proxy", valid_keys=[api_key] if api_key else (), base_url=target,
                        on_outcome=on_outcome)


_CHILD: list[TrafficJudge] = []


def judge_in_child(request: SentRequest, response: Received | None, meta: dict[str, Any]) -> Summary:
    """The judge process's judge (`JudgeProcess("harness.proxy.run:judge_in_child")`): built once from its setup."""
    if not _CHILD:
        with open(os.environ[SETUP_ENV], "rb") as file:
            setup: ChildSetup = pickle.load(file)
        api_key = os.environ.pop(KEY_ENV, None)
        # Named to sort after the proxy's main-<pid>.jsonl, so the event log still reads header first.
        writer = EventWriter(Path(setup.events_dir), f"proxy-judge-{os.getpid()}", api_key=api_key)
        writer.write("process", worker="judge", pid=os.getpid(), run_id=setup.run_id, seed=None)
        _CHILD.append(traffic_judge(setup.contract, writer, setup.known, setup.target, api_key))
    return Summary.of(_CHILD[0](request, response, meta))
