"""A human confirms before a message reaches a customer, where the host can ask one.

A reply the customer receives cannot be taken back, and the agent composing it may have been misled
by the very ticket it answers. So, by default, a host that declares elicitation shows the human the
message and sends it only on their yes; a host that shows MCP Apps but no forms (Claude Desktop)
shows it in the approval card instead (see `approval`). Internal notes and new tickets are not asked
about: neither reaches a customer's inbox from the agent's words. HELPDESK_CONFIRM_REPLIES decides:

- `auto` (default): ask when the host can show the question, send unasked when it cannot (a bot).
- `1` (always): ask, and refuse to send where the host can show neither a form nor a card.
- `0` (never): never ask, for unattended bots whose hosts declare elicitation anyway.
"""

from __future__ import annotations

from typing import Any

from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import AcceptedElicitation, Elicit, ElicitationResult
from mcp_types.version import is_version_at_least
from pydantic import BaseModel, Field

from helpdesk_mcp.adapters.errors import HelpdeskError

from .state import AppContext, state_of

# From this protocol revision on, a question travels in the tool's result and the call is retried
# with the answer, so any connection can carry it; earlier ones need a request from server to client.
_QUESTIONS_IN_RESULTS = "2026-07-28"


class SendConfirmation(BaseModel):
    send: bool = Field(default=True, title="Send", description="Send it to the customer now.")


class ByCard(SendConfirmation):
    """No one has said yes: the host shows no forms but renders the approval card, which will ask."""

    send: bool = False


class NotSentError(HelpdeskError):
    """The human did not confirm a customer-visible message, so nothing was sent."""

    kind = "not_sent"


class AwaitingApprovalError(NotSentError):
    """Nothing was sent yet: the approval card, given in `meta` to the host only, asks the human."""

    kind = "awaiting_approval"

    def __init__(self, message: str, meta: dict[str, Any]) -> None:
        super().__init__(message)
        self.meta = meta


def host_can_ask(ctx: AppContext) -> bool:
    """Whether this request's host declared form elicitation and its connection can carry a question."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities else None
    # A bare `elicitation: {}` predates modes and means forms; a url-only host cannot show one.
    if elicitation is None or (elicitation.form is None and elicitation.url is not None):
        return False
    version = ctx.protocol_version
    in_results = version is not None and is_version_at_least(version, _QUESTIONS_IN_RESULTS)
    return in_results or bool(ctx.session.can_send_request)


def ask_before_sending(ctx: AppContext, question: str) -> Elicit[SendConfirmation] | SendConfirmation:
    """The question for the human; `ByCard` where the host shows the approval card but no forms; or a
    plain yes where this server and host do not ask."""
    mode = state_of(ctx).settings.confirm_replies
    if mode == "never":
        return SendConfirmation()
    if host_can_ask(ctx):
        return Elicit(question, SendConfirmation)
    if client_supports_apps(ctx):
        return ByCard()
    if mode == "always":
        raise NotSentError(
            "Not sent: this server confirms every customer-visible message with the user "
            "(HELPDESK_CONFIRM_REPLIES=1), and this MCP host can show neither a form nor an approval "
            "card; nothing was sent. Leave an internal note instead, or use a host that supports "
            "elicitation or MCP Apps."
        )
    return SendConfirmation()


def ensure_confirmed(outcome: ElicitationResult[SendConfirmation], what: str) -> None:
    """Raise `NotSentError` unless the human said yes to sending `what` (e.g. "the reply to local:4").

    The approval card's "not yet" is no yes either: `approval.send_when_approved` handles it first."""
    if isinstance(outcome, AcceptedElicitation) and outcome.data.send:
        return
    how = "dismissed the confirmation of" if outcome.action == "cancel" else "declined to send"
    raise NotSentError(
        f"Not sent: the user {how} {what}; nothing was sent to the customer. "
        "Ask the user what to change before trying again."
    )


def quoted(text: str) -> str:
    """`text` set off as a block in a question, so the human sees exactly what would be sent."""
    return "\n".join(f"> {line}" for line in text.splitlines() or [""])
