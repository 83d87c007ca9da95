"""What the suite sends: payloads derived from the contract.

- `covering_set(contract, space_id=...)`: named valid payloads reaching every
  enum value, oneOf branch, optional field and pair of config values;
- `runtime_payloads(contract, space_id=...)` (alias `from_contract`): a
  Hypothesis strategy for any valid body, weighted toward the edges;
- `invalid_payloads(contract, space_id=...)`: named invalid payloads, each
  with the pointer it breaks and why;
- `classify(payload, contract)`: ordinary or extreme, by strategies/domains.yaml;
- `minimal_payload` / `full_payload`: one deterministic body each.
"""
from strategies.covering import CoveringCase, covering_set, dimensions
from strategies.domains import Classification, classify, load_domains
from strategies.examples import full_payload, minimal_payload
from strategies.invalid import InvalidCase, invalid_payloads
from strategies.valid import from_contract, runtime_payloads

__all__ = [
    "Classification",
    "CoveringCase",
    "InvalidCase",
    "classify",
    "covering_set",
    "dimensions",
    "from_contract",
    "full_payload",
    "invalid_payloads",
    "load_domains",
    "minimal_payload",
    "runtime_payloads",
]
