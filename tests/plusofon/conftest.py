from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from helpdesk_mcp.adapters.plusofon.adapter import PlusofonAdapter
from helpdesk_mcp.adapters.plusofon.settings import PlusofonSettings
from tests.fakes.plusofon import PlusofonFake, make_fake


def adapter_for(fake: PlusofonFake, **settings: Any) -> PlusofonAdapter:
    # A quicker request rate than the default keeps the tests short; the vendor documents no limit.
    settings = {"token": fake.token, "url": fake.url, "requests_per_second": 100.0, **settings}
    return PlusofonAdapter("plusofon", PlusofonSettings(**settings))


@pytest.fixture
def fake() -> Iterator[PlusofonFake]:
    with make_fake().running() as running:
        assert isinstance(running, PlusofonFake)
        yield running


@pytest.fixture
async def adapter(fake: PlusofonFake) -> AsyncIterator[PlusofonAdapter]:
    adapter = adapter_for(fake)
    yield adapter
    await adapter.aclose()
