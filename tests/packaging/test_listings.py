"""What the MCP Bundle's manifest and the MCP Registry's server.json say about the server is true.

server.schema.json beside this file is the registry's published schema, version 2025-12-11, as served
at its `$id` (https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json, from the
repository modelcontextprotocol/static): CI reaches no other site than the package registries, so it
is kept here, and its SHA-256 is checked so that nobody loosens it by hand.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import SecretStr

from helpdesk_mcp.adapters.registry import BACKEND_TYPES
from helpdesk_mcp.server.config import SETTING_VARIABLES, Settings, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES

ROOT = Path(__file__).parent.parent.parent
SCHEMA_FILE = Path(__file__).with_name("server.schema.json")
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"
MANIFEST: dict[str, Any] = json.loads((ROOT / "packaging" / "mcpb" / "manifest.json").read_text())
SERVER_JSON: dict[str, Any] = json.loads((ROOT / "server.json").read_text())
PROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
README = (ROOT / "README.md").read_text()

HTTP_ONLY = {
    "HELPDESK_HTTP_TOKEN": "the bearer token of --transport http",
    "HELPDESK_HTTP_READ_TIMEOUT": "how long an HTTP client may take to send a request",
    "HELPDESK_STATE_KEY": "shared by HTTP replicas behind one address",
    "HELPDESK_REDIS_URL": "shared by HTTP replicas",
    "HELPDESK_OAUTH_ISSUER": "sign-in (OAuth) of --transport http",
    "HELPDESK_OAUTH_RESOURCE": "the URL HTTP clients reach the server at",
    "HELPDESK_OAUTH_JWKS_URL": "sign-in of --transport http",
    "HELPDESK_OAUTH_INTROSPECTION_URL": "sign-in of --transport http",
    "HELPDESK_OAUTH_CLIENT_ID": "sign-in of --transport http",
    "HELPDESK_OAUTH_CLIENT_SECRET": "sign-in of --transport http",
}
"""Settings a host that starts the server over stdio (Claude Desktop, a registry client) has no use for."""
_SETTING = re.compile(r"""["'](HELPDESK_[A-Z_]+)["']""")


def settings_the_code_reads() -> set[str]:
    """Every environment variable the server reads: HELPDESK_* names in the code, the server settings'
    (named after their fields), and each backend's."""
    found = {
        name
        for folder in ("server", "adapters")
        for source in (ROOT / folder).rglob("*.py")
        for name in _SETTING.findall(source.read_text())
    }
    found |= set(SETTING_VARIABLES)
    for backend_type in BACKEND_TYPES.values():
        found |= {*backend_type.env.values(), *backend_type.enabled_by}
    return found


def secret_settings() -> set[str]:
    return {
        variable
        for backend_type in BACKEND_TYPES.values()
        for setting, variable in backend_type.env.items()
        if backend_type.settings.model_fields[setting].annotation is SecretStr
    }


def manifest_env() -> dict[str, str]:
    env: dict[str, str] = MANIFEST["server"]["mcp_config"]["env"]
    return env


def registry_env() -> dict[str, dict[str, Any]]:
    (package,) = SERVER_JSON["packages"]
    return {variable["name"]: variable for variable in package["environmentVariables"]}


def validate_server_json(document: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    validator.validate(document)


def test_server_json_validates_against_the_registry_schema() -> None:
    vendored = hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()
    assert vendored == SCHEMA_SHA256, "tests/packaging/server.schema.json is not the published schema"
    assert SERVER_JSON["$schema"] == json.loads(SCHEMA_FILE.read_text())["$id"]
    validate_server_json(SERVER_JSON)

    too_long = copy.deepcopy(SERVER_JSON)
    too_long["description"] = "x" * 101  # the registry's limit is 100 characters
    with pytest.raises(jsonschema.ValidationError):
        validate_server_json(too_long)


def test_server_json_names_the_published_package_and_the_readme_proves_ownership() -> None:
    """The registry accepts a PyPI package only if its README (PyPI's description) says `mcp-name: <name>`."""
    assert re.fullmatch(r"io\.github\.[A-Za-z0-9-]+/helpdesk-mcp", SERVER_JSON["name"])
    assert f"mcp-name: {SERVER_JSON['name']}" in README
    (package,) = SERVER_JSON["packages"]
    assert (package["registryType"], package["identifier"]) == ("pypi", PROJECT["name"])
    assert package["transport"] == {"type": "stdio"}
    assert SERVER_JSON["version"] == package["version"] == MANIFEST["version"] == PROJECT["version"]


def test_manifest_and_server_json_list_every_setting_a_stdio_host_can_give() -> None:
    """A setting added to the code and not to packaging/mcpb/manifest.json and server.json fails here."""
    expected = settings_the_code_reads() - set(HTTP_ONLY)
    advice = (
        "list each missing setting in packaging/mcpb/manifest.json (a user_config field with a default "
        "meaning unset, and mcp_config.env) and in server.json's environmentVariables, or in HTTP_ONLY "
        "here if a host starting the server over stdio has no use for it"
    )
    assert sorted(expected - set(manifest_env())) == [], advice
    assert sorted(expected - set(registry_env())) == [], advice
    assert sorted(set(manifest_env()) - expected) == [], "the manifest lists settings the code does not read"
    assert sorted(set(registry_env()) - expected) == [], "server.json lists settings the code does not read"
    assert set(HTTP_ONLY) <= settings_the_code_reads(), "HTTP_ONLY names a setting the code no longer reads"


def test_secrets_are_sensitive_fields_and_every_field_feeds_its_variable() -> None:
    user_config = MANIFEST["user_config"]
    fed = {}
    for variable, value in manifest_env().items():
        match = re.fullmatch(r"\$\{user_config\.([a-z_]+)\}", value)
        assert match and match.group(1) in user_config, f"{variable} is not fed by a user_config field"
        fed[variable] = user_config[match.group(1)]
    assert len({id(field) for field in fed.values()}) == len(user_config), "a user_config field feeds nothing"
    secrets = secret_settings()
    assert secrets, "no backend declares a secret: the check below would prove nothing"
    for variable, field in fed.items():
        assert field.get("sensitive", False) == (variable in secrets), variable
        assert registry_env()[variable].get("isSecret", False) == (variable in secrets), variable


def test_a_bundle_left_at_its_defaults_starts_with_the_servers_defaults(tmp_path: Path) -> None:
    """Hosts substitute a field's default where the user typed nothing, so every default must mean "unset".

    A field without a default would reach the server as the literal `${user_config.name}`.
    """
    env = {}
    for variable, value in manifest_env().items():
        field = MANIFEST["user_config"][value.removeprefix("${user_config.").removesuffix("}")]
        assert "default" in field or field.get("required"), f"{variable} has no default"
        default = field["default"]
        env[variable] = ("true" if default else "false") if isinstance(default, bool) else str(default)
    env["HELPDESK_DB"] = str(tmp_path / "helpdesk.db")

    settings = load_settings(env, known_tools=TOOL_NAMES)

    assert [backend.name for backend in settings.backends] == ["local"]
    defaults = Settings(backends=settings.backends)
    assert settings == defaults


def test_manifest_lists_the_tools_the_server_offers() -> None:
    assert [tool["name"] for tool in MANIFEST["tools"]] == list(TOOL_NAMES)
