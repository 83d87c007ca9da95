"""Invariants of every created runtime: unique ids, sane timestamps, activeRunId null or a uuid."""
from __future__ import annotations

import re
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator, Protocol

from contracts.checks import pointer
from contracts.checks.model import MISSING, Finding, Received, SentRequest
from contracts.checks.registry import check, on_operation
from contracts.checks.semantics_table import load_semantics
from contracts.loader import Contract


# RFC 3339 section 5.6 date-time: full-date "T" full-time, with a time offset (Z or +hh:mm); the
# separator may be "t" or, by the RFC's own note, a space; fractions of any length.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 date-time (a time offset required, as the standard says), or None."""
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        return None
    text = value[:-1] + "+00:00" if value[-1] in "zZ" else value
    try:
        parsed = datetime.fromisoformat(text[:10] + "T" + text[11:])
    except ValueError:  # e.g. month 13, or 25:00
        return None
    return parsed if parsed.tzinfo else None


_tolerance = [300.0]


def use_clock_tolerance(seconds: float) -> None:
    """How far a fresh resource's timestamps may lie from the client's clock (the server's clock may differ)."""
    _tolerance[0] = float(seconds)


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
        if value is MISSING or value is None:
            continue  # a missing required field is the response_schema check's
        parsed = parse_timestamp(value)
        if parsed is None:
            yield Finding("invariants", "failure", ptr, "not an RFC 3339 date-time",
                          expected="a date-time with a time offset, e.g. 2026-01-01T12:00:00Z", got=repr(value)[:80])
        else:
            stamps[ptr] = parsed
    yield from _fresh(rules.fresh, stamps, request, response)
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


def _fresh(pointers: tuple[str, ...], stamps: dict[str, datetime], request: SentRequest,
           response: Received) -> Iterator[Finding]:
    """A resource this request created was created now: between sending and the answer, give or take the clocks."""
    if request.sent_at is None:
        return
    tolerance = _tolerance[0]
    earliest = request.sent_at - tolerance
    latest = (response.received_at if response.received_at is not None else request.sent_at) + tolerance
    for ptr in pointers:
        when = stamps.get(ptr)
        if when is None:
            continue
        moment = when.timestamp()
        if not earliest <= moment <= latest:
            sent = datetime.fromtimestamp(request.sent_at, timezone.utc).isoformat(timespec="seconds")
            off = moment - request.sent_at
            yield Finding("invariants", "failure", ptr,
                          f"a fresh resource's {ptr} lies {_span(abs(off))} {'before' if off < 0 else 'after'} "
                          f"the request was sent",
                          expected=f"within {tolerance:g} s of {sent} (the client's clock)", got=when.isoformat())


def _span(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


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
