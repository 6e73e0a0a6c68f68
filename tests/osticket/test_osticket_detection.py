"""Whether the ticket API extension is installed: learnt by one probe, told by the capabilities, and
everything stock osTicket cannot do answered with one sentence that names the extension."""

from __future__ import annotations

import pytest

from helpdesk_mcp.adapters.errors import AuthError, UnavailableError, UnsupportedError
from helpdesk_mcp.adapters.model import NewReply, NewTicket, SearchQuery
from helpdesk_mcp.adapters.osticket.adapter import OsticketAdapter
from tests.fakes.harness import Fault
from tests.fakes.osticket import OsticketFake, make_fake
from tests.osticket.conftest import adapter_for

pytestmark = pytest.mark.anyio


async def test_the_extension_is_found_by_one_probe_that_the_key_passes(
    fake: OsticketFake, adapter: OsticketAdapter
) -> None:
    [probe] = fake.received("GET", r"/ticketInfo$")
    assert probe.path == "/api/http.php/tickets/ticketInfo" and probe.query == {}
    assert probe.header("X-API-Key") == fake.api_key
    caps = adapter.capabilities
    assert adapter.extension is True
    assert caps.search and caps.reply and caps.status_on_reply and caps.full_text_search
    assert not caps.internal_notes and not caps.attachment_download and "tags" not in caps.search_filters
    assert caps.search_requires == ("requester", "assignee")
    assert "tags" not in caps.create_fields and "requester_email" in caps.create_fields
    assert len(fake.received("GET", r"/ticketInfo$")) == 1, "learnt once"
    # check asks again: the probe that found the extension may have been the answer refusing the key.
    assert await adapter.check() == "the ticket API extension answered with this API key"
    assert len(fake.received("GET", r"/ticketInfo$")) == 2


async def test_stock_osticket_answers_url_not_supported_and_only_create_is_offered(
    stock: OsticketFake, stock_adapter: OsticketAdapter
) -> None:
    assert stock_adapter.extension is False
    caps = stock_adapter.capabilities
    assert caps.create and caps.attachments
    assert not (caps.search or caps.reply or caps.status_on_reply or caps.internal_notes)
    assert "only opening tickets works" in await stock_adapter.check()

    created = await stock_adapter.create_ticket(
        NewTicket(subject="Brak dostępu", body="Nie mogę się zalogować.", requester_email="ola@example.com")
    )
    assert created.ref == f"osticket:{stock.tickets[-1].number}" and created.status == "open"

    attempts = [
        stock_adapter.get_ticket(stock.tickets[0].number),
        stock_adapter.search(SearchQuery(requester="ola@example.com"), 5),
        stock_adapter.reply(stock.tickets[0].number, NewReply(body="Dzień dobry")),
    ]
    for attempt in attempts:
        with pytest.raises(UnsupportedError) as refused:
            await attempt
        message = refused.value.message
        assert "ticket API extension" in message and "\n" not in message and message.endswith(".")
    assert stock.received("POST", r"/reply\.json$") == [], "nothing unsupported reaches the wire"


async def test_a_ticket_that_cannot_be_read_is_named_in_the_answer(stock_adapter: OsticketAdapter) -> None:
    with pytest.raises(UnsupportedError, match=r"cannot read ticket osticket:849510"):
        await stock_adapter.get_ticket("849510")


async def test_unreachable_at_start_it_assumes_nothing_and_learns_at_first_use() -> None:
    fake = make_fake(extension=False)
    adapter = adapter_for(fake.start(), read_retries=0)
    fake.stop()  # osTicket is down while the server starts
    await adapter.start()
    assert adapter.extension is None
    with pytest.raises(UnavailableError):
        await adapter.get_ticket("849510")
    await adapter.aclose()

    with make_fake(extension=False).running() as back:
        assert isinstance(back, OsticketFake)
        adapter = adapter_for(back)
        # Until osTicket has answered, operations are let through to the adapter, which checks first.
        assert adapter.capabilities.search and adapter.extension is None
        with pytest.raises(UnsupportedError, match="ticket API extension"):
            await adapter.search(SearchQuery(requester="ola@example.com"), 5)
        assert adapter.extension is False and not adapter.capabilities.search
        await adapter.aclose()


async def test_a_wrong_key_on_the_extension_is_an_auth_error_without_the_key(fake: OsticketFake) -> None:
    adapter = adapter_for(fake, api_key="not-the-key-0000")
    with pytest.raises(AuthError) as refused:
        await adapter.get_ticket(fake.tickets[0].number)
    assert "API key not found/active or source IP not authorized" in refused.value.message
    assert "not-the-key-0000" not in refused.value.message
    await adapter.aclose()


async def test_without_a_staff_user_replies_are_not_offered(fake: OsticketFake) -> None:
    adapter = adapter_for(fake, staff_user=None)
    await adapter.start()
    assert adapter.capabilities.search and not adapter.capabilities.reply
    with pytest.raises(UnsupportedError, match="`staff_user` setting") as refused:
        await adapter.reply(fake.tickets[0].number, NewReply(body="Hello"))
    assert refused.value.setting == "staff_user"
    await adapter.aclose()


async def test_a_probe_that_fails_is_tried_again_at_first_use(fake: OsticketFake) -> None:
    fake.inject(Fault("status", status=500, path=r"/ticketInfo$", times=1))
    adapter = adapter_for(fake)
    await adapter.start()
    assert adapter.extension is None
    ticket = await adapter.get_ticket(fake.tickets[0].number)
    assert ticket.ref == f"osticket:{fake.tickets[0].number}" and adapter.extension is True
    await adapter.aclose()


async def test_a_url_that_is_not_the_helpdesk_root_is_named(fake: OsticketFake) -> None:
    adapter = adapter_for(fake, url=fake.url + "/helpdesk")
    with pytest.raises(
        UnavailableError, match="check that the backend's `url` setting is the helpdesk's root"
    ) as bad:
        await adapter.create_ticket(NewTicket(subject="s", body="b", requester_email="ola@example.com"))
    assert bad.value.setting == "url"
    assert fake.received("POST") == []
    await adapter.aclose()
