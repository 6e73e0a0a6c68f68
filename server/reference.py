"""The README's tool reference, generated from the tools themselves so it cannot drift.

`python -m helpdesk_mcp.server.reference README.md` rewrites the section between the markers (without
a file it prints the section); a test fails when README.md differs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .toolkit import HelpdeskTool
from .tools import TOOLS, select_tools

BEGIN = "<!-- tool-reference:begin -->"
END = "<!-- tool-reference:end -->"


def _type_of(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type_of(s) for s in schema["anyOf"] if s.get("type") != "null")
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    if schema.get("type") == "object":
        return "object (" + ", ".join(schema.get("properties", {})) + ")"
    return str(schema.get("type", "any"))


def _tool_section(tool: HelpdeskTool) -> list[str]:
    hints = tool.annotations
    kind = "read-only" if hints and hints.read_only_hint else "writes"
    idempotent = ", idempotent" if hints and hints.idempotent_hint else ", not idempotent"
    lines = [
        f"### `{tool.name}`: {tool.title}",
        "",
        f"*{kind}{idempotent}.* {' '.join(tool.description.split())}",
        "",
    ]
    lines += ["| parameter | type | required | description |", "|---|---|---|---|"]
    required = set(tool.parameters.get("required", []))
    for name, prop in tool.parameters["properties"].items():
        default = f" Default: `{prop['default']}`." if prop.get("default") not in (None, [], {}) else ""
        description = (prop.get("description") or "").replace("|", "\\|") + default
        lines.append(
            f"| `{name}` | {_type_of(prop)} | {'yes' if name in required else ''} | {description.strip()} |"
        )
    return [*lines, ""]


def render() -> str:
    tools = select_tools(read_only=False, allowed=None)
    assert [t.name for t in tools] == [spec.name for spec in TOOLS]
    lines = [BEGIN, ""]
    for tool in tools:
        lines += _tool_section(tool)
    return "\n".join([*lines, END])


def rewrite(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + render() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        rewrite(Path(sys.argv[1]))
    else:
        print(render())
