"""A UseDesk ticket and its replies read back as they were sent, through a real MCP client."""

from __future__ import annotations

import pytest

from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import connect
from tests.fakes.usedesk import UsedeskFake
from tests.round_trip import BODY, REPLY, assert_round_trip

pytestmark = pytest.mark.anyio


async def test_subject_and_bodies_read_back_as_sent(mode: str) -> None:
    with UsedeskFake(tickets=24).running() as running:
        assert isinstance(running, UsedeskFake)
        fake = running
        config = fake.config_file(
            "[backends.usedesk]\n"
            'type = "usedesk"\n'
            f'api_token = "{fake.token}"\n'
            f'url = "{fake.url}"\n'
            f'user_id = "{fake.agent_id}"\n'
            "requests_per_second = 50.0\n"
        )
        settings = load_settings({"HELPDESK_CONFIG": str(config)}, known_tools=TOOL_NAMES)
        async with connect(settings, mode) as client:
            ticket = await assert_round_trip(
                client, "usedesk", requester_email="ola@example.pl", requester_name="Ola Nowak"
            )
    # Exactly, not only modulo whitespace: UseDesk keeps the HTML we send, spaces and breaks included.
    bodies = [m["body"] for m in ticket["messages"] if m["kind"] != "system"]
    assert bodies[:2] == [BODY, REPLY]
