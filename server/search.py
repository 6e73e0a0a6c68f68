"""Search across backends: each backend's page merged into one newest-first list with one cursor.

The merged cursor holds where each backend resumes (its own cursor, or None for its first page) and a
fingerprint of the search, so it continues only the search it came from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import anyio
from pydantic import BaseModel, ConfigDict

from helpdesk_mcp.adapters.base import Adapter
from helpdesk_mcp.adapters.cursor import BAD_CURSOR, Cursor
from helpdesk_mcp.adapters.errors import HelpdeskError, InvalidInputError, UnsupportedError
from helpdesk_mcp.adapters.model import SearchHit, SearchPage, SearchQuery, TicketSummary

from .backends import with_setting

if TYPE_CHECKING:
    from .backends import Backends

Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""Receives (done, total, message), as `Context.report_progress` does; a no-op without a progress token."""
_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class MergedPage:
    tickets: list[TicketSummary]
    next_cursor: str | None
    notes: list[str]


class _Resume(BaseModel):
    """A merged cursor: the search's fingerprint (`q`) and where each backend resumes (`p`)."""

    model_config = ConfigDict(extra="forbid")

    q: str
    p: dict[str, str | None]


_CURSORS: Cursor[_Resume] = Cursor(_Resume)


async def merged_search(
    backends: Backends,
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
    notes: list[str] = []
    unbuilt: dict[str, HelpdeskError] = {}
    if cursor is None:
        positions: dict[str, str | None] = {}
        for adapter in _targets(backends, backend, unbuilt):
            problem = _unsearchable(adapter, query)
            if problem and backend:
                raise UnsupportedError(problem)
            if problem:
                notes.append(problem)
            else:
                positions[adapter.name] = None
    else:
        resume = _CURSORS.decode(cursor)
        if resume.q != fingerprint:
            raise InvalidInputError(BAD_CURSOR)
        positions = resume.p

    pages: dict[str, SearchPage] = {}
    failures: dict[str, HelpdeskError] = {}
    total = len(positions)
    if progress is not None:
        await progress(0, total, f"Searching {', '.join(positions) or 'no backend'}")

    async def fetch(adapter: Adapter, position: str | None) -> None:
        try:
            pages[adapter.name] = await backends.call(
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
            group.start_soon(fetch, backends.get(name), position)

    failures = {**unbuilt, **failures}
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
    next_cursor = _CURSORS.encode(_Resume(q=fingerprint, p=next_positions)) if next_positions else None
    return MergedPage([hit.ticket for _, hit in merged], next_cursor, notes)


def _targets(backends: Backends, backend: str | None, unbuilt: dict[str, HelpdeskError]) -> list[Adapter]:
    """The backend named, or every backend; one that could not be set up goes to `unbuilt`, to be left
    out of the search across all with a note, as a backend that fails to answer is."""
    if backend:
        return [backends.get(backend)]
    targets = []
    for name in backends.names:
        try:
            targets.append(backends.get(name))
        except HelpdeskError as exc:
            unbuilt[name] = exc
    return targets


def _unsearchable(adapter: Adapter, query: SearchQuery) -> str | None:
    capabilities = adapter.capabilities
    if not capabilities.search:
        refusal = adapter.why_not("search")
        if refusal is not None:
            return with_setting(refusal, adapter).message
        return (
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
