"""The request plan in a pytest run: options, item order, `--plan`, the executor, and what a planned test calls.

Every deterministic case is a planned request (harness/plan/) with its own test
item (`test[param]` is both). After collection the plan is cut to the selected
items and an executor sends it ahead of the tests, several requests in flight;
each item then judges its own exchange (`PlannedRunner.verify`). Exploratory
tests (Hypothesis, schemathesis) run after them and get what is left of the
budget.
"""
from __future__ import annotations

import math
import threading
from typing import Any, Iterable

import pytest

from contracts.checks import Exchange, Finding
from harness import safety
from harness.conformance import Conformance
from harness.plan import FileStore, MemoryStore, Outcome, Plan, PlanExecutor, PlannedRequest, send_planned
from harness.plugin.keys import RUN, run_of
from harness.verdict import ConformanceFailure

LOCAL_CONCURRENCY = 32  # a local target: enough in flight that the suite, not the wait, is the limit
ASSUMED_CREATE_SECONDS = 1.0  # a remote create provisions a runtime: assume a second when sizing the default
WAIT_FOR_PLAN = 300.0  # longest a test waits for the executor's answer before sending the request itself
ISOLATED_ROWS = 5  # failing covering rows narrowed down per process (each costs at most k + k(k-1)/2 requests)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("bctrl-plan", "bctrl: the request plan")
    group.addoption("--plan", action="store_true",
                    help="print the request plan (requests, creates, the exploratory share, expected duration) and "
                         "exit 0 without sending anything")
    group.addoption("--concurrency", type=int, default=None, metavar="N",
                    help=f"requests in flight at once, across xdist workers (default: {LOCAL_CONCURRENCY} for a "
                         "local target; for a remote one, enough to reach --rate-limit at a create of "
                         f"{ASSUMED_CREATE_SECONDS:g} s, never more than the limit)")
    group.addoption("--all-rows", action="store_true",
                    help="also send the covering set's single-value rows that the pairwise rows already cover")
    group.addoption("--saved-proxy-id", default=None, metavar="UUID",
                    help="a saved proxy that exists on the target, for the saved-proxy rows (default "
                         "$BCTRL_SAVED_PROXY_ID; else an example uuid a real server may refuse)")
    group.addoption("--plan-latency", type=float, default=None, metavar="S",
                    help="answer time to assume in --plan's duration estimate (default: 0.005 s local, "
                         f"{ASSUMED_CREATE_SECONDS:g} s remote)")


def default_concurrency(base_url: str | None, limits: safety.Limits) -> int:
    """Local: LOCAL_CONCURRENCY. Remote: enough to reach the rate limit at ASSUMED_CREATE_SECONDS per answer."""
    if base_url is None or safety.is_loopback(base_url):
        return LOCAL_CONCURRENCY
    if not limits.rate_limit:
        return 8
    return max(1, min(int(limits.rate_limit), math.ceil(limits.rate_limit * ASSUMED_CREATE_SECONDS)))


# -- collection --------------------------------------------------------------------------------------

def case_of(item: pytest.Item) -> str | None:
    """The planned request an item judges (`test[param]`), if it is one."""
    callspec = getattr(item, "callspec", None)
    if callspec is not None and "case_id" in callspec.params:
        return f"{item.originalname}[{callspec.params['case_id']}]"  # type: ignore[attr-defined]
    return None


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Parametrize a test taking `case_id` with the plan's requests for it (from tests/conformance/conftest.py)."""
    if "case_id" not in metafunc.fixturenames:
        return
    plan: Plan = run_of(metafunc.config).plan
    cases = plan.for_test(metafunc.function.__name__)
    params = [pytest.param(c.param, id=c.param, marks=[pytest.mark.redundant] if c.group == "covering-redundant"
                           else []) for c in cases]
    metafunc.parametrize("case_id", params)


def order_and_select(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Plan order for planned items, exploration last; redundant covering rows left out unless asked."""
    run = run_of(config)
    index = {r.id: n for n, r in enumerate(run.plan.requests)}
    # Explicit selection (-k, -m) decides for itself: `-k every_enum_value` means those rows.
    if not config.getoption("all_rows") and not config.getoption("markexpr", "") \
            and not config.getoption("keyword", ""):
        dropped = [i for i in items if i.get_closest_marker("redundant") is not None]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [i for i in items if i.get_closest_marker("redundant") is None]

    def key(item: pytest.Item) -> tuple[int, int]:
        exploratory = item.get_closest_marker("exploratory") is not None
        return (int(exploratory), index.get(case_of(item) or "", len(index)))

    items.sort(key=key)


def selected_plan(run: Any, ids: Iterable[str]) -> tuple[Plan, dict[str, str]]:
    """The plan cut to the selected items, and each planned request's pytest node id."""
    nodeids = {nodeid.split("::", 1)[-1]: nodeid for nodeid in ids}
    plan = run.plan.select(set(nodeids))
    return plan, {r.id: nodeids[r.id] for r in plan.requests}


# -- --plan ------------------------------------------------------------------------------------------

def describe_plan(run: Any, plan: Plan, exploratory: list[str], latency: float) -> list[str]:
    """What `--plan` prints: per group the requests and what they cost, the exploratory share, the time."""
    groups: dict[str, dict[str, int]] = {}
    for request in plan.requests:
        row = groups.setdefault(request.group, {"requests": 0, "create": 0, "refusal": 0, "other": 0})
        row["requests"] += 1
        row[request.cost] += 1
    total = sum(r["requests"] for r in groups.values())
    creates = sum(r["create"] for r in groups.values())
    refusals = sum(r["refusal"] for r in groups.values())
    limits = run.limits
    lines = [f"request plan: {run.contract.method.upper()} {run.contract.path} on "
             f"{run.target.base_url or 'the embedded reference mock'}",
             f"  {'group':<20}{'requests':>9}{'creates':>9}{'refusals':>10}{'other':>7}"]
    for name, row in groups.items():
        lines.append(f"  {name:<20}{row['requests']:>9}{row['create']:>9}{row['refusal']:>10}{row['other']:>7}")
    lines.append(f"  {'deterministic':<20}{total:>9}{creates:>9}{refusals:>10}{total - creates - refusals:>7}")
    lines.append("  (creates: requests a correct server accepts; refusals cost no create when refused, and count "
                 "as one if accepted)")
    if limits.max_creates is not None:
        left = limits.max_creates - creates
        lines.append(f"budget: {limits.max_creates} creates; the deterministic part needs at most {creates}; "
                     f"the exploratory part gets what is left: {max(left, 0)}"
                     + ("  (NOT ENOUGH: raise --max-creates)" if left < 0 else ""))
    else:
        lines.append("budget: none (a local target); the exploratory part is bounded by the Hypothesis profile")
    lines.append(f"exploratory: {', '.join(exploratory) or 'none selected'} (profile {run.profile})")
    rate = limits.rate_limit
    by_rate = total / rate if rate else 0.0
    by_wait = total * latency / run.concurrency
    lines.append(f"in flight: {run.concurrency}; rate limit: {f'{rate:g}/s' if rate else 'none'}; expected duration "
                 f"of the deterministic part: ~{max(by_rate, by_wait):.0f} s at {latency:g} s per answer "
                 f"({'rate-bound' if by_rate >= by_wait else 'bound by answers in flight'})")
    return lines


# -- the executor ------------------------------------------------------------------------------------

EXIT_CREDENTIALS_REFUSED = 12  # the key was refused: nothing was tested
EXIT_SPACE_REFUSED = 13  # the minimal valid create was refused for another reason: nothing was tested
PREFLIGHT = "test_minimal_payload_is_created[minimal]"


class PlanRun:
    """The executor of this process, if it sends the plan (the controller), and where results are stored."""

    def __init__(self) -> None:
        self.executor: PlanExecutor | None = None
        self.store: MemoryStore | FileStore | None = None
        self.lock = threading.Lock()

    def start(self, run: Any, selected: tuple[Plan, dict[str, str]], *, shared: bool) -> None:
        plan, nodeids = selected
        with self.lock:
            if self.executor is not None or not plan.requests:
                return
            self.store = FileStore(run.events_dir) if shared else MemoryStore()
            rest = self._preflight(run, plan, nodeids)
            self.executor = PlanExecutor(run.resources.client(), rest, self.store,
                                         concurrency=run.concurrency, nodeids=nodeids).start()

    def _preflight(self, run: Any, plan: Plan, nodeids: dict[str, str]) -> tuple[PlannedRequest, ...]:
        """The minimal valid create goes first, alone: if the key or the space is refused, nothing else is sent.

        Its answer is kept for its own test. Returns the requests left to send.
        """
        first = plan.index.get(PREFLIGHT) or run.plan.index.get(PREFLIGHT)
        if first is None or run.target.embedded:
            return plan.requests
        assert self.store is not None
        self.store.expect(first.id)
        outcome = self.executor_outcome(run, first, nodeids.get(first.id, first.id))
        self.store.put(first.id, outcome)
        exchange = outcome.exchange
        status = exchange.status if exchange is not None else None
        refused = status is not None and 400 <= status < 500 and status != 429
        if (refused or first.id not in plan.index) and exchange is not None and run.writer is not None:
            # Recorded, unjudged: the evidence when the run stops before any test; and a create whose own
            # test is not selected (-k, -m) still reached the server: it belongs in the ledger.
            run.writer.exchange(exchange, (), test=nodeids.get(first.id, first.id), checks=(), source="plan")
        if status in (401, 403):
            stop(run, "credentials-refused", EXIT_CREDENTIALS_REFUSED,
                 f"the key was refused ({status}) by {run.target.base_url}: nothing was tested. Check "
                 f"$BCTRL_API_KEY (a key of this environment, sent as 'Authorization: Bearer <key>')")
        if status is not None and 400 <= status < 500 and status != 429:
            why = ("no such space" if status == 404 else
                   "either --space-id is not a space this key may create runtimes in, or the server refuses "
                   "valid input")
            stop(run, "space-refused", EXIT_SPACE_REFUSED,
                 f"the minimal valid create (only spaceId and type) was refused ({status}) by "
                 f"{run.target.base_url}: {why}; nothing else was tested. Check --space-id / $BCTRL_SPACE_ID")
        return tuple(r for r in plan.requests if r.id != first.id)

    @staticmethod
    def executor_outcome(run: Any, request: PlannedRequest, test: str) -> Outcome:
        from harness.transport import CUT_SHORT

        try:
            return Outcome(send_planned(run.resources.client(), request, test))
        except CUT_SHORT as exc:
            return Outcome(None, (type(exc).__name__, str(exc)))

    def stop(self) -> None:
        with self.lock:
            if self.executor is not None:
                self.executor.stop()


def stop(run: Any, reason: str, code: int, line: str) -> None:
    """End the run before testing, with one line and its own exit code (recorded: the report says not tested)."""
    from harness.recording import REDACTOR

    line = REDACTOR.text(line)
    if run.writer is not None:
        run.writer.write("stop", reason=reason, line=line, exit_code=code)
    pytest.exit(line, returncode=code)


def store_for(config: pytest.Config) -> MemoryStore | FileStore | None:
    run = run_of(config)
    if run.plan_run.store is not None:
        return run.plan_run.store
    if (getattr(config, "workerinput", None) or {}).get("bctrl_plan_store") == "file":
        return FileStore(run.events_dir)
    return None


class PlannedRunner:
    """What a planned test uses: `fetch` the plan's exchange for a case, `verify` it (with follow-ups)."""

    def __init__(self, config: pytest.Config, conformance: Conformance) -> None:
        self.config = config
        self.run = run_of(config)
        self.conformance = conformance

    @property
    def test(self) -> str:
        """The test function asking, without parameters: from the node id the judge is judging for now."""
        return self.run.judge.state.test.partition("[")[0].rpartition("::")[2]

    def request(self, case_id: str) -> PlannedRequest:
        return self.run.plan.index[f"{self.test}[{case_id}]"]

    def fetch(self, request: PlannedRequest) -> Exchange:
        """The exchange the executor got for `request`, or (not planned, or no answer in time) send it now."""
        store = store_for(self.config)
        outcome = store.get(request.id, WAIT_FOR_PLAN) if store is not None else None
        if outcome is not None:
            return outcome.value()
        return send_planned(self.conformance.client, request, self.run.judge.state.test)

    def verify(self, case_id: str, *, extra: Iterable[Finding] = ()) -> Exchange:
        """Judge the case's exchange like any other; a failing covering row is narrowed down first."""
        request = self.request(case_id)
        exchange = self.fetch(request)
        try:
            self.conformance.verify(exchange, extra=extra)
        except ConformanceFailure as failure:
            if request.row is not None and getattr(request.row, "factors", ()):
                raise self._isolated(request, failure) from None
            raise
        return exchange

    def _isolated(self, request: PlannedRequest, failure: ConformanceFailure) -> ConformanceFailure:
        from harness.plugin.isolation import isolate_row

        sentences = isolate_row(self.run, self.conformance, request, failure)
        if not sentences:
            return failure
        message = str(failure) + "\n\nisolated by follow-up requests: " + "; ".join(sentences)
        return ConformanceFailure(message, exchange=failure.exchange, findings=failure.findings, known=failure.known)


def install(config: pytest.Config) -> None:
    """Register the plan's hooks (called from pytest_configure)."""
    config.pluginmanager.register(PlanHooks(config), "bctrl-plan")


class PlanHooks:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        order_and_select(config, items)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        run = run_of(self.config)
        selected = selected_plan(run, (i.nodeid for i in session.items if case_of(i)))
        plan = selected[0]
        if self.config.getoption("plan"):
            exploratory = sorted({getattr(i, "originalname", i.name) for i in session.items
                                  if i.get_closest_marker("exploratory")})
            latency = self.config.getoption("plan_latency")
            if latency is None:
                latency = ASSUMED_CREATE_SECONDS if run.target.base_url and not safety.is_loopback(
                    run.target.base_url) else 0.005
            session.config.get_terminal_writer().line("\n".join(describe_plan(run, plan, exploratory, latency)))
            pytest.exit("request plan printed; nothing was sent", returncode=0)
        if self.config.option.collectonly or getattr(self.config, "workerinput", None) is not None:
            return
        run.plan_run.start(run, selected, shared=False)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist, in the controller: send the plan for the items the workers collected."""
        run = run_of(self.config)
        run.plan_run.start(run, selected_plan(run, ids), shared=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        run = run_of(self.config)
        node.workerinput["bctrl_plan_store"] = "file"
        if run.target.embedded:
            node.workerinput["bctrl_mock_url"] = run.resources.target_url()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = session.config.stash.get(RUN, None)
        if run is not None:
            run.plan_run.stop()
