"""Searching Plusofon tickets, over the whole list the vendor returns.

Plusofon lists every ticket of one state (open or closed) in one answer, without paging, sorting or
search. Every filter is applied here (`filtering.matches`) to those complete lists, so they are exact:
`query` finds words of the subject (the list carries no message text, and reading every thread per
search would cost one request per ticket), `requester` the requester's e-mail or name, and the date
bounds the list's creation and last-activity times. Pages are cut from the result (`filtering.page`).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..filtering import Position, matches, page
from ..model import SearchPage, SearchQuery, TicketSummary


def found(
    tickets: Iterable[TicketSummary], query: SearchQuery, limit: int, start: Position | None
) -> SearchPage:
    """The page of `tickets` matching `query` that follows `start`."""
    return page((ticket for ticket in tickets if matches(ticket, query)), limit, start)
