"""A Thulium search that must read many pages asks for the next ones while it reads one (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpdesk_mcp.adapters.model import SearchQuery
from helpdesk_mcp.adapters.thulium.adapter import ThuliumAdapter
from tests.fakes.thulium import FakeThulium, make_fake
from tests.thulium.conftest import settings_for

pytestmark = pytest.mark.anyio
LIST = r"^/api/tickets$"


@pytest.fixture
def big() -> Iterator[FakeThulium]:
    with make_fake(tickets=600).running() as running:
        assert isinstance(running, FakeThulium)
        running.latency = 0.02  # long enough for requests to overlap when they are sent together
        yield running


async def test_a_scan_of_every_page_has_pages_in_flight_together_each_asked_once(big: FakeThulium) -> None:
    adapter = ThuliumAdapter("thulium", settings_for(big, max_concurrency=4))
    try:
        page = await adapter.search(SearchQuery(text="zzz-nothing-matches"), 10)
    finally:
        await adapter.aclose()
    assert page.hits == [] and not page.more
    offsets = [int(request.arg("offset") or 0) for request in big.received("GET", LIST)]
    assert len(offsets) == len(set(offsets)), "no page asked for twice"
    assert sorted(offsets)[-1] >= 600 - 100, "the scan reached the end of the list"
    assert big.peak_in_flight >= 2, "pages were asked for while others were read"
    assert big.peak_in_flight <= 3, "one request of the four the account allows stays free for other calls"


async def test_a_search_a_page_or_two_answer_sends_no_request_more_than_one_page_at_a_time(
    big: FakeThulium,
) -> None:
    sent = []
    for concurrency in (1, 4):  # 1: no read-ahead
        adapter = ThuliumAdapter("thulium", settings_for(big, max_concurrency=concurrency))
        before = len(big.received("GET", LIST))
        try:
            page = await adapter.search(SearchQuery(), 20)
        finally:
            await adapter.aclose()
        assert len(page.hits) == 20 and page.more
        sent.append(len(big.received("GET", LIST)) - before)
    assert sent[1] == sent[0] <= 2
