"""Searching Thulium: its list call's own filters where it has them, the rest applied here, and a
cursor that survives tickets changing between pages.

`GET /tickets` pages by offset, most recently modified first, with times to the minute. Offsets shift
whenever any ticket is updated, so a cursor holds a position instead: the (minute, id) of the last
ticket returned. The next page asks for tickets modified up to that minute and skips everything at or
before the position. Tickets modified within one minute come in no defined order, so each minute's
tickets are gathered whole and ordered by id (as the server orders refs) before any is returned.

Filters: `status` (by status id, once the account's statuses are known), `assignee` (agent login)
and the four date bounds go to Thulium, widened to whole minutes; every filter is then applied here
exactly, and `query` (subject, sender and message text), `requester` (sender address) and `tags`
only here, over the tickets Thulium lists, which carry their messages.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field

from ..cursor import Cursor
from ..filtering import matches
from ..html_text import html_to_text, looks_like_html
from ..model import SearchQuery, TicketSummary
from .wire import ThuliumTicket, local_minute, next_minute, vendor_minute


def _minute(value: str) -> str:
    if local_minute(value) != value:
        raise ValueError("not a minute as Thulium writes it")
    return value


Position = tuple[Annotated[str, AfterValidator(_minute)], Annotated[str, Field(pattern="^[0-9]+$")]]
"""(account-local minute of the last modification, ticket id) of a ticket in the listing."""

POSITIONS: Cursor[Position] = Cursor(Position)
_EPOCH = "1970-01-01 00:00"


@dataclass(frozen=True)
class Row:
    """One ticket as the list call returned it."""

    id: str
    minute: str
    raw: ThuliumTicket

    @property
    def position(self) -> Position:
        return (self.minute, self.id)


def native_params(
    query: SearchQuery, zone: ZoneInfo, status_ids: list[str] | None, after: Position | None
) -> dict[str, str | list[str]]:
    """The list call's own filters for `query`: never narrower than the query, refined by `Matcher`.

    Thulium compares its "to" bounds with the minute's first second, so they go one minute later.
    """
    params: dict[str, str | list[str]] = {}
    if query.assignee and query.assignee.strip():
        params["user_login"] = query.assignee.strip()
    if status_ids is not None:
        params["status_id[]"] = status_ids
    if query.created_after is not None:
        params["create_date_from"] = vendor_minute(query.created_after, zone)
    if query.created_before is not None:
        params["create_date_to"] = next_minute(vendor_minute(query.created_before, zone))
    if query.updated_after is not None:
        params["date_from"] = vendor_minute(query.updated_after, zone)
    upper = [next_minute(vendor_minute(query.updated_before, zone))] if query.updated_before else []
    if after is not None:
        upper.append(next_minute(after[0]))
    if upper:
        params["date_to"] = min(upper)
    return params


class Matcher:
    """Applies a query to listed tickets exactly (`filtering.matches`), whatever Thulium's own filters
    left in; `query` is looked for in the subject, the sender and the messages."""

    def __init__(self, query: SearchQuery) -> None:
        self._query = query

    @property
    def narrows(self) -> bool:
        """Whether tickets Thulium lists may be dropped here, so that more must be read per page."""
        return bool(self._query.used_filters())

    def matches(self, summary: TicketSummary, raw: ThuliumTicket) -> bool:
        return matches(summary, self._query, _texts(raw))


def _texts(raw: ThuliumTicket) -> Iterator[str]:
    """What `query` is looked for in besides the subject; made only when a search has words."""
    yield raw.from_
    for message in raw.messages:
        yield _readable(message.body)
        yield _readable(message.comment)


def _readable(body: str) -> str:
    """Text to search in: markup gone (the whole `to_plain_text` would cost more than the search)."""
    return html_to_text(body) if looks_like_html(body) else body


async def ordered(
    pages: AsyncGenerator[list[ThuliumTicket], None], after: Position | None
) -> AsyncGenerator[Row, None]:
    """The listed tickets strictly after `after`, newest minute first and by id within a minute.

    A minute's tickets are released once a ticket of an older minute (or the end) shows that the
    minute is complete. A ticket seen twice, because an update shifted the offsets, counts once.
    """
    seen: set[str] = set()
    group: list[Row] = []
    async with aclosing(pages):
        async for page in pages:
            for raw in page:
                ticket_id = raw.ticket_id
                minute = local_minute(raw.updated_at) or local_minute(raw.created_at)
                if ticket_id is None or ticket_id in seen:
                    continue
                seen.add(ticket_id)
                row = Row(ticket_id, minute or _EPOCH, raw)
                if after is not None and row.position >= after:  # returned already, or modified since
                    continue
                if group and row.minute != group[0].minute:
                    for done in _newest_first(group):
                        yield done
                    group = []
                group.append(row)
    for done in _newest_first(group):
        yield done


def _newest_first(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: row.position, reverse=True)
