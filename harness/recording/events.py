"""The event log: every record of a run, one JSON object per line, in a declared format.

Each process (the controller, or each xdist worker) appends to its own file
under the events folder; every view of the run (HTML, summary.json, JUnit
annotations, the terminal summary, created-runtimes.json) is built from all of
them together. The format is declared in `event-log.schema.json` beside this
module (one definition per record kind) and a selftest validates every line of
a real run against it.

Every record goes through `EventWriter.write`, which redacts it once, as it is
written: the readers never redact or re-derive (texts, curl lines and known
issue matches are in the records).
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from contracts.checks.model import MISSING, Exchange, Finding
from harness.recording import text
from harness.recording.redact import REDACTOR, Redactor

SCHEMA_FILE = Path(__file__).resolve().parent / "event-log.schema.json"
FORMAT_VERSION = 1
KINDS = ("run", "process", "exchange", "finding", "judgement", "transport", "breaker", "stop", "drift", "created",
         "cleanup", "footer")


def finding_record(finding: Finding, known_issue: str | None = None) -> dict[str, Any]:
    return {"check": finding.check, "severity": finding.severity, "pointer": finding.pointer,
            "message": finding.message, "expected": finding.expected, "got": finding.got,
            "known_issue": known_issue}


class EventWriter:
    """Appends records of one process to `<folder>/<process>.jsonl`, redacted, one line each."""

    def __init__(self, folder: Path, process: str, *, api_key: str | None = None,
                 redactor: Redactor = REDACTOR) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{process}.jsonl"
        self.process = process
        self.api_key = api_key  # curl lines read it from $BCTRL_API_KEY wherever it stood
        self.redactor = redactor
        if api_key:
            redactor.learn_credential(api_key)
        self._lock = threading.Lock()
        self._file = self.path.open("a", encoding="utf-8")

    def write(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Write one record of `kind` (see KINDS and the schema); returns the record as written (redacted)."""
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; the event log declares {', '.join(KINDS)}")
        record = {"kind": kind, "time": round(time.time(), 3), "process": self.process, **fields}
        # Scrub the structure, not the encoded line (see Redactor.scrub); the round trip turns
        # anything json only knows through `default=str` into plain strings first. Most records
        # hold no secret: one search of the line (Redactor.absent) lets them through unchanged.
        line = json.dumps(record, default=str, ensure_ascii=False)
        clean = json.loads(line)
        if not self.redactor.absent(line):
            clean = self.redactor.scrub(clean)
            line = json.dumps(clean, ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
        return clean

    def exchange(self, exchange: Exchange, findings: Iterable[Finding], *, test: str, checks: Iterable[str],
                 source: str, known: Mapping[int, str] | None = None) -> dict[str, Any]:
        """Record one judged exchange: request and response texts, the curl line, the findings.

        The redactor learns the request's credentials first, so they are masked
        here and everywhere after. `known` maps a finding's index to the known
        issue that covers it (matched once, at judge time). Returns the record.
        """
        self.redactor.learn_request(exchange.request)
        request, response = exchange.request, exchange.response
        known = known or {}
        # Each payload is redacted once; its text serves the request text, the curl line and the response text.
        payload = sent = answer = received = None
        if request.payload is not MISSING:
            payload = self.redactor.payload(request.payload)
            sent = text.json_text(payload)
        if response is not None and response.json is not MISSING:
            answer = self.redactor.payload(response.json)
            received = text.json_text(answer)
        return self.write(
            "exchange",
            id=response.id if response is not None else None,
            test=test,
            source=source,
            label=request.label,
            intent=request.intent,
            request={"method": request.method, "url": request.url, "text": text.request_text(request, body=sent),
                     "payload": payload},
            response=None if response is None else {
                "status": response.status, "content_type": response.content_type,
                "elapsed": round(response.elapsed, 4), "truncated": response.truncated,
                "headers": self.redactor.headers(response.headers),
                "text": text.response_text(response, body=received),
                "json": answer,
            },
            error=exchange.error,
            curl=text.curl(request, self.api_key, body=sent),
            checks=list(checks),
            findings=[finding_record(f, known.get(i)) for i, f in enumerate(findings)],
        )

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_events(folder: Path) -> Iterator[dict[str, Any]]:
    """Every record of a run, file by file (a process's records in the order it wrote them)."""
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
    """Remove an earlier run's records (and the run-wide state kept beside them)."""
    if folder.is_dir():
        for path in folder.glob("*.jsonl"):
            os.unlink(path)


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
