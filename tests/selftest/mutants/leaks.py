"""Mutants that hand a credential back."""
from __future__ import annotations

from tests.selftest.mutants.base import Reply, mutant, request_json, rewrite


@mutant("leaks-proxy-password", catches="secrets",
        description="the response's config.proxy carries the custom proxy's password")
def leaks_proxy_password(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        sent, data = request_json(body), reply.json
        config = sent.get("config") if isinstance(sent, dict) else None
        proxy = config.get("proxy") if isinstance(config, dict) else None  # invalid bodies: any shape
        if reply.status == 200 and isinstance(data, dict) and isinstance(proxy, dict) and "password" in proxy:
            if isinstance(data.get("config"), dict) and isinstance(data["config"].get("proxy"), dict):
                data["config"]["proxy"]["password"] = proxy["password"]
                reply.set_json(data)
        return reply

    return rewrite(fn)(app)
