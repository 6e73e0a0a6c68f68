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


# -- proposed changes to server/views.py, simulated on the structured result ----------------------------

_NOTE = re.compile(r"\n\[… (?P<what>.*?); get_ticket messages=(?P<id>'[^']*') reads it whole\]\Z", re.S)


def cut_at(limit: int) -> Callable[[Shape], Shape]:
    """Thread bodies cut at `limit` characters instead of 2,000, with the same continuation."""

    def cut(shape: Shape) -> Shape:
        messages = []
        for m in shape.get("messages", []):
            body = m.get("body", "")
            found = _NOTE.search(body)
            text, more, what = body, 0, []
            if found:
                text = body[: found.start()]
                earlier = re.match(r"([\d,]+) more characters(?: and (.*))?\Z", found["what"], re.S)
                if earlier:
                    more = int(earlier[1].replace(",", ""))
                    what = [earlier[2]] if earlier[2] else []
                else:
                    what = [found["what"]]
            if len(text) > limit:
                more += len(text) - limit
                text = text[:limit]
            if more:
                what.insert(0, f"{more:,} more characters")
            if what:
                text += f"\n[… {' and '.join(what)}; get_ticket messages={m['id']!r} reads it whole]"
            messages.append({**m, "body": text} if "body" in m else m)
        return {**shape, "messages": messages}

    return cut


PROPOSALS: dict[str, Callable[[Shape], Shape]] = {
    "thread bodies cut at 1,000 characters": cut_at(1000),
    "thread bodies cut at 600 characters": cut_at(600),
}


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


@dataclass
class VendorTokens:
    vendor: str
    tickets: int = 0
    ours: list[int] = field(default_factory=list)
    raw: list[int] = field(default_factory=list)
    raw_compact: list[int] = field(default_factory=list)
    links: int = 0
    bodies: int = 0
    lost: list[str] = field(default_factory=list)
    proposals: dict[str, int] = field(default_factory=dict)
    proposals_lost: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def ratio(self, tokens: list[int] | int | None = None) -> float:
        ours = sum(self.ours) if tokens is None else tokens if isinstance(tokens, int) else sum(tokens)
        return ours / sum(self.raw)


async def measure_vendor(vendor: str, count: Callable[[str], int]) -> VendorTokens:
    result = VendorTokens(vendor)
    started = time.perf_counter()
    _, read_facts = ORACLES[vendor]
    with running_fake(vendor) as (fake, module):
        settings = settings_for(module.env_for(fake), **UNLIMITED)
        backend = settings.backends[0].name
        method, pattern = module.ROUTES["get"]
        async with (
            Client(build_server(settings), mode="legacy") as client,  # type: ignore[arg-type]
            httpx.AsyncClient(base_url=fake.url) as http,
        ):
            for ticket_id in seeded_ids(fake):
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

                facts = read_facts(answer.json())
                whole: dict[str, str] = {}
                for m in shape.get("messages", []):
                    if shortened(m.get("body", ""), m["id"]) or len(m.get("body", "")) > 600:
                        read = await client.call_tool("get_ticket", {"ticket": ref, "messages": m["id"]})
                        whole[m["id"]] = read.structured_content["messages"][0]["body"]  # type: ignore[index]
                result.lost += [f"{ref} {what}" for what in facts_kept(shape, facts, whole)]
                for name, change in PROPOSALS.items():
                    changed = change(shape)
                    result.proposals[name] = result.proposals.get(name, 0) + count(compact(changed))
                    if facts_kept(changed, facts, whole):
                        result.proposals_lost[name] = result.proposals_lost.get(name, 0) + 1
                result.tickets += 1
    result.seconds = time.perf_counter() - started
    return result


async def run(quick: bool = False) -> Section:
    count = encoder()
    section = Section("1. Tokens per ticket (o200k_base)")
    results = [await measure_vendor(vendor, count) for vendor in available_vendors()]
    ours_all = sum(sum(r.ours) for r in results)
    raw_all = sum(sum(r.raw) for r in results)
    lost_all = sum(len(r.lost) for r in results)
    tickets_all = sum(r.tickets for r in results)
    for r in results:
        section.rows.append(
            Row(
                f"tokens per ticket, {r.vendor} ({r.tickets} tickets, total)",
                f"{sum(r.ours):,}",
                f"{sum(r.raw):,} raw JSON",
                r.ratio(),
                "≤ 0.33, no fact lost",
                r.ratio() <= TARGET and not r.lost,
            )
        )
    section.rows.append(
        Row(
            f"tokens per ticket, all vendors ({tickets_all} tickets)",
            f"{ours_all:,}",
            f"{raw_all:,} raw JSON",
            ours_all / raw_all,
            "≤ 0.33, no fact lost",
            ours_all / raw_all <= TARGET and not lost_all,
        )
    )
    rows = []
    for r in results:
        per_ticket = [o / w for o, w in zip(r.ours, r.raw, strict=True)]
        rows.append(
            [
                r.vendor,
                r.tickets,
                f"{sum(r.ours) / r.tickets:,.0f}",
                f"{sum(r.raw) / r.tickets:,.0f}",
                f"**{r.ratio():.2f}**",
                f"{sum(r.ours) / sum(r.raw_compact):.2f}",
                f"{quantile(per_ticket, 0.5):.2f} / {quantile(per_ticket, 0.9):.2f} / {max(per_ticket):.2f}",
                f"{r.bodies / sum(r.raw):.2f}",
                f"{r.links / r.tickets:.0f}",
                "none" if not r.lost else f"{len(r.lost)}: {', '.join(r.lost[:3])}",
            ]
        )
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
                "message bodies alone / raw",
                "+ resource link",
                "facts lost",
            ],
            rows,
        )
    )
    section.details.append(
        '"ours" is the text content of get_ticket (the compact JSON a host hands the model); "raw" '
        'the vendor\'s get answer for the same ticket as served; "re-encoded" the same JSON compact '
        'UTF-8 without \\u escapes. "message bodies alone" is the floor of any view that shows every '
        "message body as it is now trimmed and cut: the ratio cannot drop below it without cutting "
        "bodies further. The resource link after the JSON (`helpdesk://` URI of the ticket) is counted "
        "apart, as the tokens of its JSON block."
    )
    header = ["proposed view change (server/views.py)", *[r.vendor for r in results], "all", "facts lost"]
    proposal_rows = [
        [
            "today",
            *[f"{r.ratio(sum(r.ours)):.2f}" for r in results],
            f"{ours_all / raw_all:.2f}",
            lost_all,
        ]
    ]
    for name in PROPOSALS:
        tokens = [r.proposals[name] for r in results]
        proposal_rows.append(
            [
                name,
                *[f"{r.ratio(t):.2f}" for r, t in zip(results, tokens, strict=True)],
                f"{sum(tokens) / raw_all:.2f}",
                sum(r.proposals_lost.get(name, 0) for r in results),
            ]
        )
    section.details.append(table(header, proposal_rows))
    section.details.append(
        "Ratios are ours / raw as served, summed over all tickets. The proposals are applied to the "
        "structured result in bench/tokens.py exactly as the diff in the report would apply them in "
        "server/views.py, and held to the same facts check (a shortened body counts when the "
        "message read whole through get_ticket has the text)."
    )
    section.details.append("Time: " + ", ".join(f"{r.vendor} {r.seconds:.1f} s" for r in results) + ".")
    return section
