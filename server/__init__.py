"""helpdesk-mcp: the MCP server. `build_server` assembles it; `cli.main` runs it."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("helpdesk-mcp")
except PackageNotFoundError:
    __version__ = "0.0.0+unknown"
