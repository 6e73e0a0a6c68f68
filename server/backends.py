"""The configured backends at run time: ref resolution, time limits, and search across backends.

This is where policy shared by every vendor lives once: a call's time limit, turning unexpected
failures into the error taxonomy, and merging several backends' searches into one newest-first list
with one cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
    UnsupportedError,
)
from helpdesk_mcp.adapters.model import SearchHit, SearchPage, SearchQuery, Ticket, TicketSummary
from helpdesk_mcp.adapters.registry import BACKEND_TYPES

from .config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ID_LENGTH = 100
Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""Receives (done, total, message), as `Context.report_progress` does; a no-op without a progress token."""
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MergedPage:
    tickets: list[TicketSummary]
    next_cursor: str | None
    notes: list[str]


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
        except HelpdeskError:
            raise
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

    async def search(
        self,
        query: SearchQuery,
        *,
        backend: str | None,
        limit: int,
        cursor: str | None,
        progress: Progress | None = None,
    ) -> MergedPage:
        """Search one backend, or all of them merged newest update first, resuming after `cursor`.

        `progress` hears of each backend as it answers, so a host can show a slow search moving.
        """
        fingerprint = _fingerprint(query, backend)
        targets = [self.get(backend)] if backend else self.all()
        notes: list[str] = []
        if cursor is None:
            positions: dict[str, str | None] = {}
            for adapter in targets:
                problem = _unsearchable(adapter, query)
                if problem and backend:
                    raise UnsupportedError(problem)
                if problem:
                    notes.append(problem)
                else:
                    positions[adapter.name] = None
        else:
            positions = _decode_cursor(cursor, fingerprint)

        pages: dict[str, SearchPage] = {}
        failures: dict[str, HelpdeskError] = {}
        total = len(positions)
        if progress is not None:
            await progress(0, total, f"Searching {', '.join(positions) or 'no backend'}")

        async def fetch(adapter: Adapter, position: str | None) -> None:
            try:
                pages[adapter.name] = await self.call(
                    adapter, "the search", lambda: adapter.search(query, limit, position)
                )
                outcome = f"{len(pages[adapter.name].hits)} found"
            except HelpdeskError as exc:
                failures[adapter.name] = exc
                outcome = "failed"
            if progress is not None:
                done = len(pages) + len(failures)
                await progress(done, total, f"{adapter.name}: {outcome}")

        async with anyio.create_task_group() as group:
            for name, position in positions.items():
                group.start_soon(fetch, self.get(name), position)

        if backend and backend in failures:
            raise failures[backend]
        if failures and not pages:
            raise next(iter(failures.values()))
        notes.extend(
            f"Backend {name!r} failed and is left out of this search: {exc.message}"
            for name, exc in failures.items()
        )

        # A stable sort on time alone keeps each backend's own order among equal times, so what is taken
        # from each backend is a prefix of its page and its cursor resumes right after it.
        merged = sorted(
            ((name, hit) for name, page in pages.items() for hit in page.hits),
            key=lambda item: _recency(item[1].ticket),
            reverse=True,
        )[:limit]
        next_positions = _advance(positions, pages, merged)
        next_cursor = _encode_cursor(next_positions, fingerprint) if next_positions else None
        return MergedPage([hit.ticket for _, hit in merged], next_cursor, notes)

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


def _unsearchable(adapter: Adapter, query: SearchQuery) -> str | None:
    capabilities = adapter.capabilities
    if not capabilities.search:
        return adapter.why_not("search") or (
            f"Backend {adapter.name!r} ({adapter.type}) cannot search or list tickets; open one by its ref."
        )
    unsupported = [name for name in query.used_filters() if name not in capabilities.search_filters]
    if unsupported:
        return (
            f"Backend {adapter.name!r} ({adapter.type}) cannot filter by {', '.join(unsupported)}; "
            f"it can filter by: {', '.join(capabilities.search_filters) or 'nothing'}."
        )
    return None


def _recency(ticket: TicketSummary) -> datetime:
    return ticket.updated_at or ticket.created_at or _OLDEST


def _advance(
    positions: dict[str, str | None], pages: dict[str, SearchPage], taken: list[tuple[str, SearchHit]]
) -> dict[str, str | None]:
    """Where each backend resumes next time; a backend with nothing left drops out."""
    last_taken: dict[str, SearchHit] = {}
    count: dict[str, int] = {}
    for name, hit in taken:
        last_taken[name] = hit
        count[name] = count.get(name, 0) + 1
    following: dict[str, str | None] = {}
    for name, page in pages.items():
        left_on_page = count.get(name, 0) < len(page.hits)
        if left_on_page or page.more:
            following[name] = last_taken[name].cursor if name in last_taken else positions[name]
    return following


def _fingerprint(query: SearchQuery, backend: str | None) -> str:
    material = json.dumps([query.model_dump(mode="json"), backend], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _encode_cursor(positions: dict[str, str | None], fingerprint: str) -> str:
    payload = json.dumps({"q": fingerprint, "p": positions}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> dict[str, str | None]:
    stale = InvalidInputError(
        "The cursor does not belong to this search; repeat the search without a cursor, "
        "keeping the other arguments as they were when the cursor was returned."
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise stale from None
    if (
        not isinstance(payload, dict)
        or payload.get("q") != fingerprint
        or not isinstance(payload.get("p"), dict)
    ):
        raise stale
    positions: dict[str, str | None] = payload["p"]
    return positions
