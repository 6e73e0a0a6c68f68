"""One set of permissions for every way in: the tools offered also decide which resources, prompts
and completions a host may use.

A resource template or prompt that reads tickets needs `get_ticket`; a prompt whose end is a reply
needs `reply_ticket` too. What the tools on offer do not cover is not registered, so no host lists it,
and the middleware here refuses a direct read, get or completion of it in one sentence that names the
setting, where the SDK would only say "Unknown resource".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mcp import MCPError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp_types import INVALID_PARAMS

from .config import Settings
from .links import ATTACHMENT_TEMPLATE, TICKET_TEMPLATE

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
        """Refuse a direct use of a resource, prompt or completion these permissions leave out."""
        withheld = self._withheld(ctx.method, ctx.params or {})
        if withheld is not None:
            raise MCPError(code=INVALID_PARAMS, message=self.refusal(*withheld))
        return await call_next(ctx)

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
