"""A UseDesk backend from the contract's environment variables or a TOML file, checked at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk_mcp.adapters.usedesk.settings import UsedeskSettings
from helpdesk_mcp.server.config import ConfigError, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES

TOKEN = "ba82c31d43b286e43e0e5489fb522ec57dc4c3fd"


def test_the_token_alone_enables_usedesk_with_its_documented_limits() -> None:
    settings = load_settings({"USEDESK_API_TOKEN": TOKEN}, known_tools=TOOL_NAMES)

    [backend] = settings.backends
    assert (backend.name, backend.type) == ("usedesk", "usedesk")
    usedesk = backend.settings
    assert isinstance(usedesk, UsedeskSettings)
    assert (usedesk.url, usedesk.user_id) == ("https://api.usedesk.ru", None)
    assert (usedesk.requests_per_second, usedesk.max_concurrency) == (2.0, 2), "150 a minute, documented"
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"USEDESK_USER_ID": "anna"}, "USEDESK_USER_ID"),
        ({"USEDESK_URL": "api.usedesk.ru"}, "USEDESK_URL"),
        ({"USEDESK_API_TOKEN": "   "}, "USEDESK_API_TOKEN"),
    ],
)
def test_a_bad_value_is_named_at_start(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"USEDESK_API_TOKEN": TOKEN, **env}, known_tools=TOOL_NAMES)
    [problem] = raised.value.problems
    assert problem.startswith(f"{variable}: ")


def test_named_instances_in_toml_with_their_own_statuses_and_fields(tmp_path: Path) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text(
        """
[backends.shop]
type = "usedesk"
api_token = "${SHOP_TOKEN}"
user_id = "17063"
statuses = { "11" = "pending", "5" = "pending" }
fields = { "37" = "39", "25" = "true" }

[backends.b2b]
type = "usedesk"
url = "https://secure.usedesk.com/uapi"
api_token = "${B2B_TOKEN}"
""",
        encoding="utf-8",
    )
    settings = load_settings(
        {"HELPDESK_CONFIG": str(config), "SHOP_TOKEN": TOKEN, "B2B_TOKEN": "c" * 40}, known_tools=TOOL_NAMES
    )

    shop, b2b = (backend.settings for backend in settings.backends)
    assert isinstance(shop, UsedeskSettings) and isinstance(b2b, UsedeskSettings)
    assert shop.statuses == {"11": "pending", "5": "pending"} and shop.fields == {"37": "39", "25": "true"}
    assert b2b.url == "https://secure.usedesk.com/uapi" and b2b.user_id is None


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('statuses = { "open" = "open" }', "not a UseDesk status id"),
        ('statuses = { "11" = "waiting" }', "statuses.11"),
        ('fields = { "52" = "a;b" }', "contains ';'"),
        ('fields = { "Numer" = "7" }', "not a UseDesk custom field id"),
    ],
)
def test_a_bad_mapping_in_toml_is_named_at_start(tmp_path: Path, line: str, said: str) -> None:
    config = tmp_path / "helpdesk.toml"
    config.write_text(f'[backends.shop]\ntype = "usedesk"\napi_token = "{TOKEN}"\n{line}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings({"HELPDESK_CONFIG": str(config)}, known_tools=TOOL_NAMES)
    assert said in raised.value.problems[0]
