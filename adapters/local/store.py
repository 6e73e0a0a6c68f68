"""The local helpdesk's SQLite layer: schema, queries and transactions, all synchronous.

A `Store` owns two connections, each with its lock held by a public method for its whole run: one
for searches, one for everything else, so that a costly search never holds up reading a ticket (the
file is in WAL mode: readers and a writer do not block each other). A search has a time budget and
stops with a clear error beyond it. Every write is one `BEGIN IMMEDIATE` transaction, so that
threads of one process and several processes sharing the file never interleave half-done changes.
Timestamps are stored as fixed-width ISO 8601 UTC text with microseconds, so that comparing the text
compares the times. Errors never name the file: a model reads them; the log names it for the operator.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, NotFoundError, UnavailableError
from ..model import (
    Attachment,
    AttachmentContent,
    FileUpload,
    Message,
    MessageKind,
    NewReply,
    NewTicket,
    Person,
    Priority,
    SearchQuery,
    Status,
    Ticket,
    TicketSummary,
    make_ref,
)

Position = tuple[str, int]
"""Where a ticket sits in search order: its stored `updated_at` text and its id."""

MAX_ROWID = 2**63 - 1
BUSY_TIMEOUT_MS = 10_000
MAX_SEARCH_WORDS = 32
SEARCH_SECONDS = 5.0
_PROGRESS_STEPS = 10_000  # SQLite instructions between looks at a search's clock
# What FTS5's unicode61 tokenizer keeps as a word: runs of letters and digits. Words of a query are
# split at whitespace and at control characters (a NUL would end SQLite's reading of the query).
_TOKEN = re.compile(r"[^\W_]+")
_QUERY_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")

log = logging.getLogger(__name__)

# Migration i takes the schema from version i to i + 1. They are frozen text rather than built from
# the model's literals, because a migration must keep meaning what it meant when a file ran it.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('customer', 'agent')),
            name TEXT NOT NULL DEFAULT '',
            email TEXT
        )""",
        "CREATE UNIQUE INDEX people_by_email ON people (email COLLATE NOCASE)",
        # AUTOINCREMENT so that a ref, once given out, never comes to name another ticket.
        """CREATE TABLE tickets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subject TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
            priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
            requester_id INTEGER REFERENCES people (id),
            assignee_id INTEGER REFERENCES people (id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX tickets_by_update ON tickets (updated_at, id)",
        """CREATE TABLE tags (
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (ticket_id, tag)
        ) WITHOUT ROWID""",
        "CREATE INDEX tags_by_tag ON tags (tag)",
        """CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('customer', 'agent', 'internal_note', 'system')),
            author_id INTEGER REFERENCES people (id),
            body TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX messages_by_ticket ON messages (ticket_id, created_at, id)",
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            filename TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            content BLOB NOT NULL
        )""",
        "CREATE INDEX attachments_by_message ON attachments (message_id)",
        # One document per ticket (rowid = ticket id), so that every word of a query may be found
        # anywhere in the ticket: one in the subject, another in a later reply.
        """CREATE VIRTUAL TABLE ticket_text USING fts5 (
            subject, body, tokenize = 'unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER ticket_text_on_ticket AFTER INSERT ON tickets BEGIN
            INSERT INTO ticket_text (rowid, subject, body) VALUES (new.id, new.subject, '');
        END""",
        # System messages are left out: "Status changed from ..." would make every word of every
        # status change match half the helpdesk.
        """CREATE TRIGGER ticket_text_on_message AFTER INSERT ON messages WHEN new.kind <> 'system' BEGIN
            UPDATE ticket_text SET body = body || char(10) || new.body WHERE rowid = new.ticket_id;
        END""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_SUMMARY_SELECT = """
SELECT t.id, t.subject, t.status, t.priority, t.created_at, t.updated_at,
    r.id AS requester_id, r.name AS requester_name, r.email AS requester_email,
    a.id AS assignee_id, a.name AS assignee_name, a.email AS assignee_email,
    (SELECT json_group_array(tag) FROM tags WHERE tags.ticket_id = t.id) AS tags
FROM tickets AS t
LEFT JOIN people AS r ON r.id = t.requester_id
LEFT JOIN people AS a ON a.id = t.assignee_id
"""

_MESSAGE_SELECT = """
SELECT m.id, m.kind, m.body, m.created_at,
    p.id AS author_id, p.name AS author_name, p.email AS author_email
FROM messages AS m
LEFT JOIN people AS p ON p.id = m.author_id
"""

_ATTACHMENT_SELECT = "SELECT id, message_id, filename, mime_type, size FROM attachments"


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text; `isoformat` pads the year, which `strftime` does not everywhere."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


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


def missing_ticket(ref: str) -> NotFoundError:
    return NotFoundError(f"Ticket {ref} does not exist; search for the ticket to find its ref.")


def missing_attachment(attachment_id: str, ref: str) -> NotFoundError:
    return NotFoundError(
        f"Attachment {attachment_id} is not on ticket {ref}; read the ticket to see its attachments."
    )


class NotEmptyError(Exception):
    """An import found tickets in the store, which it only writes into when empty."""

    def __init__(self, tickets: int) -> None:
        super().__init__(f"the store already holds {tickets} tickets")
        self.tickets = tickets


@dataclass(frozen=True)
class Contact:
    """A person to find or create: by email when there is one, agents without email by name."""

    name: str = ""
    email: str | None = None
    agent: bool = False


@dataclass(frozen=True)
class ImportedMessage:
    kind: MessageKind
    author: Contact | None
    body: str
    created_at: datetime
    attachments: tuple[FileUpload, ...] = ()


@dataclass(frozen=True)
class ImportedTicket:
    """A ticket as it stands elsewhere, with its own timestamps and status (see `import_into_empty`)."""

    subject: str
    status: Status
    priority: Priority
    requester: Contact | None
    assignee: Contact | None
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    messages: tuple[ImportedMessage, ...]


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def _person(row: sqlite3.Row, prefix: str) -> Person | None:
    if row[f"{prefix}_id"] is None:
        return None
    return Person(
        id=str(row[f"{prefix}_id"]), name=row[f"{prefix}_name"] or None, email=row[f"{prefix}_email"]
    )


def _required(text: str, what: str, hint: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise InvalidInputError(f"The ticket's {what} is empty; {hint}.")
    return stripped


class _Line:
    """One connection to the file, and the lock that gives it to one thread at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connection: sqlite3.Connection | None = None


class _Budget:
    """A search's clock: SQLite calls it as it works, and it stops the search once time is up."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.spent = False

    def __call__(self) -> int:
        self.spent = time.monotonic() > self.deadline
        return int(self.spent)


def _insert(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    row_id = conn.execute(sql, params).lastrowid
    assert row_id is not None, "an INSERT always sets lastrowid"
    return row_id


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
        " WHERE email = ? COLLATE NOCASE OR instr(py_casefold(name), ?) > 0)",
        needle,
        needle.casefold(),
    )


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


class Store:
    """The helpdesk in one SQLite file; `name` is the backend name its refs carry.

    The file and its directories are created on first use, not on construction, so that building an
    adapter for a configuration never touches the disk.
    """

    def __init__(self, path: Path, name: str = "local", search_seconds: float = SEARCH_SECONDS) -> None:
        self.path = path
        self.name = name
        self.search_seconds = search_seconds
        self._main = _Line()
        self._searches = _Line()

    # -- public operations ------------------------------------------------------------------------

    def search(
        self, query: SearchQuery, limit: int, after: Position | None
    ) -> list[tuple[TicketSummary, Position]]:
        """At most `limit` tickets matching `query`, newest update first, strictly after `after`."""
        conditions = _search_conditions(query, after)
        sql = f"{_SUMMARY_SELECT} WHERE {conditions.sql()} ORDER BY t.updated_at DESC, t.id DESC LIMIT ?"
        budget = _Budget(self.search_seconds)
        with self._read(self._searches) as conn:
            conn.set_progress_handler(budget, _PROGRESS_STEPS)
            try:
                rows = conn.execute(sql, [*conditions.params, limit]).fetchall()
            except sqlite3.OperationalError as error:
                if budget.spent:
                    raise InvalidInputError(
                        f"The search ran longer than {self.search_seconds:g} s and was stopped; search for "
                        "fewer or longer words, or narrow it with filters."
                    ) from None
                if query.text and "fts5" in str(error):
                    raise InvalidInputError(
                        "The search text could not be read as words; search for plain words."
                    ) from None
                raise
            finally:
                conn.set_progress_handler(None, 0)
        return [(self._summary(row), (row["updated_at"], row["id"])) for row in rows]

    def get_ticket(self, ticket_id: int) -> Ticket:
        with self._read() as conn:
            return self._ticket(conn, ticket_id)

    def create_ticket(self, new: NewTicket) -> Ticket:
        subject = _required(new.subject, "subject", "write a one-line summary of the problem")
        body = _required(new.body, "body", "describe the problem in a few sentences")
        requester = _requester(new.requester_email, new.requester_name)
        with self._write() as conn:
            now = _now()
            requester_id = None if requester is None else self._person_id(conn, requester)
            ticket_id = self._insert_ticket(
                conn, subject, "new", new.priority or "normal", requester_id, None, now, now
            )
            self._insert_tags(conn, ticket_id, new.tags)
            self._insert_message(conn, ticket_id, "customer", requester_id, body, now, new.attachments)
            return self._ticket(conn, ticket_id)

    def reply(self, ticket_id: int, reply: NewReply, agent_name: str) -> Message:
        """Add the reply; a status change is applied and recorded after it, in the same transaction."""
        body = reply.body.strip()
        if not body and not reply.attachments:
            raise InvalidInputError("The reply is empty; write a body or attach a file.")
        with self._write() as conn:
            now = _now()
            status = self._status(conn, ticket_id)
            author_id = self._person_id(conn, Contact(name=agent_name, agent=True))
            kind: MessageKind = "internal_note" if reply.internal else "agent"
            message_id = self._insert_message(conn, ticket_id, kind, author_id, body, now, reply.attachments)
            if reply.status is not None and reply.status != status:
                conn.execute("UPDATE tickets SET status = ? WHERE id = ?", (reply.status, ticket_id))
                change = f"Status changed from {status} to {reply.status}."
                self._insert_message(conn, ticket_id, "system", None, change, now, ())
            conn.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", (to_db_time(now), ticket_id))
            return self._message(conn, message_id)

    def download_attachment(self, ticket_id: int, attachment_id: int) -> AttachmentContent:
        with self._read() as conn:
            self._status(conn, ticket_id)
            row = conn.execute(
                "SELECT filename, mime_type, content FROM attachments WHERE id = ? AND ticket_id = ?",
                (attachment_id, ticket_id),
            ).fetchone()
        if row is None:
            raise missing_attachment(str(attachment_id), self._ref(ticket_id))
        return AttachmentContent(filename=row["filename"], mime_type=row["mime_type"], content=row["content"])

    def import_into_empty(self, tickets: Sequence[ImportedTicket]) -> int:
        """Write `tickets` with their own timestamps, all or nothing; raises NotEmptyError if the
        store holds any ticket, so that an import never mixes into real data."""
        with self._write() as conn:
            existing: int = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
            if existing:
                raise NotEmptyError(existing)
            for ticket in tickets:
                self._import_ticket(conn, ticket)
        return len(tickets)

    def close(self) -> None:
        for line in (self._main, self._searches):
            with line.lock:
                if line.connection is not None:
                    line.connection.close()
                    line.connection = None

    # -- connection and transactions --------------------------------------------------------------

    @contextmanager
    def _guarded(self, line: _Line) -> Iterator[sqlite3.Connection]:
        """The connection of `line`, with sqlite3's errors turned into the helpdesk's."""
        with line.lock:
            try:
                if line.connection is None:
                    line.connection = self._connect()
                yield line.connection
            except sqlite3.Error as error:
                raise self._unavailable(error) from error

    @contextmanager
    def _read(self, line: _Line | None = None) -> Iterator[sqlite3.Connection]:
        """A read transaction, so that the several queries of one call see one snapshot."""
        with self._guarded(line or self._main) as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front: what it reads cannot go stale."""
        with self._guarded(self._main) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            log.warning("local helpdesk %r: cannot create the folder of %s: %s", self.name, self.path, error)
            raise UnavailableError(
                f"{self._who()} cannot be created ({error.strerror or 'an operating system error'}); "
                "point HELPDESK_DB at a writable place (the server's log names the file)."
            ) from error
        return self._open()

    def _open(self) -> sqlite3.Connection:
        # Locking is ours (the store's lock, and the adapter's limiter), hence check_same_thread off;
        # isolation_level None so that transactions begin exactly where the code says BEGIN.
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.create_function("py_casefold", 1, _casefold, deterministic=True)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UnavailableError(
                    f"{self._who()} is kept in a file written by a newer helpdesk-mcp; "
                    "upgrade helpdesk-mcp to use it."
                )
            for statements in MIGRATIONS[version:]:
                for statement in statements:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _unavailable(self, error: sqlite3.Error) -> UnavailableError:
        code = getattr(error, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return UnavailableError(f"{self._who()} is busy; try again in a moment.")
        log.warning("local helpdesk %r: %s failed: %s", self.name, self.path, error)
        return UnavailableError(
            f"{self._who()} failed ({error}); check that its file is a helpdesk-mcp "
            "database on a writable disk (the server's log names the file and the error)."
        )

    def _who(self) -> str:
        return f"The local helpdesk (backend {self.name!r})"

    # -- reading ----------------------------------------------------------------------------------

    def _ref(self, ticket_id: int) -> str:
        return make_ref(self.name, str(ticket_id))

    def _summary_fields(self, row: sqlite3.Row) -> dict[str, Any]:
        return {
            "ref": self._ref(row["id"]),
            "subject": row["subject"],
            "status": row["status"],
            "priority": row["priority"],
            "requester": _person(row, "requester"),
            "assignee": _person(row, "assignee"),
            "tags": sorted(json.loads(row["tags"])),
            "created_at": from_db_time(row["created_at"]),
            "updated_at": from_db_time(row["updated_at"]),
        }

    def _summary(self, row: sqlite3.Row) -> TicketSummary:
        return TicketSummary(**self._summary_fields(row))

    def _ticket(self, conn: sqlite3.Connection, ticket_id: int) -> Ticket:
        row = conn.execute(f"{_SUMMARY_SELECT} WHERE t.id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise missing_ticket(self._ref(ticket_id))
        attachments = self._attachments(conn, "ticket_id", ticket_id)
        messages = conn.execute(
            f"{_MESSAGE_SELECT} WHERE m.ticket_id = ? ORDER BY m.created_at, m.id",
            (ticket_id,),
        ).fetchall()
        return Ticket(
            **self._summary_fields(row),
            messages=[_message(message, attachments.get(message["id"], [])) for message in messages],
        )

    def _message(self, conn: sqlite3.Connection, message_id: int) -> Message:
        row = conn.execute(f"{_MESSAGE_SELECT} WHERE m.id = ?", (message_id,)).fetchone()
        return _message(row, self._attachments(conn, "message_id", message_id).get(message_id, []))

    def _attachments(self, conn: sqlite3.Connection, column: str, value: int) -> dict[int, list[Attachment]]:
        """Attachments whose `column` is `value`, by message id."""
        by_message: dict[int, list[Attachment]] = {}
        rows = conn.execute(f"{_ATTACHMENT_SELECT} WHERE {column} = ? ORDER BY id", (value,))
        for row in rows:
            by_message.setdefault(row["message_id"], []).append(
                Attachment(
                    id=str(row["id"]), filename=row["filename"], mime_type=row["mime_type"], size=row["size"]
                )
            )
        return by_message

    def _status(self, conn: sqlite3.Connection, ticket_id: int) -> Status:
        row = conn.execute("SELECT status FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise missing_ticket(self._ref(ticket_id))
        status: Status = row["status"]
        return status

    # -- writing ----------------------------------------------------------------------------------

    def _person_id(self, conn: sqlite3.Connection, contact: Contact) -> int:
        row = self._find_person(conn, contact)
        if row is None:
            return _insert(
                conn,
                "INSERT INTO people (role, name, email) VALUES (?, ?, ?)",
                ("agent" if contact.agent else "customer", contact.name, contact.email),
            )
        if contact.name and not row["name"]:
            conn.execute("UPDATE people SET name = ? WHERE id = ?", (contact.name, row["id"]))
        person_id: int = row["id"]
        return person_id

    def _find_person(self, conn: sqlite3.Connection, contact: Contact) -> sqlite3.Row | None:
        # Customers without an email are never merged by name: two Alexes are not one customer.
        if contact.email:
            sql, params = "SELECT id, name FROM people WHERE email = ? COLLATE NOCASE", (contact.email,)
        elif contact.agent:
            sql = "SELECT id, name FROM people WHERE role = 'agent' AND email IS NULL AND name = ?"
            params = (contact.name,)
        else:
            return None
        row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
        return row

    def _insert_ticket(
        self,
        conn: sqlite3.Connection,
        subject: str,
        status: Status,
        priority: Priority,
        requester_id: int | None,
        assignee_id: int | None,
        created_at: datetime,
        updated_at: datetime,
    ) -> int:
        return _insert(
            conn,
            "INSERT INTO tickets"
            " (subject, status, priority, requester_id, assignee_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                subject,
                status,
                priority,
                requester_id,
                assignee_id,
                to_db_time(created_at),
                to_db_time(updated_at),
            ),
        )

    def _insert_tags(self, conn: sqlite3.Connection, ticket_id: int, tags: Iterable[str]) -> None:
        conn.executemany(
            "INSERT INTO tags (ticket_id, tag) VALUES (?, ?)",
            [(ticket_id, tag) for tag in normalize_tags(tags)],
        )

    def _insert_message(
        self,
        conn: sqlite3.Connection,
        ticket_id: int,
        kind: MessageKind,
        author_id: int | None,
        body: str,
        created_at: datetime,
        attachments: Sequence[FileUpload],
    ) -> int:
        message_id = _insert(
            conn,
            "INSERT INTO messages (ticket_id, kind, author_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
            (ticket_id, kind, author_id, body, to_db_time(created_at)),
        )
        conn.executemany(
            "INSERT INTO attachments (ticket_id, message_id, filename, mime_type, size, content)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (ticket_id, message_id, f.filename, f.mime_type, len(f.content), f.content)
                for f in attachments
            ],
        )
        return message_id

    def _import_ticket(self, conn: sqlite3.Connection, ticket: ImportedTicket) -> None:
        ticket_id = self._insert_ticket(
            conn,
            ticket.subject,
            ticket.status,
            ticket.priority,
            None if ticket.requester is None else self._person_id(conn, ticket.requester),
            None if ticket.assignee is None else self._person_id(conn, ticket.assignee),
            ticket.created_at,
            ticket.updated_at,
        )
        self._insert_tags(conn, ticket_id, ticket.tags)
        for message in ticket.messages:
            author_id = None if message.author is None else self._person_id(conn, message.author)
            self._insert_message(
                conn,
                ticket_id,
                message.kind,
                author_id,
                message.body,
                message.created_at,
                message.attachments,
            )


def _now() -> datetime:
    """Called only with the write lock held, so that time order is the order writes commit in."""
    return datetime.now(UTC)


def _requester(email: str | None, name: str | None) -> Contact | None:
    email = (email or "").strip() or None
    name = (name or "").strip()
    if email is None and not name:
        return None
    return Contact(name=name, email=email)


def _message(row: sqlite3.Row, attachments: list[Attachment]) -> Message:
    return Message(
        id=str(row["id"]),
        kind=row["kind"],
        author=_person(row, "author"),
        body=row["body"],
        created_at=from_db_time(row["created_at"]),
        attachments=attachments,
    )
