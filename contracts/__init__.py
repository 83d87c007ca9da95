"""The contract: the upstream document, its errata, and what is derived from them."""
from contracts.catalog import EnumEntry, VariantEntry
from contracts.errors import ContractError
from contracts.loader import DEFAULT_CONTRACT, DEFAULT_OVERLAY, Contract, load_contract
from contracts.overlay import Erratum, apply_overlay

__all__ = [
    "Contract",
    "ContractError",
    "DEFAULT_CONTRACT",
    "DEFAULT_OVERLAY",
    "EnumEntry",
    "Erratum",
    "VariantEntry",
    "apply_overlay",
    "load_contract",
]
