from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from helpdesk_mcp.adapters.thulium.adapter import ThuliumAdapter
from helpdesk_mcp.adapters.thulium.settings import ThuliumSettings
from tests.fakes.thulium import FakeThulium, make_fake, vendor_env

MakeAdapter = Callable[..., ThuliumAdapter]


@pytest.fixture
def fake() -> Iterator[FakeThulium]:
    with make_fake().running() as running:
        assert isinstance(running, FakeThulium)
        yield running


def settings_for(fake: FakeThulium, **overrides: Any) -> ThuliumSettings:
    env = vendor_env(fake)
    values: dict[str, Any] = {
        "url": env["THULIUM_URL"],
        "user": env["THULIUM_USER"],
        "password": env["THULIUM_PASSWORD"],
        "mailbox": env["THULIUM_MAILBOX"],
        "agent_login": env["THULIUM_AGENT_LOGIN"],
        # Faults are injected on purpose here: no waiting between attempts that are meant to fail.
        "read_retries": 0,
        "requests_per_second": 1000,
    }
    return ThuliumSettings(**{**values, **overrides})


@pytest.fixture
async def make_adapter(fake: FakeThulium) -> AsyncIterator[MakeAdapter]:
    built: list[ThuliumAdapter] = []

    def make(**overrides: Any) -> ThuliumAdapter:
        adapter = ThuliumAdapter("thulium", settings_for(fake, **overrides))
        built.append(adapter)
        return adapter

    yield make
    for adapter in built:
        await adapter.aclose()


@pytest.fixture
def adapter(make_adapter: MakeAdapter) -> ThuliumAdapter:
    return make_adapter()
