"""What UseDesk really does, where it differs from what a client would guess (issue 15 item 11).

Files sent with a new ticket are not documented, so UseDesk may drop them: they are then added in an
internal note and the result says where. `group` may arrive as an object. A search with words is
limited to 10 requests a minute, so paging through one must not ask UseDesk again for every page.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from helpdesk_mcp.adapters.errors import RateLimitedError
from helpdesk_mcp.adapters.model import FileUpload, NewTicket, SearchQuery
from tests.fakes.harness import Request
from tests.fakes.usedesk import ROUTES, UsedeskFake
from tests.usedesk.conftest import adapter_for, body

pytestmark = pytest.mark.anyio

SCAN = FileUpload(
    filename="skan paragonu — №7.pdf", mime_type="application/pdf", content=b"%PDF-1.4\x00\xff" * 40
)
LOG = FileUpload(filename="журнал.log", mime_type="text/plain", content="ошибка 502\n".encode())


async def test_files_usedesk_drops_on_create_follow_in_an_internal_note(fake: UsedeskFake) -> None:
    adapter = adapter_for(fake)
    created = await adapter.create_ticket(
        NewTicket(
            subject="Zwrot: zepsuty czajnik",
            body="Dzień dobry, w załączniku paragon.",
            attachments=(SCAN, LOG),
        )
    )
    content = await adapter.download_attachment(
        created.ref.split(":")[1], created.messages[1].attachments[0].id
    )
    await adapter.aclose()

    opening, note = created.messages
    assert (opening.kind, opening.attachments) == ("customer", []), (
        "the fake, like UseDesk's docs, drops them"
    )
    assert note.kind == "internal_note", "no customer is mailed files nobody meant to send"
    assert [a.filename for a in note.attachments] == [SCAN.filename, LOG.filename]
    assert content.content == SCAN.content
    assert [(n.field, n.name) for n in created.not_stored] == [
        ("attachments", SCAN.filename),
        ("attachments", LOG.filename),
    ]
    assert all(n.stored == f"in internal note {note.id} (agents only)" for n in created.not_stored)
    assert created.status == "new", "the note is silent: the ticket waits for an agent as it would have"

    [comment] = fake.received(*ROUTES["reply"])
    sent = body(comment)
    assert (sent["type"], sent["from"], sent["user_id"]) == ("private", "user", str(fake.agent_id))
    assert [f.content for f in comment.files()["files[]"]] == [SCAN.content, LOG.content]


class KeepsOneFileOnCreate(UsedeskFake):
    """A UseDesk that keeps files sent with a new ticket, but only the first (as a size limit might)."""

    def _uploads(self, request: Request) -> list[str]:
        kept = super()._uploads(request)
        return kept[:1] if request.path == "/create/ticket" else kept


async def test_only_the_files_usedesk_did_not_keep_are_added() -> None:
    with KeepsOneFileOnCreate(files_on_create=True).running() as running:
        assert isinstance(running, UsedeskFake)
        adapter = adapter_for(running)
        created = await adapter.create_ticket(
            NewTicket(subject="Dwa pliki", body="Oba w załączniku.", attachments=(SCAN, LOG))
        )
        await adapter.aclose()
        [comment] = running.received(*ROUTES["reply"])
    opening, note = created.messages
    assert [a.filename for a in opening.attachments] == [SCAN.filename]
    assert [a.filename for a in note.attachments] == [LOG.filename]
    assert [f.filename for f in comment.files()["files[]"]] == [LOG.filename]
    assert [(n.name, n.stored) for n in created.not_stored] == [
        (LOG.filename, f"in internal note {note.id} (agents only)")
    ]


async def test_a_group_given_as_an_object_is_read_by_its_id() -> None:
    with UsedeskFake(group_as_object=True).running() as running:
        assert isinstance(running, UsedeskFake)
        grouped = next(t for t in running.newest_first() if t.group is not None)
        adapter = adapter_for(running)
        ticket = await adapter.get_ticket(str(grouped.id))
        await adapter.aclose()
        [item] = [b for b in running.received(*ROUTES["get"])]
        assert item.json()["ticket_id"] == grouped.id
    assert ticket.queue == f"group {grouped.group}"


def _query_requests(fake: UsedeskFake) -> list[dict[str, Any]]:
    return [sent for sent in (body(r) for r in fake.received(*ROUTES["search"])) if sent.get("query")]


async def test_paging_a_search_with_words_asks_usedesk_once_per_hundred(fake: UsedeskFake) -> None:
    expected = {f"usedesk:{t.id}" for t in fake.tickets.values() if fake._found(t, "2025")}
    assert len(expected) > 100, "two of UseDesk's pages, and more of ours than its limit of 10 a minute"
    adapter = adapter_for(fake)
    seen: list[str] = []
    cursor = None
    for _ in range(60):
        page = await adapter.search(SearchQuery(text="2025"), 8, cursor)
        seen += [hit.ticket.ref for hit in page.hits]
        if not page.more:
            break
        cursor = page.hits[-1].cursor
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert len(_query_requests(fake)) == 2, "UseDesk's two pages of 100, each asked for once"

    # A new search asks UseDesk afresh, so it sees tickets updated since.
    await adapter.search(SearchQuery(text="2025"), 8)
    await adapter.aclose()
    assert len(_query_requests(fake)) == 3


async def test_two_agents_paging_the_same_words_at_once_each_see_every_ticket_once(fake: UsedeskFake) -> None:
    expected = sorted(f"usedesk:{t.id}" for t in fake.tickets.values() if fake._found(t, "2025"))
    adapter = adapter_for(fake)
    first = await adapter.search(SearchQuery(text="2025"), 8)
    results: list[list[str]] = []

    async def page_on() -> None:
        seen = [hit.ticket.ref for hit in first.hits]
        cursor = first.hits[-1].cursor
        for _ in range(60):
            page = await adapter.search(SearchQuery(text="2025"), 8, cursor)
            seen += [hit.ticket.ref for hit in page.hits]
            if not page.more:
                break
            cursor = page.hits[-1].cursor
        results.append(seen)

    async with anyio.create_task_group() as group:
        group.start_soon(page_on)
        group.start_soon(page_on)
    await adapter.aclose()
    assert [sorted(seen) for seen in results] == [expected, expected]
    assert all(len(seen) == len(set(seen)) for seen in results)
    assert len(_query_requests(fake)) == 2


async def test_the_fake_holds_usedesk_to_ten_searches_with_words_a_minute(fake: UsedeskFake) -> None:
    adapter = adapter_for(fake, read_retries=0)
    for _ in range(10):
        await adapter.search(SearchQuery(text="BLIK"), 5)
    with pytest.raises(RateLimitedError, match="10 searches a minute"):
        await adapter.search(SearchQuery(text="BLIK"), 5)
    await adapter.aclose()
