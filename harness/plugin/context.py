"""Everything one pytest process knows about the run it takes part in, built once in pytest_configure."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from typing import Any

from contracts import Contract
from harness.conformance import Judge
from harness.known_issues import KnownIssue
from harness.plan import Plan
from harness.recording import EventWriter
from harness.target import TargetConfig
from harness.transport import CircuitBreaker, Limits


@dataclass(repr=False)
class RunContext:
    contract: Contract
    target: TargetConfig
    limits: Limits
    run_id: str
    seed: int | None
    profile: str
    reports_dir: Path
    process: str  # an xdist worker id (gw0), main-<pid>, or explore-<pid> (harness/plugin/fork.py)
    controller: bool  # the process that writes the views (never an xdist worker)
    timeout: float
    max_retry_wait: float
    strict_warnings: bool
    breaker: CircuitBreaker
    concurrency: int = 1
    known: tuple[KnownIssue, ...] = ()
    writer: EventWriter | None = None
    saved_proxy_id: str | None = None
    plan: Plan = field(default_factory=lambda: Plan(()))
    resources: Any = None  # harness.plugin.resources.Resources: the target URL and the client, made when needed
    plan_run: Any = None  # harness.plugin.planning.PlanRun: this process's executor, if it sends the plan
    replay: Any = None  # harness.transport.replay.ReplayCache: prefetched answers for the exploratory tests
    traffic: Any = None  # harness.traffic.Traffic: the recording judged with --traffic (None: a generated run)
    drift: Any = None  # harness.plugin.drift.DriftRun: --drift-from / --upstream-contract (None: no drift)
    traffic_judge: Any = None  # harness.traffic.TrafficJudge: decides the intent of what nobody declared
    judge: Judge = field(init=False)

    def __post_init__(self) -> None:
        self.judge = Judge(self.contract, self.writer, known=self.known, target=self.target_key,
                           strict_warnings=self.strict_warnings)

    def __repr__(self) -> str:
        # Short on purpose: pytest prints a failing test's arguments, and the whole context (plan, recording,
        # contract) took minutes to render for a failure in a 10,000-exchange recording.
        return f"RunContext(run_id={self.run_id!r}, process={self.process!r}, target={self.target_key!r})"

    @property
    def events_dir(self) -> Path:
        return self.reports_dir / ".events"

    @property
    def target_key(self) -> str:
        """What known-issue `target` globs match: the base URL, or `embedded`."""
        return self.target.base_url or "embedded"

    @property
    def name_prefix(self) -> str:
        """Prefix of every runtime name this run sends, so its runtimes can be found and cleaned up."""
        return f"conformance-{self.run_id}-"
