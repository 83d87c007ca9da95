"""One planned request: what is sent, which test judges it, what it costs a shared staging server."""
from __future__ import annotations

import base64
import secrets
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Mapping

from contracts.checks.model import MISSING, Intent

Cost = Literal["create", "refusal", "other"]
USE_KEY = "Bearer {key}"  # the default Authorization template


@dataclass(frozen=True)
class PlannedRequest:
    """A deterministic request of the run, known before anything is sent.

    `test` and `param` name the pytest item that judges it (`test[param]`, also
    the case's id); templates in `authorization`, `headers` and `query` hold
    `{key}`, `{key_basic}` or `{random}` instead of any credential, rendered
    only when sent. `cost` says what it costs staging: a `create` (a request a
    correct server accepts, which provisions a runtime), a `refusal` (a POST a
    correct server refuses: it costs nothing when refused, and counts as a
    create if accepted), or `other` (another method).
    """

    test: str
    param: str
    group: str
    cost: Cost
    intent: Intent
    label: str
    method: str = "POST"
    payload: Any = field(default=MISSING, repr=False)
    body: bytes | None = field(default=None, repr=False)
    content_type: str | None = "application/json"
    authorization: str | None = USE_KEY
    headers: Mapping[str, str] | None = None  # the whole header set (framing cases), else None
    query: str = ""
    burst: str | None = None  # requests with the same burst id are sent at the same moment
    row: Any = field(default=None, repr=False)  # the covering row, for follow-ups

    @property
    def id(self) -> str:
        return f"{self.test}[{self.param}]"

    def rendered_headers(self, api_key: str) -> dict[str, str] | None:
        if self.headers is None:
            return None
        return {name: render(value, api_key) for name, value in self.headers.items()}

    def rendered_authorization(self, api_key: str) -> str | None:
        return None if self.authorization is None else render(self.authorization, api_key)


def render(template: str, api_key: str) -> str:
    """A template with the key put in: for sending only, never for a record."""
    text = template.replace("{key_basic}", base64.b64encode(f"{api_key}:".encode()).decode())
    text = text.replace("{random}", secrets.token_urlsafe(24))
    return text.replace("{key}", api_key)


@dataclass(frozen=True, repr=False)
class Plan:
    """Every deterministic request of a run, in the order they are sent (and judged)."""

    requests: tuple[PlannedRequest, ...]

    def __post_init__(self) -> None:
        counted = Counter(r.id for r in self.requests)
        duplicates = sorted(i for i, n in counted.items() if n > 1)
        if duplicates:
            raise ValueError(f"the plan names requests twice: {duplicates[:5]}")

    def __repr__(self) -> str:  # pytest prints it beside a failure: a count, not 700 requests
        return f"Plan({len(self.requests)} requests)"

    @cached_property
    def index(self) -> Mapping[str, PlannedRequest]:
        """The requests by id (`test[param]`)."""
        return {r.id: r for r in self.requests}

    def for_test(self, test: str) -> tuple[PlannedRequest, ...]:
        return tuple(r for r in self.requests if r.test == test)

    def select(self, ids: set[str]) -> "Plan":
        return Plan(tuple(r for r in self.requests if r.id in ids))
