"""Who is calling, and what their sign-in lets them do.

Three scopes: `helpdesk:read` reads tickets (tools, resources, prompts); `helpdesk:write` opens
tickets and leaves internal notes and files only agents see; `helpdesk:send` sends what the customer
receives: a public reply, a file for the customer, or the approval card's Send. A caller without a
sign-in (stdio, the in-process client, the static HELPDESK_HTTP_TOKEN) may do everything the server
offers; permissions.py applies the scopes to every way in.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import ServerRequestContext

READ = "helpdesk:read"
WRITE = "helpdesk:write"
SEND = "helpdesk:send"
SCOPES = (READ, WRITE, SEND)
STATIC_TOKEN = "static token"  # noqa: S105 (a label, not a secret)
"""How the static HELPDESK_HTTP_TOKEN is named in the audit log."""
STATIC_CLAIM = "helpdesk-mcp/static-token"
"""Marks the access of the static token among the claims, which for a signed-in caller hold only
`iss`: an issuer's token cannot pass for it, whatever its client is called."""
CUSTOMER_VISIBLE = ("reply_ticket", "attach_file")
"""Tools whose message reaches the customer unless `internal` is true."""
SENDS = ("answer_approval",)
"""Tools that send, whatever their arguments: the card's Send releases a held customer message."""
WHY = {
    READ: "reading tickets",
    WRITE: "opening tickets and leaving internal notes",
    SEND: "sending what the customer receives",
}


@dataclass(frozen=True)
class Caller:
    who: str
    """The token's subject (or client), "static token", or the transport when there is no token."""
    scopes: frozenset[str] | None
    """What the sign-in grants; None where there is no sign-in and the server's own limits apply."""

    def lacks(self, scope: str) -> bool:
        return self.scopes is not None and scope not in self.scopes


_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("helpdesk_caller", default=None)


def caller_of(ctx: ServerRequestContext[Any, Any], *, static_token: bool) -> Caller:
    token = _access_token(ctx)
    if token is not None:
        if (token.claims or {}).get(STATIC_CLAIM) is True:
            return Caller(STATIC_TOKEN, None)
        return Caller(token.subject or f"client {token.client_id}", frozenset(token.scopes))
    if ctx.request is not None:
        return Caller(STATIC_TOKEN if static_token else "HTTP without a token", None)
    return Caller("stdio", None)


def _access_token(ctx: ServerRequestContext[Any, Any]) -> AccessToken | None:
    """The token of this very request: the HTTP request carries it; the SDK's context variable is
    the fallback, which on a long session may hold the token the session began with."""
    scope = getattr(ctx.request, "scope", None)
    user = scope.get("user") if isinstance(scope, dict) else None
    if isinstance(user, AuthenticatedUser):
        return user.access_token
    return get_access_token()


def current_caller() -> Caller:
    """The caller of the request being handled (set by the permissions middleware)."""
    return _caller.get() or Caller("stdio", None)


@contextmanager
def acting(caller: Caller) -> Iterator[None]:
    """`caller` is the caller of everything done within."""
    token = _caller.set(caller)
    try:
        yield
    finally:
        _caller.reset(token)


def tool_scopes(name: str, *, read_only: bool) -> frozenset[str]:
    """The scopes any one of which lets a caller use the tool `name` at all."""
    if read_only:
        return frozenset({READ})
    if name in SENDS:
        return frozenset({SEND})
    if name in CUSTOMER_VISIBLE:
        return frozenset({WRITE, SEND})
    return frozenset({WRITE})


def call_scope(name: str, arguments: Any, *, read_only: bool) -> str:
    """The scope one call of the tool `name` needs. Anything but a literal `internal: true` may
    reach the customer, so it needs `send`."""
    if read_only:
        return READ
    if name in SENDS:
        return SEND
    internal = isinstance(arguments, dict) and arguments.get("internal") is True
    return SEND if name in CUSTOMER_VISIBLE and not internal else WRITE


def insufficient(scope: str, what: str, hint: str = "") -> str:
    return (
        f"Refused (insufficient_scope): {what} needs the {scope} scope ({WHY[scope]}), which this "
        f"sign-in does not grant; sign in again asking for {scope}{hint}. Nothing was done."
    )
