"""The floor: a bare MCPServer with one tool, nothing else imported.

`python bench/floor_server.py` serves it over stdio (the cold-start floor);
`python bench/floor_server.py http PORT` over streamable HTTP on 127.0.0.1 (the load floor).
"""

import sys

from mcp.server import MCPServer

server = MCPServer("floor")


@server.tool()
async def ping() -> str:
    """Answer pong."""
    return "pong"


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        import uvicorn

        app = server.streamable_http_app(host="127.0.0.1")
        uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
    else:
        server.run("stdio")
