from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from helpdesk_mcp.adapters.usedesk.adapter import UsedeskAdapter
from helpdesk_mcp.adapters.usedesk.settings import UsedeskSettings
from tests.fakes.harness import Request
from tests.fakes.usedesk import UsedeskFake, make_fake


def adapter_for(fake: UsedeskFake, **settings: Any) -> UsedeskAdapter:
    # Faster than the default 2 requests a second keeps the tests short; the fake's own limit still holds.
    settings = {
        "api_token": fake.token,
        "url": fake.url,
        "user_id": str(fake.agent_id),
        "requests_per_second": 100.0,
        "max_concurrency": 4,
        **settings,
    }
    return UsedeskAdapter("usedesk", UsedeskSettings(**settings))


def body(request: Request) -> dict[str, Any]:
    """What one request carried, whichever encoding it used (files aside)."""
    if (request.header("content-type") or "").startswith("application/json"):
        parsed: dict[str, Any] = request.json()
        return parsed
    return {name: values[0] if len(values) == 1 else values for name, values in request.form().items()}


@pytest.fixture
def fake() -> Iterator[UsedeskFake]:
    with make_fake().running() as running:
        assert isinstance(running, UsedeskFake)
        yield running


@pytest.fixture
async def adapter(fake: UsedeskFake) -> AsyncIterator[UsedeskAdapter]:
    adapter = adapter_for(fake)
    yield adapter
    await adapter.aclose()
