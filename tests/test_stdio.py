"""The installed console script over stdio, as Claude Desktop launches it."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.conftest import MODES, Human, child_env, console_script

pytestmark = pytest.mark.anyio


def params(tmp_path: Path) -> StdioServerParameters:
    # At DEBUG, where the most is logged, and with the bare PATH a desktop host may give.
    env = {**child_env(tmp_path), "PATH": "/usr/bin:/bin"}
    return StdioServerParameters(command=console_script(), args=["--log-level", "DEBUG"], env=env)


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    structured: dict[str, Any] = result.structured_content
    return structured


@pytest.mark.parametrize("mode", MODES)
async def test_agent_session_over_stdio(tmp_path: Path, mode: str) -> None:
    human = Human()  # the host shows each customer-visible message to the user, who says yes
    # Every line the server writes to stdout must parse as protocol; the client hands any other
    # line to the message handler as an exception.
    not_protocol: list[Exception] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):
            not_protocol.append(message)

    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as errlog:
        transport = stdio_client(params(tmp_path), errlog=errlog)
        async with Client(
            transport, mode=mode, elicitation_callback=human, message_handler=on_message
        ) as client:  # type: ignore[arg-type]
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert tools == {"search_tickets", "get_ticket", "create_ticket", "reply_ticket", "attach_file"}

            created = ok(
                await client.call_tool(
                    "create_ticket",
                    {
                        "subject": "Refund for order 1042",
                        "body": "I was charged twice.",
                        "requester_email": "kim@example.com",
                        "attachments": [
                            {
                                "filename": "receipt.txt",
                                "content_base64": base64.b64encode(b"EUR 49").decode(),
                            }
                        ],
                    },
                )
            )
            ref = created["ticket"]
            assert ref in [
                t["ref"] for t in ok(await client.call_tool("search_tickets", {"query": "refund"}))["tickets"]
            ]
            ok(await client.call_tool("reply_ticket", {"ticket": ref, "body": "Refund issued."}))
            ok(
                await client.call_tool(
                    "reply_ticket", {"ticket": ref, "body": "Checked with bank.", "internal": True}
                )
            )
            ok(
                await client.call_tool(
                    "reply_ticket", {"ticket": ref, "body": "Closing.", "status": "solved"}
                )
            )
            ok(
                await client.call_tool(
                    "attach_file",
                    {
                        "ticket": ref,
                        "filename": "refund.txt",
                        "content_base64": base64.b64encode(b"done").decode(),
                    },
                )
            )

            for bad in (
                {"ticket": "zendesk:1"},
                {"ticket": "oops"},
            ):
                failed = await client.call_tool("get_ticket", bad)
                assert failed.is_error and "\n" not in failed.content[0].text  # type: ignore[union-attr]
            assert (await client.call_tool("create_ticket", {"subject": "", "body": "x"})).is_error
            assert (await client.call_tool("search_tickets", {"limit": 10000})).is_error

            ticket = ok(await client.call_tool("get_ticket", {"ticket": ref}))
            assert ticket["status"] == "solved"
            assert len(human.questions) == 3, "two replies and a file for the customer; the note unasked"
            kinds = [m["kind"] for m in ticket["messages"]]
            assert kinds[:4] == ["customer", "agent", "internal_note", "agent"]
            assert "system" in kinds
            files = [a["filename"] for m in ticket["messages"] for a in m.get("attachments", [])]
            assert files == ["receipt.txt", "refund.txt"]
            receipt = ticket["messages"][0]["attachments"][0]["uri"]
            blob = (await client.read_resource(receipt)).contents[0]
            assert base64.b64decode(blob.blob) == b"EUR 49"  # type: ignore[union-attr]
    assert not_protocol == [], "nothing but protocol on stdout"
    assert "DEBUG" in stderr.read_text(), "logs belong on stderr"
