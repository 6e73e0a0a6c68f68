"""Reading a vendor's list ahead (adapters/paging.py): what a search sees is what reading one page at a
time would give it; pages it did not need neither fail it nor keep it waiting."""

from __future__ import annotations

import anyio
import pytest

from helpdesk_mcp.adapters.errors import UnavailableError
from helpdesk_mcp.adapters.paging import read_ahead

pytestmark = pytest.mark.anyio
SIZE = 10


class Vendor:
    """A list of `pages` pages, the last short; page `broken` fails, page `stuck` never answers."""

    def __init__(self, pages: int, *, broken: int | None = None, stuck: int | None = None) -> None:
        self.pages, self.broken, self.stuck = pages, broken, stuck
        self.asked: list[int] = []
        self.in_flight = self.peak = 0
        self.finished: list[int] = []

    async def fetch(self, index: int) -> list[int]:
        self.asked.append(index)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await anyio.sleep(0.01)
            if index == self.stuck:
                await anyio.sleep_forever()
            if index == self.broken:
                raise UnavailableError(f"page {index} failed")
            self.finished.append(index)
            if index >= self.pages:
                return []
            last = index == self.pages - 1
            return list(range(index * SIZE, index * SIZE + (SIZE // 2 if last else SIZE)))
        finally:
            self.in_flight -= 1


async def test_pages_come_in_order_with_several_asked_for_at_once() -> None:
    vendor = Vendor(8)
    with anyio.fail_after(10):
        async with read_ahead(vendor.fetch, lambda page: len(page) == SIZE, 3) as pages:
            read = [page async for page in pages]
    assert [page[0] for page in read] == [index * SIZE for index in range(8)]
    assert sorted(vendor.asked) == list(range(len(vendor.asked))), "each page asked for once, in order"
    assert len(vendor.asked) <= 8 + 2, "past the last page, no more than were in flight with it"
    assert 2 <= vendor.peak <= 3


async def test_a_list_one_page_long_is_one_request() -> None:
    vendor = Vendor(1)
    async with read_ahead(vendor.fetch, lambda page: len(page) == SIZE, 3) as pages:
        assert [len(page) async for page in pages] == [SIZE // 2]
    assert vendor.asked == [0]


async def test_a_search_that_stops_leaves_no_page_in_flight_and_hears_no_failure_of_one() -> None:
    vendor = Vendor(50, broken=4, stuck=5)
    with anyio.fail_after(10):  # a page still waited for would hang here
        async with read_ahead(vendor.fetch, lambda page: len(page) == SIZE, 3) as pages:
            async for page in pages:
                if page[0] == 3 * SIZE:  # the fourth page answers the search, pages 5 and 6 in flight
                    break
    assert vendor.in_flight == 0
    assert sorted(vendor.asked) == [0, 1, 2, 3, 4, 5], "no more than the pages in flight were asked for"


async def test_a_page_the_search_needs_fails_it_with_its_own_error() -> None:
    vendor = Vendor(50, broken=2)

    async def read_all() -> None:
        async with read_ahead(vendor.fetch, lambda page: len(page) == SIZE, 3) as pages:
            async for _ in pages:
                pass

    with pytest.raises(UnavailableError, match="page 2 failed"):
        await read_all()
