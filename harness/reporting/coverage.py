"""The coverage matrix: which enum values and `oneOf` branches the run exercised.

Rows come from the contract's catalogs (never a hard-coded list), counts from
the recorded requests and responses: a request exercises `locale=nb-NO` when
its payload holds that value at that pointer *and* every enclosing branch
condition holds (`/config/proxy=custom` means the proxy object is the custom
variant). A row with zero requests is missing coverage, shown as such.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Iterator, Mapping

from jsonschema import Draft202012Validator

from contracts import Contract
from contracts.catalog import branch_label, discriminator_of, walk  # the catalog's own walk: same keys
from contracts.checks.model import MISSING

JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
RESPONSE_STATUSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


@dataclass
class Cell:
    side: str  # request | response
    kind: str  # enum | branch | status
    pointer: str
    value: str  # the enum value (JSON text for non-strings) or the branch label
    conditions: tuple[str, ...]
    requests: int = 0  # exchanges whose payload (or response body) exercised this cell
    valid: int = 0  # of which requests meant to be valid (intent valid or extreme)
    failed: int = 0  # of which exchanges with at least one failure finding
    documented: bool = True  # False: a response value outside the enum (itself a finding)

    @property
    def status(self) -> str:
        if not self.documented:
            return "undocumented"
        if self.requests == 0:
            return "missing"
        if self.failed:
            return "failed"
        if self.side == "request" and self.valid == 0:
            return "invalid-only"
        return "covered"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "conditions": list(self.conditions), "status": self.status}


def values_at(document: Any, pointer: str) -> list[Any]:
    """Every value at an instance pointer; `*` steps into each array item."""
    nodes = [document]
    for raw in pointer.lstrip("/").split("/") if pointer else []:
        key = raw.replace("~1", "/").replace("~0", "~")
        following: list[Any] = []
        for node in nodes:
            if key == "*" and isinstance(node, list):
                following.extend(node)
            elif isinstance(node, dict) and key in node:
                following.append(node[key])
        nodes = following
    return nodes


def _json_type(value: Any, label: str) -> bool:
    if label == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if label == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    kind = JSON_TYPES.get(label)
    return kind is not None and isinstance(value, kind) and not (kind is int and isinstance(value, bool))


class BranchIndex:
    """Decides whether a value is in a given `oneOf` branch, as the catalog named it."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.nodes: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
        for _, node, pointer, branches in walk(dict(schema)):
            if isinstance(node.get("oneOf"), list):
                self.nodes[(pointer, branches)] = node

    def holds(self, document: Any, condition: str, enclosing: tuple[str, ...]) -> bool:
        pointer, _, label = condition.rpartition("=")
        node = self.nodes.get((pointer, enclosing))
        values = values_at(document, pointer)
        if node is None or not values:
            return False
        disc = discriminator_of(node)
        branches = node["oneOf"]
        labels = [branch_label(b, i, disc) for i, b in enumerate(branches)]
        if label not in labels:
            return False
        branch = branches[labels.index(label)]
        tags = ((branch.get("properties") or {}).get(disc) or {}).get("enum") if disc else None
        tagged = isinstance(tags, list) and len(tags) == 1 and str(tags[0]) == label
        for value in values:
            if tagged:
                ok = isinstance(value, dict) and str(value.get(disc)) == label
            elif label in JSON_TYPES or label in ("integer", "number"):
                ok = _json_type(value, label)
            else:
                ok = Draft202012Validator(branch).is_valid(value)
            if ok:
                return True
        return False

    def all_hold(self, document: Any, conditions: tuple[str, ...]) -> bool:
        return all(self.holds(document, c, conditions[:i]) for i, c in enumerate(conditions))


def _value_text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def _cells(contract: Contract, side: str) -> list[Cell]:
    cells = []
    for entry in contract.enums_on(side):
        cells += [Cell(side, "enum", entry.pointer, _value_text(v), entry.branches) for v in entry.values]
    for variant in contract.variants_on(side):
        cells += [Cell(side, "branch", variant.pointer, label, variant.branches) for label in variant.labels]
    return cells


def _failed(exchange: Mapping[str, Any]) -> bool:
    return any(f.get("severity") == "failure" for f in exchange.get("findings") or [])


def _tally(cells: list[Cell], index: BranchIndex, document: Any, *, valid: bool, failed: bool,
           extra: dict[tuple[str, str, tuple[str, ...]], Cell] | None = None,
           enums: Iterable[Any] = ()) -> None:
    # Cells at one pointer share their conditions and values: each is worked out once per document
    # (the matrix tallies every cell for every exchange of the run).
    held: dict[tuple[str, ...], bool] = {}
    texts: dict[str, set[str]] = {}
    for cell in cells:
        if cell.conditions not in held:
            held[cell.conditions] = index.all_hold(document, cell.conditions)
        if not held[cell.conditions]:
            continue
        if cell.kind == "enum":
            if cell.pointer not in texts:
                texts[cell.pointer] = {_value_text(v) for v in values_at(document, cell.pointer)}
            hit = cell.value in texts[cell.pointer]
        else:
            hit = index.holds(document, f"{cell.pointer}={cell.value}", cell.conditions)
        if hit:
            cell.requests += 1
            cell.valid += int(valid)
            cell.failed += int(failed)
    if extra is None:
        return
    for entry in enums:  # response values outside their enum: visible, flagged
        if not index.all_hold(document, entry.branches):
            continue
        for value in values_at(document, entry.pointer):
            if value not in entry.values:
                key = (entry.pointer, _value_text(value), entry.branches)
                cell = extra.setdefault(key, Cell("response", "enum", entry.pointer, _value_text(value),
                                                  entry.branches, documented=False))
                cell.requests += 1
                cell.failed += int(failed)


def exchanges(events: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    return (e for e in events if e.get("kind") == "exchange")


def matrix(contract: Contract, events: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Request cells, response cells (incl. undocumented values seen) and the status codes seen."""
    request_cells, response_cells = _cells(contract, "request"), _cells(contract, "response")
    request_index, response_index = BranchIndex(contract.request_schema), BranchIndex(contract.response_schema)
    unexpected: dict[tuple[str, str, tuple[str, ...]], Cell] = {}
    statuses: dict[str, dict[str, int]] = {}
    for exchange in exchanges(events):
        failed = _failed(exchange)
        request = exchange.get("request") or {}
        payload = request.get("payload")
        if payload is not None:
            _tally(request_cells, request_index, payload, valid=exchange.get("intent") in ("valid", "extreme"),
                   failed=failed)
        response = exchange.get("response")
        if response is None:
            key = "no response"
        else:
            key = str(response.get("status"))
            body = response.get("json")
            if response.get("status") == 200 and body is not None and body is not MISSING:
                _tally(response_cells, response_index, body, valid=True, failed=failed, extra=unexpected,
                       enums=contract.enums_on("response"))
        row = statuses.setdefault(key, {"responses": 0, "failed": 0})
        row["responses"] += 1
        row["failed"] += int(failed)
    return {
        "request": [c.as_dict() for c in request_cells],
        "response": [c.as_dict() for c in response_cells + list(unexpected.values())],
        "statuses": [{"status": k, **v} for k, v in sorted(statuses.items())],
    }
