"""The catalogue: tokens of what tools/list sends, ours against a well-known server's published tools.

A host puts every tool's name, description and schemas in the model's context on every request, so the
catalogue is paid for before any ticket is read. Ours is listed through a real MCP client (local
helpdesk, every tool offered); the comparison is github/github-mcp-server's own snapshots of its five
issue tools closest to ours (search, list, read one, open, comment), kept in catalogue_github.json with
the commit of each file. GitHub's tools declare no output schema, so the comparison leaves ours out
and the output schemas are counted apart (a host that passes them pays for them too).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from mcp import Client

from bench.common import Row, Section, table
from bench.tokens import encoder
from helpdesk_mcp.server.app import build_server
from helpdesk_mcp.server.config import load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES

GITHUB = Path(__file__).resolve().parent / "catalogue_github.json"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def run(quick: bool = False) -> Section:
    count = encoder()
    with tempfile.TemporaryDirectory() as directory:
        settings = load_settings({"HELPDESK_DATA_DIR": directory}, known_tools=TOOL_NAMES)
        async with Client(build_server(settings), mode="legacy") as client:  # type: ignore[arg-type]
            listed = (await client.list_tools()).tools
    ours = {
        tool.name: {
            "name": tool.name,
            "title": tool.title,
            "description": tool.description,
            "inputSchema": tool.input_schema,
            "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True)
            if tool.annotations
            else None,
        }
        for tool in listed
    }
    outputs = {tool.name: count(_compact(tool.output_schema)) if tool.output_schema else 0 for tool in listed}
    github = json.loads(GITHUB.read_text(encoding="utf-8"))["tools"]

    rows = []
    for name, tool in ours.items():
        rows.append(
            [
                f"ours: {name}",
                count(tool["description"] or ""),
                count(_compact(tool["inputSchema"])),
                count(_compact(tool)),
                outputs[name],
            ]
        )
    for tool in github:
        rows.append(
            [
                f"GitHub: {tool['name']}",
                count(tool["description"]),
                count(_compact(tool["inputSchema"])),
                count(_compact(tool)),
                "",
            ]
        )
    ours_total = sum(count(_compact(tool)) for tool in ours.values())
    github_total = sum(count(_compact(tool)) for tool in github)
    section = Section("7. The catalogue: tokens of tools/list (o200k_base)")
    section.rows.append(
        Row(
            f"tools/list, our {len(ours)} tools (without output schemas)",
            f"{ours_total:,}",
            f"{github_total:,} GitHub's 5 issue tools",
            ours_total / github_total,
            "reported; descriptions under budget (tests/test_catalogue.py)",
            None,
        )
    )
    section.details.append(
        table(["tool", "description", "input schema", "whole entry", "output schema"], rows)
    )
    section.details.append(
        f"Whole entry: name, title, description, input schema and annotations as compact JSON, what a host "
        f"sends the model for each tool. Ours in all: {ours_total:,} tokens, and {sum(outputs.values()):,} "
        f"more for the output schemas; GitHub's five issue tools ({GITHUB.name}, from github/"
        f"github-mcp-server's `__toolsnaps__`): {github_total:,}. Each of our descriptions has a budget "
        "in characters next to it in tests/test_catalogue.py, which fails when one grows past it."
    )
    return section
