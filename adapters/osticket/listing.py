"""Search over what the extension returns: filters applied here, newest update first, cursor paging.

staffTickets and clientTickets return every ticket of one agent or one customer at once, with full
threads and no filter or paging of their own. So the filters beyond that scope (words, status, dates,
and the requester when the scope is an agent) are applied here over the whole answer, which is
complete, and pages are cut from it. The order is the server's merge order, (last activity, ref)
descending, so that its cursors and ours agree on every tie.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from ..errors import InvalidInputError
from ..model import SearchHit, SearchPage, SearchQuery, Ticket, TicketSummary

BAD_CURSOR = "The cursor is not one this search returned; start again without a cursor."
MAX_CURSOR = 200
_OLDEST = datetime.min.replace(tzinfo=UTC)

Position = tuple[datetime, str]


def position(ticket: TicketSummary) -> Position:
    return (ticket.updated_at or ticket.created_at or _OLDEST, ticket.ref)


def encode_cursor(at: Position) -> str:
    raw = json.dumps([at[0].isoformat(), at[1]], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    if len(cursor) > MAX_CURSOR:
        raise InvalidInputError(BAD_CURSOR)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when, ref = decoded
        at = datetime.fromisoformat(when)
    except (ValueError, TypeError):  # also bad base64, bad UTF-8 and the wrong shape
        raise InvalidInputError(BAD_CURSOR) from None
    if not isinstance(ref, str) or at.tzinfo is None:
        raise InvalidInputError(BAD_CURSOR)
    return (at, ref)


def _matches_person(wanted: str, name: str | None, email: str | None) -> bool:
    wanted = wanted.strip().casefold()
    return wanted == (email or "").casefold() or wanted in (name or "").casefold()


def matches(ticket: Ticket, query: SearchQuery, *, requester_applied: bool) -> bool:
    """Whether `ticket` passes the filters that the vendor did not apply already."""
    if query.statuses and ticket.status not in query.statuses:
        return False
    if query.requester and not requester_applied:
        person = ticket.requester
        if person is None or not _matches_person(query.requester, person.name, person.email):
            return False
    if not query.in_time_range(ticket.created_at, ticket.updated_at or ticket.created_at):
        return False
    if query.text:
        haystack = "\n".join([ticket.subject, *(m.body for m in ticket.messages)]).casefold()
        return all(word in haystack for word in query.text.casefold().split())
    return True


def page(
    tickets: Iterable[Ticket],
    query: SearchQuery,
    limit: int,
    after: Position | None,
    *,
    requester_applied: bool,
) -> SearchPage:
    found = sorted(
        (t for t in tickets if matches(t, query, requester_applied=requester_applied)),
        key=position,
        reverse=True,
    )
    if after is not None:
        found = [t for t in found if position(t) < after]
    summaries = [
        TicketSummary.model_validate(t.model_dump(include=set(TicketSummary.model_fields))) for t in found
    ]
    hits = [SearchHit(ticket=s, cursor=encode_cursor(position(s))) for s in summaries[:limit]]
    return SearchPage(hits=hits, more=len(summaries) > limit)
