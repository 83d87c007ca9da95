"""Run-wide uniqueness across processes: one index of ids in the event log's folder.

Every xdist worker judges its own exchanges, yet "an id handed out twice in
this run" is a fact about the whole run. Each id seen is one small file,
created atomically (written under a temporary name, then hard-linked into
place: the link fails if the id was already there), holding the identity of
the answer that first carried it and the request label. No lock, no server.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

FOLDER = "ids"


class FileIdIndex:
    """An `IdIndex` (contracts/checks/invariants.py) shared by every process that sees `events_dir`."""

    def __init__(self, events_dir: Path) -> None:
        self.folder = events_dir / FOLDER

    def first(self, key: str, answer: str, label: str) -> str | None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / hashlib.sha256(key.encode("utf-8")).hexdigest()
        content = f"{answer}\t{label}".encode("utf-8")
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".new-")
        try:
            os.write(fd, content)
            os.close(fd)
            os.link(tmp, path)
            return None
        except FileExistsError:
            seen_answer, _, seen_label = path.read_bytes().decode("utf-8", "replace").partition("\t")
            return None if seen_answer == answer else seen_label
        finally:
            os.unlink(tmp)

    def reset(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
