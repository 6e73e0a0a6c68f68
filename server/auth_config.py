"""Settings of HTTP sign-in (OAuth 2.1 resource server), read and checked with the rest at start.

Tokens are checked one of two ways: as JWTs signed by the issuer's keys (its JWKS, found through the
issuer's metadata unless HELPDESK_OAUTH_JWKS_URL names it), or, when
HELPDESK_OAUTH_INTROSPECTION_URL is set, by asking the issuer about each token (RFC 7662) with this
server's own client credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr


@dataclass(frozen=True)
class OAuthSettings:
    issuer: str
    """The authorization server; tokens must carry it as `iss`."""
    resource: str
    """This server's MCP endpoint as clients reach it; tokens must carry it as `aud`."""
    jwks_url: str | None = None
    introspection_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None


def load_oauth(env: Mapping[str, str], problems: list[str]) -> OAuthSettings | None:
    """OAuth settings from `env`, or None when HELPDESK_OAUTH_ISSUER is not set."""
    issuer = env.get("HELPDESK_OAUTH_ISSUER", "").strip()
    others = [
        name
        for name in (
            "HELPDESK_OAUTH_RESOURCE",
            "HELPDESK_OAUTH_JWKS_URL",
            "HELPDESK_OAUTH_INTROSPECTION_URL",
            "HELPDESK_OAUTH_CLIENT_ID",
            "HELPDESK_OAUTH_CLIENT_SECRET",
        )
        if env.get(name, "").strip()
    ]
    if not issuer:
        if others:
            problems.append(f"{others[0]}: is set, but HELPDESK_OAUTH_ISSUER, which turns sign-in on, is not")
        return None
    resource = env.get("HELPDESK_OAUTH_RESOURCE", "").strip()
    if not resource:
        problems.append(
            "HELPDESK_OAUTH_RESOURCE: required with HELPDESK_OAUTH_ISSUER; set it to the URL clients reach "
            "this server's MCP endpoint at, such as https://helpdesk.example.com/mcp"
        )
    introspection = _url(env, "HELPDESK_OAUTH_INTROSPECTION_URL", problems)
    client_id = env.get("HELPDESK_OAUTH_CLIENT_ID", "").strip() or None
    secret = env.get("HELPDESK_OAUTH_CLIENT_SECRET", "")
    if introspection and not (client_id and secret):
        problems.append(
            "HELPDESK_OAUTH_INTROSPECTION_URL: needs this server's client credentials at the issuer too, "
            "in HELPDESK_OAUTH_CLIENT_ID and HELPDESK_OAUTH_CLIENT_SECRET"
        )
    settings = OAuthSettings(
        issuer=_url(env, "HELPDESK_OAUTH_ISSUER", problems) or issuer,
        resource=_url(env, "HELPDESK_OAUTH_RESOURCE", problems) or resource,
        jwks_url=_url(env, "HELPDESK_OAUTH_JWKS_URL", problems),
        introspection_url=introspection,
        client_id=client_id,
        client_secret=SecretStr(secret) if secret else None,
    )
    return settings


def _url(env: Mapping[str, str], variable: str, problems: list[str]) -> str | None:
    value = env.get(variable, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        problems.append(f"{variable}: expected an https:// URL, got {value!r}")
        return None
    if parts.scheme == "http" and parts.hostname not in {"localhost", "127.0.0.1", "::1"}:
        problems.append(f"{variable}: must be https:// (plain http is only for localhost), got {value!r}")
        return None
    return value
