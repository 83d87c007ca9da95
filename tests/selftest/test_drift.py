"""Contract drift (contracts/drift) and drift probes (strategies/drift_probes), tested on hand-made version pairs.

Every pair is the vendored contract with one thing changed, built here from
the loaded document (values come from its catalog, never typed in), so each
case names one rule. The acceptance pairs run through the real CLI in a
subprocess; the rest call `drift()` directly, which is what the CLI calls.
"""
from __future__ import annotations

import ast
import copy
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from jsonpath_ng.ext import parse

from contracts import DEFAULT_OVERLAY, Contract, ContractError, apply_overlay
from contracts.drift import (CHANGED, LEVELS, NO_EFFECT, NO_LONGER_MATCHING, STILL_NEEDED, DriftReport,
                             contracts_of, drift, load_rules, render)
from contracts.drift.rules import DEFAULT_RULES
from contracts.loader import OPERATION
from contracts.resolve import pointer_get
from strategies.drift_probes import probes

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "contracts" / "upstream" / "create-runtime.openapi.yaml"
SPACE = "5b0c7d2e-3f41-4a6b-9c8d-0e1f2a3b4c5d"
NEW_LOCALE = "xx-XX"  # invented: a value the contract does not have
EXIT_USAGE = 4
Doc = dict[str, Any]


# ---- building version pairs from the vendored document ------------------------------------------------

_PARSED = yaml.load(UPSTREAM.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def upstream() -> Doc:
    """A fresh copy of the vendored document, to edit."""
    return copy.deepcopy(_PARSED)


def operation(doc: Doc) -> Doc:
    method, path = OPERATION
    return doc["paths"][path][method]


def deref(doc: Doc, node: Any) -> Any:
    """The node a `$ref` points at, in `doc` itself, so editing it edits the document."""
    while isinstance(node, dict) and "$ref" in node:
        node = pointer_get(doc, node["$ref"][1:])
    return node


def body(doc: Doc, side: str) -> Doc:
    op = operation(doc)
    holder = op["requestBody"] if side == "request" else op["responses"]["200"]
    return deref(doc, holder["content"]["application/json"]["schema"])


def holder_of(doc: Doc, node: Any, name: str) -> Doc:
    """`node` or the first of its oneOf branches (through `$ref`s) that declares property `name`."""
    node = deref(doc, node)
    if name in (node.get("properties") or {}):
        return node
    for branch in node.get("oneOf") or ():
        try:
            return holder_of(doc, branch, name)
        except KeyError:
            continue
    raise KeyError(name)


def parent_of(doc: Doc, side: str, pointer: str) -> Doc:
    """The raw object schema that declares the last property of `pointer`."""
    *path, last = pointer.strip("/").split("/")
    node: Any = body(doc, side)
    for part in path:
        node = holder_of(doc, node, part)["properties"][part]
    return holder_of(doc, node, last)


def node_of(doc: Doc, side: str, pointer: str) -> Doc:
    """The raw schema of the field at `pointer` (a `$ref` followed into components)."""
    if not pointer:
        return body(doc, side)
    name = pointer.rsplit("/", 1)[-1]
    return deref(doc, parent_of(doc, side, pointer)["properties"][name])


def enum_pointer(contract: Contract, side: str, field: str) -> str:
    """The catalog pointer of the `field` enum on `side` (found by name: the pointer itself is not typed in)."""
    return next(e.pointer for e in contract.enums_on(side) if e.pointer.rsplit("/", 1)[-1] == field)


def proxy_pointer(contract: Contract) -> str:
    """The request oneOf with a discriminator (the proxy), from the catalog."""
    return next(v.pointer for v in contract.variants_on("request")
                if not v.branches and "null" in v.labels)


def proxy_union(doc: Doc, contract: Contract) -> Doc:
    """The discriminated oneOf inside the proxy's nullable wrapper."""
    outer = node_of(doc, "request", proxy_pointer(contract))
    return next(deref(doc, b) for b in outer["oneOf"] if "oneOf" in deref(doc, b))


def write(path: Path, doc: Doc) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# ---- the rule table, one pair per rule ------------------------------------------------------------------

Edit = Callable[[Doc, Contract], Any]


@dataclass(frozen=True)
class Pair:
    id: str
    edit: Edit  # applied to NEW (a copy of the vendored document); returns nothing
    expected: Callable[[Contract], set[tuple[str, str, str, str]]]  # {(level, side, subject, kind)}
    errata: bool = True
    reverse: bool = False  # swap OLD and NEW after the edit: the opposite rule
    old_edit: Callable[[Doc], None] | None = None  # applied to OLD, when the rule needs a different start


def _append_enum(side: str, field: str, value: Any) -> Edit:
    return lambda doc, c: node_of(doc, side, enum_pointer(c, side, field))["enum"].append(value)


def _last_enum_value(c: Contract, side: str, field: str) -> Any:
    return next(e.values[-1] for e in c.enums_on(side) if e.pointer.rsplit("/", 1)[-1] == field)


def _drop_last_enum(side: str, field: str) -> Edit:
    return lambda doc, c: node_of(doc, side, enum_pointer(c, side, field))["enum"].pop()


def _set(side: str, pointer: str, **keywords: Any) -> Edit:
    return lambda doc, c: node_of(doc, side, pointer).update(keywords)


def _required(side: str, pointer: str, *, add: bool) -> Edit:
    def edit(doc: Doc, c: Contract) -> None:
        required = parent_of(doc, side, pointer).setdefault("required", [])
        name = pointer.rsplit("/", 1)[-1]
        required.append(name) if add else required.remove(name)
    return edit


def _add_property(side: str, parent: str, name: str, *, required: bool = False) -> Edit:
    def edit(doc: Doc, c: Contract) -> None:
        holder = node_of(doc, side, parent)
        holder["properties"][name] = {"type": "string"}
        if required:
            holder.setdefault("required", []).append(name)
    return edit


def _remove_property(side: str, pointer: str) -> Edit:
    def edit(doc: Doc, c: Contract) -> None:
        holder = parent_of(doc, side, pointer)
        name = pointer.rsplit("/", 1)[-1]
        del holder["properties"][name]
        if name in (holder.get("required") or ()):
            holder["required"].remove(name)
    return edit


def _proxy_branch_added(doc: Doc, c: Contract) -> None:
    union = proxy_union(doc, c)
    disc = union["discriminator"]["propertyName"]
    union["oneOf"].append({"type": "object", "properties": {disc: {"type": "string", "enum": ["direct"]}},
                           "required": [disc]})


def _proxy_last_label(c: Contract) -> str:
    return next(v.labels[-1] for v in c.variants_on("request") if v.branches and v.pointer == proxy_pointer(c))


def _proxy_branch_removed(doc: Doc, c: Contract) -> None:
    proxy_union(doc, c)["oneOf"].pop()


def _metadata_null_removed(doc: Doc, c: Contract) -> None:
    node = node_of(doc, "response", "/metadata")
    node["oneOf"] = [b for b in node["oneOf"] if b.get("type") != "null"]


def _security(*alternatives: str) -> Edit:
    def edit(doc: Doc, c: Contract) -> None:
        doc["components"]["securitySchemes"]["apiKey"] = {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
        operation(doc)["security"] = [{name: []} for name in alternatives]
    return edit


def _old_security(*alternatives: str) -> Callable[[Doc], None]:
    return lambda doc: operation(doc).__setitem__("security", [{name: []} for name in alternatives])


def _status(code: str) -> Edit:
    return lambda doc, c: operation(doc)["responses"].__setitem__(code, {"description": f"added {code}"})


def _request_media(doc: Doc, c: Contract) -> None:
    content = operation(doc)["requestBody"]["content"]
    content["application/x-www-form-urlencoded"] = copy.deepcopy(content["application/json"])


def _response_media(doc: Doc, c: Contract) -> None:
    content = operation(doc)["responses"]["200"]["content"]
    content["application/xml"] = copy.deepcopy(content["application/json"])


def _body_required(doc: Doc, c: Contract) -> None:
    operation(doc)["requestBody"]["required"] = True


def _parameter(required: bool) -> Edit:
    return lambda doc, c: operation(doc)["parameters"].append(
        {"name": "X-Request-Id", "in": "header", "required": required, "schema": {"type": "string"}})


def _response_header(doc: Doc, c: Contract) -> None:
    operation(doc)["responses"]["200"]["headers"] = {"X-Request-Id": {"schema": {"type": "string"}}}


PAIRS = [
    # request side
    Pair("request-enum-value-added", _append_enum("request", "locale", NEW_LOCALE),
         lambda c: {("info", "request", f"{enum_pointer(c, 'request', 'locale')}={NEW_LOCALE}", "enum-value-added")}),
    Pair("request-enum-value-removed", _drop_last_enum("request", "stealth"),
         lambda c: {("breaking", "request",
                     f"{enum_pointer(c, 'request', 'stealth')}={_last_enum_value(c, 'request', 'stealth')}",
                     "enum-value-removed")}),
    Pair("request-branch-added", _proxy_branch_added,
         lambda c: {("info", "request", f"{proxy_pointer(c)}=direct", "branch-added")}),
    Pair("request-branch-removed", _proxy_branch_removed,
         lambda c: {("breaking", "request", f"{proxy_pointer(c)}={_proxy_last_label(c)}", "branch-removed")}),
    Pair("request-optional-property-added", _add_property("request", "/config", "region"),
         lambda c: {("info", "request", "/config/region", "optional-property-added")}),
    Pair("request-required-property-added", _add_property("request", "", "projectId", required=True),
         lambda c: {("breaking", "request", "/projectId", "required-property-added")}),
    Pair("request-property-removed", _remove_property("request", "/metadata"),
         lambda c: {("breaking", "request", "/metadata", "optional-property-removed")}),
    Pair("request-property-became-required", _required("request", "/name", add=True),
         lambda c: {("breaking", "request", "/name", "property-became-required")}),
    Pair("request-property-became-optional", _required("request", "/type", add=False),
         lambda c: {("info", "request", "/type", "property-became-optional")}),
    Pair("request-type-widened", _set("request", "/config/lifecycle/idleTimeoutMinutes", type="number"),
         lambda c: {("info", "request", "/config/lifecycle/idleTimeoutMinutes", "type-widened")}),
    Pair("request-type-narrowed", _set("request", "/config/lifecycle/idleTimeoutMinutes", type="number"),
         lambda c: {("breaking", "request", "/config/lifecycle/idleTimeoutMinutes", "type-narrowed")}, reverse=True),
    Pair("request-type-changed", _set("request", "/name", type="integer"),
         lambda c: {("breaking", "request", "/name", "type-changed")}),
    Pair("request-format-added", _set("request", "/name", format="email"),
         lambda c: {("breaking", "request", "/name", "format-added")}),
    Pair("request-format-removed", _set("request", "/name", format="email"),
         lambda c: {("info", "request", "/name", "format-removed")}, reverse=True),
    Pair("request-constraint-narrowed", _set("request", "/name", maxLength=100),
         lambda c: {("breaking", "request", "/name", "constraint-narrowed")}),
    Pair("request-constraint-widened", _set("request", "/name", maxLength=100),
         lambda c: {("info", "request", "/name", "constraint-widened")}, reverse=True),
    Pair("request-became-enum", _set("request", "/name", enum=["a", "b"]),
         lambda c: {("breaking", "request", "/name", "enum-constraint-added")}),
    Pair("request-pattern-changed", _set("request", "/name", pattern="^[a-z]+$"),
         lambda c: {("warning", "request", "/name", "pattern-changed")}),
    Pair("request-description-changed", _set("request", "/name", description="What the runtime is called"),
         lambda c: {("info", "request", "/name", "annotation-changed")}),
    # response side
    Pair("response-enum-value-added", _append_enum("response", "status", "paused"),
         lambda c: {("warning", "response", "/status=paused", "enum-value-added")}),
    Pair("response-enum-value-removed", _append_enum("response", "status", "paused"),
         lambda c: {("info", "response", "/status=paused", "enum-value-removed")}, reverse=True),
    Pair("response-optional-property-added", _add_property("response", "", "region"),
         lambda c: {("info", "response", "/region", "optional-property-added")}),
    Pair("response-required-property-added", _add_property("response", "", "region", required=True),
         lambda c: {("info", "response", "/region", "required-property-added")}),
    Pair("response-required-property-removed", _remove_property("response", "/updatedAt"),
         lambda c: {("breaking", "response", "/updatedAt", "required-property-removed")}),
    Pair("response-optional-property-removed", _remove_property("response", "/config/fingerprint/timezone"),
         lambda c: {("warning", "response", "/config/fingerprint/timezone", "optional-property-removed")}),
    Pair("response-property-became-optional", _required("response", "/updatedAt", add=False),
         lambda c: {("breaking", "response", "/updatedAt", "property-became-optional")}),
    Pair("response-property-became-required", _required("response", "/config/fingerprint/locale", add=True),
         lambda c: {("info", "response", "/config/fingerprint/locale", "property-became-required")}),
    Pair("response-type-changed", _set("response", "/createdAt", type="integer"),
         lambda c: {("breaking", "response", "/createdAt", "type-changed")}),
    Pair("response-type-widened", _set("response", "/name", type=["string", "null"]),
         lambda c: {("breaking", "response", "/name", "type-widened")}),
    Pair("response-type-narrowed", _set("response", "/name", type=["string", "null"]),
         lambda c: {("info", "response", "/name", "type-narrowed")}, reverse=True),
    Pair("response-format-removed", lambda doc, c: node_of(doc, "response", "/id").pop("format"),
         lambda c: {("breaking", "response", "/id", "format-removed")}),
    Pair("response-branch-removed", _metadata_null_removed,
         lambda c: {("breaking", "response", "/metadata=null", "branch-removed")}),
    Pair("response-branch-added", _metadata_null_removed,
         lambda c: {("breaking", "response", "/metadata=null", "branch-added")}, reverse=True),
    Pair("response-constraint-widened", _set("response", "/name", maxLength=100),
         lambda c: {("breaking", "response", "/name", "constraint-widened")}, reverse=True),
    # security, status codes, media types, body, parameters, headers, metadata
    Pair("security-requirement-added", _security("bearerAuth"),
         lambda c: {("breaking", "request", "#/security/bearerAuth", "security-requirement-added")}, errata=False),
    Pair("security-requirement-removed", _security("bearerAuth"),
         lambda c: {("info", "request", "#/security/bearerAuth", "security-requirement-removed")},
         errata=False, reverse=True),
    Pair("security-alternative-added", _security("bearerAuth", "apiKey"),
         lambda c: {("info", "request", "#/security/apiKey", "security-alternative-added")}, errata=False,
         old_edit=_old_security("bearerAuth")),
    Pair("security-alternative-removed", _security("bearerAuth", "apiKey"),
         lambda c: {("breaking", "request", "#/security/apiKey", "security-alternative-removed")}, errata=False,
         old_edit=_old_security("bearerAuth"), reverse=True),
    Pair("success-status-added", _status("201"),
         lambda c: {("warning", "response", "#/responses/201", "success-status-added")}),
    Pair("success-status-removed", _status("201"),
         lambda c: {("breaking", "response", "#/responses/201", "success-status-removed")}, reverse=True),
    Pair("error-status-added", _status("409"),
         lambda c: {("info", "response", "#/responses/409", "non-success-status-added")}),
    Pair("request-media-type-added", _request_media,
         lambda c: {("info", "request", "#/requestBody/content/application~1x-www-form-urlencoded",
                     "request-media-type-added")}),
    Pair("request-media-type-removed", _request_media,
         lambda c: {("breaking", "request", "#/requestBody/content/application~1x-www-form-urlencoded",
                     "request-media-type-removed")}, reverse=True),
    Pair("response-media-type-removed", _response_media,
         lambda c: {("breaking", "response", "#/responses/200/content/application~1xml",
                     "response-media-type-removed")}, reverse=True),
    Pair("request-body-became-required", _body_required,
         lambda c: {("breaking", "request", "#/requestBody/required", "request-body-became-required")}, errata=False),
    Pair("optional-parameter-added", _parameter(False),
         lambda c: {("info", "request", "#/parameters/header/X-Request-Id", "parameter-added")}),
    Pair("required-parameter-added", _parameter(True),
         lambda c: {("breaking", "request", "#/parameters/header/X-Request-Id", "required-parameter-added")}),
    Pair("response-header-added", _response_header,
         lambda c: {("info", "response", "#/responses/200/headers/x-request-id", "response-header-added")}),
    Pair("operation-summary-changed", lambda doc, c: operation(doc).__setitem__("summary", "Start a runtime"),
         lambda c: {("info", "operation", "#", "operation-metadata-changed")}),
]


def run_pair(pair: Pair, contract: Contract) -> DriftReport:
    old, new = upstream(), upstream()
    pair.edit(new, contract)
    if pair.old_edit:
        pair.old_edit(old)
    if pair.reverse:
        old, new = new, old
    return drift(old, new, overlay=DEFAULT_OVERLAY if pair.errata else None)


def triples(report: DriftReport) -> set[tuple[str, str, str, str]]:
    return {(c.level, c.side, c.subject, c.kind) for c in report.changes}


@pytest.mark.parametrize("pair", PAIRS, ids=[p.id for p in PAIRS])
def test_each_rule_is_classified_right(pair: Pair, loaded_contract: Contract) -> None:
    report = run_pair(pair, loaded_contract)
    assert triples(report) == pair.expected(loaded_contract), render(report, "text")


def test_the_pairs_cover_every_level_on_both_sides(loaded_contract: Contract) -> None:
    seen = set()
    for pair in PAIRS:
        seen |= {(level, side) for level, side, _, _ in pair.expected(loaded_contract)}
    assert {(level, side) for level in LEVELS for side in ("request", "response")} <= seen


def test_unchanged_document_has_no_changes_and_every_erratum_still_needed() -> None:
    report = drift(UPSTREAM, UPSTREAM)
    assert report.changes == ()
    assert report.errata and {e.status for e in report.errata} == {STILL_NEEDED}
    assert report.exit_code("warning") == 0


# ---- levels come from the YAML table ------------------------------------------------------------------

def test_levels_are_read_from_the_rule_table(tmp_path: Path, loaded_contract: Contract) -> None:
    table = yaml.safe_load(DEFAULT_RULES.read_text())
    table["rules"]["enum-value-added"]["response"]["level"] = "breaking"
    edited = tmp_path / "rules.yaml"
    edited.write_text(yaml.safe_dump(table))
    pair = next(p for p in PAIRS if p.id == "response-enum-value-added")
    old, new = upstream(), upstream()
    pair.edit(new, loaded_contract)
    assert {c.level for c in drift(old, new, rules=load_rules(edited)).changes} == {"breaking"}
    assert {c.level for c in drift(old, new).changes} == {"warning"}


def test_rule_table_is_complete_and_explains_every_disagreement_with_oasdiff() -> None:
    rules = load_rules()
    kinds = {rule.kind for rule in rules}
    for kind in kinds & {"enum-value-added", "enum-value-removed", "branch-added", "branch-removed",
                         "property-became-required", "property-became-optional", "type-changed"}:
        assert {rule.side for rule in rules if rule.kind == kind} == {"request", "response"}, kind
    assert all(rule.why for rule in rules if rule.oasdiff_level)
    named = {r.kind: r for r in rules if r.side == "request"}
    assert named["enum-value-removed"].oasdiff == ("request-property-enum-value-removed",)
    assert named["property-became-required"].oasdiff == ("request-property-became-required",)


@pytest.mark.parametrize("text, problem", [
    ("rules: {enum-value-added: {request: {level: fatal, message: x}}}", "level must be one of"),
    ("rules: {enum-value-added: {client: {level: info, message: x}}}", "unknown side"),
    ("rules: {x: {request: {level: info, message: x, oasdiff_level: ERR}}}", "gives no 'why'"),
    ("rules: [", "not valid YAML"),
])
def test_a_broken_rule_table_is_refused_in_one_sentence(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(ContractError, match=problem):
        load_rules(path)


def test_a_kind_missing_from_the_table_is_an_error_not_a_silent_level(tmp_path: Path) -> None:
    table = yaml.safe_load(DEFAULT_RULES.read_text())
    del table["rules"]["annotation-changed"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(table))
    new = upstream()
    body(new, "request")["description"] = "changed"
    with pytest.raises(ContractError, match="no rule for 'annotation-changed'"):
        drift(upstream(), new, rules=load_rules(path))


# ---- layout does not matter --------------------------------------------------------------------------

def _reordered(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _reordered(node[k]) for k in reversed(list(node))}
    if isinstance(node, list):
        return [_reordered(v) for v in node]
    return node


def relaid(contract: Contract) -> Doc:
    """The vendored document in reversed key order, two `$ref`s inlined and one component renamed."""
    doc = upstream()
    status = enum_pointer(contract, "response", "status")
    holder = parent_of(doc, "response", status)["properties"][status.rsplit("/", 1)[-1]]
    name = holder["$ref"].rsplit("/", 1)[-1]
    schemas = doc["components"]["schemas"]
    schemas[name + "Renamed"] = {**schemas.pop(name), "title": name + "Renamed"}  # the generator's title follows
    holder["$ref"] += "Renamed"
    request = body(doc, "request")
    config = request["properties"]["config"]
    request["properties"]["config"] = copy.deepcopy(deref(doc, config))  # a component inlined
    locale_parent = parent_of(doc, "request", enum_pointer(contract, "request", "locale"))
    locale_parent["properties"]["locale"] = copy.deepcopy(deref(doc, locale_parent["properties"]["locale"]))
    for key in ("required",):
        request[key] = list(reversed(request[key]))
    return _reordered(doc)


def test_formatting_key_order_and_ref_layout_give_no_changes(loaded_contract: Contract) -> None:
    new = relaid(loaded_contract)
    assert "$ref" not in body(new, "request")["properties"]["config"]  # the test is not vacuous
    assert len(new["components"]["schemas"]) == len(upstream()["components"]["schemas"])
    assert set(new["components"]["schemas"]) != set(upstream()["components"]["schemas"])
    report = drift(upstream(), new)
    assert report.changes == (), render(report, "text")


# ---- errata carry-over -------------------------------------------------------------------------------

def overlay_actions() -> list[Doc]:
    return yaml.safe_load(DEFAULT_OVERLAY.read_text())["actions"]


def _apply(doc: Doc, action: Doc) -> Doc:
    return apply_overlay(doc, {"overlay": "1.0.0", "actions": [action]})[0]


def test_an_erratum_whose_target_is_gone_is_reported_no_longer_matching() -> None:
    first = overlay_actions()[0]
    new = _apply(upstream(), {"target": first["target"], "remove": True})  # "fixed upstream"
    report = drift(upstream(), new)
    statuses = [e.status for e in report.errata]
    assert statuses[0] == NO_LONGER_MATCHING and set(statuses[1:]) == {STILL_NEEDED}, report.errata
    for fmt in ("text", "json", "markdown"):
        assert NO_LONGER_MATCHING in render(report, fmt), fmt


def test_an_erratum_already_applied_upstream_has_no_effect() -> None:
    number, action = next((i, a) for i, a in enumerate(overlay_actions()) if "update" in a)
    report = drift(upstream(), _apply(upstream(), action))
    assert report.errata[number].status == NO_EFFECT
    assert report.changes == ()


def test_an_erratum_whose_node_changed_upstream_is_reported_changed() -> None:
    number, action = [(i, a) for i, a in enumerate(overlay_actions()) if a.get("remove")][-1]
    new = upstream()
    for match in parse(action["target"]).find(new):
        match.value["description"] = "changed upstream"
    report = drift(upstream(), new)
    assert report.errata[number].status == CHANGED
    assert [e.status for i, e in enumerate(report.errata) if i != number] == [STILL_NEEDED] * (len(report.errata) - 1)


def test_no_errata_means_no_carry_over_section() -> None:
    report = drift(UPSTREAM, UPSTREAM, overlay=None)
    assert report.errata == () and report.overlay_source is None


# ---- the CLI: acceptance pairs, formats, usage errors ---------------------------------------------------

@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def _cli(*args: Any) -> Run:
    done = subprocess.run([sys.executable, "-m", "contracts.drift", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ})
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, loaded_contract: Contract) -> dict[str, Run]:
    """Every CLI case, run two at a time: interpreter start-up dominates."""
    folder = tmp_path_factory.mktemp("drift-cli")
    old = write(folder / "old.yaml", upstream())

    def edited(name: str, edit: Edit) -> Path:
        doc = upstream()
        edit(doc, loaded_contract)
        return write(folder / f"{name}.yaml", doc)

    locale = edited("locale", _append_enum("request", "locale", NEW_LOCALE))
    status = edited("status", _append_enum("response", "status", "paused"))
    relaid_json = folder / "relaid.json"
    relaid_json.write_text(json.dumps(relaid(loaded_contract), indent=1))
    gone_target = folder / "gone.yaml"
    write(gone_target, _apply(upstream(), {"target": overlay_actions()[0]["target"], "remove": True}))
    not_openapi = folder / "swagger.yaml"
    not_openapi.write_text("swagger: '2.0'\ninfo: {title: x}\n")
    no_operation = upstream()
    no_operation["paths"] = {"/v1/other": {"get": {"responses": {}}}}
    write(folder / "no-op.yaml", no_operation)
    cases = {
        "locale-added": (old, locale),
        "stealth-removed": (old, edited("stealth", _drop_last_enum("request", "stealth"))),
        "name-required": (old, edited("name", _required("request", "/name", add=True))),
        "updated-optional": (old, edited("updated", _required("response", "/updatedAt", add=False))),
        "status-added": (old, status),
        "status-added-fail-on-warning": (old, status, "--fail-on", "warning"),
        "relaid": (old, relaid_json),
        "json": (old, locale, "--format=json"),
        "markdown": (old, status, "--format", "markdown"),
        "errata-gone": (old, gone_target),
        "errata-none": (old, locale, "--errata=none"),
        "missing-file": (old, folder / "nope.yaml"),
        "missing-errata": (old, old, f"--errata={folder / 'nope.overlay.yaml'}"),
        "not-openapi": (not_openapi, old),
        "no-operation": (old, folder / "no-op.yaml"),
        "bad-option": (old, old, "--format=xml"),
        "one-document": (old,),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(cases, pool.map(lambda args: _cli(*args), cases.values())))
    return runs


def _lines(run: Run, level: str) -> list[str]:
    return [line for line in run.out.splitlines() if line.startswith(level.upper() + " ")]


def test_cli_locale_added_is_info_and_exits_0(cli: dict[str, Run], loaded_contract: Contract) -> None:
    run = cli["locale-added"]
    assert run.code == 0, run.err
    subject = f"{enum_pointer(loaded_contract, 'request', 'locale')}={NEW_LOCALE}"
    assert any(subject in line and "enum-value-added" in line for line in _lines(run, "info"))
    assert not _lines(run, "breaking") and not _lines(run, "warning")


def test_cli_stealth_value_removed_is_breaking_and_exits_1(cli: dict[str, Run], loaded_contract: Contract) -> None:
    run = cli["stealth-removed"]
    removed = _last_enum_value(loaded_contract, "request", "stealth")
    assert run.code == 1, run.err
    assert any(f"={removed}" in line and "enum-value-removed" in line for line in _lines(run, "breaking"))


def test_cli_name_made_required_exits_1(cli: dict[str, Run]) -> None:
    run = cli["name-required"]
    assert run.code == 1, run.err
    assert any(" /name " in line and "property-became-required" in line for line in _lines(run, "breaking"))


def test_cli_updated_at_no_longer_required_in_response_exits_1(cli: dict[str, Run]) -> None:
    run = cli["updated-optional"]
    assert run.code == 1, run.err
    assert any("response" in line and "/updatedAt" in line and "property-became-optional" in line
               for line in _lines(run, "breaking"))


def test_cli_response_status_value_added_is_a_warning(cli: dict[str, Run]) -> None:
    run = cli["status-added"]
    assert run.code == 0, run.err
    assert any("/status=paused" in line for line in _lines(run, "warning"))
    assert cli["status-added-fail-on-warning"].code == 1


def test_cli_reserialised_and_inlined_document_has_no_changes(cli: dict[str, Run]) -> None:
    run = cli["relaid"]
    assert run.code == 0, run.err
    assert "no changes to POST /v2/runtimes" in run.out
    assert not any(_lines(run, level) for level in LEVELS)


def test_cli_json_is_a_list_of_changes_plus_a_summary(cli: dict[str, Run], loaded_contract: Contract) -> None:
    run = cli["json"]
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert data["summary"]["total"] == len(data["changes"]) == 1
    assert data["summary"]["info"] == 1 and data["summary"]["breaking"] == 0
    change = data["changes"][0]
    assert change["subject"] == f"{enum_pointer(loaded_contract, 'request', 'locale')}={NEW_LOCALE}"
    assert {"level", "side", "pointer", "kind", "message", "oasdiff"} <= set(change)
    assert change["oasdiff"] == ["request-property-enum-value-added"]
    assert [e["status"] for e in data["errata"]] == [STILL_NEEDED] * len(overlay_actions())


def test_cli_markdown_is_a_table_for_a_pr_comment(cli: dict[str, Run]) -> None:
    run = cli["markdown"]
    lines = run.out.splitlines()
    assert lines[0].startswith("### Contract drift")
    header = lines.index("| Level | Side | Pointer | Change | For clients | oasdiff |")
    assert lines[header + 1] == "|---|---|---|---|---|---|"
    row = lines[header + 2]
    assert row.startswith("| warning | response | `/status=paused` | enum-value-added |") and row.endswith("|")
    assert row.count(" | ") == 5  # no stray pipe splits a cell
    assert "#### Errata carry-over" in lines


def test_cli_reports_errata_no_longer_matching_without_crashing(cli: dict[str, Run]) -> None:
    run = cli["errata-gone"]
    assert run.code == 0, run.err
    assert sum(NO_LONGER_MATCHING in line for line in run.out.splitlines() if line.startswith("erratum ")) == 1
    assert "erratum" not in cli["errata-none"].out


@pytest.mark.parametrize("case, says", [
    ("missing-file", "NEW file not found"),
    ("missing-errata", "errata overlay file not found"),
    ("not-openapi", "is not an OpenAPI 3.x document"),
    ("no-operation", "has no 'POST /v2/runtimes' operation"),
    ("bad-option", "invalid choice: 'xml'"),
    ("one-document", "give two documents"),
])
def test_cli_usage_errors_are_one_line_exit_4(cli: dict[str, Run], case: str, says: str) -> None:
    run = cli[case]
    assert run.code == EXIT_USAGE
    assert run.out == ""
    assert run.err.count("\n") == 1 and says in run.err, run.err
    assert "Traceback" not in run.err


# ---- probes ------------------------------------------------------------------------------------------

def probe_pair(edit: Edit, contract: Contract) -> tuple[DriftReport, Contract, Contract]:
    new = upstream()
    edit(new, contract)
    report = drift(upstream(), new)
    old_contract, new_contract = contracts_of(report)
    return report, old_contract, new_contract


def test_probe_for_an_added_locale_is_valid_for_new_only_and_judged(loaded_contract: Contract) -> None:
    report, old, new = probe_pair(_append_enum("request", "locale", NEW_LOCALE), loaded_contract)
    found = probes(report.changes, old, new, space_id=SPACE, name_prefix="drift-selftest-")
    pointer = enum_pointer(loaded_contract, "request", "locale")
    assert [p.id for p in found] == [f"drift:added:{pointer}={NEW_LOCALE}"]
    probe = found[0]
    assert new.request_validator().is_valid(probe.payload)
    assert not old.request_validator().is_valid(probe.payload)
    assert probe.payload["name"].startswith("drift-selftest-") and probe.payload["spaceId"] == SPACE
    assert probe.judge(200, {"id": "x"})[0] == "implemented"
    verdict, reason = probe.judge(422, {"error": "invalid locale"})
    assert verdict == "not implemented" and "422" in reason and "\n" not in reason
    assert probe.judge(500, {})[0] == "inconclusive"
    assert probe.judge(401, {})[0] == "inconclusive"


def test_probe_for_a_removed_request_value_expects_a_refusal(loaded_contract: Contract) -> None:
    report, old, new = probe_pair(_drop_last_enum("request", "stealth"), loaded_contract)
    (probe,) = probes(report.changes, old, new, space_id=SPACE)
    removed = _last_enum_value(loaded_contract, "request", "stealth")
    assert probe.id == f"drift:removed:{enum_pointer(loaded_contract, 'request', 'stealth')}={removed}"
    assert old.request_validator().is_valid(probe.payload) and not new.request_validator().is_valid(probe.payload)
    assert probe.judge(422, {})[0] == "implemented"
    assert probe.judge(200, {})[0] == "not implemented"


def test_probe_for_a_newly_required_field_leaves_it_out(loaded_contract: Contract) -> None:
    report, old, new = probe_pair(_required("request", "/name", add=True), loaded_contract)
    (probe,) = probes(report.changes, old, new, space_id=SPACE, name_prefix="drift-")
    assert probe.id == "drift:required:/name" and "name" not in probe.payload
    assert old.request_validator().is_valid(probe.payload) and not new.request_validator().is_valid(probe.payload)
    assert probe.judge(400, {})[0] == "implemented"
    assert probe.judge(200, {})[0] == "not implemented"


def test_probe_for_a_field_made_optional_leaves_it_out(loaded_contract: Contract) -> None:
    report, old, new = probe_pair(_required("request", "/type", add=False), loaded_contract)
    (probe,) = probes(report.changes, old, new, space_id=SPACE)
    assert probe.id == "drift:optional:/type" and "type" not in probe.payload
    assert new.request_validator().is_valid(probe.payload) and not old.request_validator().is_valid(probe.payload)
    assert probe.judge(200, {})[0] == "implemented"
    assert probe.judge(422, {})[0] == "not implemented"


def test_probe_for_a_new_optional_field_is_inconclusive_when_old_allows_unknown_fields(
        loaded_contract: Contract) -> None:
    report, old, new = probe_pair(_add_property("request", "/config", "region"), loaded_contract)
    (probe,) = probes(report.changes, old, new, space_id=SPACE)
    assert probe.id == "drift:added:/config/region" and probe.payload["config"]["region"]
    assert new.request_validator().is_valid(probe.payload) and old.request_validator().is_valid(probe.payload)
    assert probe.judge(200, {})[0] == "inconclusive"  # an OLD server that ignores unknown fields says 200 too
    assert probe.judge(422, {})[0] == "not implemented"


def test_probe_for_an_added_branch_takes_it(loaded_contract: Contract) -> None:
    report, old, new = probe_pair(_proxy_branch_added, loaded_contract)
    (probe,) = probes(report.changes, old, new, space_id=SPACE)
    assert probe.id == f"drift:added:{proxy_pointer(loaded_contract)}=direct"
    assert new.request_validator().is_valid(probe.payload) and not old.request_validator().is_valid(probe.payload)


def test_probe_for_a_new_response_field_looks_for_it_in_the_200_body(loaded_contract: Contract) -> None:
    for required, absent in ((True, "not implemented"), (False, "inconclusive")):
        report, old, new = probe_pair(_add_property("response", "", "region", required=required), loaded_contract)
        (probe,) = probes(report.changes, old, new, space_id=SPACE)
        assert probe.id == "drift:present:/region"
        assert new.request_validator().is_valid(probe.payload)
        assert probe.judge(200, {"region": "eu"})[0] == "implemented"
        assert probe.judge(200, {"id": "x"})[0] == absent
        assert probe.judge(422, {})[0] == "inconclusive"


def test_probe_for_a_response_field_made_required_is_proven_only_by_absence(loaded_contract: Contract) -> None:
    report, old, new = probe_pair(_required("response", "/config/fingerprint/locale", add=True), loaded_contract)
    (probe,) = probes(report.changes, old, new, space_id=SPACE)
    assert probe.id == "drift:present:/config/fingerprint/locale"
    assert probe.judge(200, {"config": {"fingerprint": {"locale": "x"}}})[0] == "inconclusive"  # OLD may send it too
    # /config is optional in the response, so its absence is not proof either; a required top-level field's is.
    assert probe.judge(200, {"config": {"fingerprint": {}}})[0] == "inconclusive"
    report, old, new = probe_pair(_required("response", "/metadata", add=True), loaded_contract)
    (probe,) = probes(report.changes, old, new, space_id=SPACE)
    assert probe.judge(200, {"id": "x"})[0] == "not implemented"
    report, old, new = probe_pair(_required("response", "/activeRunId", add=False), loaded_contract)
    assert probes(report.changes, old, new, space_id=SPACE) == ()  # became optional: nothing to ask


def test_changes_without_a_meaningful_probe_get_none(loaded_contract: Contract) -> None:
    for edit in (_set("request", "/name", description="documentation only"),
                 _append_enum("response", "status", "paused"), _status("201")):
        report, old, new = probe_pair(edit, loaded_contract)
        assert report.changes and probes(report.changes, old, new, space_id=SPACE) == ()


# ---- layering ----------------------------------------------------------------------------------------

def test_contracts_drift_imports_neither_strategies_nor_harness() -> None:
    for path in (ROOT / "contracts" / "drift").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.split(".")[0] in ("strategies", "harness", "tests")}, path
