"""Drift probes: one request per contract change, asking a server "do you implement NEW?".

`probes(changes, old_contract, new_contract, space_id=..., name_prefix=...)`
turns the changes of contracts.drift into requests whose outcome differs
between a server of OLD and a server of NEW, each with a `judge` that reads
the answer:

- a request enum value, oneOf branch or optional field NEW allows: a NEW-valid
  payload using it (built with strategies.builder.Builder over NEW's request
  schema); NEW accepts it (2xx), OLD may refuse it (4xx);
- a request field NEW no longer requires: a NEW-valid payload without it;
- a request enum value or branch NEW removed: the payload with it; NEW
  refuses it (4xx), OLD accepts it;
- a request field NEW requires: a NEW-valid payload but for that field,
  which is left out; NEW refuses it;
- a response field NEW adds or now requires: a minimal valid create; NEW's 200
  body has the field (absence is proof only where NEW says it is always there).

Changes with no request that tells the versions apart (descriptions, a
response enum value the client cannot make the server produce, status codes,
security, a field removed from a request that still allows unknown fields)
get no probe. Pure: nothing is sent here; the harness sends `payload` and
hands the answer to `judge`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Literal, Mapping

from contracts import Contract
from contracts.drift import Change
from strategies.builder import ABSENT, Branch, Builder, Fill
from strategies.domains import Domains, load_domains
from strategies.schema import MISSING, node_at, resolve, segments, split_branch

Verdict = Literal["implemented", "not implemented", "inconclusive"]
Expect = Literal["accepted", "refused", "present"]
# Answers about the caller or the traffic, not about the payload.
NOT_ABOUT_THE_PAYLOAD = frozenset({401, 403, 407, 408, 429})


@dataclass(frozen=True)
class DriftProbe:
    """One request that a server implementing NEW answers differently from a server of OLD."""

    id: str  # drift:added:/config/fingerprint/locale=xx-XX
    change: Change
    payload: Any = field(repr=False)
    expect: Expect  # what a server of NEW does: accept the payload, refuse it, or return the field
    pointer: str  # the request field the payload is about; for `present`, the response field to look for
    about: str  # what the payload does, as the reason reads: `/config/stealth=ultra`, `a body without /name`
    always_present: bool = False  # `present`: NEW says the field is in every 200 body
    # OLD's schema judges the payload otherwise than NEW's, so NEW's outcome tells the versions apart.
    # Not so for a new optional field when OLD allows unknown fields: 200 then proves nothing.
    old_differs: bool = True

    def judge(self, status: int, body: object) -> tuple[Verdict, str]:
        """("implemented" | "not implemented" | "inconclusive", a one-line reason) for one answer."""
        if status in NOT_ABOUT_THE_PAYLOAD:
            return "inconclusive", f"{status} is about the caller, not the payload; fix access and rerun"
        if status >= 500 or status < 200 or 300 <= status < 400:
            return "inconclusive", f"status {status}: neither an acceptance nor a refusal"
        ok = 200 <= status < 300
        if self.expect == "accepted":
            if ok and not self.old_differs:
                return "inconclusive", f"accepted {self.about}, but OLD's schema allows it too"
            if ok:
                return "implemented", f"accepted {self.about}, as NEW allows"
            return "not implemented", f"refused {self.about} with {status}; NEW allows it"
        if self.expect == "refused":
            if ok:
                return "not implemented", f"accepted {self.about} with {status}; NEW refuses it"
            if not self.old_differs:
                return "inconclusive", f"refused {self.about} with {status}, but OLD's schema refuses it too"
            return "implemented", f"refused {self.about} with {status}, as NEW requires"
        if not ok:
            return "inconclusive", f"the create failed with {status}; no body to look at"
        if resolve(body, self.pointer) is not MISSING and not self.old_differs:
            return "inconclusive", f"the 200 body has {self.pointer}, which OLD documents too"
        if resolve(body, self.pointer) is not MISSING:
            return "implemented", f"the 200 body has {self.pointer}, as NEW documents"
        if self.always_present:
            return "not implemented", f"the 200 body lacks {self.pointer}; NEW says it is always there"
        return "inconclusive", f"the 200 body lacks {self.pointer}, which NEW allows to be absent"


def probes(changes: Iterable[Change], old_contract: Contract, new_contract: Contract, *, space_id: str,
           name_prefix: str = "", saved_proxy_id: str | None = None,
           domains: Domains | None = None) -> tuple[DriftProbe, ...]:
    """One probe per change that a request can tell apart (see the module doc), in the order of `changes`.

    Payloads are built over NEW's request schema (OLD's for a removed branch),
    in `space_id`, named `name_prefix` + the probe id. A change the builder
    cannot honour (e.g. an unlabelled duplicate branch) gets no probe.
    """
    domains = domains or load_domains()
    make = _Maker(
        Builder(old_contract, space_id=space_id, name_prefix=name_prefix, saved_proxy_id=saved_proxy_id,
                domains=domains),
        Builder(new_contract, space_id=space_id, name_prefix=name_prefix, saved_proxy_id=saved_proxy_id,
                domains=domains),
        old_contract, new_contract, domains)
    out: list[DriftProbe] = []
    for change in changes:
        if not change.primary:
            continue  # the suite sends JSON and reads the 200 body; other bodies are not probed
        builder = _BUILDERS.get((change.side, change.kind))
        if builder is None:
            continue
        try:
            probe = builder(make, change)
        except (KeyError, ValueError):  # the schema cannot honour the plan: no meaningful probe
            continue
        probe = make.checked(probe) if probe is not None else None
        if probe is not None:
            out.append(probe)
    return tuple(out)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _chain_plan(branches: tuple[str, ...]) -> dict[str, Any]:
    # Later entries at the same pointer are the inner branches: they win.
    return {pointer: Branch(label) for pointer, label in map(split_branch, branches)}


def _around(pointer: str, *, inclusive: bool = True) -> Fill:
    """Fill the optional objects on the way to `pointer` (and, if inclusive, it and what is below)."""
    def fill(at: str, node: Mapping[str, Any]) -> bool:
        if pointer.startswith(at + "/"):
            return True
        return inclusive and (at == pointer or at.startswith(pointer + "/"))
    return fill


def _delete(payload: Any, pointer: str) -> bool:
    *path, last = segments(pointer)
    holder = payload
    for part in path:
        holder = holder[0] if isinstance(holder, list) and part == "*" and holder else (
            holder.get(part) if isinstance(holder, dict) else None)
    if isinstance(holder, dict) and last in holder:
        del holder[last]
        return True
    return False


class _Maker:
    def __init__(self, old: Builder, new: Builder, old_contract: Contract, new_contract: Contract,
                 domains: Domains) -> None:
        self.old, self.new = old, new
        self.new_contract = new_contract
        self.name_pointer = domains.role("name")
        self.valid_old = old_contract.request_validator().is_valid
        self.valid_new = new_contract.request_validator().is_valid

    def checked(self, probe: DriftProbe) -> DriftProbe | None:
        """The probe with `old_differs` measured; None when NEW's schema contradicts what it expects."""
        if probe.expect == "present":
            return probe
        valid_new, valid_old = self.valid_new(probe.payload), self.valid_old(probe.payload)
        if valid_new != (probe.expect == "accepted"):
            return None  # a payload NEW's own schema judges otherwise would test the builder, not the server
        return replace(probe, old_differs=valid_old != valid_new)

    def build(self, builder: Builder, probe_id: str, plan: dict[str, Any], target: str,
              fill: Fill | None = None) -> Any:
        """A payload honouring `plan`, named `prefix + probe id` unless the probe is about the name (`target`)."""
        plan = dict(plan)
        # Named with the run's prefix, so a real server's leftovers can be found and cleaned up.
        if (self.name_pointer and target != self.name_pointer and self.name_pointer not in plan
                and node_at(builder.schema, self.name_pointer) is not None):
            plan[self.name_pointer] = builder.name_for(probe_id)
        kwargs = {"fill": fill} if fill is not None else {}
        return builder.build(plan, seed=probe_id, **kwargs)

    def value_added(self, change: Change) -> DriftProbe:
        probe_id = f"drift:added:{change.pointer}={_plain(change.value)}"
        plan = {**_chain_plan(change.branches), change.pointer: change.value}
        payload = self.build(self.new, probe_id, plan, change.pointer)
        return DriftProbe(probe_id, change, payload, "accepted", change.pointer, change.subject)

    def value_removed(self, change: Change) -> DriftProbe:
        probe_id = f"drift:removed:{change.pointer}={_plain(change.value)}"
        plan = {**_chain_plan(change.branches), change.pointer: change.value}
        payload = self.build(self.new, probe_id, plan, change.pointer)
        return DriftProbe(probe_id, change, payload, "refused", change.pointer, change.subject)

    def _branch_plan(self, change: Change) -> dict[str, Any]:
        wanted = None if change.value == "null" else Branch(str(change.value))
        return {**_chain_plan(change.branches), change.pointer: wanted}

    def branch_added(self, change: Change) -> DriftProbe:
        probe_id = f"drift:added:{change.pointer}={change.value}"
        payload = self.build(self.new, probe_id, self._branch_plan(change), change.pointer)
        return DriftProbe(probe_id, change, payload, "accepted", change.pointer, change.subject)

    def branch_removed(self, change: Change) -> DriftProbe:
        # NEW cannot build a branch it no longer has; OLD can.
        probe_id = f"drift:removed:{change.pointer}={change.value}"
        payload = self.build(self.old, probe_id, self._branch_plan(change), change.pointer)
        return DriftProbe(probe_id, change, payload, "refused", change.pointer, change.subject)

    def field_added(self, change: Change) -> DriftProbe | None:
        probe_id = f"drift:added:{change.pointer}"
        payload = self.build(self.new, probe_id, _chain_plan(change.branches), change.pointer, _around(change.pointer))
        if resolve(payload, change.pointer) is MISSING:
            return None
        return DriftProbe(probe_id, change, payload, "accepted", change.pointer, f"a body with {change.pointer}")

    def field_optional(self, change: Change) -> DriftProbe:
        probe_id = f"drift:optional:{change.pointer}"
        plan = {**_chain_plan(change.branches), change.pointer: ABSENT}
        payload = self.build(self.new, probe_id, plan, change.pointer, _around(change.pointer, inclusive=False))
        return DriftProbe(probe_id, change, payload, "accepted", change.pointer, f"a body without {change.pointer}")

    def field_required(self, change: Change) -> DriftProbe | None:
        probe_id = f"drift:required:{change.pointer}"
        payload = self.build(self.new, probe_id, _chain_plan(change.branches), change.pointer,
                             _around(change.pointer, inclusive=False))
        payload = copy.deepcopy(payload)
        if not _delete(payload, change.pointer):
            return None
        return DriftProbe(probe_id, change, payload, "refused", change.pointer, f"a body without {change.pointer}")

    def response_field(self, change: Change) -> DriftProbe:
        probe_id = f"drift:present:{change.pointer}"
        payload = self.build(self.new, probe_id, {}, "")
        always = _always_present(self.new_contract.response_schema, change.pointer)
        # A field OLD documented (now required) may be sent by a server of OLD too: only absence tells.
        return DriftProbe(probe_id, change, payload, "present", change.pointer, "a minimal create", always,
                          old_differs=change.kind != "property-became-required")


def _declaring(node: Any, name: str) -> Mapping[str, Any] | None:
    """`node`, or the first of its oneOf/anyOf branches (at any depth), that declares property `name`."""
    if not isinstance(node, Mapping):
        return None
    if name in (node.get("properties") or {}):
        return node
    for key in ("oneOf", "anyOf"):
        for branch in node.get(key) or ():
            found = _declaring(branch, name)
            if found is not None:
                return found
    return None


def _always_present(schema: Mapping[str, Any], pointer: str) -> bool:
    """Every step to `pointer` is a required property (an array item may not exist: never always)."""
    node: Any = schema
    for part in segments(pointer):
        holder = _declaring(node, part)
        if holder is None or part not in (holder.get("required") or ()):
            return False
        node = holder["properties"][part]
    return True


_BUILDERS: dict[tuple[str, str], Callable[[_Maker, Change], DriftProbe | None]] = {
    ("request", "enum-value-added"): _Maker.value_added,
    ("request", "enum-value-removed"): _Maker.value_removed,
    ("request", "branch-added"): _Maker.branch_added,
    ("request", "branch-removed"): _Maker.branch_removed,
    ("request", "optional-property-added"): _Maker.field_added,
    ("request", "property-became-optional"): _Maker.field_optional,
    ("request", "required-property-added"): _Maker.field_required,
    ("request", "property-became-required"): _Maker.field_required,
    ("response", "optional-property-added"): _Maker.response_field,
    ("response", "required-property-added"): _Maker.response_field,
    ("response", "property-became-required"): _Maker.response_field,
}

__all__ = ["DriftProbe", "Verdict", "probes"]
