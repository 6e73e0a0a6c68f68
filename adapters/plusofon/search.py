"""Searching Plusofon tickets, over the whole list the vendor returns.

Plusofon lists every ticket of one state (open or closed) in one answer, without paging, sorting or
search. Filters are applied here to those complete lists, so they are exact: `query` matches words of
the subject (the list carries no message text, and reading every thread per search would cost one
request per ticket), `requester` the requester's e-mail or name, and the date bounds the list's
creation and last-activity times. Order is newest activity first and cursors are positions in it.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

from ..errors import InvalidInputError
from ..model import SearchQuery, TicketSummary

Position = tuple[datetime, str]
"""Where a ticket sits in search order: its last activity (or creation) and its id."""

BAD_CURSOR = "The cursor is not one this search returned; start again without a cursor."
_MAX_CURSOR = 200
_OLDEST = datetime.min.replace(tzinfo=UTC)
_WORD = re.compile(r"\w+")


def position(ticket: TicketSummary) -> Position:
    # Ties are broken by the id as text, the order the server merges refs in, so pages line up with it.
    return (ticket.updated_at or ticket.created_at or _OLDEST, ticket.ref.partition(":")[2])


def page(
    tickets: list[TicketSummary], query: SearchQuery, limit: int, after: Position | None
) -> tuple[list[TicketSummary], bool]:
    """Matching tickets strictly after `after`, newest first: at most `limit`, and whether more follow."""
    found = sorted((t for t in tickets if matches(t, query)), key=position, reverse=True)
    if after is not None:
        found = [t for t in found if position(t) < after]
    return found[:limit], len(found) > limit


def matches(ticket: TicketSummary, query: SearchQuery) -> bool:
    if query.statuses and ticket.status not in query.statuses:
        return False
    if query.text is not None and not _has_words(ticket.subject, query.text):
        return False
    if query.requester and not _is_requester(ticket, query.requester):
        return False
    return query.in_time_range(ticket.created_at, ticket.updated_at)


def encode_cursor(at: Position) -> str:
    raw = json.dumps([at[0].isoformat(), at[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor of `encode_cursor` holds; InvalidInputError for anything else."""
    bad = InvalidInputError(BAD_CURSOR)
    if len(cursor) > _MAX_CURSOR:
        raise bad
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when, ticket_id = decoded
        at = datetime.fromisoformat(when)
    except (ValueError, TypeError):  # also bad base64, bad UTF-8 and a wrong number of parts
        raise bad from None
    if at.tzinfo is None or not (isinstance(ticket_id, str) and ticket_id.isdigit()):
        raise bad
    return at, ticket_id


def _has_words(subject: str, text: str) -> bool:
    """Every word of `text` begins a word of `subject`, case aside (as the local helpdesk searches)."""
    words = _WORD.findall(text.casefold())
    have = _WORD.findall(subject.casefold())
    return bool(words) and all(any(h.startswith(w) for h in have) for w in words)


def _is_requester(ticket: TicketSummary, needle: str) -> bool:
    person = ticket.requester
    if person is None:
        return False
    needle = needle.strip().casefold()
    return (person.email or "").casefold() == needle or needle in (
        person.name or person.email or ""
    ).casefold()
