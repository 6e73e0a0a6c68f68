"""Command line: serve over stdio (default) or HTTP, call one tool, check the configured backends,
or load the demo data set.

`call` goes through a real in-process MCP client, so it exercises exactly the path an agent's calls
take: argument validation, the tool, and the compact result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import anyio

from helpdesk_mcp.adapters.errors import HelpdeskError

from . import __version__
from .config import ConfigError, Settings, load_settings
from .logs import configure_logging
from .tool_names import TOOL_NAMES

# Flags that stand for an environment variable: one setting, one validation, one error text.
_FLAG_VARIABLES = {
    "config": "HELPDESK_CONFIG",
    "db": "HELPDESK_DB",
    "tools": "HELPDESK_TOOLS",
    "allowed_dirs": "HELPDESK_ALLOWED_DIRS",
    "timeout": "HELPDESK_TIMEOUT",
    "http_token": "HELPDESK_HTTP_TOKEN",
    "http_read_timeout": "HELPDESK_HTTP_READ_TIMEOUT",
    "log_level": "HELPDESK_LOG_LEVEL",
    "confirm_replies": "HELPDESK_CONFIRM_REPLIES",
}


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", metavar="FILE", help="TOML file of named backends (HELPDESK_CONFIG)")
    common.add_argument("--db", metavar="FILE", help="SQLite file of the local helpdesk (HELPDESK_DB)")
    common.add_argument(
        "--read-only", action="store_true", help="offer only the reading tools (HELPDESK_READ_ONLY)"
    )
    common.add_argument("--tools", metavar="A,B", help="offer only these tools (HELPDESK_TOOLS)")
    common.add_argument(
        "--allowed-dirs",
        metavar="DIRS",
        help=f"'{os.pathsep}'-separated dirs `path` may read (HELPDESK_ALLOWED_DIRS)",
    )
    common.add_argument(
        "--timeout", metavar="SECONDS", help="limit of one backend call (HELPDESK_TIMEOUT, 30)"
    )
    common.add_argument(
        "--http-token", metavar="TOKEN", help="bearer token HTTP requires (HELPDESK_HTTP_TOKEN)"
    )
    common.add_argument(
        "--http-read-timeout",
        metavar="SECONDS",
        help="time an HTTP client has to send a request's headers, then its body "
        "(HELPDESK_HTTP_READ_TIMEOUT, 10)",
    )
    common.add_argument(
        "--log-level",
        metavar="LEVEL",
        help="DEBUG, INFO, WARNING or ERROR; JSON lines on stderr (HELPDESK_LOG_LEVEL)",
    )
    common.add_argument(
        "--confirm-replies",
        metavar="auto|1|0",
        help="ask the user before a customer-visible message is sent (HELPDESK_CONFIRM_REPLIES, auto)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="helpdesk-mcp",
        parents=[common],
        description="MCP server for helpdesks. Without a command it serves MCP over stdio.",
        epilog="Configuration: see README.md. A setting's environment variable is shown in brackets.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio", help="default: stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    parser.add_argument(
        "--stateless", action="store_true", help="HTTP without sessions (for several replicas)"
    )
    parser.add_argument("--json-response", action="store_true", help="HTTP answers as JSON instead of SSE")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    call = commands.add_parser(
        "call",
        parents=[common],
        help="call one tool and print its result as JSON",
        description="Call one tool.",
    )
    call.add_argument("tool", choices=TOOL_NAMES, metavar="TOOL", help=", ".join(TOOL_NAMES))
    call.add_argument(
        "arguments", nargs="?", default="{}", help="tool arguments as a JSON object, or - for stdin"
    )
    commands.add_parser(
        "check",
        parents=[common],
        help="check the configuration and reach each backend with a harmless read",
        description="Validate the configuration, then reach each configured backend with one harmless "
        "read and report it in one line. Exit status 1 when any backend fails, 2 when the "
        "configuration is invalid.",
    )
    commands.add_parser(
        "demo",
        parents=[common],
        help="load the demo tickets into an empty local helpdesk",
        description="Load a small demo data set (tagged 'demo') into an empty local helpdesk.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = _settings(args)
    # Before the SDK's own logging setup, which then leaves ours in place: stderr, never stdout.
    configure_logging(settings.log_level, secrets=settings.secrets())
    if args.command == "call":
        raise SystemExit(anyio.run(_call, settings, args.tool, _arguments(args.arguments)))
    if args.command == "check":
        raise SystemExit(anyio.run(_check, settings))
    if args.command == "demo":
        raise SystemExit(_demo(settings))
    _serve(settings, args)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, str | None] = {
        var: getattr(args, flag, None) for flag, var in _FLAG_VARIABLES.items()
    }
    if getattr(args, "read_only", False):
        overrides["HELPDESK_READ_ONLY"] = "1"
    try:
        return load_settings(os.environ, known_tools=TOOL_NAMES, overrides=overrides)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"helpdesk-mcp: configuration: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    # Each command imports what only it needs, so a host starting the server waits for less.
    from .app import build_server

    server = build_server(settings)
    if args.transport == "stdio":
        # A block-buffered stray print() would reach the wire after the SDK hands stdout back.
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        server.run("stdio")
        return
    from .http import exposure_problem, serve_http

    problem = exposure_problem(args.host, settings.http_token, signed_in=settings.oauth is not None)
    if problem is not None:
        _fail(problem)
    serve_http(
        server,
        host=args.host,
        port=args.port,
        token=settings.http_token,
        read_timeout=settings.http_read_timeout,
        stateless=args.stateless,
        json_response=args.json_response,
        log_level=settings.log_level,
    )


def _arguments(text: str) -> dict[str, Any]:
    source = sys.stdin.read() if text == "-" else text
    try:
        parsed = json.loads(source)
    except json.JSONDecodeError as exc:
        _fail(f"the tool arguments are not valid JSON ({exc.msg} at character {exc.pos}).")
    if not isinstance(parsed, dict):
        _fail('the tool arguments must be a JSON object, such as {"query": "refund"}.')
    return parsed


async def _call(settings: Settings, tool: str, arguments: dict[str, Any]) -> int:
    from mcp import Client

    from .app import build_server

    async with Client(build_server(settings)) as client:
        result = await client.call_tool(tool, arguments)
    text = "".join(block.text for block in result.content if block.type == "text")
    if result.is_error:
        print(f"helpdesk-mcp: {tool}: {text}", file=sys.stderr)
        return 1
    print(text)
    return 0


async def _check(settings: Settings) -> int:
    from .check import check_backends, check_redis, check_sign_in

    outcomes = await check_backends(settings)
    secrets = settings.secrets()
    for outcome in outcomes:
        print(outcome.line(secrets), flush=True)
    extras = [await check_redis(settings), await check_sign_in(settings)]
    for extra in extras:
        if extra is not None:
            print(extra.line(secrets), flush=True)
    return 0 if all(outcome.ok for outcome in outcomes) and all(e is None or e.ok for e in extras) else 1


def _demo(settings: Settings) -> int:
    from helpdesk_mcp.adapters.local.demo import load_demo
    from helpdesk_mcp.adapters.local.settings import LocalSettings

    local = next((b for b in settings.backends if isinstance(b.settings, LocalSettings)), None)
    if local is None:
        _fail("no local backend is configured; set HELPDESK_LOCAL=1 or unset the vendor settings.")
    assert isinstance(local.settings, LocalSettings)
    path = Path(local.settings.db).expanduser()
    try:
        count = load_demo(path)
    except HelpdeskError as exc:
        _fail(exc.message)
    print(f"Loaded {count} demo tickets (tagged 'demo') into {path}.")
    print("""Try: helpdesk-mcp call search_tickets '{"query": "refund"}'""")
    return 0


def _fail(message: str) -> NoReturn:
    print(f"helpdesk-mcp: {message}", file=sys.stderr)
    raise SystemExit(2)
