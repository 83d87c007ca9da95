"""Send the plan's requests with several in flight; each test item then judges its own exchange.

The executor runs ahead of the tests: up to `concurrency` requests on the
wire (the transport's in-flight slots hold that across xdist workers too),
within the run's budget and rate limit, in the plan's order, so the test
items, which come in the same order, mostly find their answer waiting. The
order is kept where it matters: a request takes its in-flight slot, budget
reservation and pacing slot only after the one before it took its own (a
turn passed on by the transport), so a budget smaller than the plan is
spent on the plan's first requests, not on whichever thread woke first. A
burst (requests sharing a `burst` id) is released at one moment behind a
barrier: overlapping creates are where non-atomic id generation shows.

Results go to a store: in memory when the tests run in this process, or as
files in the run's state folder when xdist workers judge them (the controller
sends, the workers read). A request the executor could not send (budget,
throttling, a dead target) stores why, and its test is cut short the same way.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from contracts.checks.model import Exchange
from harness.plan.cases import PlannedRequest
from harness.transport import CUT_SHORT, ApiClient, TargetDown
from harness.transport.politeness import on_admitted

CUT_SHORT_KINDS = {cls.__name__: cls for cls in CUT_SHORT}


@dataclass(frozen=True)
class Outcome:
    """A planned request's result: its exchange, or why it was not sent (a cut-short kind and message)."""

    exchange: Exchange | None
    cut_short: tuple[str, str] | None = None

    def value(self) -> Exchange:
        """The exchange, or the cut-short skip raised again in the test that asks for it."""
        if self.cut_short is not None:
            kind, message = self.cut_short
            raise CUT_SHORT_KINDS.get(kind, TargetDown)(message)
        assert self.exchange is not None
        return self.exchange


def send_planned(client: ApiClient, request: PlannedRequest, test: str = "") -> Exchange:
    """Send one planned request with the client, its templates rendered with the key, for `test` (a node id)."""
    test = test or request.id
    headers = request.rendered_headers(client.api_key)
    path = client.url[len(client.base_url):] + (("?" + request.query.replace("{key}", client.api_key))
                                                 if request.query else "")
    if headers is not None:  # the whole header set is the case's (framing): nothing added
        return client.send(request.method, payload=request.payload, body=request.body, content_type=None,
                           authorization=None, headers=headers, intent=request.intent, label=request.label,
                           path=path, test=test)
    return client.send(request.method, payload=request.payload, body=request.body,
                       content_type=request.content_type, authorization=request.rendered_authorization(client.api_key),
                       intent=request.intent, label=request.label, path=path, test=test)


class MemoryStore:
    def __init__(self) -> None:
        self._futures: dict[str, Future[Outcome]] = {}
        self._lock = threading.Lock()

    def _future(self, case: str) -> Future[Outcome]:
        with self._lock:
            return self._futures.setdefault(case, Future())

    def put(self, case: str, outcome: Outcome) -> None:
        self._future(case).set_result(outcome)

    def expect(self, case: str) -> None:
        self._future(case)

    def get(self, case: str, timeout: float) -> Outcome | None:
        with self._lock:
            future = self._futures.get(case)
        if future is None:
            return None
        try:
            return future.result(timeout)
        except TimeoutError:
            return None


class FileStore:
    """Outcomes as files, written whole (rename) by the sender and read by any process of the run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "plan"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, case: str) -> Path:
        return self.folder / hashlib.sha256(case.encode()).hexdigest()

    def put(self, case: str, outcome: Outcome) -> None:
        path = self._path(case)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}")
        tmp.write_bytes(pickle.dumps(outcome))
        tmp.rename(path)

    def expect(self, case: str) -> None:
        (self.folder / f"{self._path(case).name}.expected").touch()

    def get(self, case: str, timeout: float) -> Outcome | None:
        path = self._path(case)
        if not path.exists() and not (self.folder / f"{path.name}.expected").exists():
            return None
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                return None
            time.sleep(0.005)
        return pickle.loads(path.read_bytes())


class PlanExecutor:
    """Sends planned requests in order, `concurrency` at a time, into a store (see the module doc)."""

    def __init__(self, client: ApiClient, requests: Sequence[PlannedRequest], store: MemoryStore | FileStore, *,
                 concurrency: int, on_progress: Callable[[int, int], None] | None = None,
                 nodeids: dict[str, str] | None = None) -> None:
        self.client = client
        self.requests = list(requests)
        self.store = store
        self.concurrency = max(1, concurrency)
        self.on_progress = on_progress
        self.nodeids = nodeids or {}  # planned request id -> the pytest node id of the test that judges it
        self.sent = 0
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="plan")
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        # Slow start: one request in flight at first, twice as many after each good answer, up to
        # `concurrency`; back to one after a 429 or a dead answer. A target that is down or throttling
        # sees a handful of requests before the breaker stops the run, not `concurrency` of them.
        self._capacity = 1
        self._in_flight = 0
        self._room = threading.Condition()
        # One event per plan position, set when that request may take its slots: each waiter wakes
        # alone when its turn comes (one shared condition woke every sender for every turn).
        self._turns = [threading.Event() for _ in self.requests]
        if self._turns:
            self._turns[0].set()

    def start(self) -> "PlanExecutor":
        for request in self.requests:
            self.store.expect(request.id)
        bursts: dict[str, list[PlannedRequest]] = {}
        for request in self.requests:
            if request.burst:
                bursts.setdefault(request.burst, []).append(request)
        barriers = {name: threading.Barrier(min(len(members), self.concurrency)) for name, members in bursts.items()}
        # The pool's queue is first in, first out: the request whose turn it is always has a thread.
        for position, request in enumerate(self.requests):
            self._pool.submit(self._send, position, request, barriers.get(request.burst) if request.burst else None)
        return self

    def _pass_turn(self, position: int) -> None:
        if position + 1 < len(self._turns):
            self._turns[position + 1].set()

    def _send(self, position: int, request: PlannedRequest, barrier: threading.Barrier | None) -> None:
        self._turns[position].wait()  # stop() sets every turn: a stopped run wakes everybody
        with self._room:
            while barrier is None and self._in_flight >= self._capacity and not self._stopped.is_set():
                self._room.wait(0.5)
            if self._stopped.is_set():
                self._pass_turn(position)
                self.store.put(request.id, Outcome(None, ("TargetDown", "not sent: the run stopped")))
                return
            if barrier is None:
                self._in_flight += 1
        if barrier is not None:
            self._pass_turn(position)  # a burst's members gather first, then leave together
            try:
                barrier.wait(timeout=30)  # the burst leaves together (or, when it cannot gather, one by one)
            except threading.BrokenBarrierError:
                pass
        try:
            with on_admitted(lambda: self._pass_turn(position)):
                outcome = Outcome(send_planned(self.client, request, self.nodeids.get(request.id, "")))
        except CUT_SHORT as exc:
            outcome = Outcome(None, (type(exc).__name__, str(exc)))
        except Exception as exc:  # noqa: BLE001 - a bug here must not hang the test waiting for this answer
            outcome = Outcome(None, ("TargetDown", f"not sent: {type(exc).__name__}: {exc}"))
        finally:
            self._pass_turn(position)  # refused before its slots (the budget, the breaker): the next one's turn
            if barrier is None:
                with self._room:
                    self._in_flight -= 1
                    self._room.notify_all()
        self._adjust(outcome)
        self.store.put(request.id, outcome)
        with self._lock:
            self.sent += 1
            done = self.sent
        if self.on_progress is not None:
            self.on_progress(done, len(self.requests))

    def _adjust(self, outcome: Outcome) -> None:
        exchange = outcome.exchange
        good = exchange is not None and exchange.response is not None and exchange.response.status not in (
            429, 502, 503, 504)
        with self._room:
            self._capacity = min(self.concurrency, self._capacity * 2) if good else 1
            self._room.notify_all()

    def stop(self) -> None:
        self._stopped.set()
        for turn in self._turns:
            turn.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
