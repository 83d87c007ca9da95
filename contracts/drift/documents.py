"""Reading the two documents: YAML or JSON in, the operation out, or one readable ContractError."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping

import yaml

from contracts import yamlfile
from contracts.errors import ContractError
from contracts.loader import OPERATION
from contracts.resolve import inline_refs


def read_document(source: str | Path | Mapping[str, Any], what: str) -> tuple[dict[str, Any], str]:
    """The parsed document and a label for messages. YAML is a superset of JSON, so one parser reads both."""
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source)), f"<{what} dict>"
    path = Path(source)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(f"{what} file not found: {path}") from None
    except IsADirectoryError:
        raise ContractError(f"{what} path {path} is a folder, not a file") from None
    except OSError as exc:
        raise ContractError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        document = yamlfile.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ContractError(f"{what} file {path} is not valid YAML or JSON{where}") from None
    return document, _shown(path)


def _shown(path: Path) -> str:
    """The path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd())) if path.is_absolute() else str(path)
    except ValueError:
        return str(path)


def check_openapi(document: Any, label: str) -> dict[str, Any]:
    """The operation this suite is about, as contracts/loader.py finds it; ContractError otherwise."""
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{label} is not an OpenAPI 3.x document (no 'openapi: 3.x' key)")
    method, path = OPERATION
    item = (document.get("paths") or {}).get(path)
    operation = item.get(method) if isinstance(item, dict) else None
    if not isinstance(operation, dict):
        raise ContractError(f"{label} has no '{method.upper()} {path}' operation")
    return operation


def resolved_operation(document: dict[str, Any], label: str) -> dict[str, Any]:
    """The operation with every local `$ref` inlined, so a schema moved into components compares equal.

    What applies to the operation without being written in it (path-level
    parameters, root-level security) is folded in, so a move between levels
    compares equal too.
    """
    operation = check_openapi(document, label)
    method, path = OPERATION
    try:
        resolved = inline_refs(operation, document)
        inherited = inline_refs(list(document["paths"][path].get("parameters") or ()), document)
    except ContractError as exc:
        raise ContractError(f"{label}: {exc}") from None
    if inherited:
        own = {_parameter_key(p) for p in resolved.get("parameters") or ()}
        resolved["parameters"] = [p for p in inherited if _parameter_key(p) not in own] + list(
            resolved.get("parameters") or ())
    if "security" not in resolved and "security" in document:
        resolved["security"] = copy.deepcopy(document["security"])
    return resolved


def _parameter_key(parameter: Any) -> tuple[Any, Any]:
    return (parameter.get("in"), parameter.get("name")) if isinstance(parameter, dict) else (None, None)


def operation_name() -> str:
    method, path = OPERATION
    return f"{method.upper()} {path}"
