"""Values the adapter saw a moment ago, kept briefly: a bounded map whose entries go stale."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class RecentValues(Generic[V]):
    """Key -> value seen within the last `fresh_for` seconds; the oldest go first when full."""

    def __init__(self, fresh_for: float, capacity: int = 4096) -> None:
        self._fresh_for = fresh_for
        self._capacity = capacity
        self._seen: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def put(self, key: str, value: V) -> None:
        self._seen[key] = (time.monotonic(), value)
        self._seen.move_to_end(key)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def get(self, key: str) -> V | None:
        entry = self._seen.get(key)
        if entry is None or time.monotonic() - entry[0] > self._fresh_for:
            return None
        return entry[1]
