"""A costly search of the local helpdesk neither holds up reading tickets nor runs without end.

The store holds 20,000 tickets whose words all start with one of 32 two-letter prefixes, so that a
search for those 32 prefixes is the most work a query within the limits can ask for. It is built with
one `executemany` per table and one statement that writes the full-text index as the schema's triggers
would; they are set aside for the load and put back after it, as fired row by row (each message
rewriting its ticket's index row) they cost four times as much as the rest of the build.
"""

from __future__ import annotations

import random
import sqlite3
import string
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from mcp import Client

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.local.adapter import LocalAdapter
from helpdesk_mcp.adapters.local.query import MAX_SEARCH_WORDS
from helpdesk_mcp.adapters.model import SearchQuery
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect

pytestmark = pytest.mark.anyio

TICKETS = 20_000
PREFIXES = [first + second for first in "abcd" for second in "abcdefgh"]
HEAVY = " ".join(PREFIXES)
ROUNDS = 3


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("costly") / "helpdesk.db"
    adapter = LocalAdapter("local", path)
    anyio.run(adapter.search, SearchQuery(), 1)  # creates the schema
    anyio.run(adapter.aclose)
    rng = random.Random(11)
    words = [p + "".join(rng.choices(string.ascii_lowercase, k=4)) for p in PREFIXES for _ in range(200)]
    now = "2026-01-01T00:00:00.000000Z"
    with sqlite3.connect(path) as conn:
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.executemany(
            "INSERT INTO tickets (id, subject, status, priority, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (i, " ".join(rng.choices(words, k=6)), "open", "normal", now, now)
                for i in range(1, TICKETS + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO messages (ticket_id, kind, body, created_at) VALUES (?, ?, ?, ?)",
            [(i, "customer", " ".join(rng.choices(words, k=64)), now) for i in range(1, TICKETS + 1)],
        )
        # What the triggers leave: the subject, and each message's body after a newline.
        conn.execute(
            "INSERT INTO ticket_text (rowid, subject, body)"
            " SELECT t.id, t.subject, char(10) || m.body FROM tickets t JOIN messages m ON m.ticket_id = t.id"
        )
        for _, sql in triggers:
            conn.execute(sql)
    conn.close()
    return path


@pytest.fixture
async def client(big_store: Path) -> AsyncIterator[Client]:
    settings = load_settings({"HELPDESK_DB": str(big_store)}, known_tools=TOOL_NAMES)
    async with connect(settings, "auto") as connected:
        yield connected


async def test_reading_a_ticket_does_not_wait_for_a_heavy_search(client: Client) -> None:
    assert len(PREFIXES) == MAX_SEARCH_WORDS, "the heaviest search the limits allow"
    searched: list[bool] = []
    reads_during_search = 0

    async def search() -> None:
        for _ in range(ROUNDS):
            result = await client.call_tool("search_tickets", {"query": HEAVY, "limit": 100})
            searched.append(not result.is_error)

    async with anyio.create_task_group() as group:
        group.start_soon(search)
        for _ in range(100_000):  # bounded; ends when the searches do
            if len(searched) == ROUNDS:
                break
            read = await client.call_tool("get_ticket", {"ticket": "local:7"})
            assert not read.is_error, read.content
            reads_during_search += len(searched) < ROUNDS
            # A read every 10 ms shows whether reads wait for a search (each one takes hundreds of
            # ms) as well as back-to-back reads would, without burning a core on them meanwhile.
            await anyio.sleep(0.01)
    assert searched == [True] * ROUNDS
    # Had reads waited for the search, at most one would slip in between two searches.
    assert reads_during_search > 3 * ROUNDS


async def test_a_search_beyond_its_time_budget_stops_with_a_sentence(big_store: Path) -> None:
    adapter = LocalAdapter("local", big_store, search_seconds=0.001)
    try:
        with pytest.raises(
            InvalidInputError, match=r"ran longer than 0\.001 s and was stopped; search for fewer"
        ):
            await adapter.search(SearchQuery(text=HEAVY), 20)
        # The store is fine afterwards: a cheap search and a read still work.
        assert (await adapter.search(SearchQuery(), 1)).hits
        assert (await adapter.get_ticket("7")).ref == "local:7"
    finally:
        await adapter.aclose()
