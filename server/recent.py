"""Ticket refs the tools have recently shown, offered first when a host completes a ticket argument.

A person picking a ticket for a prompt most likely means one the conversation just touched. The
memory lives as long as the server's backends do: one user's session on stdio, everyone sharing the
server's backends over HTTP (who can all read those tickets anyway).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

KEEP = 50


class RecentRefs:
    def __init__(self, keep: int = KEEP) -> None:
        self._keep = keep
        self._refs: OrderedDict[str, None] = OrderedDict()

    def saw(self, refs: Iterable[str]) -> None:
        """Remember `refs`, the first of them as the most recent (as results list the most relevant first)."""
        for ref in reversed(list(refs)):
            self._refs[ref] = None
            self._refs.move_to_end(ref)
        while len(self._refs) > self._keep:
            self._refs.popitem(last=False)

    def starting_with(self, prefix: str) -> list[str]:
        """Remembered refs that start with `prefix`, most recent first."""
        return [ref for ref in reversed(self._refs) if ref.startswith(prefix)]
