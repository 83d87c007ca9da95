"""Ends the run after the test in which the circuit breaker opened, and sets the exit code (11).

Works across processes: the breaker's count is the run's (a breaker opened by
one process is open in all), each process stops itself after its current test
and writes a `breaker` record to the event log; the controller reads those
records when the session ends.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from harness.plugin.context import RunContext
from harness.recording import REDACTOR, read_events
from harness.transport import EXIT_TARGET_DOWN


class BreakerPlugin:
    def __init__(self, run: RunContext) -> None:
        self.run = run

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        yield
        breaker = self.run.breaker
        if breaker.tripped is not None and not item.session.shouldstop:
            line = REDACTOR.text(breaker.tripped)
            if self.run.writer is not None:
                self.run.writer.write("breaker", line=line, test=item.nodeid, dead_answers=breaker.dead_answers)
            # The line itself is printed once, by pytest, as the reason the session was interrupted.
            item.session.shouldstop = line

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.run.controller and any(e.get("kind") == "breaker" for e in read_events(self.run.events_dir)):
            session.exitstatus = EXIT_TARGET_DOWN
