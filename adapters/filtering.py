"""Search filters applied here, over tickets a vendor listed, and pages cut from a complete list.

Vendors that cannot filter (or not exactly) leave filters to `matches`, which applies each one as the
local helpdesk does in SQL, so that a search means the same whichever backend answers it:

- `query`: every word (text between spaces) is found, case and accents aside, in the subject or in one
  of the other texts the vendor gives (message bodies, where its list has them). A word matches the
  start of a word there: `print` finds "printer"; a word of several parts (`e-mail`, `v2.1`) finds its
  parts in a row, the last as a start. Text without a letter or digit finds nothing.
- `status`: one of the statuses asked for.
- `assignee`, `requester`: the person's e-mail address or id (a login) whole, or part of the name, case
  aside; part of the address where the vendor gives no name (Thulium's senders are only an address).
- `tags`: all of them, case aside.
- dates: the ticket's own creation or last update time, at or after an `_after` bound and before a
  `_before` bound; a ticket without that time passes no bound on it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from .cursor import Cursor
from .model import Person, SearchHit, SearchPage, SearchQuery, TicketSummary

# What the local helpdesk's FTS5 tokenizer keeps as a word: runs of letters and digits. Words of a
# query are split at whitespace and at control characters.
_TOKEN = re.compile(r"[^\W_]+")
_QUERY_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
_OLDEST = datetime.min.replace(tzinfo=UTC)

Position = tuple[AwareDatetime, Annotated[str, Field(min_length=1, max_length=100)]]
"""Where a ticket sits in a listed search's order: its last activity (or creation) and its id."""

POSITIONS: Cursor[Position] = Cursor(Position)


def matches(
    ticket: TicketSummary, query: SearchQuery, texts: Iterable[str] = (), *, applied: Collection[str] = ()
) -> bool:
    """Whether `ticket` passes every filter of `query` that the vendor has not `applied` already
    (named as `SearchQuery.used_filters` names them); `query` is looked for in the subject and `texts`."""
    if "status" not in applied and query.statuses and ticket.status not in query.statuses:
        return False
    if "assignee" not in applied and query.assignee and not is_person(ticket.assignee, query.assignee):
        return False
    if "requester" not in applied and query.requester and not is_person(ticket.requester, query.requester):
        return False
    if "tags" not in applied and query.tags and not _has_tags(ticket.tags, query.tags):
        return False
    if not _in_time_range(ticket, query):
        return False
    return "query" in applied or query.text is None or has_words(query.text, [ticket.subject, *texts])


def is_person(person: Person | None, wanted: str) -> bool:
    """Whether `wanted` names `person`: their e-mail or id whole, or part of their name (of their e-mail
    when they have no name), case aside."""
    wanted = wanted.strip().casefold()
    if person is None or not wanted:
        return False
    whole = {(person.email or "").casefold(), (person.id or "").casefold()}
    return wanted in whole or wanted in (person.name or person.email or "").casefold()


def has_words(text: str, texts: Iterable[str]) -> bool:
    """Whether each word of `text` starts a word of one of `texts` (see the module's `query`)."""
    phrases = [phrase for phrase in map(_words, _QUERY_SPACE.split(text)) if phrase != " "]
    if not phrases:
        return False
    searched = [_words(one) for one in texts]
    return all(any(phrase in words for words in searched) for phrase in phrases)


def _fold_words(text: str) -> str:
    """The words of `text` folded, each after a space: " ab" is then found in it where a word starts
    with "ab", and " ab cd" where the whole word "ab" is followed by a word that starts with "cd"."""
    return " " + " ".join(_TOKEN.findall(_fold(text)))


class _RecentWords:
    """`_fold_words`, kept for the texts searched last: a search reads the same subjects and messages
    again on every page and every search of the same list. Bounded by characters (texts and their
    words), not by count, since a message may be long; one text takes an eighth of it at most."""

    def __init__(self, characters: int) -> None:
        self._characters = characters
        self._size = 0
        self._kept: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()  # adapters may search from several threads' event loops

    def __call__(self, text: str) -> str:
        with self._lock:
            words = self._kept.get(text)
            if words is not None:
                self._kept.move_to_end(text)
                return words
        words = _fold_words(text)
        size = len(text) + len(words)
        if size <= self._characters // 8:
            with self._lock:
                if text not in self._kept:
                    self._kept[text] = words
                    self._size += size
                while self._size > self._characters:
                    dropped, its_words = self._kept.popitem(last=False)
                    self._size -= len(dropped) + len(its_words)
        return words


_words = _RecentWords(8_000_000)


def _fold(text: str) -> str:
    """Case and accents aside: "Żółw" reads as "żołw", as FTS5's unicode61 tokenizer reads it."""
    folded = text.casefold()
    if folded.isascii():  # nothing to decompose, no accent to drop: most text, at a fraction of the cost
        return folded
    return unicodedata.normalize("NFKD", folded).translate(_MARKS)


class _Marks(dict[int, int | None]):
    """`str.translate`'s table dropping combining marks (accents): each character of the Basic
    Multilingual Plane is looked up in `unicodedata` once, others (emoji, rarer scripts) each time, so
    that the table stays within 65536 entries whatever text it sees."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if code <= 0xFFFF:
            self[code] = kept
        return kept


_MARKS = _Marks()


def _in_time_range(ticket: TicketSummary, query: SearchQuery) -> bool:
    bounds = (
        (ticket.created_at, query.created_after, query.created_before),
        (ticket.updated_at, query.updated_after, query.updated_before),
    )
    for moment, after, before in bounds:
        if (after or before) and moment is None:
            return False
        if moment is not None and ((after and moment < after) or (before and moment >= before)):
            return False
    return True


def _has_tags(have: Iterable[str], wanted: Iterable[str]) -> bool:
    return {tag.strip().casefold() for tag in wanted if tag.strip()} <= {tag.casefold() for tag in have}


def position(ticket: TicketSummary) -> Position:
    # Ties are broken by the id as text, the order the server merges refs in, so pages line up with it.
    return (ticket.updated_at or ticket.created_at or _OLDEST, ticket.ref.partition(":")[2])


def resume_at(cursor: str | None) -> Position | None:
    """The position a cursor of `page` holds, read before the vendor is asked for anything."""
    return POSITIONS.decode(cursor) if cursor else None


def page(tickets: Iterable[TicketSummary], limit: int, start: Position | None) -> SearchPage:
    """The tickets strictly after `start`, newest activity first: at most `limit`, each with its cursor.

    `tickets` is everything that matches (filtered with `matches`), so that `more` is exact.
    """
    found = sorted(tickets, key=position, reverse=True)
    if start is not None:
        found = [ticket for ticket in found if position(ticket) < start]
    hits = [SearchHit(ticket=ticket, cursor=POSITIONS.encode(position(ticket))) for ticket in found[:limit]]
    return SearchPage(hits=hits, more=len(found) > limit)
