"""The demo data set: what it holds, and that it never lands in a store with real tickets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.local.adapter import LocalAdapter
from helpdesk_mcp.adapters.local.demo import load_demo
from helpdesk_mcp.adapters.model import PRIORITIES, STATUSES, NewTicket, SearchQuery, Ticket

pytestmark = pytest.mark.anyio


async def all_tickets(adapter: LocalAdapter) -> list[Ticket]:
    page = await adapter.search(SearchQuery(), limit=100)
    assert not page.more
    return [await adapter.get_ticket(hit.ticket.ref.split(":")[1]) for hit in page.hits]


async def test_demo_loads_into_a_new_file_and_covers_the_model(db_path: Path, adapter: LocalAdapter) -> None:
    loaded = load_demo(db_path)
    tickets = await all_tickets(adapter)
    assert 8 <= loaded <= 12
    assert len(tickets) == loaded
    assert all("demo" in ticket.tags for ticket in tickets)
    assert all(
        t.requester and t.requester.email and t.requester.email.endswith("@example.com") for t in tickets
    )
    assert {ticket.status for ticket in tickets} == set(STATUSES)
    assert {ticket.priority for ticket in tickets} == set(PRIORITIES)
    kinds = {message.kind for ticket in tickets for message in ticket.messages}
    assert kinds == {"customer", "agent", "internal_note", "system"}
    assert any(ticket.assignee for ticket in tickets)
    for ticket in tickets:
        changes = [message.body for message in ticket.messages if message.kind == "system"]
        if changes:
            assert changes[-1].endswith(f" to {ticket.status}.")
    refunds = await adapter.search(SearchQuery(text="refund"), limit=100)
    assert len(refunds.hits) >= 2


async def test_demo_looks_fresh(db_path: Path, adapter: LocalAdapter) -> None:
    load_demo(db_path)
    now = datetime.now(UTC)
    for ticket in await all_tickets(adapter):
        assert ticket.updated_at is not None
        assert now - timedelta(days=30) < ticket.updated_at <= now
        times = [message.created_at for message in ticket.messages]
        assert times == sorted(times, key=lambda time: time or now)
        assert ticket.created_at == times[0]
        assert ticket.updated_at == times[-1]


async def test_demo_attachment_downloads_as_text(db_path: Path, adapter: LocalAdapter) -> None:
    load_demo(db_path)
    attachments = [
        (ticket.ref.split(":")[1], attachment)
        for ticket in await all_tickets(adapter)
        for message in ticket.messages
        for attachment in message.attachments
    ]
    assert attachments
    ticket_id, attachment = attachments[0]
    content = await adapter.download_attachment(ticket_id, attachment.id)
    assert content.mime_type == "text/plain"
    assert "demo data" in content.content.decode("utf-8")
    assert attachment.size == len(content.content)


async def test_demo_refuses_a_store_that_holds_tickets(db_path: Path, adapter: LocalAdapter) -> None:
    await adapter.create_ticket(NewTicket(subject="Real customer", body="Real problem."))
    with pytest.raises(
        InvalidInputError, match=r"already holds 1 tickets; .* point HELPDESK_DB at a new file"
    ):
        load_demo(db_path)
    assert [t.subject for t in await all_tickets(adapter)] == ["Real customer"]


def test_demo_loads_only_once(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    loaded = load_demo(path)
    with pytest.raises(InvalidInputError, match=f"already holds {loaded} tickets"):
        load_demo(path)
