"""The drift policy (rules.yaml beside this file): change kind x side -> level, oasdiff id, sentence.

The differ only names what changed (a kind, on a side); how much that matters
to clients is read from the table, so a reviewer changes policy in YAML.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from contracts import yamlfile
from contracts.errors import ContractError

DEFAULT_RULES = Path(__file__).resolve().parent / "rules.yaml"
LEVELS = ("breaking", "warning", "info")  # most severe first: the order of every report
SIDES = ("request", "response", "operation")


@dataclass(frozen=True)
class Rule:
    """One cell of the table: what `kind` on `side` means for clients."""

    kind: str
    side: str
    level: str
    oasdiff: tuple[str, ...]  # oasdiff rule id(s) for the same case; () when it has none
    message: str
    oasdiff_level: str | None = None  # only where oasdiff disagrees with `level`
    why: str | None = None


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Rules:
    """The whole table, keyed by (kind, side)."""

    source: str
    table: Mapping[tuple[str, str], Rule]

    def rule(self, kind: str, side: str) -> Rule:
        """The rule for `kind` on `side`; ContractError when the table lacks it (a gap in the policy)."""
        try:
            return self.table[(kind, side)]
        except KeyError:
            raise ContractError(f"{self.source} has no rule for '{kind}' on the {side} side; add one") from None

    def sentence(self, kind: str, side: str, **fields: Any) -> str:
        """The rule's message with {value}, {old}, {new}, {detail} filled in (blank when not given)."""
        return self.rule(kind, side).message.format_map(_Blank(fields))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.table.values())


def load_rules(path: str | Path = DEFAULT_RULES) -> Rules:
    """Read and check the rule table; one readable ContractError for any defect."""
    try:
        stat = Path(path).stat()
    except FileNotFoundError:
        raise ContractError(f"drift rules file not found: {path}") from None
    # Read once per version of the file: every drift() call needs it, and an edit is still seen.
    return _load(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load(source: str, mtime_ns: int, size: int) -> Rules:
    try:
        document = yamlfile.load(Path(source).read_text())
    except OSError as exc:
        raise ContractError(f"cannot read drift rules file {source}: {exc.strerror}") from None
    except yaml.YAMLError:
        raise ContractError(f"drift rules file {source} is not valid YAML") from None
    kinds = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(kinds, dict) or not kinds:
        raise ContractError(f"{source} has no 'rules' mapping")
    table: dict[tuple[str, str], Rule] = {}
    for kind, sides in kinds.items():
        if not isinstance(sides, dict) or not sides:
            raise ContractError(f"{source}: rule '{kind}' names no side")
        for side, cell in sides.items():
            table[(kind, side)] = _rule(source, kind, side, cell)
    return Rules(source, table)


def _rule(source: str, kind: str, side: str, cell: Any) -> Rule:
    where = f"{source}: rule '{kind}' ({side})"
    if side not in SIDES:
        raise ContractError(f"{where}: unknown side; use one of {', '.join(SIDES)}")
    if not isinstance(cell, dict) or cell.get("level") not in LEVELS:
        raise ContractError(f"{where}: level must be one of {', '.join(LEVELS)}")
    if not isinstance(cell.get("message"), str) or not cell["message"].strip():
        raise ContractError(f"{where}: needs a message")
    unknown = set(cell) - {"level", "oasdiff", "oasdiff_level", "why", "message"}
    if unknown:
        raise ContractError(f"{where}: unknown key(s) {sorted(unknown)}")
    ids = cell.get("oasdiff")
    oasdiff = () if ids is None else (ids,) if isinstance(ids, str) else tuple(ids)
    if cell.get("oasdiff_level") and not cell.get("why"):
        raise ContractError(f"{where}: disagrees with oasdiff but gives no 'why'")
    return Rule(kind, side, cell["level"], oasdiff, cell["message"].strip(),
                cell.get("oasdiff_level"), " ".join(str(cell["why"]).split()) if cell.get("why") else None)
