"""Concurrent writers on the local helpdesk: nothing is lost, no status change is lost."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import anyio
import pytest

from helpdesk_mcp.adapters.local.adapter import LocalAdapter
from helpdesk_mcp.adapters.model import STATUSES, Message, NewReply, NewTicket, Ticket

pytestmark = pytest.mark.anyio


def assert_status_changes_chain(ticket: Ticket) -> None:
    """Each recorded change starts from the status the previous one ended in: no update was lost."""
    current = "new"
    for message in ticket.messages:
        if message.kind == "system":
            match = re.fullmatch(r"Status changed from (\w+) to (\w+)\.", message.body)
            assert match is not None
            assert match[1] == current
            current = match[2]
    assert ticket.status == current


async def test_concurrent_replies_through_one_adapter_all_land(adapter: LocalAdapter) -> None:
    await adapter.create_ticket(NewTicket(subject="Busy ticket", body="Start."))
    replies: list[Message] = []

    async def send(number: int) -> None:
        replies.append(await adapter.reply("1", NewReply(body=f"reply {number}")))

    async with anyio.create_task_group() as group:
        for number in range(40):
            group.start_soon(send, number)

    ticket = await adapter.get_ticket("1")
    bodies = [message.body for message in ticket.messages if message.kind == "agent"]
    assert sorted(bodies) == sorted(f"reply {number}" for number in range(40))
    assert len({reply.id for reply in replies}) == 40


async def test_two_adapters_on_one_file_lose_no_reply_or_status_change(db_path: Path) -> None:
    first = LocalAdapter("local", db_path, agent_name="First")
    second = LocalAdapter("local", db_path, agent_name="Second")
    await first.create_ticket(NewTicket(subject="Shared ticket", body="Start."))

    async def send(adapter: LocalAdapter, number: int) -> None:
        status = STATUSES[number % len(STATUSES)]
        await adapter.reply("1", NewReply(body=f"{adapter.agent_name} {number}", status=status))

    async with anyio.create_task_group() as group:
        for number in range(20):
            group.start_soon(send, first, number)
            group.start_soon(send, second, number)

    ticket = await second.get_ticket("1")
    replies = [message.body for message in ticket.messages if message.kind == "agent"]
    assert len(replies) == 40
    assert len(set(replies)) == 40
    assert_status_changes_chain(ticket)
    await first.aclose()
    await second.aclose()


REPLIER = """
import sys
from pathlib import Path

import anyio

from helpdesk_mcp.adapters.local.adapter import LocalAdapter
from helpdesk_mcp.adapters.model import NewReply


async def main(path: str, name: str) -> None:
    adapter = LocalAdapter("local", Path(path), agent_name=name)
    for number in range(15):
        status = "open" if number % 2 else "pending"
        await adapter.reply("1", NewReply(body=f"{name} {number}", status=status))
    await adapter.aclose()


anyio.run(main, *sys.argv[1:])
"""


async def test_several_processes_on_one_file_lose_nothing(db_path: Path, adapter: LocalAdapter) -> None:
    await adapter.create_ticket(NewTicket(subject="Shared ticket", body="Start."))
    async with anyio.create_task_group() as group:
        for name in ("one", "two", "three"):
            group.start_soon(anyio.run_process, [sys.executable, "-c", REPLIER, str(db_path), name])

    ticket = await adapter.get_ticket("1")
    assert len([message for message in ticket.messages if message.kind == "agent"]) == 45
    assert_status_changes_chain(ticket)
