"""A real Redis for the replica tests: a database of each test worker's own, emptied around each test
(or each module, for servers a module shares).

Without a Redis at 127.0.0.1:6379 these tests are skipped and say why; with HELPDESK_REQUIRE_REDIS=1
(as `.ci/run` sets) they fail instead, so a missing Redis never passes for a green run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
import redis

FIRST_DB = 11
DATABASES = 4


@pytest.fixture
def redis_url(worker_id: str) -> Iterator[str]:
    yield from _emptied_database(worker_id)


@pytest.fixture(scope="module")
def module_redis_url(worker_id: str) -> Iterator[str]:
    """The worker's database for servers that serve a whole module: emptied around the module."""
    yield from _emptied_database(worker_id)


def _emptied_database(worker_id: str) -> Iterator[str]:
    number = int(re.sub(r"\D", "", worker_id) or 0)
    url = f"redis://127.0.0.1:6379/{FIRST_DB + number % DATABASES}"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        client.close()
        reason = f"no Redis at 127.0.0.1:6379 ({type(exc).__name__})"
        if os.environ.get("HELPDESK_REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason}, and HELPDESK_REQUIRE_REDIS=1 requires one")
        pytest.skip(f"{reason}; start one to run the replica tests")
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
