"""Tokens per ticket: our get_ticket text against the vendor's raw JSON for the same ticket.

For every seeded ticket of every vendor fake, get_ticket goes through a real MCP client (in-process,
2025-11-25 JSON-RPC framing) and the text content a host hands the model is counted with the
o200k_base tokenizer (`bpe-openai`, offline). The baseline is what the vendor's get endpoint returns
for that ticket: the very request the adapter sent, replayed with httpx, counted as served. A second
baseline re-encodes that JSON compactly as UTF-8 (osTicket's PHP escapes every non-ASCII character as
\\uXXXX, which a thin proxy could undo), so the gain from escaping alone is visible.

"No fact lost" is checked on every ticket with the oracle of tests/test_token_budget.py: subject,
requester, status and the words of every message, in the thread or through the continuation a
shortened body names. Proposed changes to the view are simulated on our structured result and held
to the same check, so their effect is measured, not guessed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from mcp import Client

from bench.common import (
    UNLIMITED,
    Row,
    Section,
    available_vendors,
    quantile,
    running_fake,
    seeded_ids,
    settings_for,
    table,
)
from bench.long_threads import lengthen
from helpdesk_mcp.server.app import build_server
from tests.test_token_budget import ORACLES, Facts, contains_in_order, shortened, words

TARGET = 1 / 3
Shape = dict[str, Any]


def encoder() -> Callable[[str], int]:
    import bpe_openai

    encoding = bpe_openai.get_encoding("o200k_base")
    return lambda text: len(encoding.encode_ordinary(text))


def compact(shape: Shape) -> str:
    return json.dumps(shape, ensure_ascii=False, separators=(",", ":"))


# -- the facts check, on a shown ticket -----------------------------------------------------------------


def facts_kept(shape: Shape, facts: Facts, whole: dict[str, str]) -> list[str]:
    """What `shape` fails to tell of `facts`; `whole` holds messages read whole through get_ticket."""
    lost = []
    if words(shape.get("subject", ""), markup=False) != words(facts.subject, markup=False):
        lost.append("subject")
    requester = shape.get("requester") or {}
    said = " ".join(str(requester.get(key) or "") for key in ("name", "email", "id")).casefold()
    if not any(who.strip().casefold() in said for who in facts.requester):
        lost.append("requester")
    if shape.get("status") not in facts.statuses:
        lost.append("status")
    bodies = {m["id"]: m.get("body", "") for m in shape.get("messages", [])}
    for message_id, text in facts.messages:
        wanted = words(text)
        body = bodies.get(message_id)
        if body is None:
            lost.append(f"message {message_id}")
        elif not contains_in_order(words(body, markup=False), wanted) and not (
            shortened(body, message_id)
            and contains_in_order(words(whole.get(message_id, ""), markup=False), wanted)
        ):
            lost.append(f"message {message_id} text")
    return lost


def _bare(message: Shape) -> Shape:
    return {key: message[key] for key in ("id", "kind", "created_at", "body") if key in message}


@dataclass
class VendorTokens:
    vendor: str
    tickets: int = 0
    ours: list[int] = field(default_factory=list)
    raw: list[int] = field(default_factory=list)
    raw_compact: list[int] = field(default_factory=list)
    links: int = 0
    bodies: int = 0
    thread_only: list[int] = field(default_factory=list)
    """Per ticket: the messages with only id, kind, time and body: the floor of a view that keeps
    who wrote what when in JSON."""
    lost: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def ratio(self, tokens: list[int] | int | None = None) -> float:
        ours = sum(self.ours) if tokens is None else tokens if isinstance(tokens, int) else sum(tokens)
        return ours / sum(self.raw)


LONG_THREADS = 40
"""Tickets per vendor given a long thread in the second set (bench/long_threads.py)."""


async def measure_vendor(vendor: str, count: Callable[[str], int], *, long: bool = False) -> VendorTokens:
    result = VendorTokens(vendor)
    started = time.perf_counter()
    _, read_facts = ORACLES[vendor]
    with running_fake(vendor) as (fake, module):
        ids = lengthen(vendor, fake, LONG_THREADS) if long else seeded_ids(fake)
        settings = settings_for(module.env_for(fake), **UNLIMITED)
        backend = settings.backends[0].name
        method, pattern = module.ROUTES["get"]
        async with (
            Client(build_server(settings), mode="legacy") as client,  # type: ignore[arg-type]
            httpx.AsyncClient(base_url=fake.url) as http,
        ):
            for ticket_id in ids:
                ref = f"{backend}:{ticket_id}"
                before = len(fake.received())
                shown = await client.call_tool("get_ticket", {"ticket": ref})
                assert not shown.is_error, (ref, shown.content)
                sent = [
                    r for r in fake.received()[before:] if r.method == method and re.search(pattern, r.path)
                ]
                assert sent, f"get_ticket {ref} did not call the vendor's get endpoint"
                request = sent[-1]
                headers = {k: v for k, v in request.headers.items() if k not in {"host", "content-length"}}
                answer = await http.request(
                    request.method, request.path, params=request.query, headers=headers, content=request.body
                )
                answer.raise_for_status()
                shape = shown.structured_content
                assert isinstance(shape, dict)
                text = shown.content[0].text  # type: ignore[union-attr]
                result.ours.append(count(text))
                result.raw.append(count(answer.text))
                result.raw_compact.append(count(compact(answer.json())))
                result.links += sum(count(b.model_dump_json(exclude_none=True)) for b in shown.content[1:])
                result.bodies += sum(count(m.get("body", "")) for m in shape.get("messages", []))
                result.thread_only.append(count(compact([_bare(m) for m in shape.get("messages", [])])))

                facts = read_facts(answer.json())
                whole: dict[str, str] = {}
                for m in shape.get("messages", []):
                    if shortened(m.get("body", ""), m["id"]) or len(m.get("body", "")) > 600:
                        read = await client.call_tool("get_ticket", {"ticket": ref, "messages": m["id"]})
                        whole[m["id"]] = read.structured_content["messages"][0]["body"]  # type: ignore[index]
                result.lost += [f"{ref} {what}" for what in facts_kept(shape, facts, whole)]
                result.tickets += 1
    result.seconds = time.perf_counter() - started
    return result


SETS = {"seeded": False, "long threads": True}
"""The fakes' own tickets, and the same fakes with long threads (bench/long_threads.py)."""


async def run(quick: bool = False) -> Section:
    count = encoder()
    section = Section("1. Tokens per ticket (o200k_base)")
    for name, long in SETS.items():
        results = [await measure_vendor(vendor, count, long=long) for vendor in available_vendors()]
        _report(section, name, results)
    section.details.append(
        '"ours" is the text content of get_ticket (the compact JSON a host hands the model); "raw" '
        'the vendor\'s get answer for the same ticket as served; "re-encoded" the same JSON compact '
        "UTF-8 without \\u escapes. Per ticket: ours / raw of each ticket, median, 90th percentile and "
        'worst. "bodies alone" is what the message bodies cost as the thread shows them; "thread, bare" '
        "the same messages with only id, kind, time and body: the floor of any JSON view that still "
        "says who wrote what when, below which only cutting bodies further goes (total / median per "
        "ticket). The resource link after the JSON (`helpdesk://` URI of the ticket) is counted apart, "
        f"as the tokens of its JSON block. The long-thread set is {LONG_THREADS} tickets per vendor "
        "given 20 to 30 messages each by bench/long_threads.py: HTML mail with HTML signatures, each "
        "reply quoting the message it answers, an auto-reply and agents' templates that repeat."
    )
    return section


def _report(section: Section, name: str, results: list[VendorTokens]) -> None:
    ours_all = sum(sum(r.ours) for r in results)
    raw_all = sum(sum(r.raw) for r in results)
    lost_all = sum(len(r.lost) for r in results)
    tickets_all = sum(r.tickets for r in results)
    rows = []
    for r in results:
        per_ticket = [o / w for o, w in zip(r.ours, r.raw, strict=True)]
        bare = [t / w for t, w in zip(r.thread_only, r.raw, strict=True)]
        median = quantile(per_ticket, 0.5)
        met = r.ratio() <= TARGET and median <= TARGET and not r.lost
        section.rows.append(
            Row(
                f"tokens per ticket, {r.vendor}, {name} ({r.tickets} tickets; total, median)",
                f"{sum(r.ours):,}",
                f"{sum(r.raw):,} raw JSON",
                r.ratio(),
                f"≤ 0.33 total and median (median {median:.2f}), no fact lost",
                met,
            )
        )
        rows.append(
            [
                r.vendor,
                r.tickets,
                f"{sum(r.ours) / r.tickets:,.0f}",
                f"{sum(r.raw) / r.tickets:,.0f}",
                f"**{r.ratio():.2f}**",
                f"{sum(r.ours) / sum(r.raw_compact):.2f}",
                f"{median:.2f} / {quantile(per_ticket, 0.9):.2f} / {max(per_ticket):.2f}",
                f"{r.bodies / sum(r.raw):.2f}",
                f"{sum(r.thread_only) / sum(r.raw):.2f} / {quantile(bare, 0.5):.2f}",
                f"{r.links / r.tickets:.0f}",
                "none" if not r.lost else f"{len(r.lost)}: {', '.join(r.lost[:3])}",
                f"{r.seconds:.1f} s",
            ]
        )
    section.rows.append(
        Row(
            f"tokens per ticket, all vendors, {name} ({tickets_all} tickets)",
            f"{ours_all:,}",
            f"{raw_all:,} raw JSON",
            ours_all / raw_all,
            "≤ 0.33, no fact lost",
            ours_all / raw_all <= TARGET and not lost_all,
        )
    )
    section.details.append(f"**{name.capitalize()}**")
    section.details.append(
        table(
            [
                "vendor",
                "tickets",
                "ours / ticket",
                "raw / ticket",
                "ours / raw",
                "ours / raw re-encoded",
                "per ticket: median / p90 / max",
                "bodies alone / raw",
                "thread, bare / raw: total / median",
                "+ resource link",
                "facts lost",
                "time",
            ],
            rows,
        )
    )
