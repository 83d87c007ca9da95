"""Judge in a child process: an `on_exchange` that keeps CPU-bound judging off the proxy's GIL.

The proxy hands exchanges to `on_exchange` in a worker thread, so a slow judge
(one that waits) never delays an answer. A judge that computes does: CPython
runs one thread at a time, so while the worker validates a response the event
loop waits for the interpreter. Measured here, the registry's checks (~0.8 ms
an exchange) raised the proxy's median added latency from ~1.5 ms to ~3 ms.

`JudgeProcess` is an `on_exchange` that only pickles the exchange into a pipe;
a spawned child process runs the judge, and its return values come back to
`on_result`, called in one collector thread of the parent (in arrival order).

    judge = JudgeProcess("mypackage.judging:judge", on_result=events.append)
    app = create_proxy_app(target, judge)
    ...
    app.drain(30)          # every exchange handed to the judge process
    judge.close(30)        # every exchange judged, every result collected

`judge` names a module-level function `(request, response, meta) -> result` as
"module:function"; the child imports it once. Its exceptions are caught in the
child and come back as a `JudgeFailure` result.
"""
from __future__ import annotations

import copyreg
import importlib
import logging
import multiprocessing
import signal
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from contracts.checks import model

log = logging.getLogger("harness.proxy")

# MISSING is compared by identity (`payload is MISSING`): it must stay the one module-level
# object across the pipe, not arrive as a new _Missing instance.
copyreg.pickle(type(model.MISSING), lambda _missing: "MISSING")

_STOP = None


@dataclass(frozen=True)
class JudgeFailure:
    """What came back for an exchange whose judge raised."""

    number: Any
    error: str


def _child(judge_path: str, connection: Any) -> None:
    # Ctrl-C reaches the whole process group: the parent decides when judging ends (close()).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    module_name, _, function_name = judge_path.partition(":")
    judge = getattr(importlib.import_module(module_name), function_name)
    while True:
        item = connection.recv()
        if item is _STOP:
            connection.send(_STOP)
            return
        request, response, meta = item
        try:
            result = judge(request, response, meta)
        except Exception:  # noqa: BLE001 - a judge's bug is reported, never fatal
            result = JudgeFailure(meta.get("number"), traceback.format_exc(limit=5))
        connection.send(result)


class JudgeProcess:
    """An `on_exchange` running `judge` ("module:function") in a spawned child process."""

    def __init__(self, judge: str, on_result: Callable[[Any], None] | None = None, *, start_timeout: float = 30.0) -> None:
        if ":" not in judge:
            raise ValueError(f"judge {judge!r} is not 'module:function'")
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._parent, child = context.Pipe()
        self._process = context.Process(target=_child, args=(judge, child), name="proxy-judge-process", daemon=True)
        self._process.start()
        child.close()
        self._on_result = on_result
        self._send_lock = threading.Lock()
        self._done = threading.Event()
        self.sent = self.received = self.failed = 0
        self._collector = threading.Thread(target=self._collect, name="proxy-judge-results", daemon=True)
        self._collector.start()

    def __call__(self, request: model.SentRequest, response: model.Received | None, meta: dict[str, Any]) -> None:
        with self._send_lock:
            self._parent.send((request, response, meta))
            self.sent += 1

    def _collect(self) -> None:
        while True:
            try:
                result = self._parent.recv()
            except (EOFError, OSError):
                log.error("the judge process ended with %d exchanges unjudged", self.sent - self.received)
                break
            if result is _STOP:
                break
            self.received += 1
            if isinstance(result, JudgeFailure):
                self.failed += 1
                log.error("the judge failed on exchange %s:\n%s", result.number, result.error)
            if self._on_result is not None:
                try:
                    self._on_result(result)
                except Exception:  # noqa: BLE001
                    log.exception("on_result failed")
        self._done.set()

    def close(self, timeout: float = 30.0) -> bool:
        """Let the child judge what it was sent, collect every result, stop it; False if that took too long."""
        try:
            with self._send_lock:
                self._parent.send(_STOP)
        except OSError:
            pass
        finished = self._done.wait(timeout)
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
        self._parent.close()
        return finished and self.received == self.sent
