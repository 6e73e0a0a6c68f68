"""The shared HTTP layer of the vendor adapters, against a real HTTP server with injected faults."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest

from helpdesk_mcp.adapters.errors import (
    AuthError,
    HelpdeskError,
    InvalidInputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    UnavailableError,
)
from helpdesk_mcp.adapters.http import Backoff, Sleep, VendorClient, VendorFailure
from helpdesk_mcp.adapters.settings import HttpSettings
from tests.fakes.harness import FakeVendor, Fault, Request, Response, json_response

pytestmark = pytest.mark.anyio

PASSWORD = "s3cret-Pa55word"


class Counter(FakeVendor):
    """A vendor with one list to read and one counter to bump, and a 200-with-error quirk."""

    vendor = "Counter"

    def __init__(self) -> None:
        super().__init__()
        self.created = 0
        self.route("GET", "/api/items", lambda request, match: json_response({"items": [1, 2]}))
        self.route("POST", "/api/items", self._create)
        self.route("GET", "/api/quirk", lambda request, match: json_response({"error": "Ticket is locked"}))
        self.route("GET", r"/api/status/(\d+)", self._status)

    def _create(self, request: Request, match: re.Match[str]) -> Response:
        self.created += 1
        return json_response({"id": self.created}, status=201)

    def _status(self, request: Request, match: re.Match[str]) -> Response:
        return json_response({"message": "from the vendor"}, status=int(match[1]))


def vendor_error(response: httpx.Response) -> VendorFailure | None:
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and "error" in body:
            return VendorFailure(str(body["error"]), 400)
    return None


@pytest.fixture
def fake() -> Iterator[Counter]:
    with Counter().running() as running:
        assert isinstance(running, Counter)
        yield running


def make_client(url: str, sleep: Sleep = anyio.sleep, **settings: float) -> VendorClient:
    return VendorClient(
        backend="counter",
        vendor="Counter",
        base_url=url + "/api",
        settings=HttpSettings(read_timeout=0.5, **settings),  # type: ignore[arg-type]
        read_error=vendor_error,
        auth=httpx.BasicAuth("api", PASSWORD),
        backoff=Backoff(base=0.01, cap=0.02),
        sleep=sleep,
    )


@pytest.fixture
async def client(fake: Counter) -> AsyncIterator[VendorClient]:
    vendor_client = make_client(fake.url)
    yield vendor_client
    await vendor_client.aclose()


@pytest.mark.parametrize(
    "fault", [Fault("status", 503), Fault("status", 502), Fault("reset"), Fault("hang", seconds=2)]
)
async def test_a_read_survives_one_transient_fault(fake: Counter, client: VendorClient, fault: Fault) -> None:
    fake.inject(fault)
    response = await client.read("GET", "items")
    assert client.json(response) == {"items": [1, 2]}
    assert len(fake.received("GET", "/api/items")) == 2


async def test_a_read_gives_up_after_its_retries_with_a_clear_error(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("status", 503, times=10))
    with pytest.raises(
        UnavailableError, match=r"Counter \(backend 'counter'\) failed on its side \(HTTP 503\)"
    ):
        await client.read("GET", "items")
    assert len(fake.received("GET", "/api/items")) == 4, "one try and three retries"


async def test_retry_after_is_honoured_and_a_too_long_one_fails_at_once(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("status", 429, headers={"Retry-After": "0"}))
    assert client.json(await client.read("GET", "items")) == {"items": [1, 2]}

    fake.inject(Fault("status", 429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitedError, match=r"rate limited .*; retry after 3600 s") as raised:
        await client.read("GET", "items")
    assert raised.value.retry_after == 3600
    assert len(fake.received("GET", "/api/items")) == 3


async def test_a_wait_asked_for_is_slept_through_the_injected_sleep(fake: Counter) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = make_client(fake.url, sleep=sleep)
    try:
        fake.inject(Fault("status", 429, headers={"Retry-After": "7"}))
        assert client.json(await client.read("GET", "items")) == {"items": [1, 2]}
    finally:
        await client.aclose()
    assert slept == [7.0], "the wait the vendor asked for, and not a real one"


async def test_a_wait_past_the_calls_deadline_is_reported_at_once_not_as_a_timeout(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("status", 429, headers={"Retry-After": "20"}))
    with (
        anyio.fail_after(5),
        pytest.raises(RateLimitedError, match=r"rate limited.*; retry after 20 s") as raised,
    ):
        await client.read("GET", "items")
    assert raised.value.retry_after == 20
    assert len(fake.received("GET", "/api/items")) == 1, "no retry that the deadline would cut short"


@pytest.mark.parametrize(
    "fault", [Fault("status", 503, apply=True), Fault("reset", apply=True), Fault("garbage", apply=True)]
)
async def test_a_write_is_never_sent_twice_after_it_may_have_arrived(
    fake: Counter, client: VendorClient, fault: Fault
) -> None:
    fake.inject(fault)
    with pytest.raises(OutcomeUnknownError, match="unknown"):
        client.json(await client.write("POST", "items", json={}))
    assert len(fake.received("POST", "/api/items")) == 1
    assert fake.created == 1, "the vendor applied it once; nobody sent it again"


async def test_a_write_that_could_not_connect_is_reported_as_not_sent() -> None:
    with Counter().running() as stopped:
        url = stopped.url
    client = make_client(url)
    try:
        with pytest.raises(UnavailableError, match="could not be reached") as raised:
            await client.write("POST", "items", json={})
        assert not isinstance(raised.value, OutcomeUnknownError)
    finally:
        await client.aclose()


async def test_a_hanging_write_ends_at_the_read_timeout_as_unknown(
    fake: Counter, client: VendorClient
) -> None:
    fake.inject(Fault("hang", seconds=2, apply=True))
    with pytest.raises(OutcomeUnknownError, match="timed out"):
        await client.write("POST", "items", json={})
    assert len(fake.received("POST", "/api/items")) == 1


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [
        (401, AuthError, "check the credentials"),
        (403, AuthError, "check the credentials"),
        (404, NotFoundError, "not found"),
        (422, InvalidInputError, "refused the request as invalid"),
        (500, UnavailableError, "failed on its side"),
    ],
)
async def test_statuses_become_the_matching_error(
    client: VendorClient, status: int, error: type[HelpdeskError], words: str
) -> None:
    with pytest.raises(error, match=words):
        await client.read("GET", f"status/{status}")


async def test_an_error_payload_with_status_200_is_a_failure(client: VendorClient) -> None:
    with pytest.raises(InvalidInputError, match="Ticket is locked"):
        await client.read("GET", "quirk")


async def test_an_html_page_instead_of_json_is_a_clear_error(fake: Counter, client: VendorClient) -> None:
    fake.inject(Fault("garbage"))
    with pytest.raises(UnavailableError, match=r"not the JSON its API documents \(text/html"):
        client.json(await client.read("GET", "items"))


async def test_requests_in_flight_stay_within_the_bound(fake: Counter) -> None:
    fake.latency = 0.05
    client = make_client(fake.url, max_concurrency=2, requests_per_second=1000)
    try:
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(client.read, "GET", "items")
    finally:
        await client.aclose()
    assert len(fake.received("GET")) == 8
    assert fake.peak_in_flight == 2


async def test_no_error_carries_the_credentials(fake: Counter, client: VendorClient) -> None:
    fake.inject(Fault("status", 503, times=10))
    messages = []
    for attempt in (
        client.read("GET", "items"),
        client.write("POST", "items"),
        client.read("GET", "status/401"),
    ):
        with pytest.raises(HelpdeskError) as raised:
            await attempt
        messages.append(str(raised.value))
    assert all(PASSWORD not in message and "Authorization" not in message for message in messages)
    assert fake.received()[0].header("authorization") == "Basic YXBpOnMzY3JldC1QYTU1d29yZA=="
