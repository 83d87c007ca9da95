"""The errata overlay applied to both versions, tolerantly, and what each action does to NEW.

contracts/overlay.py refuses an action that matches nothing, which is right
when loading the contract under test; between two versions a non-matching
action is a finding, not an error. So the actions are applied one at a time
(through apply_overlay, so the semantics stay the loader's) and an action that
matches nothing is skipped and reported. For NEW, each action gets a status:

- no longer matching: its target is gone from NEW (fixed upstream, or moved);
- no effect: it matches, but NEW already says what it adds (fixed upstream);
- changed: it matches, but the part it patches differs from OLD's (the node
  changed upstream, or OLD had none): the erratum needs a human look;
- still needed: it matches and patches NEW just as it patched OLD.

"The part it patches" is, for `update`, only the keys the update writes (an
update of `security` on the whole operation is not "changed" because a field
elsewhere in the operation changed); for `remove`, the removed node itself.
"""
from __future__ import annotations

from typing import Any

from jsonpath_ng.ext import parse

from contracts.drift.model import CHANGED, NO_EFFECT, NO_LONGER_MATCHING, STILL_NEEDED, ErratumCarryOver
from contracts.errors import ContractError
from contracts.overlay import apply_overlay, validate_overlay

_ABSENT = "<absent>"


def _matches(document: Any, target: str, source: str, number: int) -> list[Any]:
    try:
        return [m.value for m in parse(target).find(document)]
    except Exception as exc:  # jsonpath-ng raises plain Exception on some input
        raise ContractError(f"{source}: action {number} has an invalid JSONPath target {target!r}: {exc}") from None


def _project(node: Any, update: Any) -> Any:
    """The part of `node` that `update` writes."""
    if isinstance(update, dict) and isinstance(node, dict):
        return {k: _project(node[k], v) if k in node else _ABSENT for k, v in update.items()}
    return node


def _contains(node: Any, update: Any) -> bool:
    """`node` already says everything `update` would write (list items included, in any order)."""
    if isinstance(update, dict):
        return isinstance(node, dict) and all(k in node and _contains(node[k], v) for k, v in update.items())
    if isinstance(update, list):
        return isinstance(node, list) and all(item in node for item in update)
    return node == update


def _apply_one(document: dict[str, Any], action: dict[str, Any], source: str) -> dict[str, Any]:
    patched, _ = apply_overlay(document, {"overlay": "1.0.0", "actions": [action]}, source=source)
    return patched


def apply_tolerantly(old: dict[str, Any], new: dict[str, Any], overlay: Any, *,
                     source: str) -> tuple[dict[str, Any], dict[str, Any], tuple[ErratumCarryOver, ...]]:
    """Both documents patched by every action that matches them, and the carry-over status of each action.

    Actions run in order on both sides, each seeing the document as the earlier
    actions left it, as contracts/overlay.py applies them.
    """
    carried: list[ErratumCarryOver] = []
    for number, action in enumerate(validate_overlay(overlay, source), 1):
        target = action["target"]
        on_old, on_new = _matches(old, target, source, number), _matches(new, target, source, number)
        kind = "remove" if action.get("remove") else "update"
        erratum = str(action.get("x-erratum", f"action-{number}"))
        if on_old:
            old = _apply_one(old, action, source)
        if not on_new:
            status = NO_LONGER_MATCHING
            detail = "its target matches nothing in NEW: fixed upstream or moved; drop or retarget it"
        else:
            status, detail = _status(action, on_old, on_new)
            if status != NO_EFFECT:  # applying it anyway would append a second copy of a list item
                new = _apply_one(new, action, source)
        carried.append(ErratumCarryOver(number, erratum, target, kind, status, detail))
    return old, new, tuple(carried)


def _status(action: dict[str, Any], on_old: list[Any], on_new: list[Any]) -> tuple[str, str]:
    if "update" in action and all(_contains(node, action["update"]) for node in on_new):
        return NO_EFFECT, "NEW already says what it adds: fixed upstream; drop it"
    if not on_old:
        return CHANGED, "it matches NEW but matched nothing in OLD: check it still fits"
    if "update" in action:
        before = [_project(node, action["update"]) for node in on_old]
        after = [_project(node, action["update"]) for node in on_new]
    else:
        before, after = on_old, on_new
    if before != after:
        return CHANGED, "what it patches differs from OLD's: check it still fits"
    return STILL_NEEDED, "it patches NEW as it patched OLD"
