"""Search over what the extension returns: filters applied here, newest update first, cursor paging.

staffTickets and clientTickets return every ticket of one agent or one customer at once, with full
threads and no filter or paging of their own. So the filters beyond that scope (words in the subject
and message bodies, status, dates, and the requester when the scope is an agent) are applied here
(`filtering.matches`) over the whole answer, which is complete, and pages are cut from it
(`filtering.page`), in the server's merge order so that its cursors and ours agree on every tie.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..filtering import Position, matches, page
from ..model import SearchPage, SearchQuery, Ticket, TicketSummary


def found(
    tickets: Iterable[Ticket],
    query: SearchQuery,
    limit: int,
    start: Position | None,
    *,
    applied: str,
) -> SearchPage:
    """The page of `tickets` matching `query` that follows `start`; `tickets` are those of the customer
    or the agent the query names, as the filter named `applied` says."""
    return page(
        (
            TicketSummary.model_validate(ticket.model_dump(include=set(TicketSummary.model_fields)))
            for ticket in tickets
            if matches(ticket, query, (message.body for message in ticket.messages), applied=(applied,))
        ),
        limit,
        start,
    )
