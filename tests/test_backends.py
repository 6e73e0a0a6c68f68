"""Policy shared by every backend: time limits, unexpected failures, and search across backends.

A scripted in-memory adapter stands in for a vendor here, so that slowness and failure can be
produced on demand; the real adapters prove their wire formats in their own suites.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from helpdesk_mcp.adapters.base import Adapter
from helpdesk_mcp.adapters.errors import (
    AuthError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
    UnsupportedError,
)
from helpdesk_mcp.adapters.model import (
    AttachmentContent,
    Capabilities,
    Message,
    NewReply,
    NewTicket,
    SearchHit,
    SearchPage,
    SearchQuery,
    Ticket,
    TicketSummary,
)
from helpdesk_mcp.server.backends import Backends
from helpdesk_mcp.server.search import merged_search

pytestmark = pytest.mark.anyio
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Scripted(Adapter):
    """Tickets `<name>:0..n-1`, ticket i updated i minutes after NOW; behaviour set per test."""

    type = "scripted"

    def __init__(self, name: str, count: int, *, filters: tuple[str, ...] = ("query",)) -> None:
        super().__init__(name)
        self.capabilities = Capabilities(
            search=True,
            full_text_search=True,
            search_filters=filters,
            create=True,
            reply=True,
            internal_notes=False,
            status_on_reply=False,
            attachments=False,
            attachment_download=False,
        )
        self.tickets = [
            TicketSummary(
                ref=f"{name}:{i}", subject=f"t{i}", status="open", updated_at=NOW + timedelta(minutes=i)
            )
            for i in range(count)
        ]
        self.delay = 0.0
        self.failure: Exception | None = None
        self.calls = 0

    async def search(self, query: SearchQuery, limit: int, cursor: str | None = None) -> SearchPage:
        self.calls += 1
        await anyio.sleep(self.delay)
        if self.failure:
            raise self.failure
        newest_first = sorted(self.tickets, key=lambda t: t.updated_at or NOW, reverse=True)
        start = int(cursor) if cursor else 0
        page = newest_first[start : start + limit]
        hits = [SearchHit(ticket=t, cursor=str(start + i + 1)) for i, t in enumerate(page)]
        return SearchPage(hits=hits, more=start + limit < len(newest_first))

    async def get_ticket(self, ticket_id: str) -> Ticket:
        raise NotFoundError(f"Ticket {self.name}:{ticket_id} does not exist.")

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        self.calls += 1
        await anyio.sleep(self.delay)
        if self.failure:
            raise self.failure
        return Ticket(ref=f"{self.name}:new", subject=ticket.subject, status="new")

    async def reply(self, ticket_id: str, reply: NewReply) -> Message:
        raise UnsupportedError("not scripted")

    async def download_attachment(self, ticket_id: str, attachment_id: str) -> AttachmentContent:
        raise UnsupportedError("not scripted")


async def everything(backends: Backends, *, limit: int, backend: str | None = None) -> list[str]:
    refs: list[str] = []
    cursor = None
    while True:
        page = await merged_search(backends, SearchQuery(), backend=backend, limit=limit, cursor=cursor)
        refs += [t.ref for t in page.tickets]
        cursor = page.next_cursor
        if cursor is None:
            return refs


async def test_a_slow_write_times_out_with_advice_and_is_not_retried() -> None:
    slow = Scripted("slow", 0)
    slow.delay = 5
    backends = Backends([slow], timeout=0.05)
    with pytest.raises(UnavailableError) as caught:
        await backends.call(
            slow, "opening the ticket", lambda: slow.create_ticket(NewTicket(subject="s", body="b"))
        )
    assert (
        "within 0.05 s" in caught.value.message
        and "read the ticket before trying again" in caught.value.message
    )
    assert slow.calls == 1


async def test_unexpected_failures_become_unavailable_without_their_details() -> None:
    broken = Scripted("broken", 0)
    broken.failure = RuntimeError("password=hunter2 in a stack somewhere")
    backends = Backends([broken], timeout=5)
    with pytest.raises(UnavailableError) as caught:
        await backends.call(
            broken, "opening the ticket", lambda: broken.create_ticket(NewTicket(subject="s", body="b"))
        )
    assert "hunter2" not in caught.value.message and "RuntimeError" in caught.value.message


async def test_helpdesk_errors_pass_through_unchanged() -> None:
    locked = Scripted("locked", 0)
    locked.failure = AuthError("The API user may not create tickets.")
    backends = Backends([locked], timeout=5)
    with pytest.raises(AuthError, match="may not create tickets"):
        await backends.call(
            locked, "opening the ticket", lambda: locked.create_ticket(NewTicket(subject="s", body="b"))
        )


async def test_merged_search_interleaves_by_update_time_and_pages_without_loss() -> None:
    a, b = Scripted("a", 7), Scripted("b", 4)
    b.tickets = [
        t.model_copy(update={"updated_at": NOW + timedelta(minutes=i * 2, seconds=30)})
        for i, t in enumerate(b.tickets)
    ]
    backends = Backends([a, b], timeout=5)
    expected = [t.ref for t in sorted(a.tickets + b.tickets, key=lambda t: t.updated_at or NOW, reverse=True)]
    for limit in (1, 2, 3, 5, 11, 50):
        assert await everything(backends, limit=limit) == expected, f"limit {limit}"


async def test_tickets_updated_at_the_same_moment_page_in_each_backends_order() -> None:
    # Vendors keep times to the second or the minute: many tickets share one, and each backend's
    # own order among them is what its cursor follows.
    a, b = Scripted("a", 6), Scripted("b", 3)
    for scripted in (a, b):
        scripted.tickets = [t.model_copy(update={"updated_at": NOW}) for t in scripted.tickets]
    backends = Backends([a, b], timeout=5)
    for limit in (1, 2, 4, 9):
        found = await everything(backends, limit=limit)
        assert sorted(found) == sorted(t.ref for t in a.tickets + b.tickets), f"limit {limit}"
        assert [r for r in found if r.startswith("a:")] == [t.ref for t in a.tickets], f"limit {limit}"


async def test_a_failing_backend_is_left_out_with_a_note() -> None:
    good, bad = Scripted("good", 3), Scripted("bad", 3)
    bad.failure = UnavailableError("Backend 'bad' answered 503.")
    backends = Backends([good, bad], timeout=5)
    page = await merged_search(backends, SearchQuery(), backend=None, limit=10, cursor=None)
    assert [t.ref for t in page.tickets] == ["good:2", "good:1", "good:0"]
    assert page.notes == ["Backend 'bad' failed and is left out of this search: Backend 'bad' answered 503."]
    with pytest.raises(UnavailableError):
        await merged_search(backends, SearchQuery(), backend="bad", limit=10, cursor=None)


async def test_filters_a_backend_cannot_apply_are_said_not_ignored() -> None:
    plain = Scripted("plain", 2, filters=())
    rich = Scripted("rich", 2, filters=("query", "status"))
    backends = Backends([plain, rich], timeout=5)
    query = SearchQuery(text="printer", statuses=("open",))
    with pytest.raises(UnsupportedError, match="cannot filter by query, status"):
        await merged_search(backends, query, backend="plain", limit=5, cursor=None)
    page = await merged_search(backends, query, backend=None, limit=5, cursor=None)
    assert {t.ref.split(":")[0] for t in page.tickets} == {"rich"}
    assert "'plain'" in page.notes[0] and plain.calls == 0


async def test_a_cursor_only_continues_the_search_it_came_from() -> None:
    backends = Backends([Scripted("a", 5)], timeout=5)
    first = await merged_search(backends, SearchQuery(), backend=None, limit=2, cursor=None)
    assert first.next_cursor is not None
    with pytest.raises(InvalidInputError, match="does not belong to this search"):
        await merged_search(
            backends, SearchQuery(text="other"), backend=None, limit=2, cursor=first.next_cursor
        )
    with pytest.raises(InvalidInputError):
        await merged_search(backends, SearchQuery(), backend=None, limit=2, cursor="garbage!!")


def test_refs_are_resolved_or_refused_clearly() -> None:
    backends = Backends([Scripted("usedesk", 0)], timeout=5)
    adapter, ticket_id = backends.resolve(" usedesk:2992803 ")
    assert (adapter.name, ticket_id) == ("usedesk", "2992803")
    for bad in ("", ":", "usedesk:", ":12", "2992803"):
        with pytest.raises(InvalidInputError, match="not a ticket ref"):
            backends.resolve(bad)
    with pytest.raises(NotFoundError, match="configured backends: usedesk"):
        backends.resolve("thulium:1")
