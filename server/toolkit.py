"""How a helpdesk tool behaves on the wire, decided once for every tool.

- Results: structured content with empty fields left out, and the same JSON, compact, as text,
  followed by resource links to the ticket and files the result names.
- Errors: one sentence a model can act on, for bad arguments and for every backend failure; never a
  stack trace, and never the caller's rejected values echoed back (they may be megabytes of base64).
- Schemas: self-contained (no `$ref`/`$defs`), so hosts with strict schema converters accept them,
  and without pydantic's generated titles, which every request would otherwise pay for in tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp_types import CallToolResult, ContentBlock, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError

from helpdesk_mcp.adapters.errors import HelpdeskError

from .links import resource_links
from .views import compact_json


class HelpdeskTool(Tool):
    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        # Tools check capabilities before they call a backend: wait until every adapter knows its own.
        await context.request_context.lifespan_context.backends.ready()
        try:
            result = await super().run(arguments, context, convert_result=False)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(describe_invalid_arguments(cause)) from cause
            if isinstance(cause, HelpdeskError):
                raise ToolError(cause.message) from cause
            raise
        # An open question for the human (2026-07-28) goes out as it is; the call comes back answered.
        if not convert_result or not isinstance(result, BaseModel) or isinstance(result, InputRequiredResult):
            return result
        structured, text = compact_json(result)
        content: list[ContentBlock] = [TextContent(type="text", text=text), *resource_links(result)]
        return CallToolResult(content=content, structured_content=structured)


def make_tool(fn: Callable[..., Any], *, title: str, annotations: ToolAnnotations) -> HelpdeskTool:
    tool = HelpdeskTool.from_function(fn, title=title, annotations=annotations)
    assert isinstance(tool, HelpdeskTool)
    tool.parameters = portable_schema(tool.parameters)
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = portable_schema(tool.fn_metadata.output_schema)
    return tool


def describe_invalid_arguments(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or "arguments"
        message = item["msg"]
        problems.append(f"{location}: {message[0].lower()}{message[1:]}")
    return f"Invalid arguments ({'; '.join(problems)}); correct them and call again."


def portable_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every `$ref` to `#/$defs/...` replaced by its definition, and no titles."""
    definitions: dict[str, Any] = schema.get("$defs", {})

    def resolve(node: Any, *, names: bool = False) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if names:  # keys of `properties` are parameter names, never schema keywords
            return {key: resolve(value) for key, value in node.items()}
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            target = resolve(definitions[reference.removeprefix("#/$defs/")])
            return {**target, **{k: resolve(v) for k, v in node.items() if k not in {"$ref", "title"}}}
        return {
            key: resolve(value, names=key == "properties")
            for key, value in node.items()
            if key not in {"$defs", "title"}
        }

    resolved: dict[str, Any] = resolve(schema)
    return resolved
