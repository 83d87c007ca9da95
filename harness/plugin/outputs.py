"""The controller's views of the run: summary.json, created-runtimes.json, the HTML section, the terminal lines.

Registered in the controller process only (never an xdist worker), so
`pytest -n N` writes one set of views from the merged event log. Each view is
built from the records (harness/reporting/); cleanup of created runtimes runs
here too, after the tests, and is recorded like everything else.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from harness import known_issues, reporting, safety
from harness.plugin.context import RunContext
from harness.profiles import SCHEMATHESIS_COVERAGE_MODES
from harness.recording import read_events
from harness.transport import Limits, PoliteAdapter, RetryPolicy, SharedBudget, mount


EXIT_NOT_TESTED = 14  # some of the plan's deterministic tests could not be sent (budget, throttling): no violation


def replay_command(config: pytest.Config, run: RunContext, test: str | None = None) -> str:
    """The command that replays this run (or one test of it) as printed: target, space, seed, profile, contract.

    The key is left to the environment: `BCTRL_API_KEY` must hold it (the embedded mock makes its own).
    """
    parts = ["pytest"] + ([f"'{test}'"] if test else [])
    if not run.target.embedded:
        parts += [f"--base-url={run.target.base_url}", f"--space-id={run.target.space_id}"]
    parts += [f"--hypothesis-seed={run.seed}", f"--hypothesis-profile={run.profile}"]
    from contracts import DEFAULT_CONTRACT, DEFAULT_OVERLAY

    if config.getoption("contract") != str(DEFAULT_CONTRACT):
        parts.append(f"--contract={config.getoption('contract')}")
    if config.getoption("errata") != str(DEFAULT_OVERLAY):
        parts.append(f"--errata={config.getoption('errata')}")
    if run.saved_proxy_id:
        parts.append(f"--saved-proxy-id={run.saved_proxy_id}")
    command = " ".join(parts)
    return command if run.target.embedded else f"BCTRL_API_KEY=<the key> {command}"


class RunOutputs:
    def __init__(self, config: pytest.Config, run: RunContext) -> None:
        self.config = config
        self.run = run
        self.started = time.time()
        self.data: dict[str, Any] | None = None
        self.written: list[Path] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        run = self.run
        assert run.writer is not None
        run.writer.write(
            "run", format=1, run_id=run.run_id, seed=run.seed, profile=run.profile,
            mode="traffic" if run.traffic is not None else "generated",
            target={"embedded": run.target.embedded, "base_url": run.target.base_url},
            contract={"title": run.contract.title, "version": run.contract.version, "sha256": run.contract.sha256},
            limits={"max_creates": run.limits.max_creates, "rate_limit": run.limits.rate_limit,
                    "concurrency": run.concurrency})

    def _run_facts(self, exitstatus: int) -> dict[str, Any]:
        run = self.run
        usage = SharedBudget(run.events_dir, run.limits).usage()
        return {
            "run_id": run.run_id,
            "name_prefix": run.name_prefix,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration_seconds": round(time.time() - self.started, 2),
            "exit_status": int(exitstatus),
            "seed": run.seed,
            "hypothesis_profile": run.profile,
            "schemathesis_coverage_modes": list(SCHEMATHESIS_COVERAGE_MODES.get(run.profile, ())),
            "workers": len(list(run.events_dir.glob("gw*.jsonl"))),
            "target": {"embedded": run.target.embedded, "base_url": run.target.base_url,
                       "description": "embedded reference mock (started by the suite on 127.0.0.1)"
                       if run.target.embedded else "a server on this machine"
                       if safety.is_loopback(run.target.base_url or "") else "remote server"},
            "replay": replay_command(self.config, run),
            "politeness": {"max_creates": run.limits.max_creates, "rate_limit": run.limits.rate_limit,
                           "timeout": run.timeout, "max_retry_wait": run.max_retry_wait,
                           "creates_used": usage["creates"], "requests_paced": usage["requests"],
                           "reservations_given_back": usage["given_back"]},
        }

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # Before pytest-html's own sessionfinish writes the page (it asks for our section then).
        run = self.run
        writer = run.writer
        assert writer is not None
        events = list(read_events(run.events_dir))
        self._stale_entries(events)
        if not run.target.embedded and run.traffic is None:
            self._cleanup(events)
        not_tested = self._not_tested(session, events)
        facts = self._run_facts(session.exitstatus)
        if not_tested:
            facts["not_tested"] = not_tested
        writer.write("footer", exit_status=int(session.exitstatus), duration_seconds=facts["duration_seconds"])
        events = list(read_events(run.events_dir))
        self.data = reporting.build(run.contract, events, facts, run.known)
        if run.traffic is not None:
            from harness.plugin import traffic as traffic_mode

            self.data["mode"] = "traffic"
            self.data["traffic"] = traffic_mode.facts(run)
        if run.drift is not None:
            from harness.plugin import drift

            self.data["drift"] = drift.facts(run.drift, events)
        if self.config.getoption("compare_with"):
            kept = run.events_dir / "previous-summary.json"  # copied before the reports folder was cleared
            self.data = reporting.compare_with_file(self.data, kept if kept.exists()
                                                    else self.config.getoption("compare_with"))
        if not run.target.embedded and run.traffic is None:
            runtimes = safety.created_runtimes(events)
            outcomes = {e.get("id"): e for e in events if e.get("kind") == "cleanup"}
            if outcomes:
                runtimes = [{**r, "cleanup": {k: v for k, v in outcomes[r["id"]].items() if k in ("status", "error")
                                              and v is not None}} if r.get("id") in outcomes else r for r in runtimes]
                self.data["cleanup"] = {"template": self.config.getoption("cleanup_template"),
                                        "attempted": len(outcomes),
                                        "succeeded": sum(1 for o in outcomes.values()
                                                         if 200 <= (o.get("status") or 0) < 300)}
            self.written.append(safety.write_created(run.reports_dir, runtimes, run_id=run.run_id,
                                                     base_url=run.target.base_url or "", name_prefix=run.name_prefix))
        path = run.reports_dir / "summary.json"
        reporting.write(self.data, path)
        self.written.append(path)

    @staticmethod
    def _not_tested(session: pytest.Session, events: list[dict[str, Any]]) -> dict[str, Any] | None:
        """What the run could not test, and the exit code that says so (never a green run).

        The key or the space refused: the run stopped before testing (exit 12 or 13, set when it
        stopped). Deterministic tests cut short (budget, throttling): exit 14 unless violations were
        found (1) or the target went down (11). Exploratory tests stopping at the budget are expected:
        they get what is left of it; the facts say how far they got.
        """
        stops = [e for e in events if e.get("kind") == "stop"]
        if stops:
            return {"reason": stops[0]["reason"], "line": stops[0]["line"], "tests": 0}
        judged = reporting.outcomes(events)
        cut = {t: j for t, j in judged.items() if j.get("cut_short") and not j.get("exploratory")}
        if not cut:
            return None
        if session.exitstatus == 0:
            session.exitstatus = EXIT_NOT_TESTED
        reasons = sorted({str(j["cut_short"]) for j in cut.values()})
        return {"reason": "cut-short", "line": f"{len(cut)} deterministic test(s) not tested: " + "; ".join(reasons),
                "tests": len(cut)}

    def _stale_entries(self, events: list[dict[str, Any]]) -> None:
        """A known issue whose tests ran and which covered nothing: reported once, as a warning."""
        if not self.run.known:
            return
        judged = reporting.outcomes(events)
        covering: dict[str, int] = {}
        for event in (e for e in events if e.get("kind") == "exchange"):
            for finding in event.get("findings") or ():
                if finding.get("known_issue"):
                    covering[finding["known_issue"]] = covering.get(finding["known_issue"], 0) + 1
        statuses = known_issues.statuses(self.run.known, tests_run=list(judged), covering=covering,
                                         target=self.run.target_key)
        for issue in self.run.known:
            if statuses[issue.id] == "stale":
                assert self.run.writer is not None
                self.run.writer.write(
                    "finding", test="", check=issue.check, severity="warning", pointer=issue.pointer or "",
                    message=f"known issue {issue.id} is stale: the tests it selects ran and none showed it; "
                            "the fix looks landed, remove the entry", expected="a finding the entry covers",
                    got="none", known_issue=None)

    def _cleanup(self, events: list[dict[str, Any]]) -> None:
        template = self.config.getoption("cleanup_template")
        runtimes = safety.created_runtimes(events)
        if not template or not runtimes:
            return
        run = self.run
        with requests.Session() as session:
            # Paced like the run; not a create, so the budget does not apply.
            mount(session, PoliteAdapter(SharedBudget(run.events_dir, Limits(None, run.limits.rate_limit)),
                                         "/\0never", policy=RetryPolicy(max_retry_wait=run.max_retry_wait)))
            done = safety.cleanup(safety.CleanupTemplate.parse(template), run.target.base_url or "",
                                  run.target.api_key, runtimes, session, (min(5.0, run.timeout), run.timeout))
        assert run.writer is not None
        for runtime in done:
            outcome = runtime.get("cleanup") or {}
            run.writer.write("cleanup", id=runtime.get("id"), status=outcome.get("status"), error=outcome.get("error"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"bctrl Runtimes API conformance: {self.run.target.base_url or 'embedded reference mock'}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        if self.data is not None:
            prefix.append(reporting.render(self.data))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.data is None:
            return
        for line in reporting.terminal_lines(self.data, self.written):
            terminalreporter.write_line(line)
