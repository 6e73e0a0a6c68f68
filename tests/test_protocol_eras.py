"""Every tool, resource and prompt the server lists works in both protocol generations.

The samples below are keyed by what the server lists, so a tool, resource template or prompt added
without a sample here fails this test instead of going untested in one of the eras.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import MakeSettings, connect

pytestmark = pytest.mark.anyio
FILE = base64.b64encode(b"log line\n").decode()


def tool_samples(ref: str) -> dict[str, dict[str, Any]]:
    return {
        "search_tickets": {"query": "era", "status": ["new", "open"], "limit": 5},
        "get_ticket": {"ticket": ref},
        "create_ticket": {"subject": "Another", "body": "era", "priority": "high", "tags": ["era"]},
        "reply_ticket": {"ticket": ref, "body": "On it.", "status": "open"},
        "attach_file": {"ticket": ref, "filename": "era.log", "content_base64": FILE, "internal": True},
    }


async def test_every_tool_resource_and_prompt_answers_in_this_era(
    make_settings: MakeSettings, mode: str
) -> None:
    async with connect(make_settings(), mode) as client:
        created = await client.call_tool(
            "create_ticket",
            {"subject": "Era", "body": "era", "attachments": [{"filename": "a.log", "content_base64": FILE}]},
        )
        ref = created.structured_content["ticket"]  # type: ignore[index]
        ticket_link, file_link = created.content[1:]

        samples = tool_samples(ref)
        assert {t.name for t in (await client.list_tools()).tools} == set(samples)
        for name, arguments in samples.items():
            result = await client.call_tool(name, arguments)
            assert not result.is_error, (name, result.content)
            assert json.loads(result.content[0].text) == result.structured_content, name  # type: ignore[union-attr]

        ticket_uri = ticket_link.uri  # type: ignore[union-attr]
        template_samples = {
            "helpdesk://{backend}/tickets/{ticket_id}": ticket_uri,
            "helpdesk://{backend}/tickets/{ticket_id}/attachments/{attachment_id}": file_link.uri,  # type: ignore[union-attr]
        }
        listed = await client.list_resource_templates()
        assert {t.uri_template for t in listed.resource_templates} == set(template_samples)
        resources = [r.uri for r in (await client.list_resources()).resources]
        assert resources == ["helpdesk://backends"]
        for uri in [*resources, *template_samples.values()]:
            assert (await client.read_resource(uri)).contents, uri

        prompt_samples = {
            "triage_ticket": {"ticket": ref},
            "draft_reply": {"ticket": ref, "goal": "confirm the fix", "status": "solved"},
        }
        assert {p.name for p in (await client.list_prompts()).prompts} == set(prompt_samples)
        for name, arguments in prompt_samples.items():
            messages = (await client.get_prompt(name, arguments)).messages
            assert messages[0].content.resource.uri == ticket_uri, name  # type: ignore[union-attr]


async def test_the_connection_speaks_the_era_asked_for(make_settings: MakeSettings, mode: str) -> None:
    async with connect(make_settings(), mode) as client:
        assert client.protocol_version == {"legacy": "2025-11-25", "auto": "2026-07-28"}[mode]
