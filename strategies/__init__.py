"""What the suite sends: payloads derived from the contract.

- `covering_set(contract, space_id=...)`: named valid payloads reaching every
  enum value, oneOf branch, optional field and pair of options in every scope
  (`default` marks the rows a run sends);
- `isolate(contract, failing_row, ...)`: follow-up probes narrowing a failing
  row down to its smallest failing combination;
- `boundary_cases(contract, space_id=...)`: schema-valid edge values of every
  field, each classified ordinary or extreme;
- `framing_cases(contract, space_id=...)`: the same valid request framed as
  RFC 9110/8259 allow (must be accepted) or with the key carried wrongly
  (must be refused);
- `lax_json_bodies(contract, space_id=...)`: raw bodies RFC 8259 forbids but
  lax parsers read;
- `runtime_payloads(contract, space_id=...)` (alias `from_contract`): a
  Hypothesis strategy for any valid body, weighted toward the edges;
- `invalid_payloads(contract, space_id=...)`: named invalid payloads, each
  with the pointer it breaks and why;
- `classify(payload, contract)`: ordinary or extreme, by strategies/domains.yaml;
- `minimal_payload` / `full_payload`: one deterministic body each.
"""
from strategies.boundaries import BoundaryCase, boundary_cases
from strategies.covering import CoveringCase, Factor, covering_set, dimensions, scope_dimensions
from strategies.domains import Classification, classify, load_domains
from strategies.examples import full_payload, minimal_payload
from strategies.framing import FramingCase, framing_cases
from strategies.isolate import Isolation, Probe, describe, isolate
from strategies.invalid import InvalidCase, RawCase, invalid_payloads, lax_json_bodies
from strategies.valid import from_contract, runtime_payloads

__all__ = [
    "BoundaryCase",
    "Classification",
    "CoveringCase",
    "Factor",
    "FramingCase",
    "InvalidCase",
    "Isolation",
    "Probe",
    "RawCase",
    "boundary_cases",
    "classify",
    "covering_set",
    "describe",
    "dimensions",
    "framing_cases",
    "from_contract",
    "full_payload",
    "invalid_payloads",
    "isolate",
    "lax_json_bodies",
    "load_domains",
    "minimal_payload",
    "runtime_payloads",
    "scope_dimensions",
]
