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

import base64
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import InvalidInputError
from ..model import SearchQuery, TicketSummary
from ..text import html_to_text, looks_like_html
from .wire import ident, local_minute, next_minute, text, vendor_minute

Position = tuple[str, str]
"""(account-local minute of the last modification, ticket id) of a ticket in the listing."""

_EPOCH = "1970-01-01 00:00"
BAD_CURSOR = "The cursor is not one this search returned; start again without a cursor."
_MAX_CURSOR = 200


def encode_cursor(position: Position) -> str:
    raw = json.dumps(list(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor of `encode_cursor` holds; InvalidInputError for anything else."""
    if len(cursor) > _MAX_CURSOR:
        raise InvalidInputError(BAD_CURSOR)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # also bad base64 and bad UTF-8
        raise InvalidInputError(BAD_CURSOR) from None
    if not (isinstance(decoded, list) and len(decoded) == 2 and all(isinstance(p, str) for p in decoded)):
        raise InvalidInputError(BAD_CURSOR)
    minute, ticket_id = decoded
    if local_minute(minute) != minute or not (ticket_id.isascii() and ticket_id.isdigit()):
        raise InvalidInputError(BAD_CURSOR)
    return minute, ticket_id


@dataclass(frozen=True)
class Row:
    """One ticket as the list call returned it."""

    id: str
    minute: str
    raw: dict[str, Any]

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
    """Applies a query to listed tickets exactly, whatever Thulium's own filters left in."""

    def __init__(self, query: SearchQuery) -> None:
        self._query = query
        self._words = query.text.casefold().split() if query.text else []
        self._tags = {tag.strip().casefold() for tag in query.tags if tag.strip()}

    @property
    def narrows(self) -> bool:
        """Whether tickets Thulium lists may be dropped here, so that more must be read per page."""
        return bool(self._query.used_filters())

    def matches(self, summary: TicketSummary, raw: dict[str, Any]) -> bool:
        q = self._query
        if q.statuses and summary.status not in q.statuses:
            return False
        if q.assignee and (summary.assignee is None or not _same(summary.assignee.id, q.assignee)):
            return False
        if q.requester and q.requester.strip().casefold() not in text(raw.get("from")).casefold():
            return False
        if self._tags and not self._tags <= {tag.casefold() for tag in summary.tags}:
            return False
        if not q.in_time_range(summary.created_at, summary.updated_at):
            return False
        return not self._words or _contains_all(_haystack(raw), self._words)


def _same(login: str | None, wanted: str) -> bool:
    return (login or "").casefold() == wanted.strip().casefold()


def _haystack(raw: dict[str, Any]) -> str:
    parts = [text(raw.get("subject")), text(raw.get("from"))]
    for message in raw.get("messages") or []:
        if isinstance(message, dict):
            parts += [_readable(text(message.get("body"))), _readable(text(message.get("comment")))]
    return "\n".join(parts).casefold()


def _readable(body: str) -> str:
    """Text to search in: markup gone (the whole `to_plain_text` would cost more than the search)."""
    return html_to_text(body) if looks_like_html(body) else body


def _contains_all(haystack: str, words: list[str]) -> bool:
    return all(word in haystack for word in words)


async def ordered(
    pages: AsyncGenerator[list[dict[str, Any]], None], after: Position | None
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
                ticket_id = ident(raw.get("ticket_id"))
                minute = local_minute(raw.get("updated_at")) or local_minute(raw.get("created_at"))
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
