"""Writes sent once: when the answer to one is lost, look for what it did instead of sending it again.

The HTTP layer never repeats a write that may have reached the vendor (`OutcomeUnknownError`). Every
adapter then does the same: look where the vendor lets it (the newest tickets, the thread) for the
ticket or message the write would have made, return that as the write's result when it shows, and
otherwise say that the outcome is unknown and how to check before trying again. That is
`send_once`; each adapter supplies only how to send, how to look and what to check. A write that
was made is then read back with `read_back`, whose failure never reads as a failed write; which
files the message read back lacks is `not_carried`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from .errors import HelpdeskError, OutcomeUnknownError
from .model import FileUpload, Message

T = TypeVar("T")


async def send_once(
    send: Callable[[], Awaitable[T]], look: Callable[[], Awaitable[T | None]], *, unknown: str
) -> T:
    """The result of `send`, or, when its answer was lost, what `look` finds the write did.

    `send` writes and reads the result out of the answer; it raises `OutcomeUnknownError` where the
    answer cannot tell (lost, cut short, without the id it should carry). `look` then searches the
    vendor for the write's effect and returns it, or None when it does not show; any error while
    looking means only that it could not tell. If nothing is found, the lost answer's own words are
    followed by `unknown`: what to check before trying again.
    """
    try:
        return await send()
    except OutcomeUnknownError as lost:
        try:
            found = await look()
        except HelpdeskError:
            found = None
        if found is None:
            raise lost.reworded(f"{lost.message.rstrip('.')}; {unknown}") from None
        return found


async def read_back(read: Callable[[], Awaitable[T]], *, done: str, advice: str) -> T:
    """What a write that was made reads back as. Failing to read it must not pass for a failed write:
    the error says what was `done` and is marked `written`, so that no one sends the write again."""
    try:
        return await read()
    except HelpdeskError as exc:
        raise exc.reworded(
            f"{done}, but reading it back failed ({exc.message.rstrip('.')}); {advice}.", written=True
        ) from None


def not_carried(message: Message | None, sent: Sequence[FileUpload]) -> list[FileUpload]:
    """The files of `sent` that `message` (as read back after the write) does not carry, matched by
    name and counted: a message just written carries only what this write sent."""
    shown = Counter(a.filename for a in message.attachments) if message is not None else Counter[str]()
    missing = []
    for upload in sent:
        if shown[upload.filename] > 0:
            shown[upload.filename] -= 1
        else:
            missing.append(upload)
    return missing
