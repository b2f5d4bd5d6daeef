"""Where a report goes: an e-mail address (``mailto:``) or a storage URL that fsspec understands.

Destinations are stored and logged as written, so they must never hold a secret: a URL with a user name or
password (``s3://key:secret@bucket``, ``ftp://user:pw@host``) is refused, and credentials come from the
environment instead (SMTP: ``VBL_SMTP_*``; S3: the AWS variables or ``~/.aws``; GCS/Azure: their libraries'
variables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import fsspec

EMAIL = "email"
STORAGE = "storage"
MAX_DESTINATION_CHARS = 1000
_ADDRESS = re.compile(r"[^@\s<>,;:\"]+@[^@\s<>,;:\"]+\.[^@\s<>,;:\"]+")
# Protocols that copy files to another place (not archives or caches wrapped around a file).
_NOT_DESTINATIONS = frozenset({"zip", "tar", "libarchive", "reference", "memory", "cached", "blockcache",
                               "filecache", "simplecache", "dir", "jupyter", "github", "git", "http", "https"})


class DestinationError(ValueError):
    """A destination that cannot be used; the message says what is accepted."""


@dataclass(frozen=True)
class Destination:
    """A parsed destination: ``kind`` is ``email`` or ``storage``; ``target`` the address or the URL."""

    kind: str
    target: str

    @property
    def text(self) -> str:
        """How it is stored and shown: ``mailto:address`` or the URL."""
        return f"mailto:{self.target}" if self.kind == EMAIL else self.target

    @property
    def protocol(self) -> str:
        """The URL's scheme (``s3``, ``gs``, ``file`` …); ``mailto`` for e-mail."""
        return "mailto" if self.kind == EMAIL else urlsplit(self.target).scheme.lower()


def parse_destination(text: str) -> Destination:
    """``mailto:alice@example.com`` (or a bare address) is e-mail; ``s3://bucket/folder/``, ``gs://…``,
    ``az://…``, ``file:///path/`` (any fsspec protocol that stores files) is storage. A URL ending in ``/`` is a
    folder the report's file name is added to; otherwise it is the object's full name.

    Raises:
        DestinationError: empty, too long, an unknown protocol, a malformed address, or credentials in the URL.
    """
    raw = str(text).strip()
    if not raw:
        raise DestinationError("a destination is empty; give an e-mail address or a URL such as s3://bucket/reports/")
    if len(raw) > MAX_DESTINATION_CHARS:
        raise DestinationError(f"a destination has at most {MAX_DESTINATION_CHARS} characters, got {len(raw)}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise DestinationError("a destination may not contain control characters")
    address = raw[len("mailto:"):] if raw.lower().startswith("mailto:") else raw
    if "://" not in raw:
        if not _ADDRESS.fullmatch(address):
            raise DestinationError(
                f"{raw!r} is neither an e-mail address nor a URL; write mailto:name@example.com or "
                "a storage URL such as s3://bucket/reports/ or file:///srv/reports/"
            )
        return Destination(EMAIL, address)
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    known = set(fsspec.available_protocols())
    if scheme not in known or scheme in _NOT_DESTINATIONS:
        raise DestinationError(
            f"{scheme!r} is not a storage protocol this app can write to; use s3://, gs://, az://, file:// or "
            "another fsspec filesystem (its package must be installed)"
        )
    if parts.username or parts.password:
        raise DestinationError(
            f"the destination {scheme}://… carries a user name or password; credentials never go in a "
            "destination (they would be stored and logged) — set them in the environment instead"
        )
    if scheme == "file" and parts.netloc not in ("", "localhost"):
        raise DestinationError(f"{raw!r}: a file:// destination needs an absolute path, e.g. file:///srv/reports/")
    if not (parts.netloc or parts.path.strip("/")):
        raise DestinationError(f"{raw!r} names no bucket or folder")
    return Destination(STORAGE, raw)


def parse_destinations(texts: list[str] | tuple[str, ...]) -> tuple[Destination, ...]:
    """Every destination parsed, duplicates removed (in order); at least one is required."""
    parsed: dict[str, Destination] = {}
    for text in texts:
        dest = parse_destination(text)
        parsed.setdefault(dest.text, dest)
    if not parsed:
        raise DestinationError("give at least one destination (an e-mail address or a storage URL)")
    return tuple(parsed.values())
