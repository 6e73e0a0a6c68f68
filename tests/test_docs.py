"""The docs say what the code does."""

from __future__ import annotations

import json
from pathlib import Path

from helpdesk_mcp.server.reference import BEGIN, END, render
from helpdesk_mcp.server.tools import TOOL_NAMES

ROOT = Path(__file__).parent.parent


def test_readme_tool_reference_is_generated_from_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[start:end] == render(), "run: python -m helpdesk_mcp.server.reference, paste into README.md"
    for name in TOOL_NAMES:
        assert f"`{name}`" in readme


def test_mcp_json_example_launches_the_console_script() -> None:
    example = json.loads((ROOT / "mcp.json.example").read_text())
    entry = example["mcpServers"]["helpdesk"]
    assert entry["command"].endswith("/bin/helpdesk-mcp")
    assert set(entry["env"]) <= {
        "HELPDESK_DB",
        "HELPDESK_ALLOWED_DIRS",
        "HELPDESK_READ_ONLY",
        "HELPDESK_LOG_LEVEL",
    }
