"""Compact tickets keep every fact: what get_ticket shows against what the vendor's own API returns.

The compact view leaves out empty fields, flattens HTML, trims quoted history and signatures and cuts
long bodies with directions to read a message whole. None of that may lose a fact. For a sample of
the seeded tickets of every vendor fake, the vendor's raw JSON for the ticket (the answer of its get
endpoint, fetched here with httpx) is the oracle: its subject, its requester, its status and the
text of every message must be found in what get_ticket returns through a real MCP client; a message
whose thread body says it was shortened must be found whole through the continuation it names.

Facts, not sizes: the token counts live in bench/ (tokens.py), never in a test.
"""

from __future__ import annotations

import html
import importlib
import re
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mcp import Client

from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import unthrottled

pytestmark = pytest.mark.anyio

SAMPLE = 12
"""Tickets checked per vendor: evenly spread over the seeded ones, the last (often a showcase) included."""


@dataclass(frozen=True)
class Facts:
    """What a reader must be able to learn from our view of one ticket."""

    subject: str
    requester: tuple[str, ...]
    """Any of these (an address or a name) identifies the requester."""
    statuses: frozenset[str]
    """The normalized status the vendor's status maps to (by the product contract's table)."""
    messages: tuple[tuple[str, str], ...]
    """(message id, the message's text as the vendor sent it: plain text or HTML)."""


# -- the oracle: each vendor's raw JSON, read by the vendor's documented field names -------------------

THULIUM_STATUSES = {
    "Nowe": "new",
    "W realizacji": "open",
    "Oczekuje na klienta": "pending",
    "Odłożone": "on_hold",
    "Zamknięte": "closed",
    "Połączone": "closed",
    "Rozwiązane": "solved",  # mapped in the fake's TOML configuration, as its admin added it
}
USEDESK_STATUSES = {
    "8": "new",
    "1": "open",
    "6": "pending",
    "5": "on_hold",
    "2": "solved",
    **dict.fromkeys(("3", "4", "7", "9", "10"), "closed"),
}
OSTICKET_STATUSES = {
    "Open": "open",
    "Resolved": "solved",
    "Closed": "closed",
    "Archived": "closed",
    "Deleted": "closed",
    "Awaiting customer": "pending",  # mapped in the fake's TOML configuration
}


def thulium_facts(raw: dict[str, Any]) -> Facts:
    status = str(raw["full_status_name"]).split(" - ")[0]  # "W realizacji - Eskalacja": a sub-status
    return Facts(
        subject=raw["subject"],
        requester=(raw["from"],),
        statuses=frozenset({THULIUM_STATUSES[status]}),
        messages=tuple(
            (str(m["message_id"]), m["body"] or m["comment"] or m["system_comment"]) for m in raw["messages"]
        ),
    )


def plusofon_facts(raw: dict[str, Any]) -> Facts:
    posts = raw.get("posts") or []
    return Facts(
        subject=raw["subject"],
        requester=(posts[0]["author"]["name"],) if posts else (),
        statuses=frozenset({"open" if raw["status"] in (True, "true", "1") else "closed"}),
        messages=tuple((str(p["id"]), p["text"]) for p in posts),
    )


def usedesk_facts(raw: dict[str, Any]) -> Facts:
    ticket = raw["ticket"]
    return Facts(
        subject=ticket["subject"],
        requester=tuple(v for v in (ticket.get("email"), ticket.get("client_name")) if v),
        statuses=frozenset({USEDESK_STATUSES[str(ticket["status_id"])]}),
        messages=tuple((str(c["id"]), c["message"] or "") for c in raw["comments"]),
    )


def osticket_facts(raw: dict[str, Any]) -> Facts:
    ticket = raw["ticket"]
    email = (ticket.get("user_email") or {}).get("email")
    return Facts(
        subject=ticket["subject"],
        requester=tuple(v for v in (email, ticket.get("user_name")) if v),
        statuses=frozenset({OSTICKET_STATUSES[ticket["ticket_status"]]}),
        messages=tuple(
            # A text body is stored HTML-escaped; what it says is the unescaped text.
            (
                str(e["model"]["id"]),
                (html.unescape if e["model"]["format"] == "text" else str)(e["model"]["body"] or ""),
            )
            for e in ticket.get("thread_entries") or []
        ),
    )


ORACLES: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], Facts]]] = {
    "thulium": ({}, thulium_facts),
    "plusofon": ({}, plusofon_facts),
    "usedesk": ({"rate_limit": 10**9, "query_limit": 10**9}, usedesk_facts),
    "osticket": ({"extension": True}, osticket_facts),
}


# -- comparing texts ------------------------------------------------------------------------------------

_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_NOT_SHOWN = re.compile(
    r"<!--.*?-->|<(script|style|head|title|template|noscript)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE
)
_WORD = re.compile(r"\w+")


def words(text: str, *, markup: bool = True) -> list[str]:
    """The words a reader sees in a text (with `markup`, a vendor's text that may be HTML: tags and
    style sheets aside), invisible characters aside, compared without case."""
    if markup and _TAG.search(text):
        text = html.unescape(_TAG.sub(" ", _NOT_SHOWN.sub(" ", text)))
    visible = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return [w.casefold() for w in _WORD.findall(visible)]


def contains_in_order(found: list[str], wanted: list[str]) -> bool:
    """Whether `wanted` occurs in `found` in the same order (other words may come between)."""
    remaining = iter(found)
    return all(word in remaining for word in wanted)


def shortened(body: str, message_id: str) -> bool:
    """Whether a thread body ends with a note that directs the reader to this message whole."""
    last = body.rstrip().rsplit("\n", 1)[-1]
    return "get_ticket" in last and message_id in last


# -- the check ------------------------------------------------------------------------------------------


def seeded_ids(fake: Any) -> list[str]:
    tickets = fake.tickets
    if isinstance(tickets, dict):
        return [str(key) for key in tickets]
    return [str(ticket.number) for ticket in tickets]


def sample(ids: list[str]) -> list[str]:
    step = max(1, len(ids) // SAMPLE)
    return list(dict.fromkeys([*ids[::step][: SAMPLE - 1], ids[-1]]))


@dataclass
class Vendor:
    name: str
    fake: Any
    module: Any
    backend: str
    client: Client
    http: httpx.AsyncClient
    read_facts: Callable[[dict[str, Any]], Facts]

    async def raw(self, ticket_id: str) -> dict[str, Any]:
        """The vendor's own answer for the ticket: the get request the adapter sent, sent again."""
        method, pattern = self.module.ROUTES["get"]
        sent = [r for r in self.fake.received(method, pattern) if ticket_id in _mentioned(r)]
        assert sent, f"the adapter read {self.name} ticket {ticket_id} without the vendor's get endpoint"
        request = sent[-1]
        headers = {k: v for k, v in request.headers.items() if k not in {"host", "content-length"}}
        response = await self.http.request(
            request.method, request.path, params=request.query, headers=headers, content=request.body
        )
        response.raise_for_status()
        payload: dict[str, Any] = response.json()
        return payload

    async def view(self, ticket_id: str, message: str | None = None) -> dict[str, Any]:
        arguments = {"ticket": f"{self.backend}:{ticket_id}"}
        if message is not None:
            arguments["messages"] = message
        result = await self.client.call_tool("get_ticket", arguments)
        assert not result.is_error, result.content
        assert isinstance(result.structured_content, dict)
        return result.structured_content


def _mentioned(request: Any) -> set[str]:
    """Every word of a request's path, query and body: a ticket id travels in one of them."""
    query = " ".join(value for values in request.query.values() for value in values)
    return set(_WORD.findall(f"{request.path} {query} {request.body.decode(errors='replace')}"))


@asynccontextmanager
async def vendor(name: str) -> AsyncIterator[Vendor]:
    options, read_facts = ORACLES[name]
    module = importlib.import_module(f"tests.fakes.{name}")
    with module.make_fake(**options).running() as fake:
        settings = unthrottled(load_settings(module.env_for(fake), known_tools=TOOL_NAMES))
        async with (
            Client(build_server(settings), mode="legacy") as client,  # type: ignore[arg-type]
            httpx.AsyncClient(base_url=fake.url) as http,
        ):
            yield Vendor(name, fake, module, settings.backends[0].name, client, http, read_facts)


@pytest.fixture(params=list(ORACLES))
def vendor_name(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    try:
        importlib.import_module(f"tests.fakes.{name}")
    except ImportError:
        pytest.skip(f"the {name} fake has not landed")
    return name


async def test_get_ticket_keeps_every_fact(vendor_name: str) -> None:
    async with vendor(vendor_name) as v:
        checked = 0
        for ticket_id in sample(seeded_ids(v.fake)):
            shown = await v.view(ticket_id)
            facts = v.read_facts(await v.raw(ticket_id))
            where = f"{v.backend}:{ticket_id}"

            assert words(shown["subject"], markup=False) == words(facts.subject, markup=False), where
            requester = shown.get("requester") or {}
            said = " ".join(str(requester.get(key) or "") for key in ("name", "email", "id")).casefold()
            assert any(who.strip().casefold() in said for who in facts.requester), (where, requester)
            assert shown["status"] in facts.statuses, (where, shown["status"], facts.statuses)

            bodies = {m["id"]: m.get("body", "") for m in shown.get("messages", [])}
            for message_id, text in facts.messages:
                wanted = words(text)
                assert message_id in bodies, f"{where}: message {message_id} is missing"
                body = bodies[message_id]
                if contains_in_order(words(body, markup=False), wanted):
                    continue
                assert shortened(body, message_id), f"{where}: message {message_id} lost text unannounced"
                whole = (await v.view(ticket_id, message=message_id))["messages"]
                assert [m["id"] for m in whole] == [message_id], where
                assert contains_in_order(words(whole[0]["body"], markup=False), wanted), (
                    f"{where}: message {message_id} read whole still lacks text"
                )
            checked += 1
        assert checked >= min(SAMPLE, len(seeded_ids(v.fake))) - 1


def test_words_compare_text_not_markup() -> None:
    assert words("<p>Yes &amp; it <b>still</b> fails</p>") == ["yes", "it", "still", "fails"]
    assert words("<style>td {padding: 2px}</style><td>Sum</td>") == ["sum"]
    assert words("pass\u200bword") == ["password"]
    assert words("fails <sigh>", markup=False) == ["fails", "sigh"]
    assert contains_in_order(["a", "x", "b", "c"], ["a", "b", "c"])
    assert not contains_in_order(["b", "a"], ["a", "b"])
