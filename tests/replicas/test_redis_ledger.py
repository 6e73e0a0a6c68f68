"""The write ledger kept in Redis holds an unknown outcome until the ticket is read, as SQLite does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import MakeSettings, connect
from tests.fakes.harness import Fault
from tests.fakes.thulium import ROUTES, FakeThulium, make_fake, vendor_env

pytestmark = pytest.mark.anyio


@pytest.fixture
def thulium() -> Iterator[FakeThulium]:
    with make_fake(tickets=3).running() as fake:
        assert isinstance(fake, FakeThulium)
        yield fake


async def test_an_unknown_reply_is_held_in_redis_until_the_ticket_is_read(
    make_settings: MakeSettings, thulium: FakeThulium, redis_url: str
) -> None:
    method, path = ROUTES["reply"]
    settings = make_settings(**vendor_env(thulium), HELPDESK_TIMEOUT="1", HELPDESK_REDIS_URL=redis_url)
    ref = f"thulium:{thulium.showcase_id}"
    arguments = {"ticket": ref, "body": "Naprawione.", "idempotency_key": "fix-7"}
    async with connect(settings, "auto") as client:
        thulium.inject(Fault("hang", apply=True, seconds=4, method=method, path=path))
        assert (await client.call_tool("reply_ticket", arguments)).is_error
        held = await client.call_tool("reply_ticket", arguments)
        assert held.is_error
        assert "get_ticket" in held.content[0].text  # type: ignore[union-attr]
        assert len(thulium.received(method, path)) == 1
        assert not (await client.call_tool("get_ticket", {"ticket": ref})).is_error
        sent = await client.call_tool("reply_ticket", arguments)
        again = await client.call_tool("reply_ticket", arguments)
    assert not sent.is_error and not again.is_error
    assert again.structured_content == {**(sent.structured_content or {}), "replayed": True}
    assert len(thulium.received(method, path)) == 2
