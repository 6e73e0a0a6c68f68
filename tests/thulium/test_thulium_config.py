"""THULIUM_STATUSES as a user writes it in the environment, and the one line a typo gets."""

from __future__ import annotations

import pytest

from helpdesk_mcp.adapters.thulium.settings import ThuliumSettings
from helpdesk_mcp.server.config import ConfigError, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES

BASE = {"THULIUM_URL": "https://firma.thulium.com/api", "THULIUM_USER": "api", "THULIUM_PASSWORD": "x"}


def test_status_ids_and_names_map_onto_normalized_statuses() -> None:
    env = {**BASE, "THULIUM_STATUSES": "23=solved, 2 = open,Zamknięte bez odpowiedzi=closed,"}

    [backend] = load_settings(env, known_tools=TOOL_NAMES).backends

    assert isinstance(backend.settings, ThuliumSettings)
    assert backend.settings.statuses == {"23": "solved", "2": "open", "Zamknięte bez odpowiedzi": "closed"}


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("23=solvd", "THULIUM_STATUSES: 'solvd' (for '23') is not a status; use new, open, pending, on_hold"),
        ("23", "THULIUM_STATUSES: '23' is not id=status; write it like 2=open,5=solved"),
        ("=open", "THULIUM_STATUSES: '=open' is not id=status"),
    ],
)
def test_a_mistake_gets_one_line_naming_the_variable(value: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "THULIUM_STATUSES": value}, known_tools=TOOL_NAMES)

    [problem] = caught.value.problems
    assert problem.startswith(said)
