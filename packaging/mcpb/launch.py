"""The MCP Bundle's entry point: the host installs the bundle's pyproject.toml with uv, then runs this.

A file of its own at the bundle's root, because running server/__main__.py as a script would put
server/ first on sys.path, where its http.py hides the standard library's.
"""

from helpdesk_mcp.server.cli import main

main()
