"""What the server holds while it runs: the live backends, the settings they were built from, the
ticket refs recently shown, and the idempotency keys of recent creates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context

from .backends import Backends
from .config import Settings
from .idempotency import IdempotencyLedger
from .recent import RecentRefs


@dataclass(frozen=True)
class AppState:
    settings: Settings
    backends: Backends
    recent: RecentRefs = field(default_factory=RecentRefs)
    idempotency: IdempotencyLedger = field(default_factory=IdempotencyLedger)


AppContext = Context[AppState, Any]


def state_of(ctx: AppContext) -> AppState:
    return ctx.request_context.lifespan_context
