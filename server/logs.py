"""Logs on stderr as JSON lines: one object per record, so a log shipper or `jq` reads them as they are.

Every line has `ts` (ISO 8601 UTC), `level`, `logger` and `msg`; fields given with `extra=` follow,
and `exc` carries a traceback. Configured secrets are replaced by `***` wherever they appear, in
every spelling the HTTP layer masks too (adapters/redact.py), since an exception from an HTTP client
can quote a URL or a header that holds one. httpx's own request lines, whose URLs carry customers'
e-mail addresses in query strings, are logged only at DEBUG.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from helpdesk_mcp.adapters.redact import Redactor

if TYPE_CHECKING:  # the command line logs before it knows whether it serves MCP and needs the SDK
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext

# Attributes every LogRecord has (and uvicorn's ANSI-coloured copy of the message); anything else on
# a record came from `extra=` and is a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_CHATTY = ("httpx", "httpcore")
_requests = logging.getLogger("helpdesk_mcp.requests")


class JsonLinesFormatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._redact = Redactor(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Send every logger's records (the SDK's and uvicorn's too) to stderr as JSON lines at `level`.

    httpx logs each request's full URL at INFO; those lines wait for DEBUG, where their detail is asked for.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLinesFormatter(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


async def log_requests(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """One line per MCP message: method, tool or URI, protocol revision, outcome, and milliseconds.

    Requests log at INFO, notifications at DEBUG. Arguments are never logged: they hold customer data.
    """
    started = time.perf_counter()
    fields: dict[str, Any] = {"method": ctx.method, "protocol": ctx.protocol_version}
    target = (ctx.params or {}).get("name") or (ctx.params or {}).get("uri")
    if isinstance(target, str):
        fields["target"] = target
    outcome = "error"
    try:
        result = await call_next(ctx)
        outcome = "tool_error" if getattr(result, "is_error", False) else "ok"
        return result
    finally:
        fields["outcome"] = outcome
        fields["ms"] = round((time.perf_counter() - started) * 1000, 1)
        level = logging.INFO if ctx.request_id is not None else logging.DEBUG
        _requests.log(level, "%s %s", ctx.method, outcome, extra=fields)
