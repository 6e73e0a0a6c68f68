"""UseDesk's failures, most of them HTTP 200 with an `error` body, each as the matching error in its words."""

from __future__ import annotations

import json

import pytest

from helpdesk_mcp.adapters.errors import (
    AuthError,
    InvalidInputError,
    RateLimitedError,
    UnavailableError,
)
from helpdesk_mcp.adapters.model import NewTicket, SearchQuery
from helpdesk_mcp.adapters.usedesk.adapter import UsedeskAdapter
from tests.fakes.harness import Fault
from tests.fakes.usedesk import ROUTES, UsedeskFake
from tests.usedesk.conftest import adapter_for

pytestmark = pytest.mark.anyio


def answer(fake: UsedeskFake, operation: str, payload: object, status: int = 200, **headers: str) -> None:
    method, path = ROUTES[operation]
    content = json.dumps(payload, ensure_ascii=False).encode()
    fake.inject(
        Fault("status", status=status, body=content, headers=headers, method=method, path=path, times=9)
    )


async def test_a_wrong_token_is_an_auth_error_in_usedesks_words(fake: UsedeskFake) -> None:
    adapter = adapter_for(fake, api_token="0" * 40)
    with pytest.raises(AuthError) as raised:
        await adapter.check()
    await adapter.aclose()

    assert "Api token is not valid" in raised.value.message and raised.value.setting == "api_token"
    assert len(fake.received("POST")) == 1, "an answer, not a fault: not retried"


async def test_a_token_the_vendor_echoes_is_blanked(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    answer(fake, "search", {"error": f"Token {fake.token} is blocked", "code": 403})
    with pytest.raises(AuthError) as raised:
        await adapter.search(SearchQuery(), 5)

    assert fake.token not in raised.value.message and "Token *** is blocked" in raised.value.message


async def test_a_status_other_than_success_is_a_failure(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    answer(fake, "get", {"status": "error", "message": "Channel is switched off"})
    with pytest.raises(InvalidInputError, match="Channel is switched off"):
        await adapter.get_ticket(str(fake.newest_first()[0].id))


async def test_validation_comes_back_in_usedesks_words(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    with pytest.raises(InvalidInputError, match="The subject may not be greater than 255 characters"):
        await adapter.create_ticket(NewTicket(subject="Ж" * 256, body="Too long a subject."))


async def test_a_rate_limit_keeps_usedesks_words_and_wait(fake: UsedeskFake, adapter: UsedeskAdapter) -> None:
    answer(fake, "get", {"message": "Too Many Attempts."}, status=429, **{"Retry-After": "120"})
    with pytest.raises(RateLimitedError) as raised:
        await adapter.get_ticket(str(fake.newest_first()[0].id))

    assert raised.value.retry_after == 120
    assert "Too Many Attempts" in raised.value.message and "120 s" in raised.value.message


async def test_a_failure_on_usedesks_side_is_retried_then_reported(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    answer(fake, "get", {"error": "Internal error, try later", "code": 503}, status=503)
    with pytest.raises(UnavailableError, match="Internal error, try later"):
        await adapter.get_ticket(str(fake.newest_first()[0].id))

    assert len(fake.received(*ROUTES["get"])) == 4, "a read is tried again after a failure on their side"


async def test_a_write_refused_with_200_is_not_mistaken_for_success(
    fake: UsedeskFake, adapter: UsedeskAdapter
) -> None:
    answer(fake, "create", {"error": "The selected priority is invalid.", "code": 422})
    before = set(fake.tickets)
    with pytest.raises(InvalidInputError, match="The selected priority is invalid"):
        await adapter.create_ticket(NewTicket(subject="S", body="B"))

    assert set(fake.tickets) == before and len(fake.received(*ROUTES["create"])) == 1
