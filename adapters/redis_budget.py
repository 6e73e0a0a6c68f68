"""Request budgets kept in Redis, so that a vendor's limits hold for all replicas together.

Each helpdesk (by base URL) has one budget: a start time that every request reserves `1 / rate`
seconds after the previous one (the same spacing `Throttle` keeps in one process), and a set of
in-flight leases no larger than the concurrency limit. Both are changed by Lua scripts, so replicas
never race, and Redis's own clock is the one every replica reads. A lease expires on its own, so a
replica that dies mid-request gives its slot back.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .budget import Budget
from .errors import UnavailableError
from .settings import HttpSettings

PREFIX = "helpdesk-mcp:budget:"
_POLL = 0.01
_POLL_CAP = 0.1

# Reserve the next start: returns how many milliseconds to wait before starting.
_RESERVE_START = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], tostring(start + interval), 'PX', math.ceil(start - now + interval) + 1000)
return tostring(start - now)
"""

# Take an in-flight lease if fewer than the limit are held; expired leases do not count.
_TAKE_LEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class RedisBudget:
    def __init__(self, redis: Redis, key: str, backend: str, settings: HttpSettings) -> None:
        self._redis = redis
        self._starts = key + ":next"
        self._leases = key + ":leases"
        self._backend = backend
        self._interval_ms = 1000.0 / settings.requests_per_second
        self._limit = settings.max_concurrency
        # Longer than any one request may take, so only a replica that died leaves a lease to expire.
        self._lease_ms = int((settings.connect_timeout + settings.read_timeout) * 2000) + 5000

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        token = secrets.token_hex(8)
        try:
            await self._take_lease(token)
            wait_ms = float(await self._eval(_RESERVE_START, self._starts, self._interval_ms))
        except RedisError as exc:
            raise self._unreachable(exc) from None
        try:
            if wait_ms > 0:
                await anyio.sleep(wait_ms / 1000)
            yield
        finally:
            # Should Redis fail here, the lease expires by itself.
            with anyio.CancelScope(shield=True), suppress(RedisError):
                await self._redis.zrem(self._leases, token)

    async def _take_lease(self, token: str) -> None:
        pause = _POLL
        while not int(await self._eval(_TAKE_LEASE, self._leases, self._limit, self._lease_ms, token)):
            await anyio.sleep(pause)
            pause = min(pause * 2, _POLL_CAP)

    async def _eval(self, script: str, key: str, *args: Any) -> Any:
        return await self._redis.eval(script, 1, key, *args)

    def _unreachable(self, exc: RedisError) -> UnavailableError:
        return UnavailableError(
            f"The shared request budget of backend {self._backend!r} is kept in Redis, which could not "
            f"be reached ({type(exc).__name__}); check HELPDESK_REDIS_URL and try again."
        )


class RedisBudgets:
    """Budgets shared through the Redis at `url`: one per helpdesk, whichever replica asks."""

    def __init__(self, url: str) -> None:
        self._redis: Redis = Redis.from_url(url)

    def for_backend(self, backend: str, base_url: str, settings: HttpSettings) -> Budget:
        helpdesk = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:16]
        return RedisBudget(self._redis, PREFIX + helpdesk, backend, settings)

    async def aclose(self) -> None:
        await self._redis.aclose()
