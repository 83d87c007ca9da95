"""Mutants that hand a credential back, one place each."""
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


@mutant("echoes-key-in-header", catches="secrets",
        description="every answer carries the request's Authorization header back in X-Debug-Authorization")
def echoes_key_in_header(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        authorization = dict(scope.get("headers", [])).get(b"authorization")
        if authorization:
            reply.set_header("X-Debug-Authorization", authorization.decode("latin-1"))
        return reply

    return rewrite(fn)(app)


@mutant("echoes-key-in-error-body", catches="secrets",
        description="error answers quote the Authorization header they got in their JSON body")
def echoes_key_in_error_body(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        authorization = dict(scope.get("headers", [])).get(b"authorization")
        data = reply.json
        if authorization and reply.status >= 400 and isinstance(data, dict) and isinstance(data.get("error"), dict):
            data["error"]["received_authorization"] = authorization.decode("latin-1")
            reply.set_json(data)
        return reply

    return rewrite(fn)(app)


@mutant("leaks-credentials-in-name", catches="secrets",
        description="the created runtime's name ends with the proxy's username:password")
def leaks_credentials_in_name(app):  # type: ignore[no-untyped-def]
    def fn(scope: dict, body: bytes, reply: Reply) -> Reply:
        sent, data = request_json(body), reply.json
        config = sent.get("config") if isinstance(sent, dict) else None
        proxy = config.get("proxy") if isinstance(config, dict) else None
        if reply.status == 200 and isinstance(data, dict) and isinstance(proxy, dict) \
                and isinstance(proxy.get("username"), str) and isinstance(proxy.get("password"), str):
            data["name"] = f"{data.get('name', '')} via {proxy['username']}:{proxy['password']}"
            reply.set_json(data)
        return reply

    return rewrite(fn)(app)
