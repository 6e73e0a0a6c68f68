from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpdesk_mcp.adapters.local.adapter import LocalAdapter


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "helpdesk.db"


@pytest.fixture
async def adapter(db_path: Path) -> AsyncIterator[LocalAdapter]:
    adapter = LocalAdapter("local", db_path, agent_name="Robin")
    yield adapter
    await adapter.aclose()
