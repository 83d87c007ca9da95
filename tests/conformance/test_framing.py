"""Framing (strategies/framing.py): the same valid request framed the ways HTTP and JSON allow must be accepted;
the valid key carried any other way than the contract's Bearer scheme must be refused.

Accepted forms: media-type parameters and case, header-name case, auth-scheme case (RFC 9110 11.1), spaces
after the scheme, insignificant whitespace, members in another order (RFC 8259). Refusing one fails (valid
input rejected). Refused forms: another scheme, no scheme, a quoted key, another header, the query string;
a 2xx fails (the auth check).
"""
from __future__ import annotations

from harness.plugin.planning import PlannedRunner


def test_accepts_framing(planned: PlannedRunner, case_id: str) -> None:
    planned.verify(case_id)


def test_refuses_framing(planned: PlannedRunner, case_id: str) -> None:
    planned.verify(case_id)
