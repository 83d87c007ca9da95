"""Apply an OpenAPI Overlay 1.0 document to an OpenAPI document.

Targets are JSONPath expressions evaluated with jsonpath-ng (its extended
parser, for filter expressions). `update` merges recursively into every
matched object (and appends to a matched array); `remove: true` deletes
every matched node from its parent. A target that matches nothing is an
error: an erratum that silently stops applying would hide a changed upstream.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse
from jsonpath_ng.jsonpath import Fields, Index

from contracts.errors import ContractError


@dataclass(frozen=True)
class Erratum:
    """One applied overlay action: which defect, where, why."""

    id: str
    target: str
    description: str
    action: str  # "update" or "remove"


def _merge(target: Any, update: Any) -> Any:
    if isinstance(target, dict) and isinstance(update, dict):
        for key, value in update.items():
            target[key] = _merge(target[key], value) if key in target else copy.deepcopy(value)
        return target
    if isinstance(target, list) and isinstance(update, list):
        target.extend(copy.deepcopy(update))
        return target
    return copy.deepcopy(update)


def _remove(match: Any) -> None:
    parent = match.context.value
    path = match.path
    if isinstance(path, Fields):
        for field in path.fields:
            parent.pop(field, None)
    elif isinstance(path, Index):
        for index in sorted(path.indices, reverse=True):
            del parent[index]
    else:  # pragma: no cover - only reached by exotic JSONPath forms
        raise ContractError(f"cannot remove a node reached by {path!r}")


def validate_overlay(overlay: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(overlay, dict) or not str(overlay.get("overlay", "")).startswith("1."):
        raise ContractError(f"{source} is not an OpenAPI Overlay 1.x document (no 'overlay: 1.0.0' key)")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise ContractError(f"{source} has no 'actions' list")
    for number, action in enumerate(actions, 1):
        if not isinstance(action, dict) or "target" not in action:
            raise ContractError(f"{source}: action {number} has no 'target'")
        if ("update" in action) == bool(action.get("remove")):
            raise ContractError(f"{source}: action {number} needs exactly one of 'update' or 'remove: true'")
    return actions


def apply_overlay(document: dict[str, Any], overlay: Any, *, source: str = "overlay") -> tuple[dict[str, Any], tuple[Erratum, ...]]:
    """Return a patched deep copy of `document` and the errata applied, in order."""
    patched = copy.deepcopy(document)
    applied: list[Erratum] = []
    for number, action in enumerate(validate_overlay(overlay, source), 1):
        target = action["target"]
        try:
            matches = parse(target).find(patched)
        except (JsonPathParserError, Exception) as exc:  # the parser raises plain Exception on some input
            raise ContractError(f"{source}: action {number} has an invalid JSONPath target {target!r}: {exc}") from None
        if not matches:
            raise ContractError(
                f"{source}: action {number} target {target!r} matches nothing in the contract; "
                "the upstream document changed or the target is wrong: fix or drop the action"
            )
        if action.get("remove"):
            # Remove from the deepest/last match first so indices stay valid.
            for match in reversed(matches):
                _remove(match)
            kind = "remove"
        else:
            for match in matches:
                _merge(match.value, action["update"])
            kind = "update"
        applied.append(
            Erratum(
                id=str(action.get("x-erratum", f"action-{number}")),
                target=target,
                description=" ".join(str(action.get("description", "")).split()),
                action=kind,
            )
        )
    return patched, tuple(applied)
