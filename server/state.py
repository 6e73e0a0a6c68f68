"""What the server holds while it runs: the live backends, the settings they were built from, the
ledger of writes, the ticket refs recently shown, and the messages held for the approval card."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context

from .approval_store import Approvals
from .backends import Backends
from .config import Settings
from .ledger import WriteLedger
from .recent import RecentRefs

if TYPE_CHECKING:  # the views load at the first call, not while a host lists the tools
    from .views import PostedMessage


@dataclass(frozen=True)
class AppState:
    settings: Settings
    backends: Backends
    ledger: WriteLedger
    recent: RecentRefs = field(default_factory=RecentRefs)
    approvals: Approvals[PostedMessage] = field(default_factory=Approvals)


AppContext = Context[AppState, Any]


def state_of(ctx: AppContext) -> AppState:
    return ctx.request_context.lifespan_context
