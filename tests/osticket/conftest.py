from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from helpdesk_mcp.adapters.osticket.adapter import OsticketAdapter
from helpdesk_mcp.adapters.osticket.settings import OsticketSettings
from tests.fakes.osticket import OsticketFake, make_fake


def adapter_for(fake: OsticketFake, **settings: Any) -> OsticketAdapter:
    # A quicker request rate than the default keeps the tests short; osTicket has no rate limit.
    settings = {
        "url": fake.url,
        "api_key": fake.api_key,
        "staff_user": fake.staff[0].username,
        "timezone": fake.timezone,
        "requests_per_second": 200.0,
        **settings,
    }
    return OsticketAdapter("osticket", OsticketSettings(**settings))


@pytest.fixture
def fake() -> Iterator[OsticketFake]:
    with make_fake().running() as running:
        assert isinstance(running, OsticketFake)
        yield running


@pytest.fixture
def stock() -> Iterator[OsticketFake]:
    with make_fake(extension=False).running() as running:
        assert isinstance(running, OsticketFake)
        yield running


@pytest.fixture
async def adapter(fake: OsticketFake) -> AsyncIterator[OsticketAdapter]:
    adapter = adapter_for(fake)
    await adapter.start()
    yield adapter
    await adapter.aclose()


@pytest.fixture
async def stock_adapter(stock: OsticketFake) -> AsyncIterator[OsticketAdapter]:
    adapter = adapter_for(stock)
    await adapter.start()
    yield adapter
    await adapter.aclose()
