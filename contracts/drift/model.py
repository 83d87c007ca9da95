"""What a drift run produces: changes, errata carry-over, and the report holding both."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from contracts.drift.rules import LEVELS, SIDES

# Kinds whose `value` names one element (an enum value, a oneOf branch): shown as `pointer=value`.
ELEMENT_KINDS = frozenset({"enum-value-added", "enum-value-removed", "branch-added", "branch-removed"})
PRIMARY_REQUEST = "application/json"
PRIMARY_RESPONSE = "200 application/json"


@dataclass(frozen=True)
class Change:
    """One difference between OLD and NEW, classified for clients.

    `pointer` is the instance JSON pointer of the field (`/config/stealth`), or,
    for what is not in a body (security, status codes, media types), a place in
    the operation starting with `#` (`#/responses/201`). `branches` are the
    oneOf branches on the way, as in contracts.catalog. `where` says which body:
    `application/json` (request) or `200 application/json` (response).
    """

    side: str
    pointer: str
    kind: str
    level: str
    rules: tuple[str, ...]  # oasdiff rule id(s) for the same case
    message: str
    value: Any = None
    old: Any = None
    new: Any = None
    branches: tuple[str, ...] = ()
    where: str = ""

    @property
    def subject(self) -> str:
        """The pointer, with the element for enum values and branches: `/config/stealth=ultra`."""
        if self.kind in ELEMENT_KINDS:
            return f"{self.pointer}={_plain(self.value)}"
        return self.pointer

    @property
    def primary(self) -> bool:
        """In the body the suite tests (request JSON, 200 JSON) rather than another status or media type."""
        return self.where in ("", PRIMARY_REQUEST, PRIMARY_RESPONSE)

    def sort_key(self) -> tuple[Any, ...]:
        return (LEVELS.index(self.level), SIDES.index(self.side), not self.primary, self.where, self.pointer,
                self.kind, _plain(self.value))

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level, "side": self.side, "pointer": self.pointer, "kind": self.kind,
            "subject": self.subject, "message": self.message, "value": self.value, "old": self.old,
            "new": self.new, "branches": list(self.branches), "where": self.where, "oasdiff": list(self.rules),
        }


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


STILL_NEEDED = "still needed"
NO_LONGER_MATCHING = "no longer matching"
CHANGED = "changed"
NO_EFFECT = "no effect"
ERRATUM_STATUSES = (NO_LONGER_MATCHING, CHANGED, NO_EFFECT, STILL_NEEDED)  # needs-a-look first


@dataclass(frozen=True)
class ErratumCarryOver:
    """What one overlay action does to NEW, compared with what it did to OLD."""

    number: int  # the action's position in the overlay, from 1
    id: str  # its x-erratum, else action-N
    target: str
    action: str  # update | remove
    status: str  # one of ERRATUM_STATUSES
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "id": self.id, "target": self.target, "action": self.action,
                "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class DriftReport:
    """Every change from OLD to NEW for the operation, and how the errata carry over."""

    operation: str  # "POST /v2/runtimes"
    old_source: str
    new_source: str
    old_version: str
    new_version: str
    overlay_source: str | None  # None: --errata=none
    changes: tuple[Change, ...]
    errata: tuple[ErratumCarryOver, ...]
    old_document: Mapping[str, Any] = field(repr=False)  # patched (tolerantly), as diffed
    new_document: Mapping[str, Any] = field(repr=False)

    def count(self, level: str) -> int:
        return sum(1 for c in self.changes if c.level == level)

    def summary(self) -> dict[str, Any]:
        """Counts by level and by erratum status, for the json output and the one-line summary."""
        return {
            "total": len(self.changes),
            **{level: self.count(level) for level in LEVELS},
            "errata": {status: sum(1 for e in self.errata if e.status == status) for status in ERRATUM_STATUSES},
        }

    def exit_code(self, fail_on: str = "breaking") -> int:
        """0 when nothing at or above `fail_on` (breaking | warning) changed, else 1."""
        failing = LEVELS[: LEVELS.index(fail_on) + 1]
        return 1 if any(c.level in failing for c in self.changes) else 0
