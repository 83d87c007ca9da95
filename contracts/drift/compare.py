"""The whole drift run: read both documents, apply the errata, diff the resolved operations."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from contracts.drift.documents import check_openapi, operation_name, read_document, resolved_operation
from contracts.drift.emitter import Emitter
from contracts.drift.errata import apply_tolerantly
from contracts.drift.model import DriftReport
from contracts.drift.operation_diff import diff_operations
from contracts.drift.rules import Rules, load_rules
from contracts.loader import DEFAULT_OVERLAY, Contract, load_contract

Source = str | Path | Mapping[str, Any]


def drift(old: Source, new: Source, *, overlay: Source | None = DEFAULT_OVERLAY,
          rules: Rules | None = None) -> DriftReport:
    """Every change to the operation from `old` to `new`, classified for clients, and the errata carry-over.

    `old` / `new` are paths to OpenAPI documents (YAML or JSON) or parsed
    dicts; `overlay` an Overlay 1.0 document applied to both (None: none);
    `rules` the policy (default: rules.yaml beside this module). Raises
    ContractError with one readable sentence when a document cannot be used.
    """
    rules = rules or load_rules()
    old_doc, old_label = read_document(old, "OLD")
    new_doc, new_label = read_document(new, "NEW")
    check_openapi(old_doc, old_label)
    check_openapi(new_doc, new_label)
    overlay_label = None
    errata = ()
    if overlay is not None:
        overlay_doc, overlay_label = read_document(overlay, "errata overlay")
        old_doc, new_doc, errata = apply_tolerantly(old_doc, new_doc, overlay_doc, source=overlay_label)
    emitter = Emitter(rules)
    diff_operations(resolved_operation(old_doc, old_label), resolved_operation(new_doc, new_label), emitter)
    return DriftReport(
        operation=operation_name(),
        old_source=old_label,
        new_source=new_label,
        old_version=str((old_doc.get("info") or {}).get("version", "")),
        new_version=str((new_doc.get("info") or {}).get("version", "")),
        overlay_source=overlay_label,
        changes=tuple(sorted(emitter.changes, key=lambda c: c.sort_key())),
        errata=errata,
        old_document=old_doc,
        new_document=new_doc,
    )


def contracts_of(report: DriftReport) -> tuple[Contract, Contract]:
    """OLD and NEW as the suite's `Contract`s (errata already applied as in the report), e.g. for drift probes.

    Raises ContractError when a version cannot be a Contract (no 200 JSON body, an invalid schema).
    """
    return (load_contract(report.old_document, overlay=None), load_contract(report.new_document, overlay=None))
