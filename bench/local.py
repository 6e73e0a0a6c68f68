"""The local helpdesk: result sizes against the SDK's default serialization, and tool latency.

A fresh local helpdesk is seeded (3,000 tickets, a third with a reply) and measured through a real
in-process MCP client: bytes of the text a host passes to the model, and median call times.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pydantic_core
from mcp import Client
from pydantic import BaseModel

from bench.common import Row, Section, median, settings_for, table
from helpdesk_mcp.adapters.local.adapter import LocalAdapter
from helpdesk_mcp.adapters.model import NewReply, NewTicket, Ticket
from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.views import SearchResult

WORDS = ["refund", "invoice", "printer", "login", "password", "vpn", "outage", "delivery", "courier"]


async def seed(path: Path, tickets: int) -> None:
    adapter = LocalAdapter("local", path)
    for number in range(tickets):
        word = WORDS[number % len(WORDS)]
        created = await adapter.create_ticket(
            NewTicket(
                subject=f"Customer {number} asks about {word}",
                body=f"Hello, I have a question about my {word}. " * 8,
                requester_email=f"customer{number % 400}@example.com",
                tags=(word,),
            )
        )
        if number % 3 == 0:
            ticket_id = created.ref.partition(":")[2]
            await adapter.reply(
                ticket_id, NewReply(body=f"Thanks, we are looking into the {word}.", status="open")
            )
    await adapter.aclose()


async def timed(repeat: int, call: Callable[[], Awaitable[Any]]) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return median(samples) * 1000


async def run(quick: bool = False) -> Section:
    tickets, repeat = (500, 10) if quick else (3000, 30)
    section = Section(f"6. Local helpdesk ({tickets:,} tickets): result size and latency")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        started = time.perf_counter()
        await seed(db, tickets)
        seeding = time.perf_counter() - started
        settings = settings_for({"HELPDESK_DB": str(db)})
        async with Client(build_server(settings), mode="legacy") as client:  # type: ignore[arg-type]
            search = await client.call_tool("search_tickets", {"limit": 20})
            ref = search.structured_content["tickets"][0]["ref"]  # type: ignore[index]
            ticket = await client.call_tool("get_ticket", {"ticket": ref})
            sizes = []
            shapes: tuple[tuple[str, Any, type[BaseModel]], ...] = (
                ("search_tickets, 20 hits", search, SearchResult),
                ("get_ticket", ticket, Ticket),
            )
            for label, result, model in shapes:
                served = len(result.content[0].text.encode())
                # What MCPServer sends for the same model by default: every field, indent=2.
                default = len(
                    pydantic_core.to_json(model.model_validate(result.structured_content), indent=2)
                )
                sizes.append([label, f"{served:,} B", f"{default:,} B", f"{served / default:.2f}"])
                section.rows.append(
                    Row(
                        f"local {label}, bytes",
                        f"{served:,}",
                        f"{default:,} SDK default",
                        served / default,
                        "",
                        None,
                    )
                )
            cases: list[tuple[str, dict[str, Any]]] = [
                ("search_tickets, no filter", {"limit": 20}),
                ("search_tickets, full text", {"query": "refund", "limit": 20}),
                (
                    "search_tickets, text + status + tag",
                    {"query": "invoice", "status": ["open"], "tags": ["invoice"]},
                ),
            ]
            baseline = await timed(repeat, lambda: client.call_tool("get_ticket", {"ticket": ref}))
            latency = [["get_ticket", f"{baseline:.2f} ms", "1.00"]]
            for label, arguments in cases:
                ms = await timed(repeat, lambda a=arguments: client.call_tool("search_tickets", a))  # type: ignore[misc]
                latency.append([label, f"{ms:.2f} ms", f"{ms / baseline:.2f}"])
    section.details.append(
        table(["result", "served (compact)", "SDK default (all fields, indented)", "ratio"], sizes)
    )
    section.details.append(
        table([f"call, in-process MCP client, median of {repeat}", "median", "vs get_ticket"], latency)
    )
    section.details.append(
        f"Seeding {tickets:,} tickets through the adapter took {seeding:.1f} s "
        f"({seeding / tickets * 1000:.1f} ms per ticket, each its own transaction)."
    )
    return section
