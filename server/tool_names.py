"""The tools' names, read from the shipped definitions without the MCP SDK.

The command line checks `--tools` and `call`'s tool against them before it knows whether it will
serve at all; `--version`, `check`, `demo` and a configuration error then exit without paying for
the SDK's import.
"""

from .catalogue_data import DEFINITIONS

APP_ONLY = ("answer_approval",)
"""Tools offered with the approval card only, never by name or by read-only mode."""
TOOL_NAMES: tuple[str, ...] = tuple(name for name in DEFINITIONS if name not in APP_ONLY)
