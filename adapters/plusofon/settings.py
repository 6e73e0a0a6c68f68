"""How a Plusofon backend is configured (imported at start without the adapter itself)."""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from ..model import Status
from ..settings import Env, HttpSettings, HttpUrl, TimeZone


class PlusofonSettings(HttpSettings):
    token: Env[SecretStr] = Field(description="Bearer token of the Plusofon API.")
    url: Env[HttpUrl] = Field(default="https://restapi.plusofon.ru", description="Base URL of the REST API.")
    client: Env[str] = Field(default="10553", min_length=1, description="Value of the `Client` header.")
    timezone: Env[TimeZone] = Field(default="Europe/Moscow", description="Time zone of local timestamps.")
    open_status: Status = Field(
        default="open", description="Normalized status of the tickets Plusofon calls active (`status: true`)."
    )
    closed_status: Status = Field(
        default="closed",
        description="Normalized status of the tickets Plusofon calls closed (`status: false`).",
    )

    @field_validator("closed_status")
    @classmethod
    def _differs_from_open(cls, closed: Status, info: ValidationInfo) -> Status:
        if closed == info.data.get("open_status"):
            raise ValueError(
                f"{closed!r} is open_status too; the two must differ, or a status filter could not tell "
                "open tickets from closed ones"
            )
        return closed
