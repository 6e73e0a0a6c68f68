"""Streamable HTTP transport, behind a bearer token whenever one is configured.

The static token check is a plain ASGI wrapper in front of the SDK's app: every request, MCP or not,
must carry `Authorization: Bearer <token>`, compared in constant time. With sign-in (OAuth) on, the
SDK's resource-server support checks tokens instead (auth_tokens.py) and serves the protected
resource metadata (RFC 9728), here with the scopes a client may ask for.

On a loopback address, in whatever spelling it was given, the Host and Origin headers must name
loopback too: the SDK checks them only for the exact strings 127.0.0.1, localhost and ::1, and a web
page could otherwise reach a server on 127.0.0.2 through DNS rebinding.

Slow clients are bounded too. uvicorn waits forever for a request's headers, so a few hundred
connections that send half a header could hold the server; here each request must arrive within
HELPDESK_HTTP_READ_TIMEOUT (its headers, then its body again), and past MAX_CONNECTIONS open
connections new requests get 503 until the deadlines have closed the slow ones.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import re
import socket
from typing import Any

import h11
import uvicorn
from mcp.server import MCPServer
from mcp.server.auth.routes import create_protected_resource_routes
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .scopes import SCOPES

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 1000
"""Open connections beyond which a request is answered 503, so file descriptors and memory last."""
MIN_TOKEN_LENGTH = 32
"""Characters a token needs where other machines can reach the server and try to guess it."""
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_IPV4_SHORTHAND = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


def loopback_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The loopback address `host` spells, or None: 127.0.0.2, 127.1, 0:0:0:0:0:0:0:1, [::1] and
    ::ffff:127.0.0.1 all bind to loopback."""
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(literal)
    except ValueError:
        if not _IPV4_SHORTHAND.match(literal):
            return None
        try:  # the shorthands the C library accepts when binding, such as 127.1 or 2130706433
            address = ipaddress.IPv4Address(socket.inet_aton(literal))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address if address.is_loopback else None


def is_loopback(host: str) -> bool:
    return host.lower() == "localhost" or loopback_address(host) is not None


def exposure_problem(host: str, token: SecretStr | None, *, signed_in: bool = False) -> str | None:
    """Why serving on `host` with `token` (and sign-in, if `signed_in`) would let other machines in
    too easily, or None."""
    if is_loopback(host):
        return None
    if token is None:
        if signed_in:
            return None
        return (
            f"--host {host} is reachable from other machines; set HELPDESK_HTTP_TOKEN to require a token, "
            "or HELPDESK_OAUTH_ISSUER to require sign-in."
        )
    if len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
        return (
            f"HELPDESK_HTTP_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters, too easy to guess for "
            f"--host {host}, which other machines reach; generate one with: openssl rand -hex 32"
        )
    return None


def rebinding_protection(host: str) -> TransportSecuritySettings | None:
    """Host and Origin checks for a loopback `host`: the headers must name a loopback address, any
    port, as the SDK allows for 127.0.0.1; beyond loopback the token is the protection."""
    address = loopback_address(host)
    if address is None and host.lower() != "localhost":
        return None
    names = set(_LOOPBACK_NAMES)
    for spelling in (host, str(address) if address else "localhost"):
        bare = spelling.strip("[]")
        names.add(f"[{bare}]" if ":" in bare else bare)
    ordered = sorted(names)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in ordered],
        allowed_origins=[f"http://{name}:*" for name in ordered],
    )


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


def with_read_deadline(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection that takes over `seconds` to send a request's
    headers (from the connection opening, or from the request's first byte on a kept-alive one), or
    over `seconds` more to send its body."""

    class ReadDeadline(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _reading: object = None  # the h11 state (IDLE: headers, SEND_BODY: body) under a deadline

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._watch()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._watch()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop()
            super().connection_lost(exc)

        def _watch(self) -> None:
            """Start a deadline for the part of a request now awaited; none once it has all arrived."""
            state = self.conn.their_state
            if state is not h11.IDLE and state is not h11.SEND_BODY:
                self._stop()
            elif self._deadline is None or state is not self._reading:
                self._stop()
                self._reading = state
                self._deadline = self.loop.call_later(seconds, self._expire)

        def _stop(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self._reading = None

        def _expire(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            part = "headers" if self._reading is h11.IDLE else "body"
            log.debug("Closing a connection that sent no whole request %s within %g s", part, seconds)
            if self._reading is h11.IDLE:
                self.transport.write(
                    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
                )
            self.transport.close()

    return ReadDeadline


def serve_http(
    server: MCPServer[Any],
    *,
    host: str,
    port: int,
    token: SecretStr | None,
    read_timeout: float,
    stateless: bool,
    json_response: bool,
    log_level: str,
) -> None:
    starlette = server.streamable_http_app(
        host=host,
        stateless_http=stateless,
        json_response=json_response,
        transport_security=rebinding_protection(host),
    )
    app: ASGIApp = starlette
    auth = server.settings.auth
    if auth is not None and auth.resource_server_url is not None:
        # Ahead of the SDK's own route for the same path, which would list no scopes.
        starlette.router.routes[:0] = create_protected_resource_routes(
            resource_url=auth.resource_server_url,
            authorization_servers=[auth.issuer_url],
            scopes_supported=list(SCOPES),
            resource_name="helpdesk-mcp",
        )
    elif token is not None:
        app = BearerTokenGate(app, token)
    # log_config=None: uvicorn keeps its hands off logging, so its records reach our JSON lines too.
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=with_read_deadline(read_timeout),
        limit_concurrency=MAX_CONNECTIONS,
        log_level=log_level.lower(),
        access_log=False,
        log_config=None,
    )
