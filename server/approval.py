"""Approval where the host has no forms: the approval card, an MCP App (`io.modelcontextprotocol/ui`).

Claude Desktop and claude.ai render MCP Apps but do not support elicitation. There, a reply or file
for a customer is not sent when the agent asks: it is held, and the tool's result (an error result
saying nothing was sent yet) carries the card for the host to show the human: the exact text, the
ticket, each file's size, type and SHA-256. Send releases exactly what was held; Cancel drops it.

What keeps the agent from approving its own message:
- The card answers through answer_approval, an app-only tool (`visibility: ["app"]`): hosts keep it
  out of the model's tool list, and this server lists it only to hosts that declared MCP Apps and
  refuses it from any other.
- The approval id is in the result's `_meta`, which hosts hand to the card and not to the model; the
  model's text never names it. The id is unguessable, single-use and lasts 10 minutes.
- What is sent is what was held, bound to the digest the card shows: a changed message is a new call
  with a new card, never a reuse of an approval.
A host that shows the model a result's `_meta`, or lets it call app-only tools, defeats the first
two; the README says so.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcp.server.apps import Apps, client_supports_apps
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver.tools import Tool
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from helpdesk_mcp.adapters.errors import HelpdeskError, NotFoundError
from helpdesk_mcp.adapters.model import Status

from .approval_page import PAGE
from .approval_store import LIFETIME
from .config import Settings
from .confirm import AwaitingApprovalError, ByCard, SendConfirmation, ensure_confirmed
from .state import AppContext, state_of
from .toolkit import HelpdeskTool, make_tool

if TYPE_CHECKING:  # the views load at the first call, not while a host lists the tools
    from .views import PostedMessage

CARD_URI = "ui://helpdesk-mcp/approval"
META_KEY = "helpdesk-mcp/approval"
CARD_TOOLS = ("reply_ticket", "attach_file")
"""The tools whose customer-visible messages the card approves, and whose results it shows."""


class FileShown(BaseModel):
    filename: str
    size: int
    content: str
    """The type read from the file's bytes."""
    sha256: str
    source: str
    warning: str | None = None


class Card(BaseModel):
    """Everything the human approves, and all that is sent: its digest binds the approval to it."""

    ticket: str
    backend: str
    body: str
    subject: str | None = None
    customer: str | None = None
    status: Status | None = None
    files: list[FileShown] = Field(default_factory=list)
    removed: str = ""
    """What hidden characters were taken out of what the agent wrote, if any."""

    @property
    def what(self) -> str:
        if self.files:
            return f"the file {self.files[0].filename} for {self.ticket}"
        return f"the reply to {self.ticket}"

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


async def send_when_approved(
    ctx: AppContext,
    outcome: ElicitationResult[SendConfirmation],
    card: Card,
    send: Callable[[], Awaitable[PostedMessage]],
) -> PostedMessage:
    """`send()` once the human said yes; held for the card where the card must ask; else refused."""
    if isinstance(outcome, AcceptedElicitation) and isinstance(outcome.data, ByCard):
        card = await _with_ticket(ctx, card)
        digest = card.digest()
        approval_id = state_of(ctx).approvals.hold(digest, card.what, send)
        held = {"id": approval_id, "digest": digest, "what": card.what, "html": render(card, digest)}
        raise AwaitingApprovalError(
            f"Not sent yet: {card.what} waits for the user's approval in the card shown with this "
            f"result, for {int(LIFETIME // 60)} minutes. Only the user's Send there sends it, exactly "
            "as shown; nothing has been sent. Tell the user it is waiting; do not send it again.",
            {META_KEY: held},
        )
    ensure_confirmed(outcome, card.what)
    return await send()


async def _with_ticket(ctx: AppContext, card: Card) -> Card:
    """`card` with the ticket's subject and customer, so the human sees where the message goes.

    A ticket that does not exist is refused here, before anyone is asked. One the helpdesk cannot
    show right now is still named by its ref, and the card is shown without the rest.
    """
    try:
        _, ticket = await state_of(ctx).backends.read_ticket(card.ticket)
    except NotFoundError:
        raise
    except HelpdeskError:
        return card
    person = ticket.requester
    named = [part for part in (person.name, person.email and f"<{person.email}>") if part] if person else []
    return card.model_copy(update={"subject": ticket.subject, "customer": " ".join(named) or None})


def render(card: Card, digest: str) -> str:
    """The card as HTML, every value escaped: the draft and the names are the agent's words."""
    e = html.escape
    files = "".join(
        f"<li><b>{e(f.filename)}</b>: {f.size:,} bytes, {e(f.content)}, SHA-256 <code>{f.sha256[:12]}</code>"
        f" ({e(f.source)}){f' <span class=warning>WARNING: {e(f.warning)}.</span>' if f.warning else ''}</li>"
        for f in card.files
    )
    status = f"<dt>Then</dt><dd>the ticket is set to {e(card.status)}</dd>" if card.status else ""
    about = "".join(
        f"<dt>{label}</dt><dd>{e(value)}</dd>"
        for label, value in (("Subject", card.subject), ("Customer", card.customer))
        if value
    )
    heading = "Send this file to the customer?" if card.files else "Send this reply to the customer?"
    return (
        f"<h1>{heading}</h1>"
        f"<dl><dt>Ticket</dt><dd>{e(card.ticket)}</dd>{about}<dt>Backend</dt><dd>{e(card.backend)}</dd>"
        f"{status}</dl>"
        + (f"<h2>Files</h2><ul>{files}</ul>" if files else "")
        + (f"<h2>{'Message' if card.files else 'Reply'}</h2><pre>{e(card.body)}</pre>" if card.body else "")
        + (f"<p class=warning>{e(card.removed.strip())}</p>" if card.removed else "")
        + f"<p class=meta>Approval for exactly this content (digest <code>{digest[:12]}</code>), once, "
        f"for {int(LIFETIME // 60)} minutes.</p>"
        "<div class=actions><button type=button data-answer=send>Send</button>"
        "<button type=button data-answer=cancel>Cancel</button></div>"
        '<p role="status"></p>'
    )


def offered(settings: Settings, tools: list[Tool]) -> bool:
    """Whether this server shows the card: it can write a customer-visible message and may ask."""
    return settings.confirm_replies != "never" and any(tool.name in CARD_TOOLS for tool in tools)


def add_cards(tools: list[Tool], answer: Tool) -> list[Tool]:
    """`tools` with the card bound to the writers it approves, and the card's own app-only tool."""
    for tool in tools:
        if tool.name in CARD_TOOLS:
            tool.meta = {**(tool.meta or {}), "ui": {"resourceUri": CARD_URI}}
    return [*tools, answer]


def build_tool(name: str) -> HelpdeskTool:
    """The card's tool built from its function (the server lists its shipped definition); the
    function's module, and the views it answers with, load here, at its first call."""
    from .approval_answer import answer_approval

    assert name == answer_approval.__name__
    return make_tool(
        answer_approval,
        title="Answer an approval card",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
        ),
        meta={"ui": {"resourceUri": CARD_URI, "visibility": ["app"]}},
    )


def extension() -> Apps:
    """The MCP Apps extension: advertises `io.modelcontextprotocol/ui` and serves the card's page."""
    apps = Apps()
    apps.add_html_resource(
        CARD_URI,
        PAGE,
        name="approval_card",
        title="Approval card",
        description="Shows a reply or file held for the user's approval, with Send and Cancel.",
        prefers_border=True,
    )
    return apps


async def hide_from_plain_hosts(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Per the extension, a host that did not declare MCP Apps is listed no app-only tool and no card."""
    result = await call_next(ctx)
    if not isinstance(result, dict) or client_supports_apps(ctx):
        return result
    if ctx.method == "resources/list":
        return {**result, "resources": [r for r in result.get("resources", []) if r.get("uri") != CARD_URI]}
    if ctx.method != "tools/list":
        return result
    tools = []
    for tool in result.get("tools", []):
        meta = tool.get("_meta") or {}
        ui = meta.get("ui")
        if isinstance(ui, dict) and "model" not in ui.get("visibility", ["model"]):
            continue
        if ui is not None:
            tool = {key: value for key, value in tool.items() if key != "_meta"}
            if rest := {key: value for key, value in meta.items() if key != "ui"}:
                tool["_meta"] = rest
        tools.append(tool)
    return {**result, "tools": tools}
