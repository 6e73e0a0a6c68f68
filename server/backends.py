"""The configured backends at run time: each adapter built at its first use, ref resolution, time
limits.

This is where policy shared by every vendor lives once: a call's time limit and turning unexpected
failures into the error taxonomy. Merging several backends' searches into one newest-first list with
one cursor is server/search.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

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

from .config import BackendConfig, Settings

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
    """The configured backends. Each adapter is built, and prepared (`Adapter.start`), at the first
    operation that needs the backends rather than as the server starts, so a host lists the tools
    without waiting for vendor code, an HTTP client or a vendor's answer."""

    def __init__(
        self, backends: Sequence[Adapter | BackendConfig], timeout: float, budgets: Budgets | None = None
    ) -> None:
        """`backends`: adapters already built, or the configuration of ones to build at first use."""
        self._names = [backend.name for backend in backends]
        self._adapters = {b.name: b for b in backends if isinstance(b, Adapter)}
        self._unbuilt = {b.name: b for b in backends if isinstance(b, BackendConfig)}
        self._unprepared = list(self._adapters.values())
        self._failures: dict[str, str] = {}
        self._timeout = timeout
        self._budgets = budgets or LocalBudgets()
        self._building = anyio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Backends:
        """The configured backends, none built yet; with HELPDESK_REDIS_URL their request budgets are
        shared in Redis, so that replicas keep each vendor's limits together."""
        budgets: Budgets = LocalBudgets()
        if settings.redis_url is not None:
            from helpdesk_mcp.adapters.redis_budget import RedisBudgets

            budgets = RedisBudgets(settings.redis_url.get_secret_value())
        return cls(settings.backends, settings.timeout, budgets)

    async def start(self) -> None:
        """Build and prepare every backend now, as `helpdesk-mcp check` does before its read."""
        await self.ready()

    async def ready(self) -> None:
        """Build the backends not built yet and prepare each new adapter once, before any capability is
        read; every request that reaches the backends (tool call, resource read, prompt, completion)
        awaits this once, first. Concurrent first calls wait for one build. A backend that cannot be
        built is logged and refused by `get`, `resolve` and `all` with the reason, and built again at
        the next request: the cause (a module not installed, say) may be fixed while the server runs."""
        if not self._unbuilt and not self._unprepared:
            return
        async with self._building:
            for name, config in list(self._unbuilt.items()):
                self._build(name, config)
            prepared = list(self._unprepared)
            async with anyio.create_task_group() as group:
                for adapter in prepared:
                    group.start_soon(self._prepare, adapter)
            # Left listed if the caller was cancelled meanwhile, so the next call prepares them.
            self._unprepared = [a for a in self._unprepared if a not in prepared]

    def _build(self, name: str, config: BackendConfig) -> None:
        try:
            with using_budgets(self._budgets):
                adapter = BACKEND_TYPES[config.type].build(name, config.settings)
        except Exception as exc:
            log.exception("Backend %r could not be set up; it will be tried again at the next call", name)
            self._failures[name] = (
                f"Backend {name!r} could not be set up ({type(exc).__name__}); see the server log for "
                "details. It is tried again at the next call."
            )
            return
        del self._unbuilt[name]
        self._failures.pop(name, None)
        self._adapters[name] = adapter
        self._unprepared.append(adapter)

    async def _prepare(self, adapter: Adapter) -> None:
        try:
            with anyio.fail_after(self._timeout):
                await adapter.start()
        except Exception:
            log.warning("Backend %r could not be prepared; its operations will try again", adapter.name)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def all(self) -> list[Adapter]:
        return [self._built(name) for name in self._names]

    def get(self, name: str) -> Adapter:
        if name not in self._names:
            raise NotFoundError(
                f"There is no backend named {name!r}; configured backends: {self._listing()}."
            )
        return self._built(name)

    def _built(self, name: str) -> Adapter:
        adapter = self._adapters.get(name)
        if adapter is not None:
            return adapter
        failure = self._failures.get(name)
        if failure is None:
            raise RuntimeError(f"backend {name!r} was used before Backends.ready() built it")
        raise UnavailableError(failure)

    def resolve(self, ref: str) -> tuple[Adapter, str]:
        """Split a ticket ref `<backend>:<id>` into its adapter and the backend's own id."""
        name, colon, ticket_id = ref.strip().partition(":")
        if not colon or not name or not ticket_id.strip():
            raise InvalidInputError(
                f"{ref!r} is not a ticket ref: refs look like '<backend>:<id>', for example "
                f"'{self._names[0] if self._names else 'local'}:42'."
            )
        if name not in self._names:
            raise NotFoundError(
                f"Ticket ref {ref!r} names backend {name!r}, which is not configured here; "
                f"configured backends: {self._listing()}."
            )
        return self._built(name), check_id("Ticket id", ticket_id.strip())

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
        await self._budgets.aclose()

    def _listing(self) -> str:
        return ", ".join(self._names) or "none"
