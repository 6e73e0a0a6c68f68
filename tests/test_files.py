"""Files handed to the write tools: only from allowed directories, only regular files, names made safe."""

from __future__ import annotations

import base64
import os
import re
import threading
from pathlib import Path

import pytest

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.server.files import MAX_FILE_BYTES, disguise, read_upload, sniff


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
    ("where", "said"),
    [
        pytest.param(lambda outbox: outbox / ".." / "secret.txt", "contains '..'", id="traversal"),
        pytest.param(lambda outbox: outbox.parent / "secret.txt", "outside the directories", id="outside"),
        pytest.param(lambda outbox: outbox / "link.txt", "symbolic link 'link.txt'", id="symlink-out"),
        pytest.param(
            lambda outbox: outbox / "linkdir" / "secret.txt",
            "symbolic link 'linkdir'",
            id="symlinked-dir-out",
        ),
        pytest.param(lambda outbox: outbox / "inside.txt", "symbolic link 'inside.txt'", id="symlink-inside"),
    ],
)
def test_nothing_outside_the_allowed_directories_is_read_and_no_link_is_followed(
    outbox: Path, where: object, said: str
) -> None:
    (outbox / "link.txt").symlink_to(outbox.parent / "secret.txt")
    (outbox / "linkdir").symlink_to(outbox.parent)
    (outbox / "inside.txt").symlink_to(outbox / "invoice.txt")
    with pytest.raises(InvalidInputError, match=re.escape(said)):
        from_path(where(outbox), [outbox])  # type: ignore[operator]


def test_an_allowed_directory_may_be_named_through_a_link_to_it(outbox: Path, tmp_path: Path) -> None:
    (tmp_path / "alias").symlink_to(outbox)
    assert from_path(tmp_path / "alias" / "invoice.txt", [outbox]) == b"invoice 7"


@pytest.mark.parametrize("path", ["in\x00voice.txt", "invoice.txt\n"])
def test_a_control_character_in_a_path_is_refused_in_one_sentence(outbox: Path, path: str) -> None:
    with pytest.raises(InvalidInputError, match="path contains a control character"):
        from_path(f"{outbox}/{path}", [outbox])


def test_swapping_a_folder_for_a_link_never_leaks_the_file_outside(outbox: Path, tmp_path: Path) -> None:
    """A thread swaps a folder inside the allowed directory for a link to one outside while files are
    read through it: every read gives the inside file or the clear refusal, never the outside file."""
    (outbox / "sub").mkdir()
    (outbox / "sub" / "secret.txt").write_bytes(b"harmless")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"password=hunter2")
    real, link = outbox / "sub-real", outbox / "sub-link"
    link.symlink_to(outside)
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.rename(outbox / "sub", real)
            os.rename(link, outbox / "sub")
            os.rename(outbox / "sub", link)
            os.rename(real, outbox / "sub")

    swapper = threading.Thread(target=swap)
    swapper.start()
    outcomes = set()
    try:
        for _ in range(300):
            try:
                outcomes.add(from_path(outbox / "sub" / "secret.txt", [outbox]))
            except InvalidInputError as refused:
                outcomes.add(
                    b"refused" if re.search("symbolic link|not a regular file", str(refused)) else b"?"
                )
    finally:
        stop.set()
        swapper.join()
    assert b"password=hunter2" not in outcomes
    assert outcomes <= {b"harmless", b"refused"}


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


def test_oversized_base64_is_refused_before_it_is_decoded() -> None:
    huge = "A" * (MAX_FILE_BYTES * 4 // 3 + 1024 * 1024)
    with pytest.raises(InvalidInputError, match="more than a file of the 20,971,520-byte limit encodes to"):
        read_upload("big.bin", content_base64=huge, path=None, mime_type=None, allowed_dirs=[])
    biggest = base64.encodebytes(b"\0" * MAX_FILE_BYTES).decode()  # MIME lines of 76 characters
    assert (
        len(read_upload("ok.bin", content_base64=biggest, path=None, mime_type=None, allowed_dirs=[]).content)
        == MAX_FILE_BYTES
    )


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.7\n", "PDF document"),
        (b"\x89PNG\r\n\x1a\n....", "PNG image"),
        (b"\xff\xd8\xff\xe0", "JPEG image"),
        (b"GIF89a..", "GIF image"),
        (b"PK\x03\x04....", "ZIP archive (or Office document)"),
        (b"\x1f\x8b\x08", "gzip archive"),
        (b"\x7fELF\x02\x01", "ELF executable"),
        (b"MZ\x90\x00", "Windows executable"),
        ("Zażółć gęślą jaźń\n".encode(), "plain text"),
        (b"\x00\x01\x02\x03", "unknown binary data"),
        (b"", "empty"),
    ],
)
def test_the_type_is_read_from_the_content(content: bytes, kind: str) -> None:
    assert sniff(content) == kind


def test_a_name_that_disguises_its_content_is_flagged() -> None:
    assert (
        disguise("invoice-1042.pdf", b"\x7fELF\x02")
        == "the content is a program (ELF executable), whatever its name says"
    )
    assert disguise("photo.png", b"%PDF-1.4") == "the name ends in .png but the content is PDF document"
    assert disguise("notes.txt", b"MZ\x90") is not None
    assert disguise("report.docx", b"PK\x03\x04") is None
    assert disguise("invoice.PDF", b"%PDF-1.4") is None
    assert disguise("data.bin2", b"\x00\x01") is None, "a name that claims no known type claims nothing"


def test_a_very_deep_path_gets_the_same_clear_refusal(outbox: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="outside the directories"):
        from_path(tmp_path / "/".join(["a"] * 2000) / "x.txt", [outbox])
    with pytest.raises(InvalidInputError, match="not a regular file"):
        from_path(outbox / "/".join(["a"] * 2000) / "x.txt", [outbox])
