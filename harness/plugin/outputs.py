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
            "run", format=1, run_id=run.run_id, seed=run.seed, profile=run.profile, mode="generated",
            target={"embedded": run.target.embedded, "base_url": run.target.base_url},
            contract={"title": run.contract.title, "version": run.contract.version, "sha256": run.contract.sha256},
            limits={"max_creates": run.limits.max_creates, "rate_limit": run.limits.rate_limit, "concurrency": 1})

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
                       if run.target.embedded else "remote server"},
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
        if not run.target.embedded:
            self._cleanup(events)
        facts = self._run_facts(session.exitstatus)
        writer.write("footer", exit_status=int(session.exitstatus), duration_seconds=facts["duration_seconds"])
        events = list(read_events(run.events_dir))
        self.data = reporting.build(run.contract, events, facts, run.known)
        if not run.target.embedded:
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
