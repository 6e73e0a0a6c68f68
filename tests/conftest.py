"""Shared fixtures: settings on a fresh local helpdesk, and real MCP clients in both protocol eras."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import ElicitRequestParams, ElicitResult

from helpdesk_mcp.adapters.settings import HttpSettings
from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import Settings, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES

MODES = ["legacy", "auto"]
"""`legacy` speaks 2025-11-25 over JSON-RPC streams with `initialize`; `auto` speaks 2026-07-28."""

MakeSettings = Callable[..., Settings]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session", autouse=True)
def _user_data_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test that names no file for a store still writes under tmp: the user data directory is moved
    there (for the servers a test starts too), never the developer's own."""
    saved = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("user-data"))
    yield
    if saved is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = saved


@pytest.fixture
def make_settings(tmp_path: Path) -> MakeSettings:
    """Settings built the way the server builds them, on a local helpdesk in a fresh file."""

    def make(**env: str) -> Settings:
        base = {
            "HELPDESK_DB": str(tmp_path / "helpdesk.db"),
            "HELPDESK_LEDGER_DB": str(tmp_path / "ledger.db"),
        }
        return load_settings({**base, **env}, known_tools=TOOL_NAMES)

    return make


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def unthrottled(settings: Settings) -> Settings:
    """`settings` with our own request rate lifted on every vendor backend: at a vendor's production
    rate (UseDesk's is 2 a second) a test against a fake would mostly wait. Tests of throttling keep it."""
    backends = tuple(
        replace(b, settings=b.settings.model_copy(update={"requests_per_second": 1000.0}))
        if isinstance(b.settings, HttpSettings)
        else b
        for b in settings.backends
    )
    return settings.model_copy(update={"backends": backends})


@asynccontextmanager
async def connect(settings: Settings, mode: str) -> AsyncIterator[Client]:
    async with Client(build_server(settings), mode=mode) as client:  # type: ignore[arg-type]
        yield client


class Human:
    """Answers the host's confirmation forms the way a person would, and remembers each question."""

    def __init__(self, action: str = "accept", send: bool = True) -> None:
        self.action = action
        self.send = send
        self.questions: list[str] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.questions.append(params.message)
        content = {"send": self.send} if self.action == "accept" else None
        return ElicitResult(action=self.action, content=content)  # type: ignore[arg-type]


def console_script() -> str:
    """The installed `helpdesk-mcp`, next to this interpreter: what a user's MCP host launches."""
    beside = Path(sys.executable).parent / "helpdesk-mcp"
    found = str(beside) if beside.exists() else shutil.which("helpdesk-mcp")
    if found is None:
        pytest.fail("the helpdesk-mcp console script is not installed; run: pip install -e '.[dev]'")
    return found


def child_env(tmp_path: Path, **extra: str) -> Mapping[str, str]:
    """Environment for a server subprocess: its own store, and no settings leaked from the developer's."""
    return {
        "HELPDESK_DB": str(tmp_path / "helpdesk.db"),
        "HELPDESK_LEDGER_DB": str(tmp_path / "ledger.db"),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class HttpServer:
    url: str
    log: Path
    """The server's stderr: its JSON-lines log."""


@contextmanager
def serve_http(
    tmp_path: Path, *flags: str, host: str = "127.0.0.1", port: int | None = None, **env: str
) -> Iterator[HttpServer]:
    """The console script serving streamable HTTP on `port` (default: a free one) of `host`, a
    loopback address, until the block ends."""
    port = port or free_port()
    log = tmp_path / f"http-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [console_script(), "--transport", "http", "--host", host, "--port", str(port), *flags],
            env={**child_env(tmp_path), **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait_for_port(process, host, port, log)
        yield HttpServer(f"http://{f'[{host}]' if ':' in host else host}:{port}/mcp", log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(process: subprocess.Popen[bytes], host: str, port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not listen on port {port} within 30 s: {log.read_text()}")
