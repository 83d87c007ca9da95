"""A request budget and a rate limit shared by every process of one run.

With pytest-xdist each worker has its own client, yet a shared staging server
sees them all together: the budget (how many runtimes the run may create) and
the pacing (at most N requests per second) must hold for the run, not per
worker. The state is one small JSON file guarded by an advisory lock
(fcntl.flock); taking a slot costs a file read and write, microseconds beside
a round trip.

What the budget counts: creates, i.e. what staging pays for. Every POST to the
operation could create a runtime (a broken server accepts invalid input too),
so each one *reserves* a create before it is sent, and settles after: a 2xx
(or an answer that may have been lost after the request reached the server)
keeps it as a create; a refusal (4xx, 5xx, 429) gives it back. So a request
expected to be refused costs nothing when it is refused, an accepted one
counts whatever it was meant to be, and the server never sees more creates
than `--max-creates`, also with several requests in flight.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

STATE_FILE = "politeness.json"
PACE_MARGIN = 0.05  # requests are spaced 5% wider than 1/rate: R + 1 of them never fit in one second at the server


class BudgetExhausted(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """The run has created every runtime it may create: the test is skipped (not tested), not failed.

    A pytest skip (not an error) so that Hypothesis, schemathesis and the test
    stop at once without shrinking or reporting a failure of the server.
    """


@dataclass(frozen=True)
class Limits:
    max_creates: int | None  # None: no budget
    rate_limit: float | None  # requests per second across the run; None: unpaced

    @property
    def interval(self) -> float:
        return 1.0 / self.rate_limit if self.rate_limit else 0.0

    @property
    def active(self) -> bool:
        return self.max_creates is not None or bool(self.rate_limit)


class SharedBudget:
    """Counts creates and requests and spaces requests out, across processes."""

    def __init__(self, folder: Path, limits: Limits) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / STATE_FILE
        self.limits = limits

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.read(fd, 4096)
            state = json.loads(raw) if raw.strip() else {}
            yield state
            data = json.dumps(state).encode()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)
        finally:
            os.close(fd)  # releases the lock

    def acquire(self, *, create: bool) -> None:
        """Take one request slot (and reserve one create, if it may create); sleep until the slot is due.

        Without a budget or a rate limit there is nothing to share: no file is touched (the run's
        request counts come from its event log).

        Raises BudgetExhausted, without sending, when the creates already made
        use up the budget. While requests in flight hold the last reservations,
        waits for them to settle: one of them may turn out a refusal.
        """
        if not self.limits.active:
            return
        while True:
            refused = ""
            wait = 0.0
            with self._locked() as state:
                used, held = int(state.get("creates", 0)), int(state.get("reserved", 0))
                limit = self.limits.max_creates
                if create and limit is not None and used >= limit:
                    state["refused"] = int(state.get("refused", 0)) + 1
                    refused = (f"request budget exhausted: this run already created {used} runtimes, the limit "
                               f"(--max-creates {limit}); raise it to test more")
                elif create and limit is not None and used + held >= limit:
                    wait = 0.02  # requests in flight hold the last reservations: one may turn out a refusal
                else:
                    # Paced on the moments requests actually leave, not on slots booked ahead: a sender
                    # that wakes late (a busy process, a loaded machine) looks again instead of going out
                    # right behind the next one. PACE_MARGIN keeps R + 1 requests over a second apart
                    # also after the wire's jitter.
                    now = time.time()
                    wait = float(state.get("last", 0.0)) + self.limits.interval * (1 + PACE_MARGIN) - now \
                        if self.limits.rate_limit else 0.0
                    if wait <= 0:
                        state["last"] = now
                        state["reserved"] = held + int(create)
                        state["requests"] = int(state.get("requests", 0)) + 1
            if refused:
                raise BudgetExhausted(refused)
            if wait <= 0:
                return
            time.sleep(wait)

    def settle(self, *, created: bool) -> None:
        """A reserved create was answered: keep it as a create, or give it back (a refusal)."""
        if not self.limits.active:
            return
        with self._locked() as state:
            state["reserved"] = max(0, int(state.get("reserved", 0)) - 1)
            if created:
                state["creates"] = int(state.get("creates", 0)) + 1
            else:
                state["given_back"] = int(state.get("given_back", 0)) + 1

    def usage(self) -> dict[str, int]:
        """How much of the budget the run used: creates, requests, creates refused, reservations given back."""
        keys = ("creates", "requests", "refused", "given_back")
        if not self.path.exists():
            return dict.fromkeys(keys, 0)
        with self._locked() as state:
            return {k: int(state.get(k, 0)) for k in keys}

    def reset(self) -> None:
        if self.path.exists():
            self.path.unlink()
