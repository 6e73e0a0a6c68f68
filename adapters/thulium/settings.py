"""How a Thulium backend is configured (imported at start without the adapter itself)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from ..model import Status
from ..redact import basic_auth
from ..settings import HttpSettings, HttpUrl, TimeZone


class ThuliumSettings(HttpSettings):
    url: HttpUrl = Field(description="Base URL of the API, including `/api`.")
    user: str = Field(min_length=1, description="Login of the Thulium API user (not an agent login).")
    password: SecretStr = Field(description="Password of the API user.")
    mailbox: str | None = Field(default=None, description="Mailbox address new tickets are sent from (`to`).")
    agent_login: str | None = Field(
        default=None, description="Agent login (`user_login`) that replies are sent as."
    )
    timezone: TimeZone = Field(default="Europe/Warsaw", description="Time zone of the account's timestamps.")
    statuses: dict[str, Status] = Field(
        default_factory=dict, description="Status name -> normalized status, over the default mapping."
    )

    def credentials(self) -> list[str]:
        """The password, and the Basic `Authorization` value it travels in."""
        return [*super().credentials(), basic_auth(self.user, self.password.get_secret_value())]
