"""Build the 200 body for a validated create request (pure, no I/O)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from mock import defaults


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _proxy(proxy: Any) -> dict[str, str] | None:
    # Never echo credentials: the response names the proxy, it does not describe how to log in.
    if not isinstance(proxy, dict):
        return None
    if proxy.get("mode") == "saved":
        return {"id": proxy["id"], "name": f"saved proxy {proxy['id'][:8]}"}
    endpoint = f"{proxy['protocol']}://{proxy['host']}:{proxy['port']}"
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, endpoint)), "name": endpoint}


def build_runtime(body: dict[str, Any]) -> dict[str, Any]:
    config = body.get("config") or {}
    fingerprint = config.get("fingerprint") or {}
    lifecycle = config.get("lifecycle") or {}
    browser = fingerprint.get("browser", defaults.FINGERPRINT["browser"])
    locale = fingerprint.get("locale", defaults.FINGERPRINT["locale"])
    runtime_id = str(uuid.uuid4())
    stamp = now_iso()
    return {
        "id": runtime_id,
        "name": body["name"] if "name" in body else f"runtime-{runtime_id[:8]}",
        "type": body["type"],
        "status": defaults.STATUS,
        "activeRunId": None,
        "metadata": body.get("metadata"),
        "config": {
            "browser": {"profile": (config.get("browser") or {}).get("profile", defaults.BROWSER_PROFILE)},
            "extensions": list(config.get("extensions") or []),
            "fingerprint": {
                "browser": browser,
                "locale": locale,
                "timezone": defaults.TIMEZONES.get(locale, "UTC"),
                "userAgent": defaults.USER_AGENTS.get(browser, defaults.DEFAULT_USER_AGENT),
                "viewport": dict(defaults.FINGERPRINT["viewport"]),
            },
            "lifecycle": {
                "idleTimeoutMinutes": lifecycle.get("idleTimeoutMinutes", defaults.IDLE_TIMEOUT_MINUTES),
                "lastActivityAt": stamp,
            },
            "proxy": _proxy(config.get("proxy")),
            "stealth": config.get("stealth", defaults.STEALTH),
        },
        "createdAt": stamp,
        "updatedAt": stamp,
    }
