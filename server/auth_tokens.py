"""Checks the bearer token of an HTTP request when sign-in (OAuth) is on: as a JWT signed with one
of the issuer's keys, or by asking the issuer (RFC 7662 introspection).

The SDK's resource-server support does the rest: it answers 401 with `WWW-Authenticate` naming the
protected resource metadata (RFC 9728), and serves that metadata. A JWT must be signed with an
asymmetric algorithm (never `none` or a shared-secret HMAC, whose key the issuer would have to give
every resource), name the issuer as `iss` and this server as `aud`, and be within `nbf`..`exp`.
The issuer's keys are fetched once and kept for an hour; a token signed with a key not yet seen
makes the server fetch them again (keys rotate), and one the issuer does not publish either stops
that for `REFETCH_AFTER` seconds, so that made-up key ids cannot flood the issuer. The static
HELPDESK_HTTP_TOKEN keeps working beside sign-in, with every scope.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
import jwt
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from pydantic import SecretStr

from .auth_config import OAuthSettings
from .scopes import SCOPES, STATIC_CLAIM, STATIC_TOKEN

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""Signatures a JWT may carry: asymmetric ones only."""
REFETCH_AFTER = 30.0
"""Seconds after a fetch that did not find a token's key id before another key id may cause one."""
KEYS_LIFETIME = 3600.0
"""Seconds the issuer's keys are kept before they are fetched again, so a withdrawn key goes too."""
LEEWAY = 30
"""Seconds of clock difference with the issuer allowed for `exp` and `nbf`."""
_TIMEOUT = 10.0
FETCH_ERRORS = (httpx.HTTPError, ValueError, KeyError, TypeError)
"""What fetching the issuer's metadata or keys raises when it cannot be reached or read."""


class StaticToken:
    """HELPDESK_HTTP_TOKEN, compared in constant time; it may do everything."""

    def __init__(self, token: SecretStr | None) -> None:
        self._expected = token.get_secret_value().encode() if token else None

    def access(self, token: str) -> AccessToken | None:
        if self._expected is None or not hmac.compare_digest(token.encode(), self._expected):
            return None
        return AccessToken(
            token=token, client_id=STATIC_TOKEN, scopes=list(SCOPES), claims={STATIC_CLAIM: True}
        )


class IssuerKeys:
    """The issuer's signing keys by key id, fetched when first needed and again as described above."""

    def __init__(self, http: httpx.AsyncClient, oauth: OAuthSettings, clock: Callable[[], float]) -> None:
        self._http = http
        self._oauth = oauth
        self._clock = clock
        self._keys: dict[str | None, tuple[jwt.PyJWK, str | None]] = {}
        """Each key with the algorithm the issuer declared for it, if any."""
        self._fetched: float | None = None
        self._quiet_until = 0.0
        """Until when a key id the issuer did not publish makes no new fetch."""
        self._lock = anyio.Lock()

    async def key(self, kid: str | None) -> tuple[jwt.PyJWK, str | None] | None:
        if self._fresh() and (found := self._find(kid)) is not None:
            return found
        async with self._lock:
            if self._fresh() and (found := self._find(kid)) is not None:
                return found
            if self._fresh() and self._clock() < self._quiet_until:
                return None
            await self._fetch()
            found = self._find(kid)
            if found is None:
                # Made up, or not published yet: either way, not worth asking the issuer each time.
                self._quiet_until = self._clock() + REFETCH_AFTER
            return found

    def _fresh(self) -> bool:
        return self._fetched is not None and self._clock() - self._fetched < KEYS_LIFETIME

    def _find(self, kid: str | None) -> tuple[jwt.PyJWK, str | None] | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        try:
            await self.load()
        except FETCH_ERRORS as exc:
            # Keep the keys known so far: an issuer down for a moment must not sign everybody out.
            log.warning("Could not fetch the OAuth issuer's keys (%s)", type(exc).__name__)

    async def load(self) -> int:
        """Fetch the issuer's keys now and say how many can sign; raises one of FETCH_ERRORS."""
        self._fetched = self._clock()
        url = self._oauth.jwks_url or await self._jwks_uri()
        response = await self._http.get(url)
        response.raise_for_status()
        published = response.json()["keys"]
        if not isinstance(published, list):
            raise ValueError("the issuer's JWKS has no list of keys")
        keys: dict[str | None, tuple[jwt.PyJWK, str | None]] = {}
        for entry in published:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWTError:
                continue  # a kind of key this server cannot use; the others still can be
            declared = entry.get("alg")
            keys[key.key_id] = (key, declared if isinstance(declared, str) else None)
        self._keys = keys
        return len(keys)

    async def _jwks_uri(self) -> str:
        """`jwks_uri` from the issuer's metadata (RFC 8414), or its OpenID configuration."""
        for url in metadata_urls(self._oauth.issuer):
            response = await self._http.get(url)
            if response.status_code != 200:
                continue
            metadata = response.json()
            if metadata.get("issuer") != self._oauth.issuer:
                raise ValueError("the issuer's metadata names another issuer")
            uri = metadata.get("jwks_uri")
            if isinstance(uri, str) and uri.startswith(("https://", "http://")):
                return uri
        raise ValueError("the issuer publishes no jwks_uri")


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata lives: RFC 8414 inserts the well-known path before the issuer's
    path; OpenID Connect appends it."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return [
        urlunsplit((parts.scheme, parts.netloc, f"/.well-known/oauth-authorization-server{path}", "", "")),
        f"{issuer.rstrip('/')}/.well-known/openid-configuration",
    ]


class JwtVerifier:
    def __init__(
        self,
        oauth: OAuthSettings,
        static: StaticToken,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._oauth = oauth
        self._static = static
        self._keys = IssuerKeys(http, oauth, clock)

    async def verify_token(self, token: str) -> AccessToken | None:
        if (static := self._static.access(token)) is not None:
            return static
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return _refused("it is not a JWT")
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            return _refused(f"its algorithm {str(algorithm)[:20]!r} is not allowed")
        kid = header.get("kid")
        found = await self._keys.key(kid if isinstance(kid, str) else None)
        if found is None:
            return _refused("it is signed with a key the issuer does not publish")
        key, declared = found
        if declared is not None and declared != algorithm:
            return _refused("its algorithm is not the one its key is published for")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self._oauth.resource,
                issuer=self._oauth.issuer,
                leeway=LEEWAY,
                options={"require": ["exp", "iss", "aud"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            return _refused(str(exc))
        return _access(token, claims, self._oauth.resource)


class IntrospectionVerifier:
    """Asks the issuer about each token (RFC 7662), as this server's own OAuth client."""

    def __init__(self, oauth: OAuthSettings, static: StaticToken, http: httpx.AsyncClient) -> None:
        assert oauth.introspection_url and oauth.client_id and oauth.client_secret
        self._oauth = oauth
        self._url = oauth.introspection_url
        self._static = static
        self._http = http
        self._credentials = (oauth.client_id, oauth.client_secret.get_secret_value())

    async def verify_token(self, token: str) -> AccessToken | None:
        if (static := self._static.access(token)) is not None:
            return static
        try:
            response = await self._http.post(
                self._url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._credentials,
                headers={"Accept": "application/json"},
            )
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("Could not ask the OAuth issuer about a token (%s)", type(exc).__name__)
            return None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            return _refused("the issuer says it is not active")
        if answer.get("iss", self._oauth.issuer) != self._oauth.issuer:
            return _refused("the issuer that made it is not the configured one")
        audience = answer.get("aud")
        if self._oauth.resource not in (audience if isinstance(audience, list) else [audience]):
            return _refused("it was not issued for this server (aud)")
        now = time.time()
        expires = answer.get("exp")
        if isinstance(expires, int | float) and expires + LEEWAY < now:
            return _refused("it has expired")
        not_before = answer.get("nbf")
        if isinstance(not_before, int | float) and not_before - LEEWAY > now:
            return _refused("it is not valid yet")
        return _access(token, answer, self._oauth.resource)


def _access(token: str, claims: dict[str, Any], resource: str) -> AccessToken:
    scopes = claims.get("scope", claims.get("scp", ""))
    names = scopes.split() if isinstance(scopes, str) else [s for s in scopes if isinstance(s, str)]
    subject = claims.get("sub")
    client = claims.get("client_id", claims.get("azp"))
    expires = claims.get("exp")
    return AccessToken(
        token=token,
        client_id=str(client or subject or "unknown client"),
        scopes=names,
        expires_at=int(expires) if isinstance(expires, int | float) else None,
        resource=resource,
        subject=str(subject) if subject is not None else None,
        claims={"iss": claims.get("iss")},
    )


def _refused(why: str) -> AccessToken | None:
    """None, the verifier's refusal (the SDK answers 401), with the reason in the log."""
    log.info("Refused a bearer token: %s", why)
    return None


async def probe(oauth: OAuthSettings) -> tuple[bool, str]:
    """Whether this server can check tokens with `oauth` as configured, and a sentence saying so."""
    async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
        if oauth.introspection_url and oauth.client_id and oauth.client_secret:
            try:
                response = await http.post(
                    oauth.introspection_url,
                    data={"token": "helpdesk-mcp-check"},
                    auth=(oauth.client_id, oauth.client_secret.get_secret_value()),
                )
                answer = response.json() if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as exc:
                return False, (
                    f"the introspection endpoint could not be reached ({type(exc).__name__}); "
                    "check HELPDESK_OAUTH_INTROSPECTION_URL"
                )
            if response.status_code in (400, 401, 403):
                return False, (
                    "the issuer refused this server's client credentials; check HELPDESK_OAUTH_CLIENT_ID "
                    "and HELPDESK_OAUTH_CLIENT_SECRET"
                )
            if not isinstance(answer, dict) or "active" not in answer:
                return False, (
                    f"the introspection endpoint answered {response.status_code}, not an RFC 7662 "
                    "answer; check HELPDESK_OAUTH_INTROSPECTION_URL"
                )
            return True, "the introspection endpoint answers this server"
        try:
            count = await IssuerKeys(http, oauth, time.monotonic).load()
        except FETCH_ERRORS as exc:
            reason = str(exc) if isinstance(exc, ValueError) and str(exc).startswith("the ") else None
            setting = "HELPDESK_OAUTH_JWKS_URL" if oauth.jwks_url else "HELPDESK_OAUTH_ISSUER"
            return (
                False,
                f"could not fetch the issuer's keys ({reason or type(exc).__name__}); check {setting}",
            )
        if not count:
            return False, "the issuer publishes no signing key this server can use"
        return True, f"{count} signing key{'s' if count > 1 else ''} fetched"


def resource_server(oauth: OAuthSettings, static: SecretStr | None) -> tuple[AuthSettings, TokenVerifier]:
    """What the SDK needs to serve as an OAuth resource server: its settings and a token verifier.

    No scope is required of every request (each call is checked against the one it needs), so the
    SDK's metadata would list none: http.py serves the metadata with all three.
    """
    settings = AuthSettings.model_validate(
        {
            "issuer_url": oauth.issuer,
            "resource_server_url": oauth.resource,
            # The verifiers check `aud` themselves, with the issuer's own spelling of the URL.
            "validate_token_resource": False,
        }
    )
    # Lives as long as the server; the issuer's keys and introspection share its connections.
    http = httpx.AsyncClient(timeout=_TIMEOUT, follow_redirects=False)
    verifier: TokenVerifier
    if oauth.introspection_url:
        verifier = IntrospectionVerifier(oauth, StaticToken(static), http)
    else:
        verifier = JwtVerifier(oauth, StaticToken(static), http)
    return settings, verifier
