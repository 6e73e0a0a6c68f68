"""The configured backends at run time: ref resolution, time limits, and search across backends.

This is where policy shared by every vendor lives once: a call's time limit and turning unexpected
failures into the error taxonomy. Merging several backends' searches into one newest-first list with
one cursor is server/search.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio
from anyio.abc import TaskGroup

from helpdesk_mcp.adapters.base import Adapter
from helpdesk_mcp.adapters.budget import Budgets, LocalBudgets, using_budgets
from helpdesk_mcp.adapters.errors import (
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    UnavailableError,
)
from helpdesk_mcp.adapters.model import Ticket
from helpdesk_mcp.adapters.registry import BACKEND_TYPES

from .config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ID_LENGTH = 100


def check_id(what: str, value: str) -> str:
    """`value` as a vendor's id, refused before any adapter sees it when no helpdesk could mean it:
    too long to be an id, or with control characters (a NUL, a line break)."""
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInputError(
            f"{what} is {len(value):,} characters long; ids are at most {MAX_ID_LENGTH}, such as 42."
        )
    if not value.isprintable():
        raise InvalidInputError(
            f"{what} {value!r} contains a control character; ids are plain text, such as 42."
        )
    return value


def with_setting(error: HelpdeskError, adapter: Adapter) -> HelpdeskError:
    """`error` saying where the setting it names is given: an environment variable sets it only for the
    backend named after its type, the config file for any backend."""
    setting = error.setting
    if setting is None:
        return error
    variable = BACKEND_TYPES[adapter.type].env.get(setting) if adapter.name == adapter.type else None
    where = f"`{setting}` in the config file"
    if variable is not None:
        where = f"{variable}, or {where}"
    return error.reworded(f"{error.message.rstrip('.')} (set by {where}).")


class Backends:
    def __init__(self, adapters: Sequence[Adapter], timeout: float, budgets: Budgets | None = None) -> None:
        self._adapters = {adapter.name: adapter for adapter in adapters}
        self._timeout = timeout
        self._budgets = budgets
        self._preparing: anyio.Event | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Backends:
        """The configured adapters; with HELPDESK_REDIS_URL their request budgets are shared in Redis,
        so that replicas keep each vendor's limits together."""
        budgets: Budgets = LocalBudgets()
        if settings.redis_url is not None:
            from helpdesk_mcp.adapters.redis_budget import RedisBudgets

            budgets = RedisBudgets(settings.redis_url.get_secret_value())
        with using_budgets(budgets):
            adapters = [BACKEND_TYPES[b.type].build(b.name, b.settings) for b in settings.backends]
        return cls(adapters, settings.timeout, budgets)

    def start_soon(self, group: TaskGroup) -> None:
        """Prepare the adapters in the background, so that the server answers its host at once;
        `ready()` waits for it, and every operation and capability read goes through `ready()`."""
        self._preparing = anyio.Event()
        group.start_soon(self._start, self._preparing)

    async def start(self) -> None:
        """Let every adapter learn what it can do before the first request reads its capabilities."""
        await self._start(anyio.Event())

    async def ready(self) -> None:
        if self._preparing is not None:
            await self._preparing.wait()

    async def _start(self, done: anyio.Event) -> None:
        async def start_one(adapter: Adapter) -> None:
            try:
                with anyio.fail_after(self._timeout):
                    await adapter.start()
            except Exception:
                log.warning(
                    "Backend %r could not be prepared at start; it will try at first use", adapter.name
                )

        try:
            async with anyio.create_task_group() as group:
                for adapter in self._adapters.values():
                    group.start_soon(start_one, adapter)
        finally:
            done.set()

    @property
    def names(self) -> list[str]:
        return list(self._adapters)

    def all(self) -> list[Adapter]:
        return list(self._adapters.values())

    def get(self, name: str) -> Adapter:
        adapter = self._adapters.get(name)
        if adapter is None:
            raise NotFoundError(
                f"There is no backend named {name!r}; configured backends: {self._listing()}."
            )
        return adapter

    def resolve(self, ref: str) -> tuple[Adapter, str]:
        """Split a ticket ref `<backend>:<id>` into its adapter and the backend's own id."""
        name, colon, ticket_id = ref.strip().partition(":")
        if not colon or not name or not ticket_id.strip():
            raise InvalidInputError(
                f"{ref!r} is not a ticket ref: refs look like '<backend>:<id>', for example "
                f"'{self.names[0] if self._adapters else 'local'}:42'."
            )
        adapter = self._adapters.get(name)
        if adapter is None:
            raise NotFoundError(
                f"Ticket ref {ref!r} names backend {name!r}, which is not configured here; "
                f"configured backends: {self._listing()}."
            )
        return adapter, check_id("Ticket id", ticket_id.strip())

    async def read_ticket(self, ref: str) -> tuple[Adapter, Ticket]:
        """The ticket `ref` names, with the adapter it came from (whose capabilities shape its view)."""
        adapter, ticket_id = self.resolve(ref)
        return adapter, await self.call(adapter, "reading the ticket", lambda: adapter.get_ticket(ticket_id))

    async def call(
        self, adapter: Adapter, action: str, operation: Callable[[], Awaitable[T]], *, write: bool = False
    ) -> T:
        """Run one adapter operation under the time limit, with every failure in the taxonomy.

        Writes are never retried here: whether a timed-out write reached the helpdesk is unknown.
        """
        await self.ready()
        try:
            with anyio.fail_after(self._timeout):
                return await operation()
        except HelpdeskError as exc:
            if exc.setting is None:
                raise
            raise with_setting(exc, adapter) from None
        except TimeoutError:
            if write:
                raise OutcomeUnknownError(
                    f"Backend {adapter.name!r} did not finish {action} within {self._timeout:g} s, so "
                    "whether it was done is unknown; read the ticket (or search for it) before trying again."
                ) from None
            raise UnavailableError(
                f"Backend {adapter.name!r} did not finish {action} within {self._timeout:g} s; "
                "if this was a change, read the ticket before trying again, it may have been made."
            ) from None
        except Exception as exc:
            log.exception("Backend %r failed during %s", adapter.name, action)
            raise UnavailableError(
                f"Backend {adapter.name!r} failed during {action} ({type(exc).__name__}); "
                "see the server log for details."
            ) from exc

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            try:
                await adapter.aclose()
            except Exception:
                log.exception("Closing backend %r failed", adapter.name)
        if self._budgets is not None:
            await self._budgets.aclose()

    def _listing(self) -> str:
        return ", ".join(self._adapters) or "none"
