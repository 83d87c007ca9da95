"""At most N requests in flight at once, across the threads and processes of a run.

N slot files in the run's state folder; a request holds one for the time it
is on the wire (an exclusive, non-blocking flock on its own file descriptor,
so threads of one process exclude each other as processes do). With every
slot taken, a sender waits: the plan's threads and an xdist worker's
exploratory test share the same N.
"""
from __future__ import annotations

import fcntl
import os
import random
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

FOLDER = "inflight"


class InFlight:
    def __init__(self, folder: Path, slots: int) -> None:
        self.slots = max(1, int(slots))
        self.folder = folder / FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def slot(self) -> Iterator[int]:
        """Hold one of the N slots while the body runs (wait while all are taken)."""
        order = list(range(self.slots))
        while True:
            random.shuffle(order)  # spread the attempts: no slot is everybody's first choice
            for number in order:
                fd = os.open(self.folder / f"slot-{number}", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield number
                finally:
                    os.close(fd)  # releases the lock
                return
            time.sleep(0.002)
