"""The approval card in an MCP Apps host made of the extension's own host library.

`approval_card_host.mjs` connects to the installed `helpdesk-mcp` over stdio as Claude Desktop does
(MCP Apps, no elicitation, HELPDESK_CONFIRM_REPLIES=1), lets the agent's reply be held, renders the
card's page in a happy-dom window through @modelcontextprotocol/ext-apps's AppBridge, and presses
Send. The package ships no test host of its own; AppBridge is what hosts embed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.clients.conftest import NodeTools
from tests.conftest import console_script

SCRIPT = Path(__file__).with_name("approval_card_host.mjs")


def test_the_card_shows_the_held_reply_and_sends_it_on_send(node_tools: NodeTools, tmp_path: Path) -> None:
    modules = node_tools.root / "node_modules"
    done = subprocess.run(
        [str(node_tools.node), str(SCRIPT), str(modules), console_script(), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    ref, draft = seen["ref"], seen["draft"]

    assert seen["pageMime"] == "text/html;profile=mcp-app" and seen["answerVisibility"] == ["app"]
    assert seen["heldIsError"] and "nothing has been sent" in seen["heldText"]
    assert seen["before"] == []

    # The human sees the exact draft, as text: the agent's markup is not rendered.
    assert draft in seen["shown"] and ref in seen["shown"] and not seen["markupInDraft"]
    assert seen["buttons"] == ["Send", "Cancel"]

    assert seen["after"] == [draft]
    assert seen["status"].startswith(f"Sent to {ref}")
    assert seen["modelContext"] == [f"Approval card for the reply to {ref}: {seen['status']}"]
    assert seen["againIsError"]
