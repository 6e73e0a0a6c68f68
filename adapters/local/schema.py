"""The local helpdesk's SQLite schema, the migrations that build it, and how times are stored.

A file records its schema version in `PRAGMA user_version`; opening it runs the migrations it lacks,
in one transaction, and a file from a newer helpdesk-mcp is refused rather than misread. Timestamps
are stored as fixed-width ISO 8601 UTC text with microseconds, so that comparing the text compares
the times.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

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


class NewerSchemaError(Exception):
    """The file was written by a newer helpdesk-mcp, whose schema this one does not know."""


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file of `conn` to `SCHEMA_VERSION`, all or nothing; NewerSchemaError if it is newer."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise NewerSchemaError(version)
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def to_db_time(value: datetime) -> str:
    """Fixed-width UTC text; `isoformat` pads the year, which `strftime` does not everywhere."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text)
