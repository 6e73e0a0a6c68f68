"""answer_approval, the approval card's app-only tool (see `approval`): its own module, so that the
views it answers with load at its first call rather than while a host lists the tools."""

from __future__ import annotations

from typing import Annotated

from mcp.server.apps import client_supports_apps
from pydantic import Field

from .confirm import NotSentError
from .state import AppContext, state_of
from .views import PostedMessage


async def answer_approval(
    ctx: AppContext,
    approval: Annotated[str, Field(max_length=100, description="The card's approval id.")],
    digest: Annotated[str, Field(max_length=64, description="The digest the card showed.")],
    send: Annotated[bool, Field(description="true: the user pressed Send; false: Cancel.")],
) -> PostedMessage:
    """For the approval card only: send the message the user approved, or drop it."""
    if not client_supports_apps(ctx):
        raise NotSentError(
            "Not sent: only the approval card, in a host that shows MCP Apps, answers an approval; "
            "nothing was sent."
        )
    held = state_of(ctx).approvals.take(approval, digest if send else None)
    if not send:
        raise NotSentError(f"Cancelled: the user cancelled {held.what}; nothing was sent.")
    return await held.send()
