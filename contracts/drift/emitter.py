"""Turn "this kind of thing changed here" into a classified `Change`, levels read from the rule table."""
from __future__ import annotations

import json
from typing import Any

from contracts.drift.model import Change
from contracts.drift.rules import Rules


def text(value: Any) -> str:
    """A value as it reads in a sentence: strings bare, lists joined, the rest as JSON."""
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "|".join(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Emitter:
    """Collects changes; the differs only say which kind, where, and what the values were."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.changes: list[Change] = []

    def emit(self, kind: str, side: str, pointer: str, *, value: Any = None, old: Any = None, new: Any = None,
             detail: str = "", branches: tuple[str, ...] = (), where: str = "") -> None:
        rule = self.rules.rule(kind, side)
        # An enum value is data, quoted so "1" and 1 read apart; names (statuses, schemes) read bare.
        quoted = kind.startswith("enum-value-") or not isinstance(value, str)
        shown = "" if value is None else json.dumps(value, ensure_ascii=False, default=str) if quoted else value
        message = self.rules.sentence(kind, side, value=shown, old=text(old), new=text(new), detail=detail)
        under = _under(branches)
        if under:
            message += f" (under {under})"
        self.changes.append(Change(side, pointer, kind, rule.level, rule.oasdiff, message, value, old, new,
                                   branches, where))


def _under(branches: tuple[str, ...]) -> str:
    # A wrapper branch followed by one at the same pointer says no more than the inner one.
    kept = [b for i, b in enumerate(branches)
            if i + 1 >= len(branches) or branches[i + 1].rpartition("=")[0] != b.rpartition("=")[0]]
    return ", ".join(kept)
