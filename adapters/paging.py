"""Reading a vendor's list ahead: while a search works through one page, the next ones are on their way.

For lists paged by a number that does not depend on what the last page held (Thulium's offsets, each
page a fixed step after the one before). Reads only. The first page is asked for alone, so a search
that one page answers sends one request; after that, as many pages are asked for at once as the
search has read, up to `in_flight` (1: one at a time), so a search that stops has not asked for much
more than it read. Each goes through the adapter's own HTTP layer, which keeps the vendor's
concurrency and rate limits. When the search stops, the pages still in flight are cancelled and
those already read are dropped: a failure of a page nobody needed is never reported.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskGroup

P = TypeVar("P")


class _Page(Generic[P]):
    """One page asked for in the background: its answer, or what it failed with, once `done`."""

    def __init__(self, group: TaskGroup, fetch: Callable[[], Awaitable[P]]) -> None:
        self._done = anyio.Event()
        self._page: P | None = None
        self._error: Exception | None = None
        group.start_soon(self._run, fetch)

    async def _run(self, fetch: Callable[[], Awaitable[P]]) -> None:
        try:
            self._page = await fetch()
        except Exception as exc:  # kept for the reader: a page read ahead but never needed fails no one
            self._error = exc
        finally:
            self._done.set()

    async def get(self) -> P:
        await self._done.wait()
        if self._error is not None:
            raise self._error
        return self._page  # type: ignore[return-value]  # set whenever no error was


@asynccontextmanager
async def read_ahead(
    fetch: Callable[[int], Awaitable[P]], full: Callable[[P], bool], in_flight: int
) -> AsyncIterator[AsyncGenerator[P, None]]:
    """Pages `fetch(0)`, `fetch(1)`, ... in order, until one that is not `full` (the last).

    Within the block, iterate the pages; leaving it cancels what is still in flight.
    """
    try:
        async with anyio.create_task_group() as group:

            async def pages() -> AsyncGenerator[P, None]:
                page = await fetch(0)
                read = 1
                queued: list[_Page[P]] = []
                while full(page):
                    yield page
                    # Never more ahead than already read: a search that stops wastes few requests.
                    while len(queued) < min(max(1, in_flight), read):
                        queued.append(_Page(group, _bind(fetch, read + len(queued))))
                    page = await queued.pop(0).get()
                    read += 1
                yield page

            try:
                yield pages()
            finally:
                group.cancel_scope.cancel()
    except BaseExceptionGroup as failed:
        # Pages read ahead keep their errors (`_Page`): the one error is the search's own, raised as it was.
        if len(failed.exceptions) > 1:
            raise
        error = failed.exceptions[0]
        raise error from error.__cause__


def _bind(fetch: Callable[[int], Awaitable[P]], index: int) -> Callable[[], Awaitable[P]]:
    return lambda: fetch(index)
