"""Contract drift in a run: what changed between two versions, and whether the target follows the newer one.

- `pytest --contract=NEW --drift-from=OLD`: the run tests NEW, and adds a test
  item per drift probe (strategies/drift_probes.py) asking the target whether
  it implements each change: implemented passes, not implemented fails,
  inconclusive skips with its reason. The embedded mock then serves OLD: it
  stands for the server that has not moved yet.
- `pytest --upstream-contract=NEWER` (nightly): the run tests the vendored
  contract (`--contract`) and compares it with NEWER, the same probes asking
  whether the target already implements NEWER; the drift summary heads the report.

Nothing is sent twice: a probe whose request the plan already sends (a
covering row with the added enum value, valid under NEW; the minimal create
for a new response field) reads that row's answer, judged once by its own
test; the other probes are planned requests of their own (group "drift"),
sent by the executor with the rest of the plan, within the same budget.
Each probe's verdict is a `drift` record in the event log; `facts()` turns
the records and the diff into the summary's `drift` section.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pytest

from contracts import Contract, ContractError
from contracts.drift import DriftReport, drift
from contracts.drift.compare import contracts_of
from harness.plan import Plan, PlannedRequest
from strategies.drift_probes import DriftProbe, probes
from strategies.schema import MISSING, resolve

TEST = "test_drift_probe"
DRIFT_FILE = "test_drift.py"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("bctrl drift", "contract drift: what changed, and whether the target follows")
    group.addoption("--drift-from", default=None, metavar="OLD",
                    help="an older version of the contract: the run tests --contract (NEW) and asks the target, "
                         "change by change, whether it implements NEW (the embedded mock serves OLD)")
    group.addoption("--upstream-contract", default=None, metavar="NEWER",
                    help="a newer published version: the run tests --contract and puts what NEWER changes, and "
                         "whether the target already follows it, at the top of the report (nightly)")


@dataclass
class DriftRun:
    """The diff, its probes, and which planned request each probe reads."""

    mode: str  # "drift-from" | "upstream"
    report: DriftReport
    old: Contract
    new: Contract
    probes: dict[str, DriftProbe]
    reads: dict[str, str] = field(default_factory=dict)  # probe id -> planned request id (its own, or a plan row's)
    own: tuple[PlannedRequest, ...] = ()

    @property
    def mock_contract(self) -> Contract:
        """What the embedded mock serves: the version the target is assumed to be on (OLD)."""
        return self.old


def prepare(config: pytest.Config, run_contract: Contract) -> DriftRun | None:
    """Diff the two versions the options name (None without drift options); a usage error in one line."""
    older, newer = config.getoption("drift_from"), config.getoption("upstream_contract")
    if not older and not newer:
        return None
    if older and newer:
        raise pytest.UsageError("--drift-from and --upstream-contract both name a second version: give one "
                                "(--drift-from=OLD to test NEW, --upstream-contract=NEWER to look ahead)")
    errata = config.getoption("errata")
    overlay = None if errata == "none" else errata
    old, new = (older, config.getoption("contract")) if older else (config.getoption("contract"), newer)
    option = "--drift-from" if older else "--upstream-contract"
    for path in (older or newer,):
        if not Path(path).is_file():
            raise pytest.UsageError(f"{option} {path}: no such file; give the path of an OpenAPI document")
    try:
        report = drift(old, new, overlay=overlay)
        old_contract, new_contract = contracts_of(report)
    except ContractError as exc:
        raise pytest.UsageError(f"{option}: {exc}") from None
    return DriftRun("drift-from" if older else "upstream", report, old_contract, new_contract, {})


def plan(state: DriftRun, base: Plan, *, space_id: str, name_prefix: str, saved_proxy_id: str | None) -> Plan:
    """`base` with the probes' own requests; probes the plan already answers read its rows instead."""
    made = probes(state.report.changes, state.old, state.new, space_id=space_id, name_prefix=name_prefix,
                  saved_proxy_id=saved_proxy_id)
    state.probes = {p.id: p for p in made}
    valid_new = state.new.request_validator().is_valid
    own = []
    for probe in made:
        row = _answered_by(probe, base.requests, valid_new)
        if row is not None:
            state.reads[probe.id] = row.id
            continue
        cost = "refusal" if probe.expect == "refused" else "create"
        request = PlannedRequest(TEST, probe.id, "drift", cost, "unknown", probe.id, payload=probe.payload)
        state.reads[probe.id] = request.id
        own.append(request)
    state.own = tuple(own)
    return Plan((*base.requests, *own))


def _answered_by(probe: DriftProbe, rows: Iterable[PlannedRequest], valid_new: Any) -> PlannedRequest | None:
    """A planned create whose answer tells what the probe's would: same value, valid under NEW."""
    rows = sorted(rows, key=lambda row: row.group == "covering-redundant")  # a row the run sends anyway first
    if probe.expect == "accepted" and probe.change.kind in ("enum-value-added",):
        for row in rows:
            if (row.group.startswith("covering") and row.cost == "create" and row.payload is not MISSING
                    and resolve(row.payload, probe.pointer) == probe.change.value and valid_new(row.payload)):
                return row
    if probe.expect == "present":
        for row in rows:
            if row.group == "basics" and row.param == "minimal" and valid_new(row.payload):
                return row
    return None


def params(state: DriftRun | None) -> list[Any]:
    """The drift test's parameters: one per probe (none without drift options: the file is not collected)."""
    return [] if state is None else [pytest.param(probe_id, id=probe_id) for probe_id in state.probes]


def ignore(collection_path: Path, config: pytest.Config) -> bool | None:
    """Collect tests/conformance/test_drift.py only when a drift option gave probes (no change: no item)."""
    if collection_path.name == DRIFT_FILE and collection_path.parent.name == "conformance":
        from harness.plugin.keys import RUN

        run = config.stash.get(RUN, None)
        state = getattr(run, "drift", None)
        return True if state is None or not state.probes else None
    return None


def facts(state: DriftRun, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The summary's `drift` section: the versions, every change, the errata carry-over, each probe's verdict."""
    report = state.report
    verdicts = {e["probe"]: e for e in events if e.get("kind") == "drift"}
    probe_rows = []
    for probe_id, probe in state.probes.items():
        seen = verdicts.get(probe_id)
        probe_rows.append({
            "probe": probe_id, "subject": probe.change.subject, "kind": probe.change.kind,
            "level": probe.change.level, "expect": probe.expect,
            "verdict": seen["verdict"] if seen else "not run", "reason": seen["reason"] if seen else "",
            "reads": state.reads.get(probe_id), "shared": state.reads.get(probe_id) != f"{TEST}[{probe_id}]",
        })
    probed = {id(probe.change) for probe in state.probes.values()}
    counts = {v: sum(1 for p in probe_rows if p["verdict"] == v)
              for v in ("implemented", "not implemented", "inconclusive", "not run")}
    return {
        "mode": state.mode,
        "old": {"source": report.old_source, "version": report.old_version},
        "new": {"source": report.new_source, "version": report.new_version},
        "summary": report.summary(),
        "changes": [c.as_dict() for c in report.changes],
        "errata": [e.as_dict() for e in report.errata],
        "probes": probe_rows,
        "probe_counts": counts,
        # Changes no request tells apart (a description, a status code, a response enum value): diff only.
        "unprobed": [c.subject for c in report.changes if id(c) not in probed],
    }


def record(writer: Any, test: str, probe: DriftProbe, verdict: str, reason: str, reads: str) -> None:
    if writer is not None:
        writer.write("drift", test=test, probe=probe.id, subject=probe.change.subject, change=probe.change.kind,
                     level=probe.change.level, verdict=verdict, reason=reason, reads=reads)


def body_of(exchange: Any) -> Any:
    response = exchange.response
    if response is None:
        return MISSING
    if response.json is not MISSING:
        return response.json
    try:
        return json.loads(response.body or b"")
    except ValueError:
        return MISSING
