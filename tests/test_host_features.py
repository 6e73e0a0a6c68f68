"""What a host gets beyond plain tool calls, through mcp.Client in both protocol eras: a human's
confirmation before a customer sees a message, progress, resource links, and completions."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp_types import ElicitResult, InputRequiredResult, PromptReference, ResourceTemplateReference

from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import Settings
from tests.conftest import Human, MakeSettings, connect

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def host(settings: Settings, mode: str, human: Human) -> AsyncIterator[Client]:
    """A client that declares elicitation, as Claude Desktop and VS Code do."""
    async with Client(build_server(settings), mode=mode, elicitation_callback=human) as client:  # type: ignore[arg-type]
        yield client


async def ok(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    structured: dict[str, Any] = result.structured_content  # type: ignore[assignment]
    return structured


async def thread(client: Client, ref: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (await ok(client, "get_ticket", {"ticket": ref}))["messages"]
    return messages


async def test_a_reply_to_the_customer_is_sent_after_the_user_confirms_it(
    make_settings: MakeSettings, mode: str
) -> None:
    human = Human()
    async with host(make_settings(), mode, human) as client:
        ref = (await ok(client, "create_ticket", {"subject": "Refund", "body": "Charged twice."}))["ticket"]
        posted = await ok(
            client, "reply_ticket", {"ticket": ref, "body": "Refund issued.\nSorry!", "status": "solved"}
        )
        assert posted["kind"] == "agent" and posted["status"] == "solved"
        [question] = human.questions
        assert ref in question and "> Refund issued.\n> Sorry!" in question and "solved" in question
        assert [m["body"] for m in await thread(client, ref) if m["kind"] == "agent"] == [
            "Refund issued.\nSorry!"
        ]


@pytest.mark.parametrize(
    ("action", "send", "said"),
    [("decline", True, "declined"), ("cancel", True, "dismissed"), ("accept", False, "declined")],
)
async def test_a_reply_the_user_does_not_confirm_is_not_sent(
    make_settings: MakeSettings, mode: str, action: str, send: bool, said: str
) -> None:
    async with host(make_settings(), mode, Human(action, send)) as client:
        ref = (await ok(client, "create_ticket", {"subject": "Refund", "body": "Charged twice."}))["ticket"]
        before = await thread(client, ref)
        refused = await client.call_tool("reply_ticket", {"ticket": ref, "body": "Refund issued."})
        text = refused.content[0].text  # type: ignore[union-attr]
        assert refused.is_error and text.startswith("Not sent:") and said in text and ref in text
        assert await thread(client, ref) == before


async def test_a_file_for_the_customer_is_confirmed_with_its_name_and_size(
    make_settings: MakeSettings, mode: str
) -> None:
    human = Human(action="decline")
    content = base64.b64encode(b"x" * 1234).decode()
    async with host(make_settings(), mode, human) as client:
        ref = (await ok(client, "create_ticket", {"subject": "Invoice", "body": "Please send it."}))["ticket"]
        arguments = {"ticket": ref, "filename": "invoice.pdf", "content_base64": content, "message": "Here."}
        refused = await client.call_tool("attach_file", arguments)
        assert refused.is_error and "nothing was sent" in refused.content[0].text  # type: ignore[union-attr]
        [question] = human.questions
        assert "invoice.pdf (1,234 bytes)" in question and ref in question and "> Here." in question
        assert all(not m.get("attachments") for m in await thread(client, ref))


async def test_internal_notes_and_new_tickets_are_not_asked_about(
    make_settings: MakeSettings, mode: str
) -> None:
    human = Human(action="decline")
    async with host(make_settings(), mode, human) as client:
        ref = (await ok(client, "create_ticket", {"subject": "VPN", "body": "Down again."}))["ticket"]
        await ok(client, "reply_ticket", {"ticket": ref, "body": "Checked the logs.", "internal": True})
        note = {"ticket": ref, "filename": "vpn.log", "content_base64": "bG9n", "internal": True}
        await ok(client, "attach_file", note)
        assert human.questions == []


async def test_a_reply_that_cannot_be_sent_is_refused_before_anyone_is_asked(
    make_settings: MakeSettings, mode: str
) -> None:
    human = Human()
    async with host(make_settings(), mode, human) as client:
        refused = await client.call_tool("reply_ticket", {"ticket": "zendesk:1", "body": "Hello"})
        assert refused.is_error and "zendesk" in refused.content[0].text  # type: ignore[union-attr]
        assert human.questions == []


async def test_unattended_bots_turn_confirmation_off(make_settings: MakeSettings, mode: str) -> None:
    human = Human(action="decline")
    async with host(make_settings(HELPDESK_CONFIRM_REPLIES="0"), mode, human) as client:
        ref = (await ok(client, "create_ticket", {"subject": "Bot", "body": "Auto."}))["ticket"]
        assert (await ok(client, "reply_ticket", {"ticket": ref, "body": "Auto-reply."}))["kind"] == "agent"
        assert human.questions == []


async def test_required_confirmation_refuses_hosts_that_cannot_ask(
    make_settings: MakeSettings, mode: str
) -> None:
    async with connect(make_settings(HELPDESK_CONFIRM_REPLIES="1"), mode) as client:
        ref = (await ok(client, "create_ticket", {"subject": "Strict", "body": "Ask first."}))["ticket"]
        refused = await client.call_tool("reply_ticket", {"ticket": ref, "body": "Hello"})
        text = refused.content[0].text  # type: ignore[union-attr]
        assert refused.is_error and "HELPDESK_CONFIRM_REPLIES=1" in text and "nothing was sent" in text
        assert [m["kind"] for m in await thread(client, ref)] == ["customer"]
        # Internal notes do not reach the customer, so they need no confirmation.
        await ok(client, "reply_ticket", {"ticket": ref, "body": "Note.", "internal": True})


async def test_search_reports_progress_backend_by_backend(
    make_settings: MakeSettings, mode: str, tmp_path: Path
) -> None:
    config = tmp_path / "two.toml"
    config.write_text(
        f'[backends.alpha]\ntype = "local"\ndb = "{tmp_path / "a.db"}"\n'
        f'[backends.beta]\ntype = "local"\ndb = "{tmp_path / "b.db"}"\n'
    )
    steps: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        steps.append((done, total, message))

    async with connect(make_settings(HELPDESK_CONFIG=str(config)), mode) as client:
        await ok(client, "create_ticket", {"subject": "Printer", "body": "Jammed.", "backend": "beta"})
        result = await client.call_tool("search_tickets", {"query": "printer"}, progress_callback=progress)
        assert not result.is_error
    assert [(done, total) for done, total, _ in steps] == [(0, 2), (1, 2), (2, 2)]
    assert "alpha" in str(steps[0][2]) and "beta" in str(steps[0][2])
    assert {str(message) for _, _, message in steps[1:]} == {"alpha: 0 found", "beta: 1 found"}


async def test_results_link_the_ticket_and_its_files(make_settings: MakeSettings, mode: str) -> None:
    receipt = {"filename": "receipt.txt", "content_base64": base64.b64encode(b"EUR 49").decode()}
    async with connect(make_settings(), mode) as client:
        created = await client.call_tool(
            "create_ticket", {"subject": "Refund", "body": "Twice.", "attachments": [receipt]}
        )
        ref = created.structured_content["ticket"]  # type: ignore[index]
        read = await client.call_tool("get_ticket", {"ticket": ref})
        text, ticket_link, file_link = read.content
        assert json.loads(text.text) == read.structured_content  # type: ignore[union-attr]
        assert ticket_link.type == "resource_link" and ticket_link.name == ref
        shown = json.loads((await client.read_resource(ticket_link.uri)).contents[0].text)  # type: ignore[union-attr]
        assert shown == read.structured_content
        attachment = read.structured_content["messages"][0]["attachments"][0]  # type: ignore[index]
        assert (file_link.name, file_link.uri, file_link.size) == ("receipt.txt", attachment["uri"], 6)  # type: ignore[union-attr]
        assert [c.type for c in created.content] == ["text", "resource_link", "resource_link"]
        search = await client.call_tool("search_tickets", {})
        assert [c.type for c in search.content] == ["text"], "summaries carry no links"


async def test_ticket_completions_offer_what_the_tools_showed_recently(
    make_settings: MakeSettings, mode: str
) -> None:
    async with connect(make_settings(), mode) as client:
        for subject in ("first", "second", "third"):
            await ok(client, "create_ticket", {"subject": subject, "body": "x"})
        await ok(client, "get_ticket", {"ticket": "local:1"})
        prompt = PromptReference(type="ref/prompt", name="triage_ticket")
        offered = (await client.complete(prompt, {"name": "ticket", "value": ""})).completion.values
        assert offered[0] == "local:1", "the ticket just read comes first"
        assert offered[:4] == ["local:1", "local:3", "local:2", "local:"]
        template = ResourceTemplateReference(
            type="ref/resource", uri="helpdesk://{backend}/tickets/{ticket_id}"
        )
        ids = await client.complete(
            template, {"name": "ticket_id", "value": ""}, context_arguments={"backend": "local"}
        )
        assert ids.completion.values == ["1", "3", "2"]


@pytest.mark.parametrize("shared_key", [True, False], ids=["shared-key", "own-keys"])
async def test_a_replica_finishes_a_confirmation_another_one_asked_when_they_share_a_key(
    make_settings: MakeSettings, shared_key: bool
) -> None:
    """2026-07-28 hosts answer a confirmation by retrying the call, maybe on another replica."""
    settings = make_settings(**({"HELPDESK_STATE_KEY": "k" * 32} if shared_key else {}))
    asking, answering = (
        Client(build_server(settings), elicitation_callback=Human()),
        Client(build_server(settings), elicitation_callback=Human()),
    )
    async with asking as first, answering as second:
        ref = (await ok(first, "create_ticket", {"subject": "Fleet", "body": "Two replicas."}))["ticket"]
        arguments = {"ticket": ref, "body": "Sent by the other replica."}
        asked = await first.session.call_tool("reply_ticket", arguments, allow_input_required=True)
        assert isinstance(asked, InputRequiredResult)
        answers = {key: ElicitResult(action="accept", content={"send": True}) for key in asked.input_requests}

        async def retry_elsewhere() -> Any:
            return await second.session.call_tool(
                "reply_ticket", arguments, input_responses=answers, request_state=asked.request_state
            )

        if shared_key:
            assert not (await retry_elsewhere()).is_error
        else:
            with pytest.raises(MCPError, match="requestState"):
                await retry_elsewhere()
        sent = [m["body"] for m in await thread(first, ref) if m["kind"] == "agent"]
        assert sent == (["Sent by the other replica."] if shared_key else [])
