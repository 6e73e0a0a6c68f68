"""Searching UseDesk's `/tickets` behind our cursor.

UseDesk returns fixed pages of 100 and pages with `offset`, a page index (offset=1 is tickets
101-200). Plain offsets drift when tickets are updated between two pages: every update moves a
ticket to the top and shifts the rest down, so the next page repeats one. Our cursor is therefore a
position, not an offset: the last ticket's `last_updated_at` and the ids already seen at that very
second. A continuation asks UseDesk, sorted by `last_updated_at` descending, only for tickets updated
up to that second (`updated_before`, rounded up to UseDesk's whole minutes) and skips what the
position says was seen. Updates, new tickets and deletions in between therefore neither repeat nor
skip a ticket; a ticket updated meanwhile moves above the cursor, where a new search finds it.

Filters UseDesk applies itself: `query` (which UseDesk matches against subjects, custom field
values and the client's e-mail and phone, not message text), `status` (`fstatus`), `assignee`
(an agent id, `fassigned`), `requester` (a client id as `client_id`, an e-mail through `query`),
`tags` (`tag`) and the four dates (`created_after` ...; whole minutes, inclusive). Applied here again
(`filtering.matches`), over every ticket UseDesk returns: the status, the exact dates to the second
(a ticket without the date passes no bound on it), that a ticket carries all the tags, and a requester
given by name (UseDesk cannot search client names).

UseDesk allows only 10 searches with `query` a minute (documented), so a search with words does not
ask again for every page of ours: `QueryResults` keeps what UseDesk answered to the first page for a
few minutes and serves the continuation from it, applying the `updated_before` window and the page
index here exactly as UseDesk does, and asks UseDesk only for pages of 100 it has not seen yet.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

import anyio
from pydantic import AfterValidator, Field

from ..cursor import Cursor
from ..errors import InvalidInputError
from ..filtering import matches
from ..model import SearchHit, SearchPage, SearchQuery, TicketSummary
from . import wire
from .statuses import StatusMap

PAGE_SIZE = 100
MAX_PAGES = 10
"""Vendor pages one search may read while filters of our own find nothing (1,000 tickets)."""
MAX_QUERY = 255
QUERY_RATE = 10
"""Searches with `query` UseDesk allows a minute."""
QUERY_KEEP = 600.0
"""Seconds the answers to one search with `query` are kept for paging on."""
QUERY_SEARCHES_KEPT = 8
QUERY_PAGES_KEPT = 2 * MAX_PAGES
"""UseDesk pages of one search with `query` kept; a continuation beyond them asks UseDesk again."""

Item = wire.ListedTicket
Fetch = Callable[[dict[str, Any]], Awaitable[Sequence[Item]]]


@dataclass(frozen=True)
class Position:
    """Just after the last ticket read: its update time and the ids read at that very second."""

    updated: datetime
    seen: tuple[int, ...]

    def passed(self, updated: datetime, ticket_id: int) -> bool:
        """Whether a ticket with this update time and id was at or above this position."""
        return updated > self.updated or (updated == self.updated and ticket_id in self.seen)

    def after(self, updated: datetime, ticket_id: int) -> Position:
        if updated == self.updated:
            return Position(updated, (*self.seen, ticket_id))
        return Position(updated, (ticket_id,))


def _second(value: str) -> str:
    moment = wire.parse_time(value)
    if moment is None or wire.vendor_second(moment) != value:
        raise ValueError("not a second as UseDesk writes it")
    return value


Stored = tuple[
    Annotated[str, AfterValidator(_second)],
    Annotated[list[Annotated[int, Field(gt=0, lt=2**63)]], Field(min_length=1)],
]
"""A `Position` in a cursor: the second as UseDesk writes it, and the ids seen at that second."""

_POSITIONS: Cursor[Stored] = Cursor(Stored)


def encode_cursor(position: Position) -> str:
    return _POSITIONS.encode((wire.vendor_second(position.updated), list(position.seen)))


def decode_cursor(cursor: str) -> Position:
    second, seen = _POSITIONS.decode(cursor)
    moment = wire.parse_time(second)
    assert moment is not None, "validated by _second"
    return Position(moment, tuple(seen))


@dataclass
class Plan:
    """What UseDesk filters (`params`), and what is checked here over what it returns (`keep`)."""

    params: dict[str, Any]
    updated_before: datetime | None = None
    checks: list[Callable[[Item, TicketSummary], bool]] = field(default_factory=list)

    def keep(self, item: Item, ticket: TicketSummary) -> bool:
        return all(check(item, ticket) for check in self.checks)


def plan(query: SearchQuery, statuses: StatusMap, backend: str) -> Plan | None:
    """The native parameters and local checks of `query`; None when nothing can match it."""
    found = Plan(params={"sort": "last_updated_at", "order": "desc"})
    text = query.text
    # Filters UseDesk applies exactly; `matches` checks every other one over what it returns.
    applied = {"query", "assignee"}
    if query.statuses:
        ids = statuses.ids(query.statuses)
        if not ids:
            return None
        found.params["fstatus"] = ",".join(ids)
    if query.assignee:
        agent = _whole_number(query.assignee)
        if agent is None:
            raise InvalidInputError(
                f"Backend {backend!r} (usedesk) filters assignees by agent id only, and "
                f"{query.assignee!r} is not one; give the agent's numeric UseDesk id, as in assignee.id."
            )
        found.params["fassigned"] = [{"assignee_id": agent}]
        found.checks.append(lambda item, ticket: wire.number(item.assignee_id) == agent)
    if query.requester and _requester(found, query.requester, text, backend):
        applied.add("requester")
        if "@" in query.requester:
            text = query.requester.strip()
    if text:
        if len(text) > MAX_QUERY:
            raise InvalidInputError(
                f"Backend {backend!r} (usedesk) searches at most {MAX_QUERY} characters; shorten `query`."
            )
        found.params["query"] = text
    if query.tags:
        _tags(found, query.tags, backend)
    _dates(found, query)
    found.checks.append(lambda item, ticket: matches(ticket, query, applied=applied))
    return found


def _whole_number(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) < 2**31 else None


def _requester(found: Plan, requester: str, text: str | None, backend: str) -> bool:
    """Ask UseDesk for a client id or e-mail, and say whether it did; a name is left to `matches`."""
    client = _whole_number(requester)
    if client is not None:
        found.params["client_id"] = client
        found.checks.append(lambda item, ticket: wire.number(item.client_id) == client)
        return True
    if "@" in requester:
        # UseDesk finds a client's e-mail through `query` only, which holds one text at a time.
        if text:
            raise InvalidInputError(
                f"Backend {backend!r} (usedesk) searches one text at a time: give `query` or the requester's "
                "e-mail, or the requester's numeric client id together with `query`."
            )
        return True
    return False


def _tags(found: Plan, tags: Sequence[str], backend: str) -> None:
    for tag in tags:
        if "," in tag:
            raise InvalidInputError(
                f"Backend {backend!r} (usedesk) cannot filter by a tag with a comma in it ({tag!r})."
            )
    # UseDesk takes several tags as "a, b"; whether it wants all or any, `matches` checks all.
    found.params["tag"] = ", ".join(tags)


def _dates(found: Plan, query: SearchQuery) -> None:
    # UseDesk compares whole minutes, inclusively: ask for a little more; `matches` cuts exactly.
    if query.created_after:
        found.params["created_after"] = wire.vendor_minute(query.created_after)
    if query.created_before:
        found.params["created_before"] = wire.vendor_minute(query.created_before, up=True)
    if query.updated_after:
        found.params["updated_after"] = wire.vendor_minute(query.updated_after)
    found.updated_before = query.updated_before


async def scan(
    found: Plan,
    limit: int,
    cursor: str | None,
    fetch: Fetch,
    read: Callable[[Item], TicketSummary],
    backend: str,
) -> SearchPage:
    """Up to `limit` matching tickets after `cursor`, reading UseDesk's pages as the position says."""
    start = decode_cursor(cursor) if cursor else None
    position = start
    window = wire.vendor_minute(start.updated, up=True) if start else None
    offset = 0
    hits: list[tuple[TicketSummary, int]] = []
    passed: list[tuple[datetime, int]] = []
    for _ in range(MAX_PAGES):
        items = await fetch(_page_params(found, window, offset))
        moved = False
        for item in items:
            ticket = read(item)
            ticket_id = wire.number(item.id)
            if ticket.updated_at is None or ticket_id is None:
                continue
            if position is not None and position.passed(ticket.updated_at, ticket_id):
                continue
            moved = True
            position = (
                position.after(ticket.updated_at, ticket_id)
                if position is not None
                else Position(ticket.updated_at, (ticket_id,))
            )
            if not found.keep(item, ticket):
                passed.append((ticket.updated_at, ticket_id))
            elif len(hits) == limit:
                return _page(start, hits, passed, more=True)
            else:
                hits.append((ticket, ticket_id))
        if len(items) < PAGE_SIZE:
            return _page(start, hits, passed, more=False)
        if len(hits) == limit:
            return _page(start, hits, passed, more=True)
        # Start again just below the position when that narrows the window; within a minute, page on.
        below = wire.vendor_minute(position.updated, up=True) if position is not None else None
        if moved and below is not None and (window is None or below < window):
            window, offset = below, 0
        else:
            offset += 1
    if hits:
        return _page(start, hits, passed, more=True)
    raise InvalidInputError(
        f"Backend {backend!r} (usedesk) read {MAX_PAGES * PAGE_SIZE:,} tickets without one that passes the "
        "filters UseDesk leaves to us (exact times, all tags, requester name); narrow the search with a "
        "status, dates, or the requester's e-mail or client id."
    )


def _page(
    start: Position | None,
    hits: list[tuple[TicketSummary, int]],
    passed: list[tuple[datetime, int]],
    *,
    more: bool,
) -> SearchPage:
    """The hits in the order the server shows them, each with the position just after it.

    Hits updated in the same second are shown by ref. The server takes a prefix of them and resumes
    from the cursor of the last one it showed, so a hit's position covers exactly the hits before it
    in that order, besides the tickets passed over at that second and those the search had already
    passed when it began; the ones after it are found again on the next page.
    """
    ordered = sorted(hits, key=lambda hit: (hit[0].updated_at, hit[0].ref), reverse=True)
    page = []
    for place, (ticket, _) in enumerate(ordered):
        updated = ticket.updated_at
        assert updated is not None
        seen = [*(start.seen if start is not None and start.updated == updated else ())]
        seen += [ticket_id for moment, ticket_id in passed if moment == updated]
        seen += [ticket_id for other, ticket_id in ordered[: place + 1] if other.updated_at == updated]
        page.append(SearchHit(ticket=ticket, cursor=encode_cursor(Position(updated, tuple(seen)))))
    return SearchPage(hits=page, more=more)


def _page_params(found: Plan, window: str | None, offset: int) -> dict[str, Any]:
    params = dict(found.params)
    bounds = [window] if window else []
    if found.updated_before is not None:
        bounds.append(wire.vendor_minute(found.updated_before, up=True))
    if bounds:
        params["updated_before"] = min(bounds)
    params["offset"] = offset
    return params


@dataclass
class _Answers:
    pages: list[Sequence[Item]] = field(default_factory=list)
    kept_at: float = field(default_factory=time.monotonic)

    @property
    def complete(self) -> bool:
        return bool(self.pages) and len(self.pages[-1]) < PAGE_SIZE


class QueryResults:
    """UseDesk's answers to recent searches with `query`: paging on spends none of its 10 a minute."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, _Answers] = OrderedDict()
        # Two searches paging at once must not both read on and append the same UseDesk page.
        self._lock = anyio.Lock()

    def fetcher(self, fetch: Fetch, *, fresh: bool) -> Fetch:
        """`fetch` served from what is kept; `fresh` (a search's first page) asks UseDesk once more first."""
        stale = [fresh]

        async def kept_fetch(params: dict[str, Any]) -> Sequence[Item]:
            base = {name: value for name, value in params.items() if name not in ("offset", "updated_before")}
            key = json.dumps(base, sort_keys=True, default=str)
            answers = self._kept.get(key)
            if stale[0] or answers is None or time.monotonic() - answers.kept_at > QUERY_KEEP:
                answers = _Answers()
            stale[0] = False
            self._kept[key] = answers
            self._kept.move_to_end(key)
            while len(self._kept) > QUERY_SEARCHES_KEPT:
                self._kept.popitem(last=False)
            async with self._lock:
                return await _serve(answers, base, params, fetch)

        return kept_fetch


async def _serve(answers: _Answers, base: dict[str, Any], params: dict[str, Any], fetch: Fetch) -> list[Item]:
    """The page `params` asks for, as UseDesk would give it, from the kept answers (read on as needed)."""
    bound = params.get("updated_before")
    until = wire.parse_time(bound) if isinstance(bound, str) else None
    offset = int(params.get("offset") or 0)
    wanted = (offset + 1) * PAGE_SIZE
    while True:
        # UseDesk's `updated_before` takes the whole minute it names.
        inside = [
            item
            for page in answers.pages
            for item in page
            if until is None
            or (updated := wire.parse_time(item.last_updated_at)) is None
            or updated < until + timedelta(minutes=1)
        ]
        if len(inside) >= wanted or answers.complete:
            return inside[offset * PAGE_SIZE : wanted]
        if len(answers.pages) >= QUERY_PAGES_KEPT:
            return list(await fetch(params))
        answers.pages.append(await fetch({**base, "offset": len(answers.pages)}))
