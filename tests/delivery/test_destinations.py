"""Destinations: e-mail addresses and fsspec URLs, never with a credential in them."""

from __future__ import annotations

import pytest

from usecases.delivery import DestinationError, parse_destination, parse_destinations


@pytest.mark.parametrize(("text", "kind", "stored"), [
    ("mailto:team@example.com", "email", "mailto:team@example.com"),
    ("team@example.com", "email", "mailto:team@example.com"),
    ("s3://team-reports/weekly/", "storage", "s3://team-reports/weekly/"),
    ("gs://bucket/report.pdf", "storage", "gs://bucket/report.pdf"),
    ("az://container/folder/", "storage", "az://container/folder/"),
    ("file:///srv/reports/", "storage", "file:///srv/reports/"),
])
def test_accepted_destinations(text: str, kind: str, stored: str) -> None:
    dest = parse_destination(text)
    assert (dest.kind, dest.text) == (kind, stored)


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("not an address", "neither an e-mail address nor a URL"),
    ("s3://AKIA:secret@bucket/reports/", "credentials never go in a destination"),
    ("ftp://user:pw@host/reports/", "credentials never go in a destination"),
    ("nosuchproto://x/y/", "not a storage protocol"),
    ("https://example.com/upload/", "not a storage protocol"),
    ("file://relative/path/", "absolute path"),
    ("mailto:a@b.c\r\nBcc: victim@example.com", "control characters"),
    ("s3://" + "x" * 1000, "at most 1000 characters"),
])
def test_refused_destinations_say_why(text: str, message: str) -> None:
    with pytest.raises(DestinationError, match=message):
        parse_destination(text)


def test_duplicates_are_dropped_and_one_is_required() -> None:
    parsed = parse_destinations(["a@example.com", "mailto:a@example.com", "file:///tmp/r/"])
    assert [d.text for d in parsed] == ["mailto:a@example.com", "file:///tmp/r/"]
    with pytest.raises(DestinationError, match="at least one destination"):
        parse_destinations([])
