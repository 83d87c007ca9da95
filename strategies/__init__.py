"""What the suite sends: payloads derived from the contract."""
from strategies.examples import full_payload, minimal_payload

__all__ = ["full_payload", "minimal_payload"]
