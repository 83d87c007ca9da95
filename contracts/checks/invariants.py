"""Invariants of every created runtime: unique ids, sane timestamps, activeRunId null or a uuid."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator, Protocol

from contracts.checks import pointer
from contracts.checks.model import MISSING, Finding, Received, SentRequest
from contracts.checks.registry import check, on_operation
from contracts.checks.semantics_table import load_semantics
from contracts.loader import Contract


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 / RFC 3339 date-time (naive ones read as UTC), or None."""
    if not isinstance(value, str) or len(value) < 10 or "T" not in value.upper() and " " not in value:
        return None
    text = value.strip()
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _created(contract: Contract, request: SentRequest, response: Received) -> bool:
    return response.status == 200 and on_operation(contract, request) and isinstance(response.json, dict)


@check("invariants", applies=_created)
def invariants(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """createdAt/updatedAt are date-times with updatedAt >= createdAt; activeRunId is null or a uuid."""
    rules = load_semantics()
    body = response.json
    stamps: dict[str, datetime] = {}
    for ptr in rules.timestamps:
        value = pointer.resolve(body, ptr)
        if value is MISSING:
            continue  # a missing required field is the response_schema check's
        parsed = parse_timestamp(value)
        if parsed is None:
            yield Finding("invariants", "failure", ptr, "not a date-time",
                          expected="an ISO 8601 date-time, e.g. 2026-01-01T12:00:00Z", got=repr(value)[:80])
        else:
            stamps[ptr] = parsed
    for later, earlier in rules.not_before:
        if later in stamps and earlier in stamps and stamps[later] < stamps[earlier]:
            yield Finding("invariants", "failure", later, f"{later} lies before {earlier}",
                          expected=f">= {pointer.resolve(body, earlier)}", got=str(pointer.resolve(body, later)))
    for ptr in rules.null_or_uuid:
        value = pointer.resolve(body, ptr)
        if value is MISSING or value is None:
            continue
        try:
            ok = isinstance(value, str) and uuid.UUID(value) is not None
        except ValueError:
            ok = False
        if not ok:
            yield Finding("invariants", "failure", ptr, "neither null nor a uuid", expected="null or a uuid",
                          got=repr(value)[:80])


class IdIndex(Protocol):
    """Where run-wide uniqueness is decided: every id the run has seen, with the answer that first carried it."""

    def first(self, key: str, answer: str, label: str) -> str | None:
        """Remember `key` for answer `answer`; the label of an *earlier, other* answer with it, else None."""


class MemoryIndex:
    """Ids seen in this process: the default, and what a single-process run needs.

    Keyed by the answer's own identity (`Received.id`, a fresh uuid per answer),
    never by the object's address: CPython reuses the address of a freed
    object, so a different answer carrying a repeated id could pass as "the
    same answer judged twice" (the bridge and a test may judge one answer each).
    A run with several processes installs a shared index (see `use_index`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids: dict[str, tuple[str, str]] = {}

    def first(self, key: str, answer: str, label: str) -> str | None:
        with self._lock:
            seen = self._ids.setdefault(key, (answer, label))
        return None if seen[0] == answer else seen[1]

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()


_index: list[IdIndex] = [MemoryIndex()]


def use_index(index: IdIndex) -> None:
    """Decide id uniqueness in `index` from now on (e.g. one shared by every xdist worker of a run)."""
    _index[0] = index


def current_index() -> IdIndex:
    return _index[0]


@check("unique_ids", applies=_created, stateful=True)
def unique_ids(contract: Contract, request: SentRequest, response: Received) -> Iterator[Finding]:
    """Every created runtime has an id no other response of this run had."""
    for ptr in load_semantics().unique:
        value = pointer.resolve(response.json, ptr)
        if not isinstance(value, str):
            continue
        first = _index[0].first(f"{ptr}={value.lower()}", response.id, request.label or request.method)
        if first is not None:
            yield Finding("unique_ids", "failure", ptr, "an id handed out twice in this run "
                          f"(first for the request [{first}])", expected="a fresh id", got=value)
