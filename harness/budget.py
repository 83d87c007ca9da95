"""A request budget and a rate limit shared by every process of one run.

With pytest-xdist each worker has its own client, yet a shared staging server
sees them all together: the budget (how many creates the run may send) and the
pacing (at most N requests per second) must hold for the run, not per worker.
The state is one small JSON file guarded by an advisory lock (fcntl.flock);
taking a slot costs a file read and write, microseconds beside a round trip.
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


class BudgetExhausted(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """The run has sent every create it may send: the test is skipped, not failed.

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
        """Take one request slot (and one create, if it is one); sleep until the slot is due.

        Raises BudgetExhausted, without sending, when a create would exceed the budget.
        """
        refused = ""
        with self._locked() as state:
            used = int(state.get("creates", 0))
            if create and self.limits.max_creates is not None and used >= self.limits.max_creates:
                state["refused"] = int(state.get("refused", 0)) + 1
                refused = (f"request budget exhausted: this run already sent {used} creates, the limit "
                           f"(--max-creates {self.limits.max_creates}); raise it to test more")
            else:
                state["creates"] = used + int(create)
                state["requests"] = int(state.get("requests", 0)) + 1
                now = time.time()
                due = max(now, float(state.get("next", 0.0)))
                state["next"] = due + self.limits.interval
        if refused:
            raise BudgetExhausted(refused)
        if due > now:
            time.sleep(due - now)

    def usage(self) -> dict[str, int]:
        """How much of the budget the run used: creates, requests, creates refused."""
        if not self.path.exists():
            return {"creates": 0, "requests": 0, "refused": 0}
        with self._locked() as state:
            return {k: int(state.get(k, 0)) for k in ("creates", "requests", "refused")}

    def reset(self) -> None:
        if self.path.exists():
            self.path.unlink()
