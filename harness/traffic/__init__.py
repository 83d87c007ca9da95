"""Recorded traffic (HAR 1.2 files) as exchanges the checks can judge."""
from harness.traffic.har import (
    OtherEntry,
    RecordedExchange,
    Traffic,
    TrafficError,
    iter_traffic,
    load_contract_traffic,
    load_traffic,
)

__all__ = [
    "OtherEntry",
    "RecordedExchange",
    "Traffic",
    "TrafficError",
    "iter_traffic",
    "load_contract_traffic",
    "load_traffic",
]
