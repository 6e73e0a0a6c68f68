"""A backend's request budget: how many requests may be in flight at once, and how fast they start.

The HTTP layer asks its budget for a slot before every request. By default a budget lives in the
process (`LocalBudgets`); replicas that must keep a vendor's limits together use one kept in Redis
(`helpdesk_mcp.adapters.redis_budget`). Adapters build their own HTTP clients, so the budgets in use
are set around their construction (`using_budgets`) rather than passed through every adapter.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Protocol

import anyio

from .settings import HttpSettings


class Budget(Protocol):
    def slot(self) -> AbstractAsyncContextManager[None]:
        """Held while one request is in flight; entered once the budget allows it to start."""


class Budgets(Protocol):
    def for_backend(self, backend: str, base_url: str, settings: HttpSettings) -> Budget:
        """The budget of the helpdesk at `base_url`, configured by `settings`."""

    async def aclose(self) -> None: ...


class Throttle:
    """Spaces request starts at least `1 / rate` seconds apart, across all tasks of one backend."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = anyio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            await anyio.sleep(start - now)


class LocalBudget:
    def __init__(self, settings: HttpSettings) -> None:
        self._limiter = anyio.CapacityLimiter(settings.max_concurrency)
        self._throttle = Throttle(settings.requests_per_second)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._limiter:
            await self._throttle.wait()
            yield


class LocalBudgets:
    """One budget per client, in this process: the limits hold for this replica alone."""

    def for_backend(self, backend: str, base_url: str, settings: HttpSettings) -> Budget:
        return LocalBudget(settings)

    async def aclose(self) -> None:
        return None


_in_use: ContextVar[Budgets | None] = ContextVar("helpdesk_budgets", default=None)


def budgets_in_use() -> Budgets:
    return _in_use.get() or LocalBudgets()


@contextmanager
def using_budgets(budgets: Budgets) -> Iterator[None]:
    """HTTP clients built inside this block take their budgets from `budgets`."""
    token = _in_use.set(budgets)
    try:
        yield
    finally:
        _in_use.reset(token)
