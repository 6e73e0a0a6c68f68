"""An OAuth authorization server made in the test: its own keys, its metadata (RFC 8414), its JWKS
and an introspection endpoint (RFC 7662), served on 127.0.0.1 from a thread."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

CLIENT_ID = "helpdesk-mcp"
CLIENT_SECRET = "introspection-secret-0123456789"


@dataclass
class Issuer:
    url: str = ""
    keys: dict[str, Any] = field(default_factory=dict)
    """Private signing keys by key id; their public halves are the JWKS."""
    published: list[str] = field(default_factory=list)
    """Key ids the JWKS lists."""
    opaque: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Introspection answers by opaque token."""
    jwks_fetches: int = 0

    def new_key(self, kind: str = "RS256", *, publish: bool = True) -> str:
        kid = uuid.uuid4().hex[:8]
        self.keys[kid] = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if kind.startswith("RS")
            else ec.generate_private_key(ec.SECP256R1())
        )
        if publish:
            self.published.append(kid)
        return kid

    def token(
        self,
        audience: str,
        scope: str,
        *,
        kid: str | None = None,
        sign_with: str | None = None,
        algorithm: str | None = None,
        subject: str = "alice@example.com",
        lifetime: int = 300,
        **claims: Any,
    ) -> str:
        kid = kid or self.published[0]
        key = self.keys[sign_with or kid]
        now = int(time.time())
        payload = {
            "iss": self.url,
            "aud": audience,
            "sub": subject,
            "client_id": "triage-bot",
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            **claims,
        }
        algorithm = algorithm or ("RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256")
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})

    def jwks(self) -> dict[str, Any]:
        entries = []
        for kid in self.published:
            key = self.keys[kid]
            if isinstance(key, rsa.RSAPrivateKey):
                entry = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"alg": "RS256"}
            else:
                entry = ECAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"alg": "ES256"}
            entries.append(entry | {"kid": kid, "use": "sig"})
        return {"keys": entries}


@contextmanager
def serve_issuer() -> Iterator[Issuer]:
    issuer = Issuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/oauth-authorization-server":
                self._json(
                    {
                        "issuer": issuer.url,
                        "jwks_uri": f"{issuer.url}/jwks",
                        "introspection_endpoint": f"{issuer.url}/introspect",
                        "authorization_endpoint": f"{issuer.url}/authorize",
                        "token_endpoint": f"{issuer.url}/token",
                        "response_types_supported": ["code"],
                    }
                )
            elif self.path == "/jwks":
                issuer.jwks_fetches += 1
                self._json(issuer.jwks())
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.path != "/introspect" or self.headers.get("Authorization") != f"Basic {expected}":
                self._json({"error": "invalid_client"}, 401)
                return
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            self._json(issuer.opaque.get(form.get("token", [""])[0], {"active": False}))

        def _json(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
