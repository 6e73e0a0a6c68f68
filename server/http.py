"""Streamable HTTP transport, behind a bearer token whenever one is configured.

The token check is a plain ASGI wrapper in front of the SDK's app: every request, MCP or not, must
carry `Authorization: Bearer <token>`, compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any

import uvicorn
from mcp.server import MCPServer
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerTokenGate:
    def __init__(self, app: ASGIApp, token: SecretStr) -> None:
        self._app = app
        self._expected = f"Bearer {token.get_secret_value()}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            presented = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(presented, self._expected):
                await _unauthorized(send)
                return
        await self._app(scope, receive, send)


async def _unauthorized(send: Send) -> None:
    body = json.dumps({"error": "unauthorized", "error_description": "Send Authorization: Bearer <token>."})
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})


def serve_http(
    server: MCPServer[Any],
    *,
    host: str,
    port: int,
    token: SecretStr | None,
    stateless: bool,
    json_response: bool,
    log_level: str,
) -> None:
    app: ASGIApp = server.streamable_http_app(
        host=host, stateless_http=stateless, json_response=json_response
    )
    if token is not None:
        app = BearerTokenGate(app, token)
    # log_config=None: uvicorn keeps its hands off logging, so its records reach our JSON lines too.
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower(), access_log=False, log_config=None)
