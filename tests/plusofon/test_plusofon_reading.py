"""Listing and reading Plusofon tickets: the wire format of each call, both list shapes, times, threads."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from helpdesk_mcp.adapters.model import SearchQuery, TicketSummary
from helpdesk_mcp.adapters.plusofon.adapter import PlusofonAdapter
from helpdesk_mcp.adapters.plusofon.wire import parse_time
from tests.fakes.plusofon import STAFF, PlusofonFake, Staff, User, make_fake
from tests.plusofon.conftest import adapter_for

pytestmark = pytest.mark.anyio


async def everything(adapter: PlusofonAdapter, query: SearchQuery, limit: int) -> list[TicketSummary]:
    found: list[TicketSummary] = []
    cursor = None
    while True:
        page = await adapter.search(query, limit=limit, cursor=cursor)
        found.extend(hit.ticket for hit in page.hits)
        if not page.more:
            return found
        cursor = page.hits[-1].cursor


def utc(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


async def test_every_call_carries_the_token_the_client_code_and_json_headers(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    page = await adapter.search(SearchQuery(), limit=1)
    await adapter.get_ticket(page.hits[0].ticket.ref.partition(":")[2])
    assert len(fake.requests) == 3
    for request in fake.requests:
        assert request.header("authorization") == f"Bearer {fake.token}"
        assert request.header("client") == "10553"
        assert request.header("accept") == "application/json"
        assert request.header("content-type") == "application/json"


async def test_the_list_is_asked_by_state_in_a_json_body_on_a_get(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    await adapter.search(SearchQuery(), limit=5)
    lists = fake.received("GET", r"^/api/v1/ticket$")
    assert [r.json() for r in lists] == [{"state": "true"}, {"state": "false"}]
    assert all(r.query == {} for r in lists), "state travels in the body, as the vendor's examples send it"

    fake.requests.clear()
    closed = await adapter.search(SearchQuery(statuses=("closed",)), limit=5)
    assert [r.json() for r in fake.received("GET", r"^/api/v1/ticket$")] == [{"state": "false"}]
    assert {hit.ticket.status for hit in closed.hits} == {"closed"}


async def test_the_vendor_refuses_a_state_that_is_not_the_text_true_or_false(fake: PlusofonFake) -> None:
    headers = {"Authorization": f"Bearer {fake.token}", "Client": "10553", "Accept": "application/json"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers) as http:
        for state, said in ((True, "Undefined index: 1"), ("all", "Undefined index: all")):
            answer = await http.request("GET", "/api/v1/ticket", json={"state": state})
            assert answer.json() == {"message": said, "code": 400}


async def test_paging_through_every_ticket_gives_each_once_newest_activity_first(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    found = await everything(adapter, SearchQuery(), limit=37)
    assert sorted(t.ref for t in found) == sorted(f"plusofon:{n}" for n in fake.tickets)
    assert len(found) == len(fake.tickets) == 300
    keys = [(t.updated_at, t.ref) for t in found]
    assert keys == sorted(keys, reverse=True)
    seeded = fake.tickets[int(found[0].ref.partition(":")[2])]
    assert found[0].updated_at == utc(seeded.last.at) and found[0].created_at == utc(seeded.created)


async def test_both_documented_list_shapes_read_the_same() -> None:
    results = []
    for shape in ("object", "array"):
        with make_fake(list_shape=shape).running() as fake:
            assert isinstance(fake, PlusofonFake)
            adapter = adapter_for(fake)
            results.append(await everything(adapter, SearchQuery(), limit=100))
            await adapter.aclose()
    assert results[0] == results[1]
    assert len(results[0]) == 300


async def test_a_single_ticket_not_wrapped_in_a_list_and_an_empty_list_are_read(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    [only, *others] = [t for t in fake.tickets.values() if t.active]
    for ticket in others:
        ticket.active = False
    headers = {"Authorization": f"Bearer {fake.token}", "Client": "10553"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers) as http:
        raw = (await http.request("GET", "/api/v1/ticket", json={"state": "true"})).json()
        assert isinstance(raw["ticket"], dict), "the XML-derived list does not wrap a single ticket"
        page = await adapter.search(SearchQuery(statuses=("open",)), limit=10)
        assert [hit.ticket.ref for hit in page.hits] == [f"plusofon:{only.id}"]

        only.active = False
        assert (await http.request("GET", "/api/v1/ticket", json={"state": "true"})).json() == {}
    assert (await adapter.search(SearchQuery(statuses=("open",)), limit=10)).hits == []


async def test_unix_and_local_times_arrive_in_utc(fake: PlusofonFake, adapter: PlusofonAdapter) -> None:
    ticket = next(t for t in fake.tickets.values() if len(t.posts) > 2)
    [summary] = [
        t for t in await everything(adapter, SearchQuery(), limit=100) if t.ref == f"plusofon:{ticket.id}"
    ]
    read = await adapter.get_ticket(str(ticket.id))
    assert summary.created_at == read.created_at == utc(ticket.created)
    assert summary.updated_at == read.updated_at == utc(ticket.last.at)
    assert [m.created_at for m in read.messages] == [utc(p.at) for p in ticket.posts]

    moscow, novosibirsk = ZoneInfo("Europe/Moscow"), ZoneInfo("Asia/Novosibirsk")
    assert parse_time("2021-09-23 17:44:27", moscow) == datetime(2021, 9, 23, 14, 44, 27, tzinfo=UTC)
    assert parse_time("2021-09-23 17:44:27", novosibirsk) == datetime(2021, 9, 23, 10, 44, 27, tzinfo=UTC)
    assert parse_time("1630069143", moscow) == parse_time(1630069143, novosibirsk) == utc(1630069143)
    assert parse_time([], moscow) is None and parse_time("0", moscow) is None


async def test_a_thread_reads_whole_with_customer_and_staff_messages(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    ticket = next(
        t
        for t in fake.tickets.values()
        if any(len(p.text) > 5000 and "<table>" in p.text for p in t.posts) and any(p.files for p in t.posts)
    )
    read = await adapter.get_ticket(str(ticket.id))
    assert [m.id for m in read.messages] == [str(p.id) for p in ticket.posts]
    assert [m.kind for m in read.messages] == [
        "agent" if isinstance(p.author, Staff) else "customer" for p in ticket.posts
    ]
    assert read.subject == ticket.subject
    assert read.requester is not None and read.requester.email == ticket.user.email
    for message, post in zip(read.messages, ticket.posts, strict=True):
        assert message.author is not None and message.author.id == post.author.id
        if isinstance(post.author, User):
            assert message.body == post.text.strip(), "customer text is kept to the character"
        else:
            assert "<" not in message.body and post.author.name in message.body
        assert [(a.id, a.filename, a.size) for a in message.attachments] == [
            (str(f.id), f.filename, len(f.content)) for f in post.files
        ]
    table = next(m for m in read.messages if "Длительность" in m.body)
    assert len(table.body) > 2000 and "| мин" not in table.body and "₽" in table.body


async def test_polish_and_cyrillic_text_survive_and_staff_go_by_name(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    polish = next(t for t in fake.tickets.values() if t.user.email.endswith(".pl") and len(t.posts) > 1)
    read = await adapter.get_ticket(str(polish.id))
    assert read.messages[0].body == polish.posts[0].text
    assert any(ch in read.messages[0].body for ch in "ąęółśżźćń")
    staff = read.messages[1]
    assert staff.kind == "agent" and staff.author is not None
    assert staff.author.name in {s.name for s in STAFF} and staff.author.email is None


async def test_filters_apply_to_the_whole_list(fake: PlusofonFake, adapter: PlusofonAdapter) -> None:
    every = await everything(adapter, SearchQuery(), limit=100)

    faktura = await everything(adapter, SearchQuery(text="FAKTURA błędna"), limit=100)
    assert faktura and faktura == [t for t in every if "Faktura" in t.subject and "błędna" in t.subject]

    mine = await everything(adapter, SearchQuery(requester="BUH@romashka-trade.ru"), limit=100)
    assert mine and all(t.requester and t.requester.email == "buh@romashka-trade.ru" for t in mine)
    assert len(mine) == sum(t.user.email == "buh@romashka-trade.ru" for t in fake.tickets.values())

    middle = every[len(every) // 2].updated_at
    assert middle is not None
    recent = await everything(adapter, SearchQuery(updated_after=middle), limit=100)
    assert recent == [t for t in every if t.updated_at and t.updated_at >= middle]
    created = await everything(adapter, SearchQuery(created_before=middle, statuses=("open",)), limit=100)
    assert created == [t for t in every if t.created_at and t.created_at < middle and t.status == "open"]


async def test_the_status_mapping_can_be_overridden(fake: PlusofonFake) -> None:
    adapter = adapter_for(fake, closed_status="solved")
    solved = await adapter.search(SearchQuery(statuses=("solved",)), limit=5)
    assert solved.hits and {hit.ticket.status for hit in solved.hits} == {"solved"}
    assert [r.json() for r in fake.received("GET", r"^/api/v1/ticket$")] == [{"state": "false"}]
    assert (await adapter.search(SearchQuery(statuses=("closed",)), limit=5)).hits == []
    await adapter.aclose()
