"""Files handed to the write tools: only from allowed directories, only regular files, names made safe."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.server.files import MAX_FILE_BYTES, read_upload


def from_path(path: Path | str, allowed: list[Path], filename: str = "file.txt") -> bytes:
    upload = read_upload(filename, content_base64=None, path=str(path), mime_type=None, allowed_dirs=allowed)
    return upload.content


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    folder = tmp_path / "outbox"
    folder.mkdir()
    (folder / "invoice.txt").write_bytes(b"invoice 7")
    (tmp_path / "secret.txt").write_bytes(b"password=hunter2")
    return folder


def test_a_file_inside_an_allowed_directory_is_read(outbox: Path) -> None:
    assert from_path(outbox / "invoice.txt", [outbox]) == b"invoice 7"


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda outbox: outbox / ".." / "secret.txt", id="traversal"),
        pytest.param(lambda outbox: outbox.parent / "secret.txt", id="outside"),
        pytest.param(lambda outbox: outbox / "link.txt", id="symlink-out"),
        pytest.param(lambda outbox: outbox / "linkdir" / "secret.txt", id="symlinked-directory-out"),
    ],
)
def test_nothing_outside_the_allowed_directories_is_read(outbox: Path, where: object) -> None:
    (outbox / "link.txt").symlink_to(outbox.parent / "secret.txt")
    (outbox / "linkdir").symlink_to(outbox.parent)
    with pytest.raises(InvalidInputError, match="outside the directories this server may read"):
        from_path(where(outbox), [outbox])  # type: ignore[operator]


def test_special_files_are_refused_without_blocking(outbox: Path) -> None:
    os.mkfifo(outbox / "pipe")
    (outbox / "folder").mkdir()
    for special in (outbox / "pipe", outbox / "folder", outbox / "missing.txt"):
        with pytest.raises(InvalidInputError, match="not a regular file"):
            from_path(special, [outbox])
    with pytest.raises(InvalidInputError, match="not a regular file"):
        from_path("/dev/null", [Path("/dev")])


def test_paths_are_refused_when_no_directory_is_allowed(outbox: Path) -> None:
    with pytest.raises(InvalidInputError, match="HELPDESK_ALLOWED_DIRS"):
        from_path(outbox / "invoice.txt", [])


def test_a_file_over_the_limit_is_refused(outbox: Path) -> None:
    big = outbox / "big.bin"
    with big.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(InvalidInputError, match="limit"):
        from_path(big, [outbox])


def test_names_lose_directories_and_control_characters() -> None:
    content = base64.b64encode(b"x").decode()
    upload = read_upload(
        "../../etc/\x1b[31mpass\u202ewd.txt",
        content_base64=content,
        path=None,
        mime_type=None,
        allowed_dirs=[],
    )
    assert upload.filename == "[31mpasswd.txt", "no directories, no escape character, no bidi override"


@pytest.mark.parametrize("bad", ["not base64!", "YWJj=x", "%%%%"])
def test_bad_base64_is_refused_with_a_clear_sentence(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="not valid base64"):
        read_upload("a.txt", content_base64=bad, path=None, mime_type=None, allowed_dirs=[])
