"""What the server holds while it runs: the live backends, the settings they were built from, the
ledger of writes, and the ticket refs recently shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context

from .backends import Backends
from .config import Settings
from .ledger import WriteLedger
from .recent import RecentRefs


@dataclass(frozen=True)
class AppState:
    settings: Settings
    backends: Backends
    ledger: WriteLedger
    recent: RecentRefs = field(default_factory=RecentRefs)


AppContext = Context[AppState, Any]


def state_of(ctx: AppContext) -> AppState:
    return ctx.request_context.lifespan_context
