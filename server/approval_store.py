"""Messages held for a human's approval in the approval card: each one single-use and short-lived.

A held message is bound to the digest of exactly what the card shows. Only an answer that names
both its unguessable id and that digest, before it expires, can release it, and then never again.
The store lives in this process's memory: the bytes of a held file are not written anywhere.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from helpdesk_mcp.adapters.errors import InvalidInputError

Result = TypeVar("Result")

LIFETIME = 600.0
"""Seconds a card can be answered: long enough to read a reply, short enough not to send a stale one."""
CAPACITY = 100
"""Held messages at most; past it the oldest is dropped, so an agent cannot fill memory with cards."""


@dataclass(frozen=True)
class Held(Generic[Result]):
    digest: str
    what: str
    """What is held, for a sentence: "the reply to local:4"."""
    send: Callable[[], Awaitable[Result]]
    expires: float


class Approvals(Generic[Result]):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: dict[str, Held[Result]] = {}

    def hold(self, digest: str, what: str, send: Callable[[], Awaitable[Result]]) -> str:
        """Keep `send` until the card is answered; returns the id only the card is given."""
        self._forget_expired()
        while len(self._held) >= CAPACITY:
            del self._held[next(iter(self._held))]
        approval_id = secrets.token_urlsafe(18)
        self._held[approval_id] = Held(digest, what, send, self._clock() + LIFETIME)
        return approval_id

    def take(self, approval_id: str, digest: str | None) -> Held[Result]:
        """The held message, removed so it is answered once, right or wrong; `digest` must match unless
        cancelling."""
        self._forget_expired()
        held = self._held.pop(approval_id, None)
        if held is None:
            raise InvalidInputError(
                "This approval is unknown, already answered, or expired (they last 10 minutes); "
                "nothing was sent. Ask the agent to send the message again for a new card."
            )
        if digest is not None and not secrets.compare_digest(digest, held.digest):
            raise InvalidInputError(
                f"This approval does not match {held.what} as it was held; nothing was sent, and "
                "this card can no longer send it. Ask the agent to send the message again for a new card."
            )
        return held

    def _forget_expired(self) -> None:
        now = self._clock()
        for approval_id in [key for key, held in self._held.items() if held.expires <= now]:
            del self._held[approval_id]
