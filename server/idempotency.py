"""Idempotency keys of `create_ticket`: the same key never opens a second ticket.

An agent or bot that lost the answer to a create (a dropped connection, a restart of its own loop)
calls again with the same key and gets the first ticket back instead of a duplicate. Keys live in the
server's memory for a day; a restarted server starts with none.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

from helpdesk_mcp.adapters.errors import InvalidInputError, OutcomeUnknownError

T = TypeVar("T")
KEY_LIFETIME = 24 * 3600.0
MAX_KEYS = 10_000


@dataclass
class _Entry:
    fingerprint: str
    lock: anyio.Lock = field(default_factory=anyio.Lock)
    result: Any = None
    unknown: OutcomeUnknownError | None = None
    created: float = field(default_factory=time.monotonic)


class IdempotencyLedger:
    def __init__(self, lifetime: float = KEY_LIFETIME, max_keys: int = MAX_KEYS) -> None:
        self._lifetime = lifetime
        self._max_keys = max_keys
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    async def once(self, key: str, arguments: dict[str, Any], create: Callable[[], Awaitable[T]]) -> T:
        """`create()` the first time `key` is used; its result (or its unknown outcome) after that.

        A create that failed for certain (refused, not sent) leaves the key free to try again; one
        whose outcome is unknown holds the key, so that trying again cannot make a duplicate.
        """
        self._forget_old()
        fingerprint = hashlib.sha256(json.dumps(arguments, sort_keys=True, default=str).encode()).hexdigest()
        entry = self._entries.setdefault(key, _Entry(fingerprint))
        if entry.fingerprint != fingerprint:
            raise InvalidInputError(
                f"idempotency_key {key!r} was already used for a different ticket; "
                "use a new key for a new ticket."
            )
        async with entry.lock:
            if entry.result is not None:
                result: T = entry.result
                return result
            if entry.unknown is not None:
                raise OutcomeUnknownError(
                    f"An earlier create_ticket with idempotency_key {key!r} may have opened the ticket "
                    f"({entry.unknown.message}); search for it before opening it again with a new key."
                )
            try:
                entry.result = await create()
            except OutcomeUnknownError as exc:
                entry.unknown = exc
                raise
            created: T = entry.result
            return created

    def _forget_old(self) -> None:
        horizon = time.monotonic() - self._lifetime
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.created >= horizon and len(self._entries) < self._max_keys:
                break
            if entry.lock.locked():
                break
            del self._entries[key]
