"""The backend types this installation can run, and how each is configured.

Each type names its settings model and where its adapter is built; the environment variables that
feed a backend named after its type, and those that enable it, are derived from the settings' fields
(see `settings.Env`). The server reads configuration generically through this table and never names a
vendor. Adapters are imported only when a backend of their type is built, so a server with one vendor
configured loads one vendor's code.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from .base import Adapter
from .local.settings import LocalSettings
from .osticket.settings import OsticketSettings
from .plusofon.settings import PlusofonSettings
from .settings import FROM_ENVIRONMENT
from .thulium.settings import ThuliumSettings
from .usedesk.settings import UsedeskSettings


@dataclass(frozen=True)
class BackendType:
    name: str
    settings: type[BaseModel]
    adapter: str
    """`.package.module:factory` (relative to this package): called with the backend's name and settings."""
    env_prefix: str = ""
    """Prefix of the environment variables; the type's name in capitals unless given."""

    @property
    def env(self) -> dict[str, str]:
        """Setting name -> environment variable that sets it for the backend named after the type."""
        prefix = self.env_prefix or self.name.upper()
        return {
            setting: f"{prefix}_{setting.upper()}"
            for setting, field in self.settings.model_fields.items()
            if FROM_ENVIRONMENT in field.metadata
        }

    @property
    def enabled_by(self) -> tuple[str, ...]:
        """Environment variables whose presence enables the backend named after the type: the required."""
        fields = self.settings.model_fields
        return tuple(variable for setting, variable in self.env.items() if fields[setting].is_required())

    def build(self, name: str, settings: Any) -> Adapter:
        module, _, factory = self.adapter.partition(":")
        adapter = getattr(importlib.import_module(module, __package__), factory)(name, settings)
        if not isinstance(adapter, Adapter):
            raise TypeError(f"{self.adapter} built {type(adapter).__name__}, not an Adapter")
        return adapter


BACKEND_TYPES: dict[str, BackendType] = {
    backend_type.name: backend_type
    for backend_type in (
        BackendType("local", LocalSettings, ".local.adapter:from_settings", env_prefix="HELPDESK"),
        BackendType("thulium", ThuliumSettings, ".thulium.adapter:ThuliumAdapter"),
        BackendType("plusofon", PlusofonSettings, ".plusofon.adapter:PlusofonAdapter"),
        BackendType("osticket", OsticketSettings, ".osticket.adapter:OsticketAdapter"),
        BackendType("usedesk", UsedeskSettings, ".usedesk.adapter:UsedeskAdapter"),
    )
}
