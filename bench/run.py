"""Benchmarks: what a result costs a model in bytes, and how fast the local helpdesk answers.

Run: `.venv/bin/python bench/run.py` (about ten seconds). Everything is measured side by side in one
run on one machine, and reported as ratios next to the raw numbers, since absolute times on shared
machines are noise. Results go to stdout as a Markdown table; bench/README.md keeps the last ones.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pydantic_core
from mcp import Client
from pydantic import BaseModel

from helpdesk_mcp.adapters.local import LocalAdapter
from helpdesk_mcp.adapters.model import NewReply, NewTicket, Ticket
from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from helpdesk_mcp.server.views import SearchResult

WORDS = [
    "refund",
    "invoice",
    "printer",
    "login",
    "password",
    "vpn",
    "outage",
    "delivery",
    "courier",
    "damaged",
    "upgrade",
    "plan",
]


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
    return statistics.median(samples) * 1000


async def main(tickets: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        started = time.perf_counter()
        await seed(db, tickets)
        seeding = time.perf_counter() - started
        settings = load_settings({"HELPDESK_DB": str(db)}, known_tools=TOOL_NAMES)
        async with Client(build_server(settings), mode="legacy") as client:  # type: ignore[arg-type]
            search = await client.call_tool("search_tickets", {"limit": 20})
            ref = search.structured_content["tickets"][0]["ref"]  # type: ignore[index]
            ticket = await client.call_tool("get_ticket", {"ticket": ref})

            print(f"## Output size ({tickets} tickets)\n")
            print("| result | served (compact) | SDK default (all fields, indented) | ratio |")
            print("|---|---|---|---|")
            shapes: tuple[tuple[str, Any, type[BaseModel]], ...] = (
                ("search_tickets, 20 hits", search, SearchResult),
                ("get_ticket", ticket, Ticket),
            )
            for label, result, model in shapes:
                served = len(result.content[0].text.encode())
                # What the SDK would send for the same model by default: every field, indent=2.
                shown = model.model_validate(result.structured_content)
                default = len(pydantic_core.to_json(shown, indent=2))
                print(f"| {label} | {served:,} B | {default:,} B | {served / default:.2f} |")

            print(f"\n## Latency, in-process MCP client, median of {repeat} ({tickets} tickets)\n")
            cases: list[tuple[str, dict[str, Any]]] = [
                ("search_tickets, no filter", {"limit": 20}),
                ("search_tickets, full text", {"query": "refund", "limit": 20}),
                (
                    "search_tickets, text + status + tag",
                    {"query": "invoice", "status": ["open"], "tags": ["invoice"]},
                ),
            ]
            baseline = await timed(repeat, lambda: client.call_tool("get_ticket", {"ticket": ref}))
            print("| call | median | vs get_ticket |")
            print("|---|---|---|")
            print(f"| get_ticket | {baseline:.2f} ms | 1.00 |")
            for label, arguments in cases:
                median = await timed(repeat, lambda a=arguments: client.call_tool("search_tickets", a))  # type: ignore[misc]
                print(f"| {label} | {median:.2f} ms | {median / baseline:.2f} |")
        print(f"\nSeeding {tickets} tickets through the adapter took {seeding:.1f} s.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    anyio.run(main, options.tickets, options.repeat)
