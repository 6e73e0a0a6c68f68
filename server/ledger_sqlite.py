"""The write ledger in an SQLite file: durable across restarts, shared by the processes of one machine.

Each change is its own transaction, synced to disk before the vendor is called (`synchronous=FULL`),
so a crash leaves a pending entry behind rather than none. A claim is `BEGIN IMMEDIATE` + insert,
which one process at a time can make; a second sees the first's entry.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import anyio

from helpdesk_mcp.adapters.errors import UnavailableError

from .ledger import Entry

log = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS writes (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,
    hold TEXT NOT NULL,
    lease_until REAL NOT NULL,
    result TEXT,
    message TEXT,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS writes_hold ON writes (hold) WHERE hold != '';
CREATE INDEX IF NOT EXISTS writes_expires ON writes (expires);
"""
_COLUMNS = "fingerprint, state, hold, lease_until, result, message"
_INSERT = f"INTO writes (key, {_COLUMNS}, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def claim(self, key: str, entry: Entry, lifetime: float) -> Entry | None:
        def claim(conn: sqlite3.Connection) -> Entry | None:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM writes WHERE expires < ?", (now,))
                inserted = conn.execute(
                    "INSERT OR IGNORE " + _INSERT,
                    (key, *_row(entry), now + lifetime),
                ).rowcount
                found = None if inserted else _entry(conn, key)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return found

        return await self._run(claim)

    async def settle(self, key: str, entry: Entry, lifetime: float) -> None:
        def settle(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE " + _INSERT,
                (key, *_row(entry), time.time() + lifetime),
            )

        await self._run(settle)

    async def release(self, key: str) -> None:
        await self._run(lambda conn: conn.execute("DELETE FROM writes WHERE key = ?", (key,)))

    async def free_holds(self, hold: str) -> None:
        await self._run(
            lambda conn: conn.execute(
                "DELETE FROM writes WHERE hold = ? AND (state = 'unknown' OR "
                "(state = 'pending' AND lease_until < ?))",
                (hold, time.time()),
            )
        )

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1"))

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    async def _run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        def run() -> T:
            with self._lock:
                try:
                    return operation(self._connection())
                except sqlite3.Error as exc:
                    log.warning("The write ledger at %s failed: %s", self.path, exc)
                    # The model is told what failed, not where the file is.
                    raise UnavailableError(
                        f"The write ledger failed ({type(exc).__name__}), so nothing was sent; check "
                        "HELPDESK_LEDGER_DB and the server log, then try again."
                    ) from None

        return await anyio.to_thread.run_sync(run)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise sqlite3.OperationalError(f"cannot create {self.path.parent}: {exc}") from None
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn


def _row(entry: Entry) -> tuple[str, str, str, float, str | None, str | None]:
    return (entry.fingerprint, entry.state, entry.hold, entry.lease_until, entry.result, entry.message)


def _entry(conn: sqlite3.Connection, key: str) -> Entry | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM writes WHERE key = ?", (key,)).fetchone()  # noqa: S608
    if row is None:
        return None
    fingerprint, state, hold, lease_until, result, message = row
    return Entry(fingerprint, state, hold, lease_until, result, message)
