"""How a helpdesk tool behaves on the wire, decided once for every tool.

- Results: structured content with empty fields left out, and the same JSON, compact, as text,
  followed by resource links to the ticket and files the result names.
- Errors: one sentence a model can act on, for bad arguments and for every backend failure; never a
  stack trace, and never the caller's rejected values echoed back (they may be megabytes of base64).
- Arguments: closed (`additionalProperties: false` on every object). An unknown argument is refused
  before anything runs, confirmation questions included: a misspelt `internal` must not become a
  public reply because the misspelling was ignored.
- Schemas: self-contained (no `$ref`/`$defs`), so hosts with strict schema converters accept them,
  and without pydantic's generated titles, which every request would otherwise pay for in tokens;
  an optional argument is its type alone (left out, not null, when not given), for the same reason.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools.base import Tool
from mcp_types import CallToolResult, ContentBlock, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ValidationError

from helpdesk_mcp.adapters.errors import HelpdeskError

from .confirm import AwaitingApprovalError

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NAME_CHARS = 60  # of an argument name quoted back: a name is the caller's text too


class HelpdeskTool(Tool):
    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        refusal = unknown_argument(arguments, self.parameters) or control_character(arguments)
        if refusal is not None:
            raise ToolError(refusal)
        # Tools check capabilities before they call a backend: wait until every adapter knows its own.
        await context.request_context.lifespan_context.backends.ready()
        try:
            result = await super().run(arguments, context, convert_result=False)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(describe_invalid_arguments(cause)) from cause
            if isinstance(cause, AwaitingApprovalError):
                # Not sent, and the host is given the approval card to show the human.
                said = TextContent(type="text", text=cause.message)
                return CallToolResult(content=[said], is_error=True, _meta=cause.meta)
            if isinstance(cause, HelpdeskError):
                raise ToolError(cause.message) from cause
            raise
        # An open question for the human (2026-07-28) goes out as it is; the call comes back answered.
        if not convert_result or not isinstance(result, BaseModel) or isinstance(result, InputRequiredResult):
            return result
        from .links import resource_links  # with the views, loaded at the first call rather than at start
        from .views import compact_json

        structured, text = compact_json(result)
        content: list[ContentBlock] = [TextContent(type="text", text=text), *resource_links(result)]
        return CallToolResult(content=content, structured_content=structured)


def make_tool(
    fn: Callable[..., Any],
    *,
    title: str,
    annotations: ToolAnnotations,
    meta: dict[str, Any] | None = None,
) -> HelpdeskTool:
    # One line: the docstring's line breaks and indentation would be sent, and paid for, as they are.
    description = " ".join((fn.__doc__ or "").split())
    tool = HelpdeskTool.from_function(
        fn, title=title, description=description, annotations=annotations, meta=meta
    )
    assert isinstance(tool, HelpdeskTool)
    tool.parameters = closed_schema(optional_without_null(portable_schema(tool.parameters)))
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = portable_schema(tool.fn_metadata.output_schema)
    return tool


def describe_invalid_arguments(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or "arguments"
        # Reached only when a host sent a nested object as a JSON string, past `unknown_argument`.
        message = "Unknown argument" if item["type"] == "extra_forbidden" else item["msg"]
        problems.append(f"{location}: {message[0].lower()}{message[1:]}")
    return f"Invalid arguments ({'; '.join(problems)}); correct them and call again."


def unknown_argument(value: Any, schema: dict[str, Any], where: str = "") -> str | None:
    """A sentence naming the first argument `schema` does not declare, at any depth, or None."""
    if isinstance(value, list):
        items = _option(schema, "items")
        for index, item in enumerate(value):
            if items is not None and (found := unknown_argument(item, items["items"], f"{where}[{index}]")):
                return found
        return None
    holder = _option(schema, "properties")
    if not isinstance(value, dict) or holder is None:
        return None
    known: dict[str, Any] = holder["properties"]
    for key, item in value.items():
        name = f"{where}.{key}" if where else str(key)[:_NAME_CHARS]
        if key not in known:
            near = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}?" if near else f"the valid ones are {', '.join(known)}."
            return f"unknown argument {name!r}; {hint} Nothing was done."
        if (found := unknown_argument(item, known[key], name)) is not None:
            return found
    return None


def control_character(value: Any, where: str = "") -> str | None:
    """A sentence naming the first argument with a NUL or another control character, or None.

    Tabs and line breaks are text; the rest are never meant in an argument, and a NUL in particular
    reaches the store or a vendor as something else entirely.
    """
    if isinstance(value, str):
        found = _CONTROL.search(value)
        if found is None:
            return None
        character = "a NUL character" if found[0] == "\0" else f"a control character (U+{ord(found[0]):04X})"
        return f"{where or 'an argument'} contains {character}; remove it and call again. Nothing was done."
    if isinstance(value, dict):
        items = [(f"{where}.{key}" if where else str(key)[:_NAME_CHARS], item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{where}[{index}]", item) for index, item in enumerate(value)]
    else:
        return None
    for name, item in items:
        if (found_in := control_character(item, name)) is not None:
            return found_in
    return None


def _option(schema: dict[str, Any], keyword: str) -> dict[str, Any] | None:
    """`schema`, or its `anyOf` branch, that carries `keyword` (`T | None` wraps T in anyOf)."""
    for option in [schema, *schema.get("anyOf", [])]:
        if isinstance(option, dict) and keyword in option:
            return option
    return None


def closed_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with `additionalProperties: false` on every object that lists its properties."""

    def close(node: Any, *, names: bool = False) -> Any:
        if isinstance(node, list):
            return [close(item) for item in node]
        if not isinstance(node, dict):
            return node
        closed = {key: close(value, names=key == "properties" and not names) for key, value in node.items()}
        if not names and isinstance(node.get("properties"), dict):
            closed["additionalProperties"] = False
        return closed

    result: dict[str, Any] = close(schema)
    return result


def optional_without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with each optional argument written as its type alone: `T | None = None` is declared
    by leaving the argument out, so `anyOf [T, null]` and `default: null` only cost tokens."""

    def plain(node: Any, *, names: bool = False) -> Any:
        if isinstance(node, list):
            return [plain(item) for item in node]
        if not isinstance(node, dict):
            return node
        if names:
            return {key: plain(value) for key, value in node.items()}
        options = node.get("anyOf")
        if "default" in node and node["default"] is None and isinstance(options, list):
            kept = [option for option in options if option != {"type": "null"}]
            if len(kept) == 1 and len(options) == 2:
                rest = {key: value for key, value in node.items() if key not in {"anyOf", "default"}}
                return plain({**kept[0], **rest})
        return {key: plain(value, names=key == "properties") for key, value in node.items()}

    result: dict[str, Any] = plain(schema)
    return result


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
