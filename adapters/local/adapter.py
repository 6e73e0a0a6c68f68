"""The embedded local helpdesk as an `Adapter`: the async face of the SQLite `Store`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, TypeVarTuple, Unpack

import anyio

from ..base import Adapter
from ..errors import InvalidInputError
from ..model import (
    SEARCH_FILTERS,
    AttachmentContent,
    Capabilities,
    Message,
    NewReply,
    NewTicket,
    SearchHit,
    SearchPage,
    SearchQuery,
    Ticket,
    make_ref,
)
from .query import MAX_ROWID, POSITIONS
from .settings import LocalSettings
from .store import SEARCH_SECONDS, Store, missing_attachment, missing_ticket

T = TypeVar("T")
Args = TypeVarTuple("Args")

# A page is for reading; longer lists are paged with cursors. It also keeps `limit + 1` in SQLite's range.
MAX_PAGE = 1000


def _row_id(text: str) -> int | None:
    """`text` as a row id; None when it is not an ASCII whole number that fits one."""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ROWID else None


class LocalAdapter(Adapter):
    """A small real helpdesk in one SQLite file at `path`; replies are signed by `agent_name`.

    Calls are serialized through a limiter of one, so each of the store's connections is used by one
    worker thread at a time; searches have their own connection and limiter, so a slow search never
    holds up reading or writing a ticket. Other processes on the same file are kept apart by SQLite's
    locks.
    """

    type = "local"
    capabilities = Capabilities(
        search=True,
        full_text_search=True,
        search_filters=SEARCH_FILTERS,
        create=True,
        reply=True,
        internal_notes=True,
        status_on_reply=True,
        attachments=True,
        attachment_download=True,
    )

    def __init__(
        self, name: str, path: Path, agent_name: str = "Agent", search_seconds: float = SEARCH_SECONDS
    ) -> None:
        super().__init__(name)
        self.path = path
        self.agent_name = agent_name
        self._store = Store(path, name, search_seconds)
        self._limiter = anyio.CapacityLimiter(1)
        self._search_limiter = anyio.CapacityLimiter(1)

    async def search(self, query: SearchQuery, limit: int, cursor: str | None = None) -> SearchPage:
        after = POSITIONS.decode(cursor) if cursor else None
        limit = min(limit, MAX_PAGE)
        # One row beyond the page says whether another page exists.
        rows = await anyio.to_thread.run_sync(
            self._store.search, query, limit + 1, after, limiter=self._search_limiter
        )
        hits = [
            SearchHit(ticket=summary, cursor=POSITIONS.encode(position)) for summary, position in rows[:limit]
        ]
        return SearchPage(hits=hits, more=len(rows) > limit)

    async def get_ticket(self, ticket_id: str) -> Ticket:
        return await self._run(self._store.get_ticket, self._ticket_number(ticket_id))

    async def create_ticket(self, ticket: NewTicket) -> Ticket:
        return await self._run(self._store.create_ticket, ticket)

    async def reply(self, ticket_id: str, reply: NewReply) -> Message:
        return await self._run(self._store.reply, self._ticket_number(ticket_id), reply, self.agent_name)

    async def download_attachment(self, ticket_id: str, attachment_id: str) -> AttachmentContent:
        number = self._ticket_number(ticket_id)
        attachment_number = _row_id(attachment_id)
        if attachment_number is None:
            raise missing_attachment(attachment_id, make_ref(self.name, ticket_id))
        return await self._run(self._store.download_attachment, number, attachment_number)

    async def aclose(self) -> None:
        await self._run(self._store.close)

    async def _run(self, func: Callable[[Unpack[Args]], T], *args: *Args) -> T:
        return await anyio.to_thread.run_sync(func, *args, limiter=self._limiter)

    def _ticket_number(self, ticket_id: str) -> int:
        if not (ticket_id.isascii() and ticket_id.isdigit()):
            raise InvalidInputError(
                f"Ticket id {ticket_id!r} is not valid; {self.name} ticket ids are whole numbers, "
                f"such as {make_ref(self.name, '42')}."
            )
        number = _row_id(ticket_id)
        if number is None:
            raise missing_ticket(make_ref(self.name, ticket_id))
        return number


def from_settings(name: str, settings: LocalSettings) -> LocalAdapter:
    """The adapter of a configured local backend (the registry's builder)."""
    return LocalAdapter(name, settings.db.expanduser(), agent_name=settings.agent_name)
