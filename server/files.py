"""Files arriving as tool arguments: base64 content, or a path inside an allowed directory.

A `path` argument lets an agent on the same machine hand over a file without spending tokens on
base64, but it also lets a prompt-injected agent exfiltrate any readable file; so paths are refused
unless the user named directories in HELPDESK_ALLOWED_DIRS, and symlinks cannot lead outside them.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import stat
from collections.abc import Sequence
from pathlib import Path, PurePath

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.model import FileUpload
from helpdesk_mcp.adapters.text import clean_line

MAX_FILE_BYTES = 20 * 1024 * 1024


def read_upload(
    filename: str,
    *,
    content_base64: str | None,
    path: str | None,
    mime_type: str | None,
    allowed_dirs: Sequence[Path],
) -> FileUpload:
    name = _safe_filename(filename)
    if content_base64 is not None and path is None:
        content = _decode(name, content_base64)
    elif path is not None and content_base64 is None:
        content = _read(name, path, allowed_dirs)
    else:
        raise InvalidInputError(f"File {name!r}: give exactly one of content_base64 or path.")
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInputError(
            f"File {name!r} is {len(content):,} bytes; the limit is {MAX_FILE_BYTES:,} bytes per file."
        )
    guessed = mimetypes.guess_type(name)[0]
    return FileUpload(
        filename=name, mime_type=mime_type or guessed or "application/octet-stream", content=content
    )


def _safe_filename(filename: str) -> str:
    """The name a helpdesk will show; directory parts and control characters are not part of it."""
    name = clean_line(PurePath(filename.replace("\\", "/")).name)
    name = "".join(ch for ch in name if ch.isprintable())
    if not name or name in {".", ".."}:
        raise InvalidInputError(
            f"Attachment filename {filename!r} is empty; give a name such as 'report.pdf'."
        )
    return name


def _decode(name: str, content_base64: str) -> bytes:
    try:
        return base64.b64decode("".join(content_base64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(
            f"File {name!r}: content_base64 is not valid base64; send the file's bytes base64-encoded."
        ) from None


def _read(name: str, path: str, allowed_dirs: Sequence[Path]) -> bytes:
    if not allowed_dirs:
        raise InvalidInputError(
            f"File {name!r}: reading files from a path is turned off on this server; send content_base64 "
            "instead, or ask the user to allow a directory with HELPDESK_ALLOWED_DIRS."
        )
    # Checked after every symlink is followed, so a link inside an allowed directory cannot lead out.
    resolved = Path(path).expanduser().resolve()
    if not any(resolved.is_relative_to(root) for root in allowed_dirs):
        raise InvalidInputError(
            f"File {name!r}: {path} is outside the directories this server may read "
            f"({', '.join(str(d) for d in allowed_dirs)})."
        )
    not_regular = f"File {name!r}: {path} does not exist or is not a regular file."
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below refuses it anyway.
        descriptor = os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        raise InvalidInputError(not_regular) from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise InvalidInputError(not_regular)
    if info.st_size > MAX_FILE_BYTES:
        os.close(descriptor)
        raise InvalidInputError(
            f"File {name!r} is larger than the limit of {MAX_FILE_BYTES:,} bytes per file."
        )
    with os.fdopen(descriptor, "rb") as file:
        return file.read(MAX_FILE_BYTES + 1)
