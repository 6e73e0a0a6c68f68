"""Three `--stateless` HTTP replicas with one Redis, behind a round-robin "load balancer": any replica
serves any call, no write is sent twice, and the vendor's rate limit holds for all three together."""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import Human, serve_http
from tests.fakes.thulium import ROUTES, FakeThulium, env_for, make_fake

pytestmark = pytest.mark.anyio
RATE = 10
"""The vendor's configured rate, requests per second, for the three replicas together."""
STATE_KEY = "0123456789abcdef0123456789abcdef-replicas"


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each request to the next replica in turn, as a load balancer without stickiness does."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._transport = httpx2.AsyncHTTPTransport()
        self.served: list[int] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._ports)
        self.served.append(port)
        request.url = request.url.copy_with(port=port)
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


# One fake and one set of replicas for the module (each replica start imports the SDK anew): the tests
# count the vendor's requests from where they begin.
@pytest.fixture(scope="module")
def thulium() -> Iterator[FakeThulium]:
    with make_fake(tickets=5).running() as fake:
        assert isinstance(fake, FakeThulium)
        yield fake


@pytest.fixture(scope="module")
def ports(
    tmp_path_factory: pytest.TempPathFactory, thulium: FakeThulium, module_redis_url: str
) -> Iterator[list[int]]:
    tmp_path = tmp_path_factory.mktemp("replicas")
    env = {
        **env_for(thulium, f"requests_per_second = {RATE}\n"),
        "HELPDESK_REDIS_URL": module_redis_url,
        "HELPDESK_STATE_KEY": STATE_KEY,
    }
    with ExitStack() as stack:
        servers = [stack.enter_context(serve_http(tmp_path, "--stateless", **env)) for _ in range(3)]
        yield [int(server.url.rsplit(":", 1)[1].split("/")[0]) for server in servers]


@asynccontextmanager
async def balanced(ports: list[int], human: Human | None = None) -> AsyncIterator[tuple[Client, RoundRobin]]:
    balancer = RoundRobin(ports)
    async with httpx2.AsyncClient(transport=balancer, timeout=60) as http:
        transport = streamable_http_client(f"http://127.0.0.1:{ports[0]}/mcp", http_client=http)
        async with Client(transport, mode="auto", elicitation_callback=human) as client:  # type: ignore[arg-type]
            yield client, balancer


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_a_tickets_whole_life_across_three_replicas(ports: list[int], thulium: FakeThulium) -> None:
    human = Human()
    async with balanced(ports, human) as (client, balancer):
        opened = await ok(
            client,
            "create_ticket",
            {
                "subject": "Zwrot za zamówienie 1001",
                "body": "Proszę o zwrot pieniędzy.",
                "requester_email": "jan@example.com",
                "idempotency_key": "life-1",
            },
        )
        ref = opened["ticket"]
        found = await ok(client, "search_tickets", {"query": "zamówienie 1001"})
        assert ref in [t["ref"] for t in found["tickets"]]
        await ok(client, "get_ticket", {"ticket": ref})
        # The host is asked on one replica and answers on the next: the sealed state must open there.
        await ok(client, "reply_ticket", {"ticket": ref, "body": "Checking the order."})
        await ok(client, "reply_ticket", {"ticket": ref, "body": "Refund sent.", "status": "solved"})
        file = base64.b64encode(b"refund confirmation").decode()
        await ok(
            client,
            "attach_file",
            {"ticket": ref, "filename": "refund.txt", "content_base64": file},
        )
        again = await ok(
            client,
            "create_ticket",
            {
                "subject": "Zwrot za zamówienie 1001",
                "body": "Proszę o zwrot pieniędzy.",
                "requester_email": "jan@example.com",
                "idempotency_key": "life-1",
            },
        )
        ticket = await ok(client, "get_ticket", {"ticket": ref})
    assert again == {**opened, "replayed": True}
    assert len(set(balancer.served)) == 3, "every replica served part of the ticket's life"
    assert len(human.questions) == 3, "each message for the customer was confirmed once"
    bodies = [m.get("body", "") for m in ticket["messages"]]
    assert "Checking the order." in bodies and "Refund sent." in bodies
    assert ticket["status"] == "solved"
    # Thulium does not name files; only the replica that uploaded this one remembers its name.
    assert any(m.get("attachments") for m in ticket["messages"])


async def test_twenty_identical_creates_and_replies_over_three_replicas_write_once(
    ports: list[int], thulium: FakeThulium
) -> None:
    create_method, create_path = ROUTES["create"]
    reply_method, reply_path = ROUTES["reply"]
    arguments = {
        "subject": "Drukarka",
        "body": "Zacięty papier.",
        "requester_email": "ola@example.com",
        "idempotency_key": "bot-7",
    }
    creates, replies = (
        len(thulium.received(create_method, create_path)),
        len(thulium.received(reply_method, reply_path)),
    )
    async with balanced(ports) as (client, _):
        created: list[dict[str, Any]] = []

        async def create() -> None:
            created.append(await ok(client, "create_ticket", arguments))

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(create)
        ref = created[0]["ticket"]
        posted: list[dict[str, Any]] = []

        async def reply() -> None:
            posted.append(await ok(client, "reply_ticket", {"ticket": ref, "body": "Wymieniony."}))

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(reply)
    assert len(thulium.received(create_method, create_path)) == creates + 1
    assert {c["ticket"] for c in created} == {ref}
    assert sum(bool(c.get("replayed")) for c in created) == 19
    assert len(thulium.received(reply_method, reply_path)) == replies + 1
    assert len({p["message_id"] for p in posted}) == 1


async def test_the_vendor_sees_no_more_than_its_rate_from_three_replicas(
    ports: list[int], thulium: FakeThulium
) -> None:
    refs = [f"thulium:{ticket_id}" for ticket_id in list(thulium.tickets)[:3]]
    earlier = len(thulium.received())
    async with balanced(ports) as (client, _), anyio.create_task_group() as group:
        for ref in refs * 10:
            group.start_soon(ok, client, "get_ticket", {"ticket": ref})
    times = sorted(request.at for request in thulium.received()[earlier:])
    assert len(times) >= 3 * RATE, "enough requests to exceed the rate if each replica kept its own"
    # Counted at the vendor, arrival times jitter on a busy machine, so a one-second window can catch a
    # request early or late; the time the whole batch needed cannot be shortened by much. One shared
    # budget spaces all requests 1/RATE apart; a budget per replica would take a third of that time.
    needed = (len(times) - 1) / RATE
    assert times[-1] - times[0] >= needed - 1.0, (
        f"{len(times)} requests reached the vendor within {times[-1] - times[0]:.2f} s"
    )
