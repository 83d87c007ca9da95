"""Contract drift: what changed in POST /v2/runtimes between two versions, and whether it breaks clients.

- `drift(old, new, overlay=...)` -> `DriftReport`: every `Change` (side, instance
  pointer, kind, level, oasdiff rule, sentence) and the errata carry-over;
- `load_rules()`: the policy, read from rules.yaml beside this package;
- `contracts_of(report)`: OLD and NEW as the suite's `Contract`s, for probes;
- `render(report, fmt)`: text, json or markdown. CLI: `python -m contracts.drift OLD NEW`.
"""
from contracts.drift.compare import contracts_of, drift
from contracts.drift.model import (CHANGED, NO_EFFECT, NO_LONGER_MATCHING, STILL_NEEDED, Change, DriftReport,
                                   ErratumCarryOver)
from contracts.drift.render import render, rules_table
from contracts.drift.rules import DEFAULT_RULES, LEVELS, Rule, Rules, load_rules

__all__ = [
    "CHANGED",
    "Change",
    "DEFAULT_RULES",
    "DriftReport",
    "ErratumCarryOver",
    "LEVELS",
    "NO_EFFECT",
    "NO_LONGER_MATCHING",
    "Rule",
    "Rules",
    "STILL_NEEDED",
    "contracts_of",
    "drift",
    "load_rules",
    "render",
    "rules_table",
]
