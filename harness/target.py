"""Which server the suite talks to: the embedded mock, or a remote base URL."""
from __future__ import annotations

import os
import secrets
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

ENV_BASE_URL = "BCTRL_BASE_URL"
ENV_API_KEY = "BCTRL_API_KEY"
ENV_SPACE_ID = "BCTRL_SPACE_ID"


class UsageProblem(Exception):
    """A wrong option or environment variable; the message says what and how to fix it."""


class TargetUnreachable(Exception):
    """The target does not answer at all; the message says where and what to check."""


@dataclass(frozen=True)
class TargetConfig:
    base_url: str | None  # None: start the embedded mock
    api_key: str
    space_id: str

    @property
    def embedded(self) -> bool:
        return self.base_url is None


def check_base_url(url: str, source: str = "--base-url") -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageProblem(f"{source} {url!r} is not an http(s) URL; use e.g. --base-url https://staging.example.com")
    try:
        parts.port
    except ValueError:
        raise UsageProblem(f"{source} {url!r} has an invalid port; use e.g. http://127.0.0.1:8787") from None
    if parts.query or parts.fragment:
        raise UsageProblem(f"{source} {url!r} must not carry a query or fragment; pass only scheme, host, port and path prefix")
    return url.rstrip("/")


def check_space_id(value: str, source: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise UsageProblem(f"{source} {value!r} is not a uuid; pass the id of the space runtimes are created in") from None


def resolve(base_url: str | None, space_id: str | None, environ: dict[str, str] | None = None) -> TargetConfig:
    env = os.environ if environ is None else environ
    source = "--base-url" if base_url else ENV_BASE_URL
    base_url = base_url or env.get(ENV_BASE_URL) or None
    if base_url is None:
        # Embedded mock: a fresh key nobody else knows, and any space.
        return TargetConfig(None, "mock-" + secrets.token_urlsafe(24),
                            check_space_id(space_id, "--space-id") if space_id else str(uuid.uuid4()))
    base_url = check_base_url(base_url, source)
    api_key = env.get(ENV_API_KEY, "").strip()
    if not api_key:
        raise UsageProblem(f"no API key for the remote target {base_url}: set {ENV_API_KEY}=<key> "
                           "(read from the environment only, so it never lands in shell history or reports)")
    if space_id:
        space = check_space_id(space_id, "--space-id")
    elif env.get(ENV_SPACE_ID):
        space = check_space_id(env[ENV_SPACE_ID], ENV_SPACE_ID)
    else:
        raise UsageProblem(f"no space for the remote target {base_url}: set {ENV_SPACE_ID}=<uuid> or pass --space-id")
    return TargetConfig(base_url, api_key, space)


def probe(base_url: str, timeout: float = 5.0) -> None:
    """Open one TCP connection to the target, so a dead target fails the run once, not per test."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except socket.gaierror:
        raise TargetUnreachable(f"cannot resolve host {parts.hostname!r} of {base_url}: check --base-url") from None
    except TimeoutError:
        raise TargetUnreachable(f"no answer from {base_url} within {timeout:g} s: is the server up and reachable from here?") from None
    except OSError as exc:
        raise TargetUnreachable(f"cannot connect to {base_url} ({exc.strerror or exc}): is the server running, and is --base-url right?") from None
