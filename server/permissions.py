"""One set of permissions for every way in: the tools offered also decide which resources, prompts
and completions a host may use, and a signed-in caller's scopes (scopes.py) which of those they may.

A resource template or prompt that reads tickets needs `get_ticket`; a prompt whose end is a reply
needs `reply_ticket` too. What the tools on offer do not cover is not registered, so no host lists it,
and the middleware here refuses a direct read, get or completion of it in one sentence that names the
setting, where the SDK would only say "Unknown resource".

Scopes are checked per request against the same table: a tool call against the scope its arguments
need (a reply that is not `internal` needs `send`), a resource or prompt against `read` and the
tools it needs. Lists stay whole; a use without the scope is refused in one sentence, as a tool's
error result for a tool and as a JSON-RPC error (`data.error` = "insufficient_scope", `data.scope`)
for the rest; a refused write is written to the audit log like the writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mcp import MCPError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import INVALID_PARAMS, INVALID_REQUEST, CallToolResult, TextContent

from . import audit
from .config import Settings
from .links import ATTACHMENT_TEMPLATE, TICKET_TEMPLATE
from .scopes import (
    CUSTOMER_VISIBLE,
    READ,
    SCOPES,
    SEND,
    WRITE,
    Caller,
    acting,
    call_scope,
    caller_of,
    insufficient,
    tool_scopes,
)

NEEDS: dict[str, tuple[str, ...]] = {
    TICKET_TEMPLATE: ("get_ticket",),
    ATTACHMENT_TEMPLATE: ("get_ticket",),
    "triage_ticket": ("get_ticket",),
    "draft_reply": ("get_ticket", "reply_ticket"),
}
"""Tools a resource template (by its URI template) or a prompt (by name) needs; what is not named,
such as helpdesk://backends, reads no ticket and needs none."""


@dataclass(frozen=True)
class Permissions:
    settings: Settings
    offered: frozenset[str]
    """The names of the tools this server offers."""
    reading: frozenset[str] = field(default_factory=frozenset)
    """The names of the offered tools that only read (their `readOnlyHint`)."""

    def allows(self, name: str) -> bool:
        return all(tool in self.offered for tool in NEEDS.get(name, ()))

    def refusal(self, kind: str, name: str) -> str:
        missing = [tool for tool in NEEDS.get(name, ()) if tool not in self.offered]
        listed = self.settings.tools is not None and any(tool not in self.settings.tools for tool in missing)
        setting = "HELPDESK_TOOLS" if listed else "read-only mode (HELPDESK_READ_ONLY)"
        return (
            f"The {kind} {name} needs the {' and '.join(missing)} tool{'s' if len(missing) > 1 else ''}, "
            f"which {setting} turns off on this server; ask its operator to allow "
            f"{'them' if len(missing) > 1 else 'it'}."
        )

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Refuse a direct use of a resource, prompt or completion these permissions leave out, and
        any use the caller's scopes do not cover."""
        params = ctx.params or {}
        withheld = self._withheld(ctx.method, params)
        if withheld is not None:
            raise MCPError(code=INVALID_PARAMS, message=self.refusal(*withheld))
        caller = caller_of(ctx, static_token=self.settings.http_token is not None)
        with acting(caller):
            if ctx.method == "tools/call" and isinstance(name := params.get("name"), str):
                refused = self._unscoped_call(caller, name, params.get("arguments"))
                if refused is not None:
                    return refused
            elif (missing := self._unscoped_use(caller, ctx.method, params)) is not None:
                scope, what = missing
                raise MCPError(
                    code=INVALID_REQUEST,
                    message=insufficient(scope, what),
                    data={"error": "insufficient_scope", "scope": scope},
                )
            return await call_next(ctx)

    def _unscoped_call(self, caller: Caller, name: str, arguments: Any) -> CallToolResult | None:
        if caller.scopes is None or name not in self.offered:
            return None
        scope = call_scope(name, arguments, read_only=name in self.reading)
        if not caller.lacks(scope):
            return None
        if scope != READ:
            audit.refused(name, arguments, scope)
        note = name in CUSTOMER_VISIBLE and scope == SEND and not caller.lacks(WRITE)
        hint = f", or leave an internal note (internal=true), which {WRITE} allows" if note else ""
        text = insufficient(scope, f"{name} as called", hint)
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

    def _unscoped_use(self, caller: Caller, method: str, params: Any) -> tuple[str, str] | None:
        """The scope a resource read, prompt or completion needs and the caller lacks, and what it was."""
        if caller.scopes is None or method not in {"resources/read", "prompts/get", "completion/complete"}:
            return None
        what = {"resources/read": "reading a resource", "prompts/get": "a prompt"}.get(method, "a completion")
        if caller.lacks(READ):
            return READ, what
        name = params.get("name") if method == "prompts/get" else None
        for tool in NEEDS.get(name, ()) if isinstance(name, str) else ():
            granting = tool_scopes(tool, read_only=tool in self.reading)
            if not granting & caller.scopes:
                return next(scope for scope in SCOPES if scope in granting), f"the prompt {name}"
        return None

    def _withheld(self, method: str, params: Any) -> tuple[str, str] | None:
        if method == "resources/read":
            uri = params.get("uri")
            template = next((t for t in NEEDS if _matches(t, uri)), None)
            return ("resource", template) if template and not self.allows(template) else None
        if method == "prompts/get":
            name = params.get("name")
            return ("prompt", name) if isinstance(name, str) and not self.allows(name) else None
        if method == "completion/complete":
            ref = params.get("ref")
            if not isinstance(ref, dict):
                return None
            kind = "prompt" if ref.get("type") == "ref/prompt" else "resource"
            name = ref.get("name") if kind == "prompt" else ref.get("uri")
            return (kind, name) if isinstance(name, str) and not self.allows(name) else None
        return None


def _matches(template: str, uri: Any) -> bool:
    """Whether `uri` has the shape of `template`, each `{variable}` standing for one path segment."""
    if not isinstance(uri, str) or "{" not in template:
        return False
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]*", re.escape(template))
    return re.fullmatch(pattern, uri) is not None
