"""How a Thulium backend is configured (imported at start without the adapter itself)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, field_validator

from ..model import STATUSES, Status
from ..redact import basic_auth
from ..settings import Env, HttpSettings, HttpUrl, TimeZone


class ThuliumSettings(HttpSettings):
    url: Env[HttpUrl] = Field(description="Base URL of the API, including `/api`.")
    user: Env[str] = Field(min_length=1, description="Login of the Thulium API user (not an agent login).")
    password: Env[SecretStr] = Field(description="Password of the API user.")
    mailbox: Env[str | None] = Field(
        default=None, description="Mailbox address new tickets are sent from (`to`)."
    )
    agent_login: Env[str | None] = Field(
        default=None, description="Agent login (`user_login`) that replies are sent as."
    )
    timezone: Env[TimeZone] = Field(
        default="Europe/Warsaw", description="Time zone of the account's timestamps."
    )
    statuses: Env[dict[str, Status]] = Field(
        default_factory=dict,
        description="Status id or name -> normalized status, over the default names; in the environment "
        "`2=open,5=solved`.",
    )

    def credentials(self) -> list[str]:
        """The password, and the Basic `Authorization` value it travels in."""
        return [*super().credentials(), basic_auth(self.user, self.password.get_secret_value())]

    @field_validator("statuses", mode="before")
    @classmethod
    def _status_map(cls, value: Any) -> Any:
        """THULIUM_STATUSES as written in the environment (`2=open,5=solved`), or a table; each value
        checked here so that a typo gets one line naming it."""
        if isinstance(value, str):
            pairs: dict[str, str] = {}
            for item in (part.strip() for part in value.split(",") if part.strip()):
                key, equals, status = item.rpartition("=")
                if not equals or not key.strip() or not status.strip():
                    raise ValueError(f"{item!r} is not id=status; write it like 2=open,5=solved")
                pairs[key.strip()] = status.strip()
            value = pairs
        if isinstance(value, dict):
            for key, status in value.items():
                if status not in STATUSES:
                    raise ValueError(f"{status!r} (for {key!r}) is not a status; use {', '.join(STATUSES)}")
        return value
