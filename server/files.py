"""Files arriving as tool arguments: base64 content, or a path inside an allowed directory.

A `path` argument lets an agent on the same machine hand over a file without spending tokens on
base64, but it also lets a prompt-injected agent exfiltrate any readable file; so paths are refused
unless the user named directories in HELPDESK_ALLOWED_DIRS. The file is opened one component at a
time from the allowed directory's own descriptor, refusing `..` and every symbolic link, so nothing
swapped in between a check and the open can lead outside.

A person confirming a file for a customer sees what it is, not only what it is called: `sniff`
names the type its first bytes show, and `disguise` flags a name that claims another.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import mimetypes
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from helpdesk_mcp.adapters.errors import InvalidInputError
from helpdesk_mcp.adapters.invisible import clean_line
from helpdesk_mcp.adapters.limits import MAX_FILE_BYTES
from helpdesk_mcp.adapters.model import FileUpload

__all__ = ["MAX_FILE_BYTES", "disguise", "read_upload", "sniff"]

# Base64 of the largest file, plus room for the line breaks MIME encoders put every 76 characters.
_MAX_BASE64_CHARS = 4 * -(-MAX_FILE_BYTES // 3) * 78 // 76 + 4
_MAX_ALIAS_DEPTH = 32


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
    # Measured before decoding, so a huge string is refused without holding its bytes as well.
    if len(content_base64) > _MAX_BASE64_CHARS:
        raise InvalidInputError(
            f"File {name!r}: content_base64 is {len(content_base64):,} characters, more than a file of "
            f"the {MAX_FILE_BYTES:,}-byte limit encodes to; send a smaller file."
        )
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
    if any(not ch.isprintable() for ch in path):
        raise InvalidInputError(
            f"File {name!r}: path contains a control character (such as NUL or a line break); remove it."
        )
    given = Path(path).expanduser()
    given = given if given.is_absolute() else Path.cwd() / given
    if ".." in given.parts:
        raise InvalidInputError(
            f"File {name!r}: {path} contains '..'; give the file's path inside an allowed directory."
        )
    found = _beneath(given, allowed_dirs)
    if found is None:
        raise InvalidInputError(
            f"File {name!r}: {path} is outside the directories this server may read "
            f"({', '.join(str(d) for d in allowed_dirs)})."
        )
    descriptor = _open_beneath(name, path, *found)
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
        os.close(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInputError(f"File {name!r}: {path} does not exist or is not a regular file.")
        raise InvalidInputError(
            f"File {name!r} is larger than the limit of {MAX_FILE_BYTES:,} bytes per file."
        )
    with os.fdopen(descriptor, "rb") as file:
        return file.read(MAX_FILE_BYTES + 1)


def _beneath(given: Path, allowed_dirs: Sequence[Path]) -> tuple[Path, tuple[str, ...]] | None:
    """The allowed directory `given` lies in and the components below it, or None.

    Allowed directories are stored resolved; a path may name one by another spelling (/tmp for
    /private/tmp), so its leading components are also compared after resolving them. Which root
    matched only decides where the walk starts: the walk itself follows no links.
    """
    for root in allowed_dirs:
        if given.is_relative_to(root):
            return root, given.relative_to(root).parts
    parts = given.parts
    # Bounded: each try resolves a whole prefix, and another spelling of a directory is rarely deep.
    for count in range(min(len(parts) - 1, _MAX_ALIAS_DEPTH), 0, -1):
        leading = Path(os.path.realpath(Path(*parts[:count])))
        if leading in allowed_dirs:
            return leading, parts[count:]
    return None


def _open_beneath(name: str, path: str, root: Path, parts: tuple[str, ...]) -> int:
    """A descriptor for `root`/`parts`, opened component by component without following any link."""
    not_regular = f"File {name!r}: {path} does not exist or is not a regular file."
    if not parts:
        raise InvalidInputError(not_regular)
    try:
        current = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        raise InvalidInputError(not_regular) from None
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            # O_NONBLOCK: opening a FIFO must not wait for a writer; the caller's fstat refuses it.
            flags = os.O_NONBLOCK if last else os.O_DIRECTORY
            try:
                following = os.open(part, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | flags, dir_fd=current)
            except OSError:
                if _is_link(part, current):
                    raise InvalidInputError(
                        f"File {name!r}: {path} goes through the symbolic link {part!r}; this server "
                        "follows no links in paths, so give the file's real path in an allowed directory."
                    ) from None
                raise InvalidInputError(not_regular) from None
            os.close(current)
            current = following
    except BaseException:
        os.close(current)
        raise
    return current


def _is_link(part: str, directory: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(part, dir_fd=directory, follow_symlinks=False).st_mode)
    except OSError:
        return False


@dataclass(frozen=True)
class _Kind:
    name: str
    magic: tuple[bytes, ...]
    extensions: frozenset[str]
    runs: bool = False


# A small table rather than a dependency: the types people send, and the executables they should not.
_KINDS = (
    _Kind("PDF document", (b"%PDF-",), frozenset({".pdf"})),
    _Kind("PNG image", (b"\x89PNG\r\n\x1a\n",), frozenset({".png"})),
    _Kind("JPEG image", (b"\xff\xd8\xff",), frozenset({".jpg", ".jpeg", ".jpe", ".jfif"})),
    _Kind("GIF image", (b"GIF87a", b"GIF89a"), frozenset({".gif"})),
    _Kind(
        "ZIP archive (or Office document)",
        (b"PK\x03\x04", b"PK\x05\x06"),
        frozenset({".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub", ".jar", ".apk"}),
    ),
    _Kind("gzip archive", (b"\x1f\x8b",), frozenset({".gz", ".tgz"})),
    _Kind("ELF executable", (b"\x7fELF",), frozenset({".so", ".o", ".elf", ".bin"}), runs=True),
    _Kind(
        "Windows executable", (b"MZ",), frozenset({".exe", ".dll", ".sys", ".scr", ".com", ".msi"}), runs=True
    ),
)
_TEXT = _Kind(
    "plain text",
    (),
    frozenset(
        {
            ".txt",
            ".log",
            ".csv",
            ".tsv",
            ".md",
            ".json",
            ".xml",
            ".html",
            ".htm",
            ".eml",
            ".ics",
            ".yaml",
            ".yml",
        }
    ),
)
_UNKNOWN = _Kind("unknown binary data", (), frozenset())
_CLAIMED = frozenset().union(*(kind.extensions for kind in (*_KINDS, _TEXT)))


def _kind(content: bytes) -> _Kind:
    for kind in _KINDS:
        if content.startswith(kind.magic):
            return kind
    sample = content[:8192]
    try:
        # Not final: the sample may end inside a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return _UNKNOWN
    return _TEXT if all(ch.isprintable() or ch in "\t\n\r\f" for ch in text) else _UNKNOWN


def sniff(content: bytes) -> str:
    """The type `content`'s first bytes show, such as "PDF document" or "plain text"."""
    return "empty" if not content else _kind(content).name


def disguise(filename: str, content: bytes) -> str | None:
    """A warning when `filename`'s extension claims a type the content is not, or hides a program."""
    if not content:
        return None
    kind = _kind(content)
    extension = PurePath(filename.lower()).suffix
    if extension in kind.extensions:
        return None
    if kind.runs:
        return f"the content is a program ({kind.name}), whatever its name says"
    if extension in _CLAIMED:
        return f"the name ends in {extension} but the content is {kind.name}"
    return None
