"""Safety around a real server: production guard, default limits, created runtimes, cleanup."""
from __future__ import annotations

import ipaddress
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote, urlsplit

import pytest
import requests

from harness.transport import Limits

# A remote target on your own machine is yours: no default budget or pacing.
# Anywhere else it is shared: these defaults hold unless an option says otherwise.
REMOTE_MAX_CREATES = 300
REMOTE_RATE_LIMIT = 5.0  # requests per second, across all xdist workers

# Host labels (split on '.' and '-') that mark a non-production environment,
# and reserved top-level names (RFC 2606, RFC 6761) that never are production.
NON_PRODUCTION_LABEL = re.compile(
    r"^(staging|stage|stg|preprod|dev|devel|development|test|testing|qa|uat|sandbox|preview|demo|local|mock|ci)\d*$")
NON_PRODUCTION_TLDS = frozenset({"localhost", "local", "test", "example", "invalid", "internal", "lan"})

CREATED_FILE = "created-runtimes.json"


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def looks_like_production(url: str) -> bool:
    """True unless the host says it is local, private or a non-production environment."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
        return not (address.is_loopback or address.is_private or address.is_link_local)
    except ValueError:
        pass
    labels = host.split(".")
    if labels[-1] in NON_PRODUCTION_TLDS:
        return False
    return not any(NON_PRODUCTION_LABEL.match(part) for label in labels for part in label.split("-"))


def default_limits(base_url: str | None, max_creates: int | None, rate_limit: float | None) -> Limits:
    """Explicit options win; otherwise a shared (non-loopback) remote target gets the polite defaults."""
    shared = base_url is not None and not is_loopback(base_url)
    creates = max_creates if max_creates is not None else (REMOTE_MAX_CREATES if shared else None)
    rate = rate_limit if rate_limit is not None else (REMOTE_RATE_LIMIT if shared else None)
    return Limits(creates if creates and creates > 0 else None, rate if rate and rate > 0 else None)


def created_fields(body: Any, *, test: str, label: str = "") -> dict[str, Any]:
    """The fields of a `created` record, from a 2xx create's body (id and name are null when it names none)."""
    data = body if isinstance(body, dict) else {}
    runtime_id, name = data.get("id"), data.get("name")
    return {"id": runtime_id if isinstance(runtime_id, str) else None, "name": name if isinstance(name, str) else None,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "test": test, "label": label}


def created_runtimes(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every runtime the run created (from `created` records), once each; creates that named no id kept apart."""
    seen: dict[str, dict[str, Any]] = {}
    anonymous: list[dict[str, Any]] = []
    for event in events:
        if event.get("kind") != "created":
            continue
        row = {k: event.get(k) for k in ("id", "name", "at", "test", "label")}
        if event.get("id") is None:
            anonymous.append(row)
        elif event["id"] not in seen:
            seen[event["id"]] = row
    return sorted(seen.values(), key=lambda r: (r["at"] or "", r["id"])) + anonymous


def write_created(folder: Path, runtimes: list[dict[str, Any]], *, run_id: str, base_url: str,
                  name_prefix: str) -> Path:
    """created-runtimes.json, from records that were redacted when written."""
    path = folder / CREATED_FILE
    document = {"run_id": run_id, "base_url": base_url, "name_prefix": name_prefix,
                "count": len(runtimes), "runtimes": runtimes}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class CleanupTemplate:
    """`METHOD /path/{id}`: one request per created runtime; {id} and {name} are URL-quoted."""

    method: str
    path: str

    @classmethod
    def parse(cls, text: str) -> "CleanupTemplate":
        method, _, path = text.strip().partition(" ")
        path = path.strip()
        if not method.isalpha() or not path.startswith("/") or "{id}" not in path and "{name}" not in path:
            raise ValueError(f"cleanup template {text!r} must read 'METHOD /path/{{id}}' (e.g. 'DELETE /v2/runtimes/{{id}}')")
        return cls(method.upper(), path)

    def url(self, base_url: str, runtime: dict[str, Any]) -> str:
        return base_url.rstrip("/") + self.path.replace("{id}", quote(str(runtime["id"]), safe="")).replace(
            "{name}", quote(str(runtime.get("name") or ""), safe=""))


def cleanup(template: CleanupTemplate, base_url: str, api_key: str, runtimes: list[dict[str, Any]],
            session: requests.Session, timeout: tuple[float, float]) -> list[dict[str, Any]]:
    """Send the template once per runtime; each runtime gains `cleanup: {status | error}`."""
    results = []
    for runtime in runtimes:
        outcome: dict[str, Any]
        if runtime.get("id") is None:
            results.append({**runtime, "cleanup": {"error": "the create named no id: remove it by hand"}})
            continue
        try:
            response = session.request(template.method, template.url(base_url, runtime), timeout=timeout,
                                       headers={"Authorization": f"Bearer {api_key}"}, allow_redirects=False)
            outcome = {"status": response.status_code}
            response.close()
        except requests.RequestException as exc:
            outcome = {"error": str(exc)[:200]}
        except pytest.skip.Exception as exc:  # throttled for too long: stop, say so, keep what was done
            outcome = {"error": str(exc)[:200]}
            results.append({**runtime, "cleanup": outcome})
            results += [{**r, "cleanup": {"error": "not attempted"}} for r in runtimes[len(results):]]
            return results
        results.append({**runtime, "cleanup": outcome})
    return results
