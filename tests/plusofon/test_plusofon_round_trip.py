"""A Plusofon ticket and the account's answer read back as they were sent, through a real MCP client
(issue 15, item 13)."""

from __future__ import annotations

import pytest

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect, unthrottled
from tests.fakes.plusofon import PlusofonFake, env_for, make_fake
from tests.round_trip import ok

pytestmark = pytest.mark.anyio

SUBJECT = 'Двойное списание — «Возврат» & <tag> "cudzysłów" 📦'
BODY = (
    "Добрый день,\n\nсчёт №1042 оплачен дважды. Dwie  spacje & <tag> \"cudzysłów\" 'apostrof'.\n"
    "Ёлка, żółw, Łódź: 5 < 6 && 7 > 6; &lt;b&gt; остаётся текстом.\n\n    отступ"
)
REPLY = 'Здравствуйте! Zwrot: 1 500 ₽ < 2 000 zł & "szybko".\nПроверьте <b>сегодня</b>.'


def words(text: str | None) -> list[str]:
    return (text or "").split()


async def test_subject_and_bodies_read_back_as_sent(mode: str) -> None:
    with make_fake(tickets=20).running() as fake:
        assert isinstance(fake, PlusofonFake)
        settings = unthrottled(load_settings(env_for(fake), known_tools=TOOL_NAMES))
        async with connect(settings, mode) as client:
            created = await ok(client, "create_ticket", {"subject": SUBJECT, "body": BODY})
            assert "not_stored" not in created
            ref = created["ticket"]
            reply = await ok(client, "reply_ticket", {"ticket": ref, "body": REPLY})
            ticket = await ok(client, "get_ticket", {"ticket": ref})

    assert ticket["subject"] == SUBJECT
    first, answer = ticket["messages"]
    assert (first["kind"], answer["kind"], answer["id"]) == ("customer", "customer", reply["message_id"])
    assert words(first["body"]) == words(BODY)
    assert words(answer["body"]) == words(REPLY) and "\n" in answer["body"]


async def test_a_file_plusofon_neither_refused_nor_shows_says_to_read_the_ticket_first() -> None:
    with make_fake(tickets=20, keep_attachments=False).running() as fake:
        assert isinstance(fake, PlusofonFake)
        settings = unthrottled(load_settings(env_for(fake), known_tools=TOOL_NAMES))
        async with connect(settings, "auto") as client:
            ref = (await ok(client, "create_ticket", {"subject": "Акт", "body": "Акт сверки."}))["ticket"]
            result = await client.call_tool(
                "attach_file", {"ticket": ref, "filename": "акт.pdf", "content_base64": "JVBERi0xLjQ="}
            )
    assert result.is_error
    said = result.content[0].text  # type: ignore[union-attr]
    assert "may have been attached" in said and "read the ticket before attaching it again" in said
    assert len(fake.received("POST", r"^/api/v1/ticket/attachment$")) == 1
