"""The docs say what the code does: the generated tool reference, and host configurations that work."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from helpdesk_mcp.adapters.registry import BACKEND_TYPES
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.reference import BEGIN, END, render
from helpdesk_mcp.server.tools import TOOL_NAMES

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
HOST_EXAMPLES = {
    "mcp.json.example": "mcpServers",  # Claude Desktop's claude_desktop_config.json, and Cursor's
    "examples/cursor.mcp.json": "mcpServers",
    "examples/vscode.mcp.json": "servers",
}
PLACEHOLDER_ROOT = "/absolute/path/to/helpdesk-mcp"
HOST_VARIABLE = re.compile(r"\$\{(?:env|input):[^}]+\}")  # the host fills these in at launch
TOML_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def test_readme_tool_reference_is_generated_from_the_code() -> None:
    start, end = README.index(BEGIN), README.index(END) + len(END)
    assert README[start:end] == render(), "run: python -m helpdesk_mcp.server.reference README.md"
    for name in TOOL_NAMES:
        assert f"`{name}`" in README


def host_entries() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for example, key in HOST_EXAMPLES.items():
        document = json.loads((ROOT / example).read_text())
        assert set(document) <= {key, "inputs"}, f"{example}: this host's file holds `{key}`"
        found += [(example, name, entry) for name, entry in document[key].items()]
    return found


def test_every_example_is_referenced_from_the_readme() -> None:
    for example in [*HOST_EXAMPLES, "examples/helpdesk.toml"]:
        assert example in README, f"README.md does not point to {example}"


LAUNCHED = [case for case in host_entries() if "command" in case[2]]


@pytest.mark.parametrize(("example", "name", "entry"), LAUNCHED, ids=[f"{e}:{n}" for e, n, _ in LAUNCHED])
def test_every_example_launch_is_a_configuration_the_server_accepts(
    example: str, name: str, entry: dict[str, Any], tmp_path: Path
) -> None:
    """With its placeholders filled in as a user would, each entry configures the backends it names."""
    assert entry["command"] == f"{PLACEHOLDER_ROOT}/.venv/bin/helpdesk-mcp"
    toml_variables = set(TOML_VARIABLE.findall((ROOT / "examples" / "helpdesk.toml").read_text()))
    vendor_variables = {v for t in BACKEND_TYPES.values() for v in [*t.env.values(), *t.enabled_by]}
    for variable in entry["env"]:
        documented = f"`{variable}`" in README or variable in vendor_variables
        assert documented or variable in toml_variables, f"{example} {name}: {variable} is read by nothing"

    def filled(value: str) -> str:
        value = value.replace(PLACEHOLDER_ROOT, str(ROOT)).replace("/absolute/path/to", str(tmp_path))
        return HOST_VARIABLE.sub("secret-the-host-fills-in", value)

    settings = load_settings({k: filled(v) for k, v in entry["env"].items()}, known_tools=TOOL_NAMES)
    configured = [backend.name for backend in settings.backends]
    expected = {
        "helpdesk": ["local"],
        "helpdesk-several": None,
        "helpdesk-from-file": ["support", "sales", "phones"],
    }.get(name, [name.removeprefix("helpdesk-")])
    if expected is None:
        assert len(configured) > 1, f"{example} {name} should configure several backends"
    else:
        assert configured == expected


def test_http_examples_point_at_the_documented_endpoint_with_a_token() -> None:
    remote = [(example, entry) for example, _, entry in host_entries() if "url" in entry]
    assert {example for example, _ in remote} == {"examples/cursor.mcp.json", "examples/vscode.mcp.json"}
    for example, entry in remote:
        assert entry["url"] in README, f"{example}: the README does not document {entry['url']}"
        assert HOST_VARIABLE.fullmatch(entry["headers"]["Authorization"].removeprefix("Bearer "))
