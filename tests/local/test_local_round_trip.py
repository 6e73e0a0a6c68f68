"""A local ticket and its replies read back exactly as they were sent, through a real MCP client."""

from __future__ import annotations

import pytest

from tests.conftest import MakeSettings, connect
from tests.round_trip import BODY, NOTE, REPLY, assert_round_trip

pytestmark = pytest.mark.anyio


async def test_subject_and_bodies_read_back_exactly(make_settings: MakeSettings, mode: str) -> None:
    async with connect(make_settings(), mode) as client:
        ticket = await assert_round_trip(client, "local", requester_email="ola@example.pl")
    assert [m["body"] for m in ticket["messages"] if m["kind"] != "system"] == [BODY, REPLY, NOTE]
