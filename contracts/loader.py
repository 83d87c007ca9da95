"""The one loader path: a contract file (or dict) + errata overlay -> a frozen `Contract`."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml
from jsonschema import Draft202012Validator

from contracts import yamlfile
from contracts.catalog import EnumEntry, VariantEntry, catalog
from contracts.errors import ContractError
from contracts.overlay import Erratum, apply_overlay
from contracts.resolve import inline_refs

HERE = Path(__file__).resolve().parent
DEFAULT_CONTRACT = HERE / "upstream" / "create-runtime.openapi.yaml"
DEFAULT_OVERLAY = HERE / "errata.overlay.yaml"
# The one operation this suite is about; everything else is read from the document.
OPERATION = ("post", "/v2/runtimes")


@dataclass(frozen=True)
class Contract:
    """Everything the suite knows about the operation, derived from the document."""

    source: str
    sha256: str
    raw: Mapping[str, Any] = field(repr=False)
    patched: Mapping[str, Any] = field(repr=False)
    errata: tuple[Erratum, ...]
    method: str
    path: str
    request_schema: Mapping[str, Any] = field(repr=False)
    response_schema: Mapping[str, Any] = field(repr=False)
    enums: tuple[EnumEntry, ...]
    variants: tuple[VariantEntry, ...]

    @property
    def title(self) -> str:
        return str(self.raw.get("info", {}).get("title", ""))

    @property
    def version(self) -> str:
        return str(self.raw.get("info", {}).get("version", ""))

    @property
    def operation(self) -> Mapping[str, Any]:
        return self.patched["paths"][self.path][self.method]

    def enums_on(self, side: str) -> tuple[EnumEntry, ...]:
        return tuple(e for e in self.enums if e.side == side)

    def variants_on(self, side: str) -> tuple[VariantEntry, ...]:
        return tuple(v for v in self.variants if v.side == side)

    def request_validator(self) -> Draft202012Validator:
        return self._validator("request_schema")

    def response_validator(self) -> Draft202012Validator:
        return self._validator("response_schema")

    def _validator(self, schema: str) -> Draft202012Validator:
        """One validator per schema, made at first use: validators keep no state between validations, and
        making one per judged response cost more than validating it."""
        made = self.__dict__.setdefault("_validators", {})  # beside the frozen fields, not one of them
        if schema not in made:
            made[schema] = Draft202012Validator(dict(getattr(self, schema)),
                                                format_checker=Draft202012Validator.FORMAT_CHECKER)
        return made[schema]


def _read_yaml(path: Path, what: str) -> Any:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(f"{what} file not found: {path} (pass an existing file or leave the option unset)") from None
    except OSError as exc:
        raise ContractError(f"cannot read {what} file {path}: {exc.strerror}") from None
    try:
        return text, yamlfile.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ContractError(f"{what} file {path} is not valid YAML{where}: fix the file or restore it from git") from None


def _operation(document: Any, source: str) -> tuple[str, str, dict[str, Any]]:
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise ContractError(f"{source} is not an OpenAPI 3.x document (no 'openapi: 3.x' key)")
    method, path = OPERATION
    operation = (document.get("paths") or {}).get(path, {}).get(method)
    if not isinstance(operation, dict):
        raise ContractError(f"{source} has no '{method.upper()} {path}' operation; is it the Runtimes API contract?")
    return method, path, operation


def _schema_at(operation: dict[str, Any], keys: tuple[str, ...], source: str, what: str) -> dict[str, Any]:
    node: Any = operation
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise ContractError(f"{source} documents no {what} schema")
    return node


def load_contract(
    source: str | Path | Mapping[str, Any] = DEFAULT_CONTRACT,
    *,
    overlay: str | Path | Mapping[str, Any] | None = DEFAULT_OVERLAY,
) -> Contract:
    """Load, patch and resolve the contract. Every entry point goes through here.

    `source` is a path to the upstream YAML/JSON document or an already parsed
    dict; `overlay` an Overlay 1.0 document (path or dict), or None for none.
    Raises ContractError with one readable sentence when anything is off.
    """
    if isinstance(source, Mapping):
        raw_bytes = yaml.safe_dump(dict(source), sort_keys=True).encode()
        document, label = dict(source), "<contract dict>"
    else:
        raw_bytes, document = _read_yaml(Path(source), "contract")
        label = str(source)
    _operation(document, label)
    if overlay is None:
        patched, errata = document, ()
    else:
        if isinstance(overlay, Mapping):
            overlay_doc, overlay_label = dict(overlay), "<overlay dict>"
        else:
            _, overlay_doc = _read_yaml(Path(overlay), "overlay")
            overlay_label = str(overlay)
        patched, errata = apply_overlay(document, overlay_doc, source=overlay_label)
    method, path, operation = _operation(patched, label)
    request = inline_refs(
        _schema_at(operation, ("requestBody", "content", "application/json", "schema"), label, "request body"), patched
    )
    response = inline_refs(
        _schema_at(operation, ("responses", "200", "content", "application/json", "schema"), label, "200 response"),
        patched,
    )
    for schema, what in ((request, "request"), (response, "response")):
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as exc:  # jsonschema.SchemaError: one line is enough
            raise ContractError(f"{label}: the {what} schema is not valid JSON Schema: {getattr(exc, 'message', exc)}") from None
    req_enums, req_variants = catalog(request, "request")
    resp_enums, resp_variants = catalog(response, "response")
    return Contract(
        source=label,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        raw=document,
        patched=patched,
        errata=errata,
        method=method,
        path=path,
        request_schema=request,
        response_schema=response,
        enums=req_enums + resp_enums,
        variants=req_variants + resp_variants,
    )
