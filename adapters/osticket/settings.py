"""How an osTicket backend is configured (imported at start without the adapter itself)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from ..model import Status
from ..settings import Env, HttpSettings, HttpUrl, TimeZone


class OsticketSettings(HttpSettings):
    url: Env[HttpUrl] = Field(description="Root URL of the helpdesk; the API is under `/api`.")
    api_key: Env[SecretStr] = Field(description="API key (`X-API-Key`), bound to this machine's IP address.")
    staff_user: Env[str | None] = Field(
        default=None, description="Staff user name (`staffUserName`) replies are sent as."
    )
    timezone: Env[TimeZone] = Field(default="UTC", description="Time zone of the helpdesk's timestamps.")
    statuses: dict[str, Status] = Field(
        default_factory=dict, description="Status name -> normalized status, over the default mapping."
    )
    status_ids: dict[str, int] = Field(
        default_factory=dict,
        description="Status name -> osTicket status id, for added statuses a reply should be able to set.",
    )
