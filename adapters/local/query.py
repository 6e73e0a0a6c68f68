"""The local helpdesk's read queries, and a search built as SQL from fixed fragments and bound values.

A search means what adapters/filtering.py says every backend's search means; here the words of
`query` go through FTS5 (`fts_query`), whose unicode61 tokenizer reads words as that module does.
Its order is newest update first, and its cursor is the (stored `updated_at`, id) of the last ticket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from ..cursor import Cursor
from ..errors import InvalidInputError
from ..model import SearchQuery
from .schema import from_db_time, to_db_time

MAX_ROWID = 2**63 - 1
MAX_SEARCH_WORDS = 32
# What FTS5's unicode61 tokenizer keeps as a word: runs of letters and digits. Words of a query are
# split at whitespace and at control characters (a NUL would end SQLite's reading of the query).
_TOKEN = re.compile(r"[^\W_]+")
_QUERY_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


def _stored_time(value: str) -> str:
    if to_db_time(from_db_time(value)) != value:
        raise ValueError("not a time as the store writes it")
    return value


Position = tuple[Annotated[str, AfterValidator(_stored_time)], Annotated[int, Field(ge=0, le=MAX_ROWID)]]
"""Where a ticket sits in search order: its stored `updated_at` text and its id."""

POSITIONS: Cursor[Position] = Cursor(Position)

SUMMARY_SELECT = """
SELECT t.id, t.subject, t.status, t.priority, t.created_at, t.updated_at,
    r.id AS requester_id, r.name AS requester_name, r.email AS requester_email,
    a.id AS assignee_id, a.name AS assignee_name, a.email AS assignee_email,
    (SELECT json_group_array(tag) FROM tags WHERE tags.ticket_id = t.id) AS tags
FROM tickets AS t
LEFT JOIN people AS r ON r.id = t.requester_id
LEFT JOIN people AS a ON a.id = t.assignee_id
"""

MESSAGE_SELECT = """
SELECT m.id, m.kind, m.body, m.created_at,
    p.id AS author_id, p.name AS author_name, p.email AS author_email
FROM messages AS m
LEFT JOIN people AS p ON p.id = m.author_id
"""

ATTACHMENT_SELECT = "SELECT id, message_id, filename, mime_type, size FROM attachments"


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Stripped, lowercased, without empties or repeats, first occurrence first."""
    return list(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))


def fts_query(text: str) -> str | None:
    """An FTS5 query that finds tickets containing every word of `text` (each as a prefix) in the
    subject or in a message other than a system one.

    User text is never FTS syntax: each whitespace-separated word is quoted as a phrase, so `NOT`,
    `a*b`, `-x` or a stray `"` are searched for as plain words. Words without a letter or digit
    cannot match anything and are dropped; text made only of such words returns None, and a search
    for it finds no tickets (it is not read as "no text filter").

    What makes a search costly is refused with a sentence: more than `MAX_SEARCH_WORDS` words, and a
    word whose last part (the prefix) is one character, which matches nearly every word there is.
    """
    words = [word for word in _QUERY_SPACE.split(text) if _TOKEN.search(word)]
    if not words:
        return None
    counted = sum(len(_TOKEN.findall(word)) for word in words)
    if counted > MAX_SEARCH_WORDS:
        raise InvalidInputError(
            f"The search text has {counted} words; use at most {MAX_SEARCH_WORDS}, the most telling ones."
        )
    for word in words:
        prefix = _TOKEN.findall(word)[-1]
        if len(prefix) == 1:
            part = "is one character" if prefix == word else f"ends in the one-character word {prefix!r}"
            raise InvalidInputError(
                f"The search word {word!r} {part}, which would match nearly every word since each word is "
                "matched as the start of a word; leave it out or write at least two characters."
            )
    return " AND ".join('"' + word.replace('"', '""') + '"*' for word in words)


class _Conditions:
    """The WHERE clause of a search, built from fixed SQL fragments and bound parameters only."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.clauses) or "1"


def _text_condition(conditions: _Conditions, text: str | None) -> None:
    if text is None or not text.strip():
        return
    match = fts_query(text)
    if match is None:
        conditions.add("0")
    else:
        conditions.add("t.id IN (SELECT rowid FROM ticket_text WHERE ticket_text MATCH ?)", match)


def _person_condition(conditions: _Conditions, column: str, needle: str | None) -> None:
    if needle is None or not needle.strip():
        return
    needle = needle.strip()
    # `column` is one of the two fixed names the caller passes, never user text.
    conditions.add(
        f"t.{column} IN (SELECT id FROM people"  # noqa: S608
        " WHERE email = ? COLLATE NOCASE OR CAST(id AS TEXT) = ? OR instr(py_casefold(name), ?) > 0"
        " OR (name = '' AND instr(py_casefold(email), ?) > 0))",
        needle,
        needle,
        needle.casefold(),
        needle.casefold(),
    )


def search_sql(query: SearchQuery, after: Position | None, limit: int) -> tuple[str, list[Any]]:
    """The statement and parameters that select at most `limit` summaries matching `query`, newest
    update first, strictly after `after`."""
    conditions = _search_conditions(query, after)
    sql = f"{SUMMARY_SELECT} WHERE {conditions.sql()} ORDER BY t.updated_at DESC, t.id DESC LIMIT ?"
    return sql, [*conditions.params, limit]


def _search_conditions(query: SearchQuery, after: Position | None) -> _Conditions:
    conditions = _Conditions()
    _text_condition(conditions, query.text)
    if query.statuses:
        conditions.add(f"t.status IN ({', '.join('?' * len(query.statuses))})", *query.statuses)
    _person_condition(conditions, "assignee_id", query.assignee)
    _person_condition(conditions, "requester_id", query.requester)
    for tag in normalize_tags(query.tags):
        conditions.add("EXISTS (SELECT 1 FROM tags WHERE tags.ticket_id = t.id AND tags.tag = ?)", tag)
    bounds = (
        ("t.created_at >= ?", query.created_after),
        ("t.created_at < ?", query.created_before),
        ("t.updated_at >= ?", query.updated_after),
        ("t.updated_at < ?", query.updated_before),
    )
    for clause, bound in bounds:
        if bound is not None:
            conditions.add(clause, to_db_time(bound))
    if after is not None:
        conditions.add("(t.updated_at, t.id) < (?, ?)", *after)
    return conditions
