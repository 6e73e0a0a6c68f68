"""Odd input to the local helpdesk gets one sentence about the input, never the server's file path."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect

pytestmark = pytest.mark.anyio


async def call(db: Path, tool: str, arguments: dict[str, object]) -> tuple[bool, str]:
    settings = load_settings({"HELPDESK_DB": str(db)}, known_tools=TOOL_NAMES)
    client: Client
    async with connect(settings, "auto") as client:
        if tool != "create_ticket":
            await client.call_tool(
                "create_ticket", {"subject": "Refund for a card", "body": "Charged twice."}
            )
        result = await client.call_tool(tool, arguments)
    return bool(result.is_error), result.content[0].text  # type: ignore[union-attr]


async def test_a_nul_in_the_query_gets_no_path_and_no_sqlite_words(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    failed, text = await call(db, "search_tickets", {"query": "refund\x00card"})
    assert str(tmp_path) not in text and "unterminated" not in text and "failed (" not in text
    if not failed:
        assert "Refund for a card" in text


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("a", "The search word 'a' is one character"),
        ("refund " * 40, "The search text has 40 words; use at most 32"),
    ],
)
async def test_a_costly_query_is_refused_in_one_sentence(tmp_path: Path, query: str, said: str) -> None:
    failed, text = await call(tmp_path / "h.db", "search_tickets", {"query": query})
    assert failed and said in text, text


async def test_a_broken_store_file_is_reported_without_its_path(tmp_path: Path) -> None:
    db = tmp_path / "secret-location" / "h.db"
    db.parent.mkdir()
    db.write_bytes(b"not a database at all, " * 200)
    failed, text = await call(db, "create_ticket", {"subject": "Refund", "body": "Charged twice."})
    assert failed and "local helpdesk (backend 'local')" in text, text
    assert "secret-location" not in text and str(tmp_path) not in text
