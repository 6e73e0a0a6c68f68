"""Searching Thulium: paging by position, not offset; native filters on the wire; the rest applied here."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.model import NewReply, NewTicket, SearchQuery, Status
from helpdesk_mcp.adapters.thulium.adapter import ThuliumAdapter
from helpdesk_mcp.adapters.thulium.search import POSITIONS
from tests.fakes.thulium import (
    CLOSED,
    IN_PROGRESS,
    MERGED,
    SOLVED,
    WAITING,
    FakeThulium,
    FakeTicket,
    make_fake,
)
from tests.thulium.conftest import MakeAdapter, settings_for

pytestmark = pytest.mark.anyio

LIST = r"^/api/tickets$"


def expected(fake: FakeThulium, keep: Callable[[FakeTicket], bool] = lambda _: True) -> list[str]:
    """Refs newest first as Thulium shows them: by the minute of the last change, then by ref."""
    rows = sorted(
        ((fake.local(t.updated), str(t.id)) for t in fake.tickets.values() if keep(t)), reverse=True
    )
    return [f"thulium:{ticket_id}" for _, ticket_id in rows]


async def every_page(adapter: ThuliumAdapter, query: SearchQuery, limit: int) -> list[str]:
    refs: list[str] = []
    cursor = None
    while True:
        page = await adapter.search(query, limit, cursor)
        refs += [hit.ticket.ref for hit in page.hits]
        if not page.more:
            return refs
        cursor = page.hits[-1].cursor


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


async def test_paging_returns_every_ticket_once_newest_first(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    crowded, count = Counter(fake.local(t.updated) for t in fake.tickets.values()).most_common(1)[0]
    bulk = [t for t in fake.tickets.values() if fake.local(t.updated) == crowded]
    assert count >= 10, "the seeded account has a bulk change within one minute"
    by_seconds = [t.id for t in sorted(bulk, key=lambda t: t.updated, reverse=True)]
    assert by_seconds != sorted(by_seconds, reverse=True), (
        "Thulium lists that minute in another order than ids"
    )

    refs = await every_page(adapter, SearchQuery(), limit=7)

    assert refs == expected(fake)
    assert len(refs) == len(set(refs)) == len(fake.tickets)
    listed = fake.received("GET", LIST)
    assert all(1 <= int(r.query["limit"][0]) <= 100 for r in listed)


async def test_a_page_resumes_from_the_last_ticket_minute_not_an_offset(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    first = await adapter.search(SearchQuery(), 5)
    last = fake.tickets[int(first.hits[-1].ticket.ref.partition(":")[2])]
    calls = len(fake.received("GET", LIST))

    await adapter.search(SearchQuery(), 5, first.hits[-1].cursor)

    resumed = fake.received("GET", LIST)[calls]
    # Thulium compares `date_to` with the minute's first second, so the bound is the next minute.
    local = last.updated.astimezone(fake.zone).replace(tzinfo=None, second=0, microsecond=0)
    assert resumed.query["date_to"] == [(local + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")]
    assert resumed.query["offset"] == ["0"]


async def test_tickets_changing_between_pages_cause_no_duplicate_and_no_gap(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    before = expected(fake)
    first = await adapter.search(SearchQuery(), 30)
    shown, not_yet = before[3], before[100]

    # Meanwhile agents work: a ticket already shown and one not yet shown change, a new one arrives.
    for ref in (shown, not_yet):
        await adapter.reply(ref.partition(":")[2], NewReply(body="Aktualizacja w trakcie przeglądania."))
    await adapter.create_ticket(NewTicket(subject="Nowe w trakcie", body="Treść."))

    rest_from_cursor: list[str] = []
    cursor: str | None = first.hits[-1].cursor
    while cursor:
        page = await adapter.search(SearchQuery(), 30, cursor)
        rest_from_cursor += [hit.ticket.ref for hit in page.hits]
        cursor = page.hits[-1].cursor if page.more else None

    seen = [hit.ticket.ref for hit in first.hits] + rest_from_cursor
    assert len(seen) == len(set(seen)), "no ticket twice"
    untouched = set(before) - {not_yet}
    assert untouched <= set(seen), "every ticket that did not change is found"
    assert not_yet not in seen  # it changed after the search began: it is newer than the cursor now


@asynccontextmanager
async def statuses_listed(**options: Any) -> AsyncIterator[tuple[FakeThulium, ThuliumAdapter]]:
    """A Thulium that does answer the guessed statuses resource, and an adapter on it."""
    with make_fake(statuses_endpoint=True).running() as fake:
        assert isinstance(fake, FakeThulium)
        adapter = ThuliumAdapter("thulium", settings_for(fake, **options))
        try:
            yield fake, adapter
        finally:
            await adapter.aclose()


async def test_without_a_statuses_resource_a_status_filter_is_applied_here(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    pending = await every_page(adapter, SearchQuery(statuses=("pending",)), limit=50)
    again = await adapter.search(SearchQuery(statuses=("closed",)), 10)

    assert pending == expected(fake, lambda t: t.status_id == WAITING) and pending
    closed = expected(fake, lambda t: t.status_id in (CLOSED, MERGED))
    assert [h.ticket.ref for h in again.hits] == closed[:10]
    # Ids learned from tickets may miss a status, and a filter by them would miss its tickets.
    assert all("status_id[]" not in r.query for r in fake.received("GET", LIST))
    assert len(fake.received("GET", r"^/api/ticket_statuses$")) == 1, "its absence is remembered"


async def test_status_filter_sends_the_account_status_ids_where_its_statuses_are_listed() -> None:
    async with statuses_listed() as (fake, adapter):
        pending = await every_page(adapter, SearchQuery(statuses=("pending",)), limit=50)

        assert pending == expected(fake, lambda t: t.status_id == WAITING)
        assert {tuple(r.query["status_id[]"]) for r in fake.received("GET", LIST)} == {("13",)}


async def test_an_unmapped_status_reads_as_open_with_its_own_name() -> None:
    async with statuses_listed() as (fake, adapter):
        page = await adapter.search(SearchQuery(statuses=("open",)), 100)

        assert fake.received("GET", LIST)[0].query["status_id[]"] == ["12", "23"]
        labels = {hit.ticket.status_label for hit in page.hits}
        assert "Rozwiązane" in labels and "W realizacji - Dział techniczny" in labels
        assert {hit.ticket.status for hit in page.hits} == {"open"}
        assert [h.ticket.ref for h in page.hits] == expected(
            fake, lambda t: t.status_id in (IN_PROGRESS, SOLVED)
        )[:100]


@pytest.mark.parametrize("mapping", [{str(SOLVED): "solved"}, {"Rozwiązane": "solved"}], ids=["id", "name"])
async def test_the_statuses_setting_maps_an_admin_added_status(
    fake: FakeThulium, make_adapter: MakeAdapter, mapping: dict[str, Status]
) -> None:
    mapped = make_adapter(statuses=mapping)

    solved = await every_page(mapped, SearchQuery(statuses=("solved",)), limit=50)

    assert solved == expected(fake, lambda t: t.status_id == SOLVED) and solved
    read = await mapped.get_ticket(solved[0].partition(":")[2])
    assert (read.status, read.status_label) == ("solved", "Rozwiązane")


async def test_with_the_statuses_listed_a_status_no_one_means_asks_for_nothing() -> None:
    async with statuses_listed() as (fake, defaults):
        assert (await defaults.search(SearchQuery(statuses=("solved",)), 10)).hits == []
        assert fake.received("GET", LIST) == [], "no status of the account means solved: nothing to ask"
    async with statuses_listed(statuses={"Rozwiązane": "solved"}) as (fake, mapped):
        solved = await every_page(mapped, SearchQuery(statuses=("solved",)), limit=50)
        assert solved == expected(fake, lambda t: t.status_id == SOLVED) and solved
        assert fake.received("GET", LIST)[0].query["status_id[]"] == ["23"]


async def test_status_filter_still_works_when_the_statuses_resource_is_forbidden() -> None:
    allowed = frozenset({"GET tickets", "GET tickets/:id"})
    with make_fake(permissions=allowed, statuses_endpoint=True).running() as fake:
        assert isinstance(fake, FakeThulium)
        adapter = ThuliumAdapter("thulium", settings_for(fake))
        try:
            pending = await every_page(adapter, SearchQuery(statuses=("pending",)), limit=50)
        finally:
            await adapter.aclose()
        assert pending == expected(fake, lambda t: t.status_id == WAITING)
        assert all("status_id[]" not in r.query for r in fake.received("GET", LIST))


async def test_dates_and_assignee_go_to_thulium_in_its_local_minutes(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    created_after = datetime(2026, 1, 10, 12, 30, 15, tzinfo=UTC)  # winter: Warsaw is UTC+1
    updated_before = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # summer: UTC+2
    query = SearchQuery(assignee="mnowak", created_after=created_after, updated_before=updated_before)

    found = await every_page(adapter, query, limit=50)

    first = fake.received("GET", LIST)[0].query
    assert first["create_date_from"] == ["2026-01-10 13:30"]
    assert first["date_to"] == ["2026-07-01 10:01"]
    assert first["user_login"] == ["mnowak"]
    assert found == expected(
        fake,
        lambda t: (
            t.user_login == "mnowak"
            and minute(t.created) >= created_after
            and minute(t.updated) < updated_before
        ),
    )
    assert found


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        (
            SearchQuery(text="СПИСАЛИСЬ дважды"),
            lambda t: any("списались дважды" in m.body.casefold() for m in t.messages),
        ),
        (
            SearchQuery(text="gęślą ZAŻÓŁĆ"),
            lambda t: any("zażółć gęślą" in m.body.casefold() for m in t.messages),
        ),
        (SearchQuery(requester="example.ru"), lambda t: t.sender.endswith("@example.ru")),
        (SearchQuery(tags=("VIP", "faktura")), lambda t: {"vip", "faktura"} <= set(t.tags)),
        (
            SearchQuery(text="Sprawdzić magazynowy"),
            lambda t: any("Sprawdzić stan magazynowy" in m.comment for m in t.messages),
        ),
    ],
    ids=["russian-text", "polish-text", "requester", "tags", "internal-comment"],
)
async def test_filters_thulium_lacks_are_applied_to_what_it_lists(
    fake: FakeThulium, adapter: ThuliumAdapter, query: SearchQuery, keep: Callable[[FakeTicket], bool]
) -> None:
    found = await every_page(adapter, query, limit=25)

    assert found == expected(fake, keep)
    assert found
    for request in fake.received("GET", LIST):
        assert set(request.query) == {"limit", "offset"} | (
            {"date_to"} if "date_to" in request.query else set()
        )


async def test_a_cursor_from_elsewhere_is_refused(adapter: ThuliumAdapter) -> None:
    for cursor in (
        "bm90IG91cnM",
        POSITIONS.encode(("yesterday", "1")),
        POSITIONS.encode(("2026-01-01 10:00", "x1")),
    ):
        with pytest.raises(InvalidInputError, match="cursor"):
            await adapter.search(SearchQuery(), 5, cursor)


async def test_a_ticket_changing_mid_scan_does_not_hide_its_neighbours(
    fake: FakeThulium, adapter: ThuliumAdapter
) -> None:
    # Filtered here, so one search call reads all of Thulium's pages.
    cut = datetime(2026, 9, 1, tzinfo=UTC)
    window = SearchQuery(updated_before=cut, requester="example.ru")
    before = expected(fake, lambda t: t.updated < cut and "example.ru" in t.sender)
    leaving = fake.tickets[int(expected(fake, lambda t: t.updated < cut)[40].partition(":")[2])]

    def meanwhile() -> None:  # listed already, it now changes: out of the `date_to` window, the rest move up
        leaving.updated = datetime.now(UTC)

    fake.after_list = meanwhile
    found = await every_page(adapter, window, limit=100)

    assert found == before
    assert len(fake.received("GET", LIST)) > 1
