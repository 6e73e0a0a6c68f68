"""Sign-in for a remote team: the HTTP server as an OAuth 2.1 resource server, against an issuer
made in the test (its keys, metadata, JWKS and introspection on 127.0.0.1), and the audit log of
writes it keeps."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from helpdesk_mcp.server.config import ConfigError, load_settings
from helpdesk_mcp.server.tools import TOOL_NAMES
from tests.conftest import MODES, child_env, console_script, free_port, serve_http
from tests.fakes.issuer import CLIENT_ID, CLIENT_SECRET, Issuer, serve_issuer

STATIC = "static-token-0123456789abcdef0123456789"
EVERYTHING = "helpdesk:read helpdesk:write helpdesk:send"
SECRET_BODY = "The customer's card ends in 4242; confidential-body-text"


@dataclass(frozen=True)
class Signed:
    issuer: Issuer
    url: str
    """The MCP endpoint, which is also the resource tokens are issued for."""
    log: Path


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Signed]:
    tmp_path = tmp_path_factory.mktemp("oauth")
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    with serve_issuer() as issuer:
        issuer.new_key()
        env = {
            "HELPDESK_OAUTH_ISSUER": issuer.url,
            "HELPDESK_OAUTH_RESOURCE": resource,
            "HELPDESK_HTTP_TOKEN": STATIC,
        }
        with serve_http(tmp_path, port=port, **env) as server:
            assert server.url == resource
            yield Signed(issuer, resource, server.log)


@asynccontextmanager
async def connect(url: str, token: str, mode: str = "legacy") -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode) as client:  # type: ignore[arg-type]
            yield client


def text_of(result: Any) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


def audit_lines(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("audit") == "write"]


def test_the_protected_resource_metadata_names_the_issuer_and_scopes(signed: Signed) -> None:
    metadata = httpx.get(signed.url.replace("/mcp", "/.well-known/oauth-protected-resource/mcp"))
    assert metadata.status_code == 200
    body = metadata.json()
    assert body["resource"] == signed.url
    assert body["authorization_servers"] == [signed.issuer.url]
    assert body["scopes_supported"] == ["helpdesk:read", "helpdesk:write", "helpdesk:send"]

    unsigned = httpx.post(signed.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert unsigned.status_code == 401
    challenge = unsigned.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'resource_metadata="http://127.0.0.1:' in challenge
    assert "/.well-known/oauth-protected-resource/mcp" in challenge


@pytest.mark.anyio
async def test_tokens_the_issuer_did_not_make_for_this_server_are_refused(signed: Signed) -> None:
    issuer = signed.issuer
    # First a key the issuer rotates in after the server has fetched its keys: fetched and used.
    async with connect(signed.url, issuer.token(signed.url, "helpdesk:read")) as client:
        assert not (await client.call_tool("search_tickets", {})).is_error
    rotated = issuer.new_key("ES256")
    async with connect(signed.url, issuer.token(signed.url, "helpdesk:read", kid=rotated)) as client:
        assert not (await client.call_tool("search_tickets", {})).is_error

    valid = issuer.token(signed.url, EVERYTHING)
    published = issuer.published[0]
    unpublished = issuer.new_key(publish=False)
    payload = valid.split(".")[1]
    bad = {
        "expired": issuer.token(signed.url, EVERYTHING, lifetime=-120),
        "not yet valid": issuer.token(signed.url, EVERYTHING, nbf=4102444800),
        "wrong audience": issuer.token("https://other.example/mcp", EVERYTHING),
        "wrong issuer": issuer.token(signed.url, EVERYTHING, iss="https://evil.example"),
        "bad signature": issuer.token(signed.url, EVERYTHING, sign_with=unpublished),
        "unknown kid": issuer.token(signed.url, EVERYTHING, kid=unpublished),
        "alg none": f"{json_b64({'alg': 'none', 'kid': published})}.{payload}.",
        "HMAC": _hmac_token(payload, published),
        "not a JWT": "opaque-nonsense",
    }
    fetches = issuer.jwks_fetches
    async with httpx.AsyncClient() as http:
        for why, token in bad.items():
            response = await ping(http, signed.url, token)
            assert response.status_code == 401, why
            assert "invalid_token" in response.headers["www-authenticate"], why
        for _ in range(5):
            await ping(http, signed.url, bad["unknown kid"])
        assert issuer.jwks_fetches - fetches <= 1, "made-up key ids must not make the server ask each time"
        assert (await ping(http, signed.url, valid)).status_code != 401


async def ping(http: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    return await http.post(
        url,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
    )


def json_b64(value: dict[str, Any]) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _hmac_token(payload: str, kid: str) -> str:
    """A token signed with HS256, keyed with what an attacker knows: the published key."""
    import base64
    import hmac

    header = json_b64({"alg": "HS256", "kid": kid, "typ": "JWT"})
    signature = hmac.new(b"public-key-as-secret", f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_read_scope_reads_and_nothing_more(signed: Signed, mode: str) -> None:
    async with connect(signed.url, STATIC, mode) as admin:
        created = await admin.call_tool("create_ticket", {"subject": "Scoped", "body": "read me"})
        ref = created.structured_content["ticket"]  # type: ignore[index]
    async with connect(signed.url, signed.issuer.token(signed.url, "helpdesk:read"), mode) as reader:
        listed = {tool.name for tool in (await reader.list_tools()).tools}
        assert {"create_ticket", "reply_ticket"} <= listed, "tools/list still lists every tool"
        assert not (await reader.call_tool("search_tickets", {"query": "read me"})).is_error
        assert not (await reader.call_tool("get_ticket", {"ticket": ref})).is_error
        backend, number = ref.split(":")
        assert (await reader.read_resource(f"helpdesk://{backend}/tickets/{number}")).contents
        assert (await reader.get_prompt("triage_ticket", {"ticket": ref})).messages

        created = await reader.call_tool("create_ticket", {"subject": "No", "body": "no"})
        assert created.is_error and "helpdesk:write" in text_of(created)
        assert "insufficient_scope" in text_of(created)
        note = await reader.call_tool("reply_ticket", {"ticket": ref, "body": "n", "internal": True})
        assert note.is_error and "helpdesk:write" in text_of(note)
        with pytest.raises(MCPError) as refused:
            await reader.get_prompt("draft_reply", {"ticket": ref})
        assert "helpdesk:write" in refused.value.error.message
        assert refused.value.error.data == {"error": "insufficient_scope", "scope": "helpdesk:write"}

    # A client at the issuer that calls itself what the static token is called is still only a client.
    posing = signed.issuer.token(signed.url, "helpdesk:read", client_id="static token")
    async with connect(signed.url, posing, mode) as reader:
        created = await reader.call_tool("create_ticket", {"subject": "No", "body": "no"})
        assert created.is_error and "helpdesk:write" in text_of(created)
        with pytest.raises(MCPError) as refused:
            await reader.get_prompt("draft_reply", {"ticket": ref})
        assert "helpdesk:write" in refused.value.error.message
        assert refused.value.error.data == {"error": "insufficient_scope", "scope": "helpdesk:write"}


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_without_send_no_public_reply_goes_out_by_any_way(signed: Signed, mode: str) -> None:
    token = signed.issuer.token(signed.url, "helpdesk:read helpdesk:write", subject="bob@example.com")
    async with connect(signed.url, token, mode) as writer:
        created = await writer.call_tool("create_ticket", {"subject": "Writer", "body": "opened"})
        assert not created.is_error, text_of(created)
        ref = created.structured_content["ticket"]  # type: ignore[index]
        note = await writer.call_tool(
            "reply_ticket", {"ticket": ref, "body": "Agents only", "internal": True}
        )
        assert not note.is_error, text_of(note)
        assert note.structured_content["kind"] == "internal_note"  # type: ignore[index]
        file = {"ticket": ref, "filename": "a.txt", "content_base64": "aGk=", "internal": True}
        assert not (await writer.call_tool("attach_file", file)).is_error

        attempts = [
            ("reply_ticket", {"ticket": ref, "body": SECRET_BODY}),
            ("reply_ticket", {"ticket": ref, "body": SECRET_BODY, "internal": False}),
            ("reply_ticket", {"ticket": ref, "body": SECRET_BODY, "internal": "false"}),
            ("reply_ticket", {"ticket": ref, "body": SECRET_BODY, "internal": 0}),
            ("attach_file", {"ticket": ref, "filename": "a.txt", "content_base64": "aGk="}),
            ("answer_approval", {"approval": "x", "digest": "y", "send": True}),
        ]
        for tool, arguments in attempts:
            refused = await writer.call_tool(tool, arguments)
            assert refused.is_error, (tool, arguments)
            assert "helpdesk:send" in text_of(refused) and "Nothing was done" in text_of(refused)
        thread = await writer.call_tool("get_ticket", {"ticket": ref})
        kinds = [m["kind"] for m in thread.structured_content["messages"]]  # type: ignore[index]
        assert "agent_reply" not in kinds and SECRET_BODY not in text_of(thread)
        assert (await writer.get_prompt("draft_reply", {"ticket": ref})).messages

    async with connect(signed.url, signed.issuer.token(signed.url, EVERYTHING), mode) as sender:
        sent = await sender.call_tool("reply_ticket", {"ticket": ref, "body": "Sent with send"})
        assert not sent.is_error, text_of(sent)


@pytest.mark.anyio
async def test_audit_lines_name_who_did_what_without_the_text(signed: Signed) -> None:
    # Callers of their own, so that the lines this test reads are its own whatever else ran before.
    writer_token = signed.issuer.token(signed.url, "helpdesk:read helpdesk:write", subject="auditor-writer")
    reader_token = signed.issuer.token(signed.url, "helpdesk:read", subject="auditor-reader")
    async with connect(signed.url, STATIC) as admin:
        created = await admin.call_tool("create_ticket", {"subject": "Audited", "body": "opened"})
        ref = created.structured_content["ticket"]  # type: ignore[index]
    async with connect(signed.url, writer_token) as writer:
        note = {"ticket": ref, "body": "Agents only", "internal": True}
        assert not (await writer.call_tool("reply_ticket", note)).is_error
        file = {"ticket": ref, "filename": "a.txt", "content_base64": "aGk=", "internal": True}
        assert not (await writer.call_tool("attach_file", file)).is_error
        assert (await writer.call_tool("reply_ticket", {"ticket": ref, "body": SECRET_BODY})).is_error
    async with connect(signed.url, reader_token) as reader:
        assert (await reader.call_tool("create_ticket", {"subject": "No", "body": "no"})).is_error

    lines = [line for line in audit_lines(signed.log) if line.get("ticket") == ref or "ticket" not in line]
    log = signed.log.read_text()
    assert SECRET_BODY not in log and "Agents only" not in log
    assert any(line["who"] == "static token" and line["tool"] == "create_ticket" for line in lines)
    by_writer = [line for line in lines if line["who"] == "auditor-writer"]
    note_line = next(line for line in by_writer if line["tool"] == "reply_ticket" and line["outcome"] == "ok")
    assert note_line["internal"] is True and note_line["backend"] == "local"
    assert note_line["text_sha256"] == hashlib.sha256(b"Agents only").hexdigest()
    file_line = next(line for line in by_writer if line["tool"] == "attach_file" and line["outcome"] == "ok")
    assert file_line["files"] == [{"type": "text/plain", "sha256": hashlib.sha256(b"hi").hexdigest()}]
    refused = next(line for line in by_writer if line["outcome"] == "insufficient_scope")
    assert refused["scope"] == "helpdesk:send"
    assert refused["text_sha256"] == hashlib.sha256(SECRET_BODY.encode()).hexdigest()
    by_reader = [line for line in audit_lines(signed.log) if line["who"] == "auditor-reader"]
    assert [(line["tool"], line["outcome"], line["scope"]) for line in by_reader] == [
        ("create_ticket", "insufficient_scope", "helpdesk:write")
    ]


@pytest.mark.anyio
async def test_introspection_checks_each_token_with_the_issuer(tmp_path: Path) -> None:
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    with serve_issuer() as issuer:
        issuer.opaque["reader"] = {"active": True, "aud": resource, "scope": "helpdesk:read", "sub": "carol"}
        issuer.opaque["elsewhere"] = {"active": True, "aud": "https://other.example", "scope": EVERYTHING}
        issuer.opaque["revoked"] = {"active": False}
        env = {
            "HELPDESK_OAUTH_ISSUER": issuer.url,
            "HELPDESK_OAUTH_RESOURCE": resource,
            "HELPDESK_OAUTH_INTROSPECTION_URL": f"{issuer.url}/introspect",
            "HELPDESK_OAUTH_CLIENT_ID": CLIENT_ID,
            "HELPDESK_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
            "HELPDESK_LOG_LEVEL": "DEBUG",
        }
        with serve_http(tmp_path, port=port, **env) as server:
            async with httpx.AsyncClient() as http:
                for token in ("elsewhere", "revoked", "unknown"):
                    assert (await ping(http, resource, token)).status_code == 401, token
            async with connect(resource, "reader") as reader:
                assert not (await reader.call_tool("search_tickets", {})).is_error
                created = await reader.call_tool("create_ticket", {"subject": "No", "body": "no"})
                assert created.is_error and "helpdesk:write" in text_of(created)
        assert CLIENT_SECRET not in server.log.read_text()
    assert [line["who"] for line in audit_lines(server.log)] == ["carol"]


@pytest.mark.anyio
async def test_writes_over_stdio_are_audited_as_stdio(
    make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from helpdesk_mcp.server.app import build_server

    caplog.set_level("INFO", logger="helpdesk_mcp.audit")
    async with Client(build_server(make_settings())) as client:
        arguments = {"subject": "Audited", "body": SECRET_BODY, "idempotency_key": "k-1"}
        first = await client.call_tool("create_ticket", arguments)
        again = await client.call_tool("create_ticket", arguments)
        assert again.structured_content["replayed"] is True  # type: ignore[index]
        missing = await client.call_tool("reply_ticket", {"ticket": "local:99999", "body": "x"})
        assert missing.is_error
    records = [r for r in caplog.records if r.name == "helpdesk_mcp.audit"]
    outcomes = [(r.__dict__["who"], r.__dict__["tool"], r.__dict__["outcome"]) for r in records]
    assert outcomes[:2] == [("stdio", "create_ticket", "ok"), ("stdio", "create_ticket", "replayed")]
    assert records[0].__dict__["ticket"] == first.structured_content["ticket"]  # type: ignore[index]
    assert records[0].__dict__["text_sha256"] == hashlib.sha256(SECRET_BODY.encode()).hexdigest()
    assert all(SECRET_BODY not in r.getMessage() and SECRET_BODY not in str(r.__dict__) for r in records)


def test_sign_in_settings_are_checked_at_start() -> None:
    def problems(**env: str) -> list[str]:
        try:
            load_settings(env, known_tools=TOOL_NAMES)
        except ConfigError as exc:
            return exc.problems
        return []

    assert problems(HELPDESK_OAUTH_ISSUER="https://id.example")[0].startswith("HELPDESK_OAUTH_RESOURCE:")
    assert problems(HELPDESK_OAUTH_RESOURCE="https://h.example/mcp")[0].startswith("HELPDESK_OAUTH_RESOURCE:")
    assert (
        "https://"
        in problems(HELPDESK_OAUTH_ISSUER="http://id.example", HELPDESK_OAUTH_RESOURCE="https://h/mcp")[0]
    )
    lacking = problems(
        HELPDESK_OAUTH_ISSUER="https://id.example",
        HELPDESK_OAUTH_RESOURCE="https://h.example/mcp",
        HELPDESK_OAUTH_INTROSPECTION_URL="https://id.example/introspect",
    )
    assert lacking and "HELPDESK_OAUTH_CLIENT_SECRET" in lacking[0]


def test_check_says_whether_the_server_can_check_tokens(tmp_path: Path) -> None:
    def check(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [console_script(), "check"],
            env={**child_env(tmp_path), "HELPDESK_OAUTH_RESOURCE": "https://helpdesk.example/mcp", **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    with serve_issuer() as issuer:
        issuer.new_key()
        issuer.new_key("ES256")
        fine = check(HELPDESK_OAUTH_ISSUER=issuer.url)
        assert fine.returncode == 0, fine.stdout + fine.stderr
        assert "ok   sign-in (HELPDESK_OAUTH_ISSUER): 2 signing keys fetched" in fine.stdout
        wrong = check(
            HELPDESK_OAUTH_ISSUER=issuer.url,
            HELPDESK_OAUTH_INTROSPECTION_URL=f"{issuer.url}/introspect",
            HELPDESK_OAUTH_CLIENT_ID=CLIENT_ID,
            HELPDESK_OAUTH_CLIENT_SECRET="not-the-secret-0123456789",
        )
        assert wrong.returncode == 1
        assert "FAIL sign-in" in wrong.stdout and "HELPDESK_OAUTH_CLIENT_SECRET" in wrong.stdout
        assert "not-the-secret-0123456789" not in wrong.stdout + wrong.stderr
    gone = check(HELPDESK_OAUTH_ISSUER=issuer.url)
    assert gone.returncode == 1 and "could not fetch the issuer's keys" in gone.stdout
