"""The first promises of the endpoint: valid payloads get a conforming 200, no key gets a 401."""
from __future__ import annotations

from harness.plugin.planning import PlannedRunner


def test_minimal_payload_is_created(planned: PlannedRunner, case_id: str) -> None:
    """Only the required fields: a 200 whose body matches the documented schema and reflects the request."""
    planned.verify(case_id)


def test_full_payload_is_created(planned: PlannedRunner, case_id: str) -> None:
    """Every documented field (the first enum value and branch of each): a conforming 200."""
    planned.verify(case_id)


def test_missing_authorization_is_rejected(planned: PlannedRunner, case_id: str) -> None:
    """No Authorization header: the auth check judges it (a 2xx or 5xx fails, 401/403 pass, another 4xx warns)."""
    planned.verify(case_id)
