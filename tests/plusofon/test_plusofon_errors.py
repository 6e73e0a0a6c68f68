"""Plusofon's `{"message", "code"}` errors as a user meets them, and the backend's configuration."""

from __future__ import annotations

import pytest

from helpdesk_mcp.adapters.errors import (
    AuthError,
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    UnavailableError,
)
from helpdesk_mcp.adapters.model import NewReply, NewTicket, SearchQuery
from helpdesk_mcp.adapters.plusofon.adapter import PlusofonAdapter
from helpdesk_mcp.server.config import ConfigError, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.fakes.harness import Fault
from tests.fakes.plusofon import ROUTES, PlusofonFake
from tests.plusofon.conftest import adapter_for

pytestmark = pytest.mark.anyio


def one_sentence(error: HelpdeskError, fake: PlusofonFake) -> str:
    message = error.message
    assert "\n" not in message and "\r" not in message and message.endswith(".")
    assert fake.token not in message and fake.url not in message
    return message


async def test_ticket_not_found_arriving_as_code_500_is_not_found(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    with pytest.raises(NotFoundError) as missing:
        await adapter.get_ticket("987654321")
    message = one_sentence(missing.value, fake)
    assert "plusofon:987654321" in message and "nginx" not in message
    assert len(fake.received("GET", ROUTES["get"][1])) == 1, "a not-found answer is not retried"

    with pytest.raises(NotFoundError) as unanswerable:
        await adapter.reply("987654321", NewReply(body="Алло?"))
    assert "plusofon:987654321" in one_sentence(unanswerable.value, fake)
    assert fake.received("PUT") == [], "the thread is read first, so nothing is written to a missing ticket"


async def test_a_ticket_id_that_is_not_a_number_is_refused_without_a_request(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await adapter.get_ticket("../authuser")
    assert "whole numbers" in one_sentence(refused.value, fake)
    assert fake.requests == []


async def test_a_validation_error_carries_the_vendors_words(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await adapter.create_ticket(NewTicket(subject="   ", body="Текст обращения"))
    message = one_sentence(refused.value, fake)
    assert "The subject field is required" in message
    assert len(fake.received("POST", ROUTES["create"][1])) == 1


async def test_a_wrong_token_or_client_code_is_an_auth_error_even_as_code_500(fake: PlusofonFake) -> None:
    for settings in ({"token": "stale-token"}, {"client": "99999"}):
        adapter = adapter_for(fake, **settings)
        with pytest.raises(AuthError) as refused:
            await adapter.search(SearchQuery(), limit=1)
        assert "token" in one_sentence(refused.value, fake)
        await adapter.aclose()
    assert len(fake.received("GET")) == 2, "refused credentials are not retried"


async def test_a_write_refused_for_access_is_not_mistaken_for_an_unknown_outcome(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    ticket_id = str(next(iter(fake.tickets)))
    method, path = ROUTES["reply"]
    fake.inject(
        Fault(
            "status",
            status=500,
            body='{"message": "Нет доступа", "code": 500}'.encode(),
            headers={"Content-Type": "application/json"},
            method=method,
            path=path,
        )
    )
    with pytest.raises(AuthError) as refused:
        await adapter.reply(ticket_id, NewReply(body="Проверка"))
    assert "Нет доступа" in one_sentence(refused.value, fake)


async def test_a_list_in_an_undocumented_shape_is_a_clear_error(
    fake: PlusofonFake, adapter: PlusofonAdapter
) -> None:
    method, path = ROUTES["search"]
    fake.inject(
        Fault(
            "status",
            status=200,
            body=b'{"data": []}',
            headers={"Content-Type": "application/json"},
            method=method,
            path=path,
        )
    )
    with pytest.raises(UnavailableError) as odd:
        await adapter.search(SearchQuery(), limit=1)
    assert "shape its API does not document" in one_sentence(odd.value, fake)


def test_the_contract_variables_configure_one_backend_with_documented_defaults() -> None:
    settings = load_settings({"PLUSOFON_TOKEN": "secret-token-1"}, known_tools=TOOL_NAMES)
    [backend] = settings.backends
    assert (backend.name, backend.type) == ("plusofon", "plusofon")
    configured = backend.settings.model_dump()
    assert configured["url"] == "https://restapi.plusofon.ru"
    assert (configured["client"], configured["timezone"]) == ("10553", "Europe/Moscow")
    assert (configured["open_status"], configured["closed_status"]) == ("open", "closed")
    assert "secret-token-1" not in repr(settings)

    with pytest.raises(ConfigError) as broken:
        load_settings(
            {"PLUSOFON_TOKEN": "t", "PLUSOFON_TIMEZONE": "Moscow", "PLUSOFON_URL": "restapi"},
            known_tools=TOOL_NAMES,
        )
    assert sorted(p.split(":")[0] for p in broken.value.problems) == ["PLUSOFON_TIMEZONE", "PLUSOFON_URL"]
