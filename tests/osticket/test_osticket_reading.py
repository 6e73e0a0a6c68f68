"""Reading and searching through the extension: its serialized ORM objects mapped onto the model, and
search scoped by customer or agent with the remaining filters applied over the complete answer."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError, NotFoundError, UnavailableError
from helpdesk_mcp.adapters.html_text import looks_like_html
from helpdesk_mcp.adapters.model import SearchQuery, TicketSummary
from helpdesk_mcp.adapters.osticket.adapter import OsticketAdapter
from helpdesk_mcp.adapters.text import to_plain_text
from tests.fakes.osticket import STATUSES, OsticketFake, Ticket, make_fake
from tests.osticket.conftest import adapter_for

pytestmark = pytest.mark.anyio


def utc(fake: OsticketFake, moment: datetime) -> datetime:
    return moment.replace(tzinfo=ZoneInfo(fake.timezone)).astimezone(UTC)


def newest_first(fake: OsticketFake, tickets: list[Ticket]) -> list[str]:
    def activity(t: Ticket) -> datetime:
        return utc(fake, max([t.created, *(e.created for e in t.entries if e.type in "MR")]))

    return [ref for _, ref in sorted(((activity(t), f"osticket:{t.number}") for t in tickets), reverse=True)]


async def all_pages(adapter: OsticketAdapter, query: SearchQuery, limit: int) -> list[TicketSummary]:
    found: list[TicketSummary] = []
    cursor = None
    while True:
        page = await adapter.search(query, limit, cursor)
        found += [hit.ticket for hit in page.hits]
        if not page.more:
            return found
        cursor = page.hits[-1].cursor


async def test_a_thread_keeps_every_kind_and_every_character(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    stored = next(
        t
        for t in fake.tickets
        if {"M", "R", "N", "SYSTEM"} <= {"SYSTEM" if e.poster == "SYSTEM" else e.type for e in t.entries}
        and any(e.format == "html" and e.type == "M" for e in t.entries)
    )
    ticket = await adapter.get_ticket(stored.number)

    [request] = fake.received("GET", r"/ticketInfo$")[1:]
    assert request.path == "/api/http.php/tickets/ticketInfo" and request.query == {
        "ticketNumber": [stored.number]
    }
    assert ticket.ref == f"osticket:{stored.number}" and ticket.subject == stored.subject
    user = fake.user(stored.user_id)
    assert user is not None and ticket.requester is not None
    assert (ticket.requester.name, ticket.requester.email) == (user.name, user.email)
    assert ticket.created_at == utc(fake, stored.created)
    kinds = {"M": "customer", "R": "agent", "N": "internal_note"}
    assert [m.id for m in ticket.messages] == [str(e.id) for e in stored.entries]
    for message, entry in zip(ticket.messages, stored.entries, strict=True):
        expected_kind = "system" if entry.poster == "SYSTEM" else kinds[entry.type]
        assert message.kind == expected_kind
        # A text body is stored HTML-escaped (TextThreadEntryBody::getClean) and read unescaped.
        body = entry.body if entry.format == "html" else html.unescape(entry.body)
        assert message.body == to_plain_text(body, html=entry.format == "html")
        assert message.created_at == utc(fake, entry.created)
        assert len(message.attachments) == len(entry.files)
        if entry.type == "R":
            assert message.author is not None and message.author.name == entry.poster
    rich = next(m for m, e in zip(ticket.messages, stored.entries, strict=True) if e.format == "html")
    assert not looks_like_html(rich.body) and "&nbsp;" not in rich.body


async def test_the_status_is_mapped_and_its_own_name_kept(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    for status_id, expected in (
        (1, ("open", None)),
        (2, ("solved", "Resolved")),
        (4, ("closed", "Archived")),
    ):
        stored = next(t for t in fake.tickets if t.status_id == status_id)
        ticket = await adapter.get_ticket(stored.number)
        assert (ticket.status, ticket.status_label) == expected
    # A status the admin added and nobody mapped reads by whether osTicket closed the ticket.
    added = next(t for t in fake.tickets if t.status_id == 6)
    ticket = await adapter.get_ticket(added.number)
    assert (ticket.status, ticket.status_label) == ("open", "Awaiting customer")
    mapped = adapter_for(fake, statuses={"Awaiting customer": "pending"})
    assert (await mapped.get_ticket(added.number)).status == "pending"
    await mapped.aclose()


async def test_long_html_is_read_whole(fake: OsticketFake, adapter: OsticketAdapter) -> None:
    stored = next(t for t in fake.tickets if any(len(e.body) > 10000 for e in t.entries))
    entry = next(e for e in stored.entries if len(e.body) > 10000)
    ticket = await adapter.get_ticket(stored.number)
    [message] = [m for m in ticket.messages if m.id == str(entry.id)]
    assert message.body.endswith("Koniec logu.") and "соединение разорвано" in message.body
    assert len(message.body) > 8000


async def test_files_are_counted_and_those_this_process_sent_are_named(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    stored = next(t for t in fake.tickets if any(len(e.files) == 2 for e in t.entries))
    entry = next(e for e in stored.entries if len(e.files) == 2)
    ticket = await adapter.get_ticket(stored.number)
    [message] = [m for m in ticket.messages if m.id == str(entry.id)]
    assert [a.id for a in message.attachments] == [f"{entry.id}.1", f"{entry.id}.2"]
    assert all("gives no file name" in a.filename for a in message.attachments)


async def test_unknown_and_malformed_numbers(adapter: OsticketAdapter) -> None:
    with pytest.raises(NotFoundError, match=r"Ticket osticket:987654321 does not exist"):
        await adapter.get_ticket("987654321")
    with pytest.raises(InvalidInputError, match="only digits as ticket numbers"):
        await adapter.get_ticket("2026-0001")


async def test_search_needs_a_customer_or_an_agent(fake: OsticketFake, adapter: OsticketAdapter) -> None:
    for query in (SearchQuery(), SearchQuery(text="drukarka"), SearchQuery(requester="Ola Nowak")):
        with pytest.raises(InvalidInputError, match="requester as the customer's e-mail address"):
            await adapter.search(query, 10)
    assert fake.received("GET", r"Tickets$") == []


async def test_a_customer_s_tickets_page_by_page_once_each(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    user = max(fake.users, key=lambda u: sum(t.user_id == u.id for t in fake.tickets))
    found = await all_pages(adapter, SearchQuery(requester=user.email.upper()), 2)
    assert [t.ref for t in found] == newest_first(fake, [t for t in fake.tickets if t.user_id == user.id])
    calls = fake.received("GET", r"/clientTickets$")
    assert {tuple(c.query["clientUserMail"]) for c in calls} == {(user.email.upper(),)}
    assert all(c.path == "/api/http.php/tickets/clientTickets" for c in calls)


async def test_an_agent_s_tickets_with_filters_applied_over_them(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    agent = fake.staff[2]
    query = SearchQuery(assignee=agent.username, statuses=("closed", "solved"), text="платёж")
    found = await all_pages(adapter, query, 100)
    expected = [
        t
        for t in fake.tickets
        if t.staff_id == agent.id
        and STATUSES[t.status_id][1] != "open"
        and any("платёж" in e.body.casefold() for e in t.entries)
    ]
    assert expected and [t.ref for t in found] == newest_first(fake, expected)
    [call] = fake.received("GET", r"/staffTickets$")
    assert call.query == {"staffUserName": [agent.username]}


async def test_a_requester_within_an_agent_s_tickets_and_dates(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    agent = fake.staff[0]
    mine = [t for t in fake.tickets if t.staff_id == agent.id]
    someone = fake.user(mine[0].user_id)
    assert someone is not None
    found = await all_pages(adapter, SearchQuery(assignee=agent.username, requester=someone.last), 100)
    assert {t.ref for t in found} == {
        f"osticket:{t.number}" for t in mine if someone.last in (fake.user(t.user_id) or someone).name
    }
    after = utc(fake, datetime(2026, 9, 1))
    recent = await all_pages(adapter, SearchQuery(assignee=agent.username, created_after=after), 100)
    assert {t.ref for t in recent} == {f"osticket:{t.number}" for t in mine if utc(fake, t.created) >= after}


async def test_an_unknown_customer_has_no_tickets_and_an_unknown_agent_is_explained(
    adapter: OsticketAdapter,
) -> None:
    page = await adapter.search(SearchQuery(requester="nobody@example.com"), 10)
    assert page.hits == [] and not page.more
    with pytest.raises(InvalidInputError, match="no staff user named 'Agata Nowak'"):
        await adapter.search(SearchQuery(assignee="Agata Nowak"), 10)


async def test_the_fork_failing_on_php8_is_told_in_its_words() -> None:
    with make_fake(tickets=5, php8=True).running() as fake:
        assert isinstance(fake, OsticketFake)
        adapter = adapter_for(fake)
        for query in (SearchQuery(requester="ola@example.com"), SearchQuery(assignee="agata.nowak")):
            with pytest.raises(UnavailableError, match=r"mysqli_set_charset\(\) expects exactly 2 arguments"):
                await adapter.search(query, 10)
        await adapter.aclose()


async def test_a_cursor_from_elsewhere_is_refused(adapter: OsticketAdapter) -> None:
    with pytest.raises(InvalidInputError, match="cursor"):
        await adapter.search(SearchQuery(requester="ola@example.com"), 5, "bm90IG91cnM")
