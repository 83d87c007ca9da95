"""Traffic the suite did not generate: recorded (HAR 1.2 files) or live, as exchanges the checks can judge."""
from harness.traffic.har import (
    OtherEntry,
    RecordedExchange,
    Traffic,
    TrafficError,
    iter_traffic,
    load_contract_traffic,
    load_traffic,
)
from harness.traffic.judging import NOT_RECORDED, TrafficJudge, TrafficOutcome, bearer_token

__all__ = [
    "NOT_RECORDED",
    "OtherEntry",
    "RecordedExchange",
    "Traffic",
    "TrafficError",
    "TrafficJudge",
    "TrafficOutcome",
    "bearer_token",
    "iter_traffic",
    "load_contract_traffic",
    "load_traffic",
]
