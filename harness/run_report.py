"""The controller's reporter: collects outcomes, builds the summary once, writes every view.

Registered by the plugin in the controller process only (never in an xdist
worker), so `pytest -n N` writes one summary.json, one HTML summary and one
created-runtimes.json from the merged event log.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from harness import report, staging, summary
from harness.budget import Limits, SharedBudget
from harness.events import read_events
from harness.politeness import PoliteAdapter, RetryPolicy, mount


class RunReporter:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.outcomes = summary.Outcomes()
        self.started = time.time()
        self.data: dict[str, Any] | None = None
        self.written: list[Path] = []

    # -- collection of facts --------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.outcomes.add(report)

    def _reports_dir(self) -> Path:
        return Path(self.config.getoption("reports_dir"))

    def _run(self, exitstatus: int) -> dict[str, Any]:
        from harness.plugin import LIMITS_KEY, TARGET_KEY, events_dir

        config = self.config
        target = config.stash[TARGET_KEY]
        limits: Limits = config.stash[LIMITS_KEY]
        usage = SharedBudget(events_dir(config), limits).usage()
        from harness.profiles import SCHEMATHESIS_COVERAGE_MODES, active_profile

        profile = active_profile(config)
        return {
            "run_id": config.getoption("run_id"),
            "name_prefix": f"conformance-{config.getoption('run_id')}-",
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration_seconds": round(time.time() - self.started, 2),
            "exit_status": int(exitstatus),
            "seed": config.getoption("hypothesis_seed", None),
            "hypothesis_profile": profile,
            "schemathesis_coverage_modes": list(SCHEMATHESIS_COVERAGE_MODES.get(profile, ())),
            "workers": len(list(events_dir(config).glob("gw*.jsonl"))),
            "target": {"embedded": target.embedded, "base_url": target.base_url,
                       "description": "embedded reference mock (started by the suite on 127.0.0.1)"
                       if target.embedded else "remote server"},
            "politeness": {"max_creates": limits.max_creates, "rate_limit": limits.rate_limit,
                           "timeout": config.getoption("request_timeout"),
                           "max_retry_wait": config.getoption("max_retry_wait"),
                           "creates_used": usage["creates"], "requests_paced": usage["requests"]},
        }

    # -- writing ---------------------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from harness.plugin import CONTRACT_KEY, KNOWN_KEY, TARGET_KEY, events_dir

        config = self.config
        if config.option.collectonly:
            return  # nothing ran: keep the last run's reports
        events = list(read_events(events_dir(config)))
        run = self._run(exitstatus)
        self.data = summary.build(config.stash[CONTRACT_KEY], events, self.outcomes, run,
                                  config.stash.get(KNOWN_KEY, ()))
        folder = self._reports_dir()
        target = config.stash[TARGET_KEY]
        if not target.embedded:
            runtimes = staging.created_runtimes(events)
            template = config.getoption("cleanup_template")
            if template and runtimes:
                runtimes = self._cleanup(staging.CleanupTemplate.parse(template), runtimes)
                self.data["cleanup"] = {"template": template,
                                        "attempted": len(runtimes),
                                        "succeeded": sum(1 for r in runtimes if 200 <= r["cleanup"].get("status", 0) < 300)}
            self.written.append(staging.write_created(folder, runtimes, run_id=run["run_id"],
                                                      base_url=target.base_url, name_prefix=run["name_prefix"]))
        path = folder / "summary.json"
        summary.write(self.data, path)
        self.written.append(path)

    def _cleanup(self, template: staging.CleanupTemplate, runtimes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from harness.plugin import LIMITS_KEY, TARGET_KEY, events_dir

        target = self.config.stash[TARGET_KEY]
        limits = self.config.stash[LIMITS_KEY]
        timeout = self.config.getoption("request_timeout")
        with requests.Session() as session:
            # Paced like the run; not a create, so the budget does not apply.
            mount(session, PoliteAdapter(SharedBudget(events_dir(self.config), Limits(None, limits.rate_limit)),
                                         "/\0never", policy=RetryPolicy(max_retry_wait=self.config.getoption("max_retry_wait"))))
            return staging.cleanup(template, target.base_url, target.api_key, runtimes, session,
                                   (min(5.0, timeout), timeout))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        from harness.plugin import TARGET_KEY

        target = self.config.stash[TARGET_KEY]
        report.title = f"bctrl Runtimes API conformance: {target.base_url or 'embedded reference mock'}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        if self.data is not None:
            prefix.append(report.render(self.data))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.data is None:
            return
        for line in terminal_lines(self.data, self.written):
            terminalreporter.write_line(line)


def terminal_lines(data: dict[str, Any], written: list[Path]) -> list[str]:
    req, cov = data["requests"], data["coverage"]["request"]
    lines = ["", "=" * 30 + " bctrl conformance " + "=" * 30]
    target = data["target"]["base_url"] or "embedded reference mock"
    lines.append(f"target {target}; {req['sent']} requests sent ({req['exchanges']} judged, {req['throttled_429']} "
                 f"answered 429 and retried, {req['connection_retries']} connection retries, "
                 f"{req['budget_refusals']} refused by the budget)")
    verdicts = []
    for c in data["checks"]:
        extra = f" {c['failures']}" if c["failures"] else f" {c['warnings']}" if c["verdict"] == "warning" else ""
        verdicts.append(f"{c['check']} {c['verdict'].upper() if c['verdict'] == 'failed' else c['verdict']}{extra}")
    lines.append("checks: " + ", ".join(verdicts))
    enums = [c for c in cov if c["kind"] == "enum"]
    branches = [c for c in cov if c["kind"] == "branch"]
    missing = [f"{c['pointer']}={c['value']}" for c in cov if c["status"] == "missing"]
    lines.append(f"coverage: {sum(1 for c in enums if c['requests'])}/{len(enums)} request enum values, "
                 f"{sum(1 for c in branches if c['requests'])}/{len(branches)} oneOf branches"
                 + (f"; never exercised: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}" if missing else ""))
    for issue in data["known_issues"]:
        lines.append(f"known issue {issue['id']} ({issue['check']}): {issue['status']} - {issue['ticket']}")
    if "cleanup" in data:
        lines.append(f"cleanup: {data['cleanup']['succeeded']}/{data['cleanup']['attempted']} runtimes removed "
                     f"with '{data['cleanup']['template']}'")
    if written:
        lines.append("wrote " + ", ".join(str(p) for p in written))
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m harness.run_report reports/summary.json`: the terminal summary again, e.g. for a CI job page."""
    import json
    import sys

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "reports/summary.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    print("\n".join(terminal_lines(data, [])[2:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
