"""The write ledger: no write is sent twice, across retries, restarts and replicas.

Every write is recorded before the vendor is asked (`pending`) and again after it answers (`done`,
with the result shown to the model, or `unknown` when its outcome cannot be known). A later call
that the ledger recognizes gets the first result back, marked `replayed`, instead of a second send:

- with an `idempotency_key`, the same key and the same arguments, for 24 hours;
- without one, the same write (backend, ticket, body, files) within the duplicate window.

A write that certainly failed (refused, or never sent) frees its entry, so the corrected retry goes
through. One whose outcome is unknown, or that was pending when its process died, holds it: reply
and attach stay held until the ticket is read again, a create for good (its ticket cannot be read
before it is found). The entries live in SQLite on one machine or in Redis across replicas; both
stores claim an entry atomically, so concurrent identical calls send once and the rest wait for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import anyio
from pydantic import BaseModel

from helpdesk_mcp.adapters.errors import (
    HelpdeskError,
    InvalidInputError,
    OutcomeUnknownError,
    UnavailableError,
)
from helpdesk_mcp.adapters.local.settings import LocalSettings, default_local_db
from helpdesk_mcp.adapters.settings import HttpSettings

from .config import Settings

log = logging.getLogger(__name__)
Result = TypeVar("Result", bound=BaseModel)
KEY_LIFETIME = 24 * 3600.0
LEASE_MARGIN = 5.0
"""Seconds a pending write is given beyond the call time limit before it counts as abandoned."""
_POLL = 0.02
_POLL_CAP = 0.25

State = Literal["pending", "done", "unknown"]


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    state: State
    hold: str
    """The ticket ref whose reading frees an unknown outcome; empty for creates."""
    lease_until: float
    """Wall-clock time after which a write still pending is taken for one whose process died."""
    result: str | None = None
    """The result's JSON, once done."""
    message: str | None = None
    """Why the outcome is unknown."""

    def abandoned(self, now: float) -> bool:
        return self.state == "pending" and now > self.lease_until


class LedgerStore(Protocol):
    async def claim(self, key: str, entry: Entry, lifetime: float) -> Entry | None:
        """Record `entry` unless `key` holds a live one: None when claimed, else the entry found."""

    async def settle(self, key: str, entry: Entry, lifetime: float) -> None:
        """Replace the entry of `key` (a write's outcome)."""

    async def release(self, key: str) -> None:
        """Forget `key`: its write certainly did not happen."""

    async def free_holds(self, hold: str) -> None:
        """Forget the unknown and abandoned entries held on `hold`."""

    async def ping(self) -> None:
        """Raise (whatever the store's client raises) when the store cannot be reached."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Write:
    """What a tool is about to send, as the ledger sees it."""

    tool: str
    backend: str
    hold: str
    arguments: dict[str, Any]
    key: str | None


class WriteLedger:
    def __init__(self, store: LedgerStore, settings: Settings) -> None:
        self._store = store
        self._window = settings.duplicate_window
        self._writes = not settings.read_only
        self._lease = settings.timeout + LEASE_MARGIN
        self._scopes = {b.name: _scope(b.type, b.settings) for b in settings.backends}

    async def once(self, write: Write, send: Callable[[], Awaitable[Result]], shape: type[Result]) -> Result:
        """`send()` unless the ledger knows this write already; then its first result, `replayed`.
        Either way, and when it fails, one line goes to the audit log."""
        outcome = "error"
        ticket = write.hold
        try:
            result = await self._once(write, send, shape)
        except HelpdeskError as exc:
            outcome = exc.kind
            raise
        else:
            outcome = "replayed" if getattr(result, "replayed", False) else "ok"
            ticket = getattr(result, "ticket", ticket)
            return result
        finally:
            # Imported at the first write: the audit's caller lookup loads the MCP SDK, which
            # `helpdesk-mcp check`, opening the ledger only to reach Redis, does without.
            from . import audit

            audit.write(write.tool, write.backend, ticket, write.arguments, outcome)

    async def _once(self, write: Write, send: Callable[[], Awaitable[Result]], shape: type[Result]) -> Result:
        if write.key is None and self._window <= 0:
            return await send()
        scope = self._scopes.get(write.backend, write.backend)
        material = {"tool": write.tool, "scope": scope, **write.arguments}
        fingerprint = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
        if write.key is not None:
            # Keys are the caller's, per helpdesk: the same key at another helpdesk is another write.
            key, lifetime = f"key:{scope}:{write.key}", KEY_LIFETIME
        else:
            # Never shorter than a write may take, or a slow one would be forgotten while in flight.
            key, lifetime = "same:" + fingerprint, max(self._window, self._lease)
        pause = _POLL
        while True:
            claim = Entry(fingerprint, "pending", write.hold, time.time() + self._lease)
            found = await self._store.claim(key, claim, lifetime)
            if found is None:
                return await self._send(key, claim, lifetime, send)
            if found.fingerprint != fingerprint:
                raise InvalidInputError(
                    f"idempotency_key {write.key!r} was already used for a different write; "
                    "use a new key for a new write, or the first call's exact arguments to repeat it."
                )
            if found.state == "done" and found.result is not None:
                return shape.model_validate_json(found.result).model_copy(update={"replayed": True})
            if found.state == "unknown" or found.abandoned(time.time()):
                raise OutcomeUnknownError(_held(write, found.message))
            # Another call is sending this very write: wait for its outcome rather than send it too.
            await anyio.sleep(pause)
            pause = min(pause * 2, _POLL_CAP)

    async def read(self, ref: str) -> None:
        """The ticket `ref` was read: replies and files whose outcome was unknown may be sent again."""
        if not self._writes:
            return  # a read-only server neither holds writes nor needs to open the ledger
        try:
            await self._store.free_holds(ref)
        except UnavailableError:
            log.warning("Could not free the write ledger's holds on %s; they stay until they expire", ref)

    async def ping(self) -> None:
        await self._store.ping()

    async def aclose(self) -> None:
        await self._store.aclose()

    async def _send(
        self, key: str, claim: Entry, lifetime: float, send: Callable[[], Awaitable[Result]]
    ) -> Result:
        try:
            result = await send()
        except HelpdeskError as exc:
            if isinstance(exc, OutcomeUnknownError) or exc.written:
                # Perhaps made, or made before a later step failed: held until the ticket is read.
                await self._record(key, replace(claim, state="unknown", message=exc.message), lifetime)
                raise
            # Refused or never sent, for certain: the corrected retry must be free to go through.
            # (A cancelled call leaves the entry pending, which becomes unknown when its lease ends.)
            with anyio.CancelScope(shield=True):
                await self._store.release(key)
            raise
        except Exception:
            # A fault of ours after the vendor may have been called: the write may have been made.
            await self._record(key, replace(claim, state="unknown", message="the server failed"), lifetime)
            raise
        await self._record(key, replace(claim, state="done", result=result.model_dump_json()), lifetime)
        return result

    async def _record(self, key: str, entry: Entry, lifetime: float) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await self._store.settle(key, entry, lifetime)
            except UnavailableError:
                # The write was made; left pending, the entry turns unknown when its lease ends,
                # which holds the key rather than freeing it.
                log.warning("The write ledger could not record the outcome of a write", exc_info=True)


def _held(write: Write, why: str | None) -> str:
    earlier = (
        f"An earlier {write.tool} with idempotency_key {write.key!r}"
        if write.key is not None
        else f"An identical {write.tool} a moment ago"
    )
    because = f" ({why})" if why else " (it was interrupted)"
    if not write.hold:
        after = (
            "search for it before opening it again with a new key."
            if write.key is not None
            else "search for it before opening it again, then with an idempotency_key."
        )
        return f"{earlier} may have opened the ticket{because}; {after}"
    return (
        f"{earlier} may have been applied{because}; read the ticket {write.hold} with get_ticket "
        "before sending it again."
    )


def _scope(backend_type: str, settings: BaseModel) -> str:
    """Which helpdesk a backend is (its URL, file, account), not how it is reached (timeouts, limits):
    replicas configured alike, or one restarted, recognize each other's writes."""
    tuning = set(HttpSettings.model_fields)
    identity = {k: v for k, v in settings.model_dump(mode="json").items() if k not in tuning}
    return hashlib.sha256(json.dumps([backend_type, identity], sort_keys=True).encode()).hexdigest()[:16]


def ledger_path(settings: Settings) -> Path:
    """The ledger's SQLite file: as configured, else beside the local helpdesk's file."""
    if settings.ledger_db is not None:
        return settings.ledger_db
    local = next((b.settings for b in settings.backends if isinstance(b.settings, LocalSettings)), None)
    beside = local.db.expanduser() if local is not None else default_local_db()
    return beside.with_name("ledger.db")


def open_ledger(settings: Settings) -> WriteLedger:
    """The ledger the settings ask for: Redis when HELPDESK_REDIS_URL is set, else the SQLite file.
    Neither is opened before its first use, so a server that never writes never touches it."""
    store: LedgerStore
    if settings.redis_url is not None:
        from .ledger_redis import RedisStore

        store = RedisStore(settings.redis_url.get_secret_value())
    else:
        from .ledger_sqlite import SqliteStore

        store = SqliteStore(ledger_path(settings))
    return WriteLedger(store, settings)
