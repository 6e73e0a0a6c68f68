"""Shared fixtures: settings on a fresh local helpdesk, and real MCP clients in both protocol eras."""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client

from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import Settings, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES

MODES = ["legacy", "auto"]
"""`legacy` speaks 2025-11-25 over JSON-RPC streams with `initialize`; `auto` speaks 2026-07-28."""

MakeSettings = Callable[..., Settings]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings built the way the server builds them, on a local helpdesk in a fresh file."""

    def make(**env: str) -> Settings:
        base = {"HELPDESK_DB": str(tmp_path / "helpdesk.db")}
        return load_settings({**base, **env}, known_tools=TOOL_NAMES)

    return make


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def connect(settings: Settings, mode: str) -> AsyncIterator[Client]:
    async with Client(build_server(settings), mode=mode) as client:  # type: ignore[arg-type]
        yield client


def console_script() -> str:
    """The installed `helpdesk-mcp`, next to this interpreter: what a user's MCP host launches."""
    beside = Path(sys.executable).parent / "helpdesk-mcp"
    found = str(beside) if beside.exists() else shutil.which("helpdesk-mcp")
    if found is None:
        pytest.fail("the helpdesk-mcp console script is not installed; run: pip install -e '.[dev]'")
    return found


def child_env(tmp_path: Path, **extra: str) -> Mapping[str, str]:
    """Environment for a server subprocess: its own store, and no settings leaked from the developer's."""
    return {"HELPDESK_DB": str(tmp_path / "helpdesk.db"), "PYTHONUNBUFFERED": "1", **extra}
