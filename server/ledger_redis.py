"""The write ledger in Redis, shared by every replica: a claim is `SET NX` with the entry's lifetime.

An entry is one JSON value under `helpdesk-mcp:ledger:<key>`. Entries held on a ticket are also
listed in a set per ticket, so that reading the ticket frees its unknown ones in one script.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from helpdesk_mcp.adapters.errors import UnavailableError

from .ledger import KEY_LIFETIME, Entry

log = logging.getLogger(__name__)
PREFIX = "helpdesk-mcp:ledger:"
HOLDS = "helpdesk-mcp:holds:"

# Forget the unknown entries (and those pending past their lease) listed under one ticket.
_FREE_HOLDS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local raw = redis.call('GET', key)
  if raw then
    local entry = cjson.decode(raw)
    if entry.state == 'unknown' or (entry.state == 'pending' and entry.lease_until < now) then
      redis.call('DEL', key)
      redis.call('SREM', KEYS[1], key)
    end
  else
    redis.call('SREM', KEYS[1], key)
  end
end
return 0
"""


class RedisStore:
    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url)

    async def claim(self, key: str, entry: Entry, lifetime: float) -> Entry | None:
        name = PREFIX + key
        try:
            # Bounded: the entry found can only expire between the two calls once per lifetime.
            for _ in range(3):
                if await self._redis.set(name, _dump(entry), nx=True, px=_ms(lifetime)):
                    await self._hold(name, entry)
                    return None
                raw = await self._redis.get(name)
                if raw is not None:
                    return _load(raw)
        except RedisError as exc:
            raise _unreachable(exc) from None
        raise _unreachable(RedisError("the entry kept changing"))

    async def settle(self, key: str, entry: Entry, lifetime: float) -> None:
        name = PREFIX + key
        try:
            await self._redis.set(name, _dump(entry), px=_ms(lifetime))
            await self._hold(name, entry)
        except RedisError as exc:
            raise _unreachable(exc) from None

    async def release(self, key: str) -> None:
        try:
            await self._redis.delete(PREFIX + key)
        except RedisError as exc:
            raise _unreachable(exc) from None

    async def free_holds(self, hold: str) -> None:
        try:
            await self._redis.eval(_FREE_HOLDS, 1, HOLDS + hold)
        except RedisError as exc:
            raise _unreachable(exc) from None

    async def ping(self) -> None:
        await self._redis.ping()

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def _hold(self, name: str, entry: Entry) -> None:
        if entry.hold:
            holds = HOLDS + entry.hold
            await self._redis.sadd(holds, name)
            # As long as the longest-lived entry it may list; stale members are dropped when read.
            await self._redis.pexpire(holds, _ms(KEY_LIFETIME))


def _dump(entry: Entry) -> str:
    return json.dumps(asdict(entry), separators=(",", ":"))


def _load(raw: Any) -> Entry:
    return Entry(**json.loads(raw))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _unreachable(exc: RedisError) -> UnavailableError:
    log.warning("Redis failed for the write ledger: %s", exc)
    return UnavailableError(
        f"The write ledger is kept in Redis, which could not be reached ({type(exc).__name__}), so "
        "nothing was sent; check HELPDESK_REDIS_URL and try again."
    )
