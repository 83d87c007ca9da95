"""One event log for the run: every exchange and finding, redacted, as JSON lines.

Each process (the controller, or each xdist worker) appends to its own file
under the events folder; reports are views built from all of them together.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

from contracts.checks.model import Finding
from harness import render
from harness.client import Exchange


def exchange_record(exchange: Exchange, findings: list[Finding], *, test: str, api_key: str | None) -> dict[str, Any]:
    request, response = exchange.request, exchange.response
    return {
        "kind": "exchange",
        "test": test,
        "label": request.label,
        "intent": request.intent,
        "request": {"text": render.request_text(request), "method": request.method, "url": request.url,
                    "payload": render.redact.payload(request.payload) if request.payload is not render.MISSING else None},
        "response": None if response is None else {
            "status": response.status, "content_type": response.content_type,
            "elapsed": round(response.elapsed, 4), "text": render.response_text(response),
            "json": render.redact.payload(response.json) if response.json is not render.MISSING else None,
        },
        "error": exchange.error,
        "curl": render.curl(request, api_key),
        "findings": [f.__dict__ for f in findings],
    }


class EventLog:
    def __init__(self, folder: Path, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{name}.jsonl"
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        # Scrub the structure, not the encoded line (see redact.scrub); the round trip turns
        # anything json only knows through `default=str` into plain strings first.
        plain = json.loads(json.dumps(record, default=str))
        line = json.dumps(render.redact.scrub(plain), ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_events(folder: Path) -> Iterator[dict[str, Any]]:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError:  # a line cut short by a killed worker: the rest still counts
                        yield {"kind": "unreadable", "file": path.name}


def reset(folder: Path) -> None:
    if folder.is_dir():
        for path in folder.glob("*.jsonl"):
            os.unlink(path)
