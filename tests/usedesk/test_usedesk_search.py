"""Searching UseDesk: pages of 100 behind our cursor, native filters on the wire, the rest checked here."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError, RateLimitedError
from helpdesk_mcp.adapters.model import NewTicket, SearchQuery
from helpdesk_mcp.adapters.usedesk.adapter import UsedeskAdapter
from helpdesk_mcp.server.backends import Backends
from helpdesk_mcp.server.search import merged_search
from tests.fakes.usedesk import Ticket, UsedeskFake, make_fake
from tests.usedesk.conftest import adapter_for, body

pytestmark = pytest.mark.anyio


def refs(tickets: list[Ticket]) -> list[str]:
    return [f"usedesk:{t.id}" for t in tickets]


def list_bodies(fake: UsedeskFake) -> list[dict[str, Any]]:
    return [body(r) for r in fake.received("POST", r"^/tickets$")]


async def page_through(adapter: UsedeskAdapter, query: SearchQuery, limit: int) -> list[str]:
    """Every ref a user paging with each last hit's cursor sees, in order."""
    seen: list[str] = []
    cursor = None
    for _ in range(400):
        page = await adapter.search(query, limit, cursor)
        seen += [hit.ticket.ref for hit in page.hits]
        if not page.more:
            return seen
        cursor = page.hits[-1].cursor
    raise AssertionError("the search never ended")


async def test_paging_reads_every_ticket_once_newest_update_first(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    seen = await page_through(adapter, SearchQuery(), limit=37)

    assert sorted(seen) == sorted(refs(list(fake.tickets.values()))), "no gap and no duplicate"
    updated = {f"usedesk:{t.id}": t.updated_at for t in fake.tickets.values()}
    assert all(updated[a] >= updated[b] for a, b in pairwise(seen))
    # Behind 9 pages of ours, each read one UseDesk page of 100: the cursor resumes, it does not re-read.
    assert len(list_bodies(fake)) == 9


async def test_the_list_is_asked_for_as_documented(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    await page_through(adapter, SearchQuery(), limit=100)

    sent = list_bodies(fake)
    for request in fake.received("POST", r"^/tickets$"):
        assert request.header("content-type") == "application/json"
    assert all(b["api_token"] == fake.token for b in sent)
    assert all((b["sort"], b["order"]) == ("last_updated_at", "desc") for b in sent)
    assert all(type(b["offset"]) is int for b in sent)
    assert all(None not in b.values() for b in sent), "UseDesk refuses null for offset, tag and query"
    assert "updated_before" not in sent[0]
    # Later pages are asked for below the last ticket read, in UseDesk's whole minutes.
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", b["updated_before"]) for b in sent[1:])


async def test_offset_is_a_page_index_when_a_minute_holds_more_than_a_page() -> None:
    fake = make_fake(tickets=260)
    bulk = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
    # A bulk action touched 230 tickets within one minute (some in the same second).
    for number, ticket in enumerate(sorted(fake.tickets.values(), key=lambda t: t.id)[:230]):
        ticket.updated_at = bulk + timedelta(seconds=number % 20)
    with fake.running():
        adapter = adapter_for(fake)
        seen = await page_through(adapter, SearchQuery(), limit=45)
        await adapter.aclose()

    assert sorted(seen) == sorted(refs(list(fake.tickets.values())))
    offsets = [b["offset"] for b in list_bodies(fake)]
    assert 1 in offsets and 2 in offsets, "the minute is paged with offset 1, 2 (pages), not 100, 200"
    assert max(offsets) < 3


async def test_changes_between_pages_neither_repeat_nor_skip_a_ticket(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    first = await adapter.search(SearchQuery(), 40)
    shown = [hit.ticket.ref for hit in first.hits]
    order = fake.newest_first()
    now = datetime.now(UTC).replace(microsecond=0)
    # Between the pages: a ticket not yet shown is updated, one shown is updated again, one shown is
    # deleted for good, and a new ticket arrives; each moves the offsets of all the others.
    moved, touched, gone = order[70], order[3], order[10]
    moved.updated_at = now
    touched.updated_at = now
    del fake.tickets[gone.id]
    await adapter.create_ticket(NewTicket(subject="Nowe zgłoszenie", body="Dzień dobry"))
    cursor = first.hits[-1].cursor
    rest: list[str] = []
    while cursor:
        page = await adapter.search(SearchQuery(), 40, cursor)
        rest += [hit.ticket.ref for hit in page.hits]
        cursor = page.hits[-1].cursor if page.more else None

    everything = shown + rest
    assert len(everything) == len(set(everything)), "no ticket twice"
    untouched = {f"usedesk:{t.id}" for t in order} - {f"usedesk:{moved.id}", f"usedesk:{gone.id}"}
    assert untouched <= set(everything), "no ticket skipped"
    # The ticket updated meanwhile moved above the cursor: a new search shows it first.
    top = await adapter.search(SearchQuery(), 2)
    assert {hit.ticket.ref for hit in top.hits} == {f"usedesk:{moved.id}", f"usedesk:{touched.id}"}


async def test_tickets_updated_in_the_same_second_page_cleanly_through_the_server() -> None:
    fake = make_fake(tickets=24)
    second = datetime(2025, 5, 5, 12, 0, 7, tzinfo=UTC)
    for ticket in list(fake.tickets.values())[4:16]:
        ticket.updated_at = second  # a trigger closed twelve tickets at once
    with fake.running():
        adapter = adapter_for(fake)
        backends = Backends([adapter], timeout=10)
        seen: list[str] = []
        cursor = None
        for _ in range(30):
            page = await merged_search(backends, SearchQuery(), backend=None, limit=5, cursor=cursor)
            seen += [ticket.ref for ticket in page.tickets]
            cursor = page.next_cursor
            if cursor is None:
                break
        await backends.aclose()

    # The server orders equal times by ref and resumes from the last ticket it showed; the cursor agrees.
    assert sorted(seen) == sorted(refs(list(fake.tickets.values())))


async def test_status_filter_sends_every_id_of_the_status(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    found = await page_through(adapter, SearchQuery(statuses=("closed", "pending")), limit=100)

    wanted = [t for t in fake.newest_first() if t.status_id in (3, 4, 6, 7, 9, 10)]
    assert sorted(found) == sorted(refs(wanted))
    assert {b["fstatus"] for b in list_bodies(fake)} == {"3,4,6,7,9,10"}


async def test_an_instance_maps_status_ids_its_own_way(fake: UsedeskFake) -> None:
    adapter = adapter_for(fake, statuses={"5": "pending", "11": "pending"})
    on_hold = next(t for t in fake.newest_first() if t.status_id == 5)

    found = await page_through(adapter, SearchQuery(statuses=("pending",)), limit=100)
    ticket = await adapter.get_ticket(str(on_hold.id))
    await adapter.aclose()

    assert f"usedesk:{on_hold.id}" in found
    assert list_bodies(fake)[0]["fstatus"] == "5,6,11"
    assert (ticket.status, ticket.status_label) == ("pending", None)


async def test_query_is_usedesks_own_search(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    page = await adapter.search(SearchQuery(text="zwrot zamówienia"), 100)

    expected = [t for t in fake.newest_first() if "Zwrot zamówienia" in t.subject]
    assert [h.ticket.ref for h in page.hits] == refs(expected)
    assert list_bodies(fake)[0]["query"] == "zwrot zamówienia"


async def test_requester_by_client_id_email_or_name(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    client = fake.clients[fake.newest_first()[0].client_id]
    theirs = refs([t for t in fake.newest_first() if t.client_id == client.id])

    by_id = await adapter.search(SearchQuery(requester=str(client.id)), 100)
    by_email = await adapter.search(SearchQuery(requester=client.emails[0]), 100)
    by_name = await adapter.search(SearchQuery(requester=client.name.split()[0].upper()), 100)

    assert [h.ticket.ref for h in by_id.hits] == theirs
    assert [h.ticket.ref for h in by_email.hits] == theirs
    assert set(theirs) <= {h.ticket.ref for h in by_name.hits}
    assert all(
        h.ticket.requester and client.name.split()[0] in str(h.ticket.requester.name) for h in by_name.hits
    )
    sent = list_bodies(fake)
    assert sent[0]["client_id"] == client.id
    assert sent[1]["query"] == client.emails[0]
    assert "query" not in sent[2] and "client_id" not in sent[2], "UseDesk cannot search client names"


async def test_requester_email_and_words_together_are_refused_before_sending(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    with pytest.raises(InvalidInputError, match="one text at a time"):
        await adapter.search(SearchQuery(text="zwrot", requester="ola@example.pl"), 10)
    assert list_bodies(fake) == []


async def test_assignee_is_an_agent_id(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    agent = fake.agent_id
    found = await page_through(adapter, SearchQuery(assignee=str(agent)), limit=100)

    assert sorted(found) == sorted(refs([t for t in fake.tickets.values() if t.assignee_id == agent]))
    assert list_bodies(fake)[0]["fassigned"] == [{"assignee_id": agent}]
    with pytest.raises(InvalidInputError, match="agent id"):
        await adapter.search(SearchQuery(assignee="anna.smirnova@shop.example"), 10)


async def test_tags_must_all_be_there(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    found = await page_through(adapter, SearchQuery(tags=("vip", "Важный")), limit=100)

    both = [t for t in fake.tickets.values() if {"vip", "Важный"} <= set(t.tags)]
    assert both and sorted(found) == sorted(refs(both))
    # UseDesk's `tag` takes "a, b" (and returns tickets with either); all of them are checked here.
    assert list_bodies(fake)[0]["tag"] == "vip, Важный"


async def test_dates_go_to_usedesk_in_minutes_and_are_cut_here_to_the_second(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    ticket = next(t for t in fake.newest_first() if t.created_at.second > 0)
    exact = SearchQuery(
        created_after=ticket.created_at, created_before=ticket.created_at + timedelta(seconds=1)
    )
    later = SearchQuery(created_after=ticket.created_at + timedelta(seconds=1))

    assert [h.ticket.ref for h in (await adapter.search(exact, 10)).hits] == [f"usedesk:{ticket.id}"]
    assert f"usedesk:{ticket.id}" not in [h.ticket.ref for h in (await adapter.search(later, 100)).hits]
    sent = list_bodies(fake)[0]
    assert sent["created_after"] == ticket.created_at.strftime("%Y-%m-%d %H:%M")
    assert sent["created_before"] == (ticket.created_at + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")


async def test_a_cursor_that_is_not_ours_is_refused(adapter: UsedeskAdapter) -> None:
    nested = base64.urlsafe_b64encode(b"[" * 20_000).decode()
    for cursor in ("bm90IG91cnM", "W10", "WyIyMDI1LTAxLTAxIDAwOjAwOjAwIiwgW11d", nested):
        with pytest.raises(InvalidInputError, match="cursor"):
            await adapter.search(SearchQuery(), 10, cursor)


async def test_usedesks_limit_on_text_searches_is_explained() -> None:
    with make_fake(tickets=20, query_limit=2).running() as fake:
        assert isinstance(fake, UsedeskFake)
        adapter = adapter_for(fake)
        for _ in range(2):
            await adapter.search(SearchQuery(text="zwrot"), 10)
        with pytest.raises(RateLimitedError, match="Too Many Attempts") as raised:
            await adapter.search(SearchQuery(text="zwrot"), 10)
        listed = await adapter.search(SearchQuery(), 10)
        await adapter.aclose()

    assert "10 searches a minute" in raised.value.message
    assert raised.value.retry_after is not None and raised.value.retry_after > 30
    assert listed.hits, "searches without words are not held back"
