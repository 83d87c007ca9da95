"""Progress on long runs: a line every few seconds saying how far the run is, in requests, not tests.

pytest counts tests; on a slow, rate-limited target most of the time goes to
a few tests (the exploratory ones send hundreds of requests each) and the log
sits at [99%]. This prints, from the controller, a plain line every
`--progress-every` seconds (default: 5 s on a terminal, 30 s otherwise, e.g.
in CI logs; 0: never), once the run has lasted that long: requests done of
those planned, the test running, failing exchanges so far, and the time left
at the configured rate limit or at the answer times seen so far.

The line goes to a copy of the terminal's file descriptor taken at configure
time: while a test runs, pytest captures the process's standard output (file
descriptor 1 is pointed at a temporary file), so a line written there from
this thread landed in the running test's captured output, and only the lines
that happened to fall between two tests reached the terminal.
"""
from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from harness.profiles import PROFILES

# schemathesis' coverage phase sends about this many positive cases on this contract, besides fuzzing.
SCHEMATHESIS_COVERAGE_CASES = 80


def add_options(parser: pytest.Parser) -> None:
    parser.getgroup("bctrl").addoption(
        "--progress-every", type=float, default=None, metavar="S",
        help="print a progress line every S seconds on long runs (default 5 on a terminal, 30 otherwise; 0: never)")


class EventCounter:
    """Counts exchange and failing-exchange records in the event files, reading only what was added."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.offsets: dict[Path, int] = {}
        self.exchanges = 0
        self.failing = 0

    def update(self) -> None:
        for path in sorted(self.folder.glob("*.jsonl")) if self.folder.is_dir() else ():
            start = self.offsets.get(path, 0)
            with path.open("rb") as handle:
                handle.seek(start)
                chunk = handle.read()
            end = chunk.rfind(b"\n") + 1  # whole lines only
            for line in chunk[:end].splitlines():
                if b'"kind": "exchange"' in line:
                    self.exchanges += 1
                    if b'"severity": "failure"' in line:
                        self.failing += 1
            self.offsets[path] = start + end


class Progress:
    def __init__(self, config: pytest.Config, run: Any) -> None:
        self.config = config
        self.run = run
        every = config.getoption("progress_every")
        self.every = (5.0 if sys.stdout.isatty() else 30.0) if every is None else every
        self.planned = 0
        self.started = time.monotonic()
        self.counter = EventCounter(run.events_dir)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._out = _terminal() if self.every > 0 else None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        from harness.plugin.planning import case_of

        planned = sum(1 for item in session.items if case_of(item))
        exploratory = sum(1 for item in session.items if item.get_closest_marker("exploratory"))
        examples = PROFILES.get(self.run.profile, PROFILES["ci"]).max_examples
        self.planned = planned + exploratory * examples + (SCHEMATHESIS_COVERAGE_CASES if exploratory else 0)
        if self.every > 0 and not self.config.option.collectonly and not self.config.getoption("plan"):
            self._thread = threading.Thread(target=self._loop, name="bctrl-progress", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.report()
            except Exception:  # noqa: BLE001 - a progress line must never break the run
                continue

    def line(self) -> str:
        self.counter.update()
        done, planned = self.counter.exchanges, max(self.planned, self.counter.exchanges)
        elapsed = time.monotonic() - self.started
        left = planned - done
        rate = self.run.limits.rate_limit
        times = self.run.resources.answer_times[-200:] if self.run.resources is not None else []
        if rate:
            eta = left / rate
        elif times:
            eta = left * statistics.median(times) / max(1, self.run.concurrency)
        else:
            eta = left * elapsed / max(done, 1)
        workers = getattr(self.config.option, "numprocesses", None)
        test = self.run.judge.state.test or ("(on the xdist workers)" if workers else "(between tests)")
        return (f"[bctrl] {done}/~{planned} requests judged after {elapsed:.0f} s; now {test}; "
                f"{self.counter.failing} failing exchange(s) so far; about {_duration(eta)} left")

    def report(self) -> None:
        text = self.line()
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        with self._lock:
            if self._out is not None and not self._out.closed:
                # Its own line, also in the middle of a row of progress dots (that row then ends a few
                # columns early: the reporter still counts the dots before this line).
                mid_row = reporter is not None and reporter._tw.width_of_current_line
                self._out.write(("\n" if mid_row else "") + text + "\n")
                self._out.flush()
            elif reporter is not None:  # no file descriptor to copy (an in-process pytester run)
                writer = reporter._tw
                if writer.width_of_current_line:
                    writer.line()
                writer.line(text)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if self._out is not None:
                self._out.close()


def _terminal() -> IO[str] | None:
    """A copy of standard output's file descriptor (taken while nothing captures it), or None."""
    try:
        fd = sys.stdout.fileno()
        return os.fdopen(os.dup(fd), "w", encoding=getattr(sys.stdout, "encoding", None) or "utf-8",
                         errors="replace")
    except (AttributeError, OSError, ValueError):
        return None


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{seconds / 60:.0f} min" if seconds >= 120 else f"{seconds:.0f} s"
