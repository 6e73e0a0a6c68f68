"""What the server holds while it runs: the live backends and the settings they were built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from .backends import Backends
from .config import Settings


@dataclass(frozen=True)
class AppState:
    settings: Settings
    backends: Backends


AppContext = Context[AppState, Any]


def state_of(ctx: AppContext) -> AppState:
    return ctx.request_context.lifespan_context
