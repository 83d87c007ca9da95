"""Bearer auth is enforced: every way of not presenting the key gets 401 (403 accepted), never a 2xx.

The `auth` check judges each answer (a 2xx fails; a 401 without WWW-Authenticate, or another 4xx such as
RFC 6750's 400 for a malformed header, is a warning); `status_code` fails a 5xx; `secrets` fails an answer
that echoes the credential back. The forms of the *valid* key a server must accept (scheme case, spaces)
are framing cases (tests/conformance/test_framing.py).
"""
from __future__ import annotations

from harness.plugin.planning import PlannedRunner


def test_rejects_bad_credentials(planned: PlannedRunner, case_id: str) -> None:
    exchange = planned.verify(case_id)
    assert exchange.status is not None
