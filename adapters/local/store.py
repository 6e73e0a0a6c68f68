"""The local helpdesk's SQLite layer: connections, transactions and the operations, all synchronous.

A `Store` owns two connections, each with its lock held by a public method for its whole run: one
for searches, one for everything else, so that a costly search never holds up reading a ticket (the
file is in WAL mode: readers and a writer do not block each other). A search has a time budget and
stops with a clear error beyond it. Every write is one `BEGIN IMMEDIATE` transaction, so that
threads of one process and several processes sharing the file never interleave half-done changes.
The schema and its migrations are `schema`'s, the queries `query`'s. Errors never name the file: a
model reads them; the log names it for the operator.
"""

from __future__ import annotations

import json
import logging
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
from .query import (
    ATTACHMENT_SELECT,
    MESSAGE_SELECT,
    SUMMARY_SELECT,
    Position,
    normalize_tags,
    search_sql,
)
from .schema import NewerSchemaError, from_db_time, migrate, to_db_time

BUSY_TIMEOUT_MS = 10_000
SEARCH_SECONDS = 5.0
_PROGRESS_STEPS = 10_000  # SQLite instructions between looks at a search's clock

log = logging.getLogger(__name__)


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
        sql, params = search_sql(query, after, limit)
        budget = _Budget(self.search_seconds)
        with self._read(self._searches) as conn:
            conn.set_progress_handler(budget, _PROGRESS_STEPS)
            try:
                rows = conn.execute(sql, params).fetchall()
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
        try:
            migrate(conn)
        except NewerSchemaError:
            raise UnavailableError(
                f"{self._who()} is kept in a file written by a newer helpdesk-mcp; "
                "upgrade helpdesk-mcp to use it."
            ) from None

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
        row = conn.execute(f"{SUMMARY_SELECT} WHERE t.id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise missing_ticket(self._ref(ticket_id))
        attachments = self._attachments(conn, "ticket_id", ticket_id)
        messages = conn.execute(
            f"{MESSAGE_SELECT} WHERE m.ticket_id = ? ORDER BY m.created_at, m.id",
            (ticket_id,),
        ).fetchall()
        return Ticket(
            **self._summary_fields(row),
            messages=[_message(message, attachments.get(message["id"], [])) for message in messages],
        )

    def _message(self, conn: sqlite3.Connection, message_id: int) -> Message:
        row = conn.execute(f"{MESSAGE_SELECT} WHERE m.id = ?", (message_id,)).fetchone()
        return _message(row, self._attachments(conn, "message_id", message_id).get(message_id, []))

    def _attachments(self, conn: sqlite3.Connection, column: str, value: int) -> dict[int, list[Attachment]]:
        """Attachments whose `column` is `value`, by message id."""
        by_message: dict[int, list[Attachment]] = {}
        rows = conn.execute(f"{ATTACHMENT_SELECT} WHERE {column} = ? ORDER BY id", (value,))
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
