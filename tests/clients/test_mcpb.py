"""The MCP Bundle for Claude Desktop: built by `bash packaging/build-mcpb`, checked by the official mcpb tool.

Claude Desktop cannot run here. In its place, the bundle is unpacked by `mcpb unpack` and its manifest
resolved by the mcpb package's own getMcpConfigForManifest, the code that turns a user's settings into
the server's command and environment; then the bundle's entry point is started with that environment
and driven through an MCP client. uv is not on CI's machines, so the interpreter is this test's, which
has the project installed: what uv installs from the bundle's pyproject.toml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from tests.clients.conftest import NodeTools

ROOT = Path(__file__).parent.parent.parent
MANIFEST: dict[str, Any] = json.loads((ROOT / "packaging" / "mcpb" / "manifest.json").read_text())

# The host's side, as the mcpb package implements it: user settings in, command and environment out.
RESOLVE = """
const [config, manifest, extension, user] = process.argv.slice(1);
const { getMcpConfigForManifest } = await import(config);
const resolved = await getMcpConfigForManifest({
  manifest: JSON.parse(manifest),
  extensionPath: extension,
  systemDirs: { HOME: "/home/user", DESKTOP: "/home/user/Desktop", DOCUMENTS: "/home/user/Documents" },
  userConfig: JSON.parse(user),
  pathSeparator: "/",
});
console.log(JSON.stringify(resolved));
"""


@pytest.fixture(scope="module")
def bundle(node_tools: NodeTools, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    built = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build-mcpb"), str(out)],
        env={"PATH": os.environ["PATH"], "HELPDESK_NODE_TOOLS": str(node_tools.root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    path = Path(built.stdout.strip())
    assert path == out / f"helpdesk-mcp-{MANIFEST['version']}.mcpb"
    return path


@pytest.fixture(scope="module")
def extension(bundle: Path, node_tools: NodeTools, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle as `mcpb unpack` installs it, once for the module: its tests read it and start it."""
    installed = tmp_path_factory.mktemp("home") / "Claude Extensions" / "helpdesk-mcp"
    assert node_tools.run("mcpb", "unpack", str(bundle), str(installed)).returncode == 0
    return installed


def test_the_bundle_holds_the_project_and_passes_the_official_validator(
    bundle: Path, extension: Path, node_tools: NodeTools, tmp_path: Path
) -> None:
    names = zipfile.ZipFile(bundle).namelist()
    for needed in ("manifest.json", "launch.py", "pyproject.toml", "setup.py", "README.md", "server/cli.py"):
        assert needed in names
    assert "adapters/local/demo.json" in names  # package data that `helpdesk-mcp demo` reads
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]

    validated = node_tools.run("mcpb", "validate", str(extension / "manifest.json"))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "validation passes" in validated.stdout

    # The same validator refuses a manifest that breaks the spec: a setting without a description.
    broken = json.loads((extension / "manifest.json").read_text())
    del broken["user_config"]["usedesk_api_token"]["description"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    assert node_tools.run("mcpb", "validate", str(tmp_path / "broken.json")).returncode == 1


def resolve(node_tools: NodeTools, extension: Path, user_config: dict[str, Any]) -> dict[str, Any]:
    config = node_tools.root / "node_modules" / "@anthropic-ai" / "mcpb" / "dist" / "shared" / "config.js"
    manifest = (extension / "manifest.json").read_text()
    arguments = [config.as_uri(), manifest, str(extension), json.dumps(user_config)]
    done = subprocess.run(
        [str(node_tools.node), "--input-type=module", "-e", RESOLVE, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    resolved: dict[str, Any] = json.loads(done.stdout)
    return resolved


@pytest.mark.anyio
async def test_the_installed_bundle_serves_the_settings_the_user_typed(
    extension: Path, node_tools: NodeTools, tmp_path: Path
) -> None:
    store = tmp_path / "my helpdesk.db"

    resolved = resolve(node_tools, extension, {"helpdesk_db": str(store), "read_only": False})

    assert resolved["command"] == "uv"
    assert resolved["args"] == ["run", "--directory", str(extension), "launch.py"]
    env: dict[str, str] = resolved["env"]
    assert env["HELPDESK_DB"] == str(store)
    assert not [variable for variable, value in env.items() if "${" in value]

    server = StdioServerParameters(
        command=sys.executable, args=["launch.py"], env=env | {"PYTHONUNBUFFERED": "1"}, cwd=extension
    )
    async with Client(server) as client:
        offered = {tool.name for tool in (await client.list_tools()).tools}
        assert {tool["name"] for tool in MANIFEST["tools"]} <= offered
        created = await client.call_tool("create_ticket", {"subject": "Printer on fire", "body": "Help."})
        assert not created.is_error, created.content
        found = await client.call_tool("search_tickets", {"query": "printer"})
        assert [t["subject"] for t in found.structured_content["tickets"]] == ["Printer on fire"]
    assert store.exists()  # the ticket went into the file the user chose


@pytest.mark.anyio
async def test_a_vendor_token_typed_in_the_bundle_turns_that_vendor_on(
    extension: Path, node_tools: NodeTools, tmp_path: Path
) -> None:
    resolved = resolve(
        node_tools,
        extension,
        {"usedesk_api_token": "token-typed-in-claude", "usedesk_user_id": "17063", "local": True},
    )
    env: dict[str, str] = resolved["env"] | {"HELPDESK_DB": str(tmp_path / "helpdesk.db")}
    server = StdioServerParameters(command=sys.executable, args=["launch.py"], env=env, cwd=extension)
    async with Client(server) as client:
        listing = await client.read_resource("helpdesk://backends")
    text = "".join(getattr(part, "text", "") for part in listing.contents)
    backends = {backend["name"]: backend for backend in json.loads(text)["backends"]}
    assert set(backends) == {"usedesk", "local"}
    assert "token-typed-in-claude" not in text
